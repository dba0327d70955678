"""Scores against scikit-learn's, and the cluster bootstrap's intervals."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, recall_score

from edgebind.eval.metrics import bootstrap_ci, score

CLASSES = ["a", "b", "c"]


def test_scores_equal_sklearn_with_predictions_outside_the_classes() -> None:
    rng = np.random.default_rng(0)
    truth = rng.choice(CLASSES, 300)
    pred = np.where(rng.random(300) < 0.6, truth, rng.choice([*CLASSES, "other"], 300))
    s = score(truth, pred, CLASSES)
    assert s.accuracy == accuracy_score(truth, pred)
    assert abs(s.macro_f1 - f1_score(truth, pred, labels=CLASSES, average="macro")) < 1e-12
    rec = recall_score(truth, pred, labels=CLASSES, average=None)
    assert np.allclose([s.recall[c] for c in CLASSES], rec)


def test_bootstrap_resamples_whole_groups() -> None:
    # 20 groups of 50 windows: a group is all right or all wrong. Resampling groups spreads the accuracy like
    # a binomial over 20 draws (sd ~ 0.11); resampling single windows would give sd ~ 0.016.
    groups = np.repeat(np.arange(20), 50)
    truth = np.array(CLASSES)[groups % 3]
    right = np.repeat(np.arange(20) % 2 == 0, 50)
    pred = np.where(right, truth, "other")
    ci = bootstrap_ci(truth, pred, groups, CLASSES, seed=1)
    lo, hi = ci["accuracy"]
    assert lo < 0.5 < hi
    assert 0.3 < hi - lo < 0.55  # 2 x 1.96 x 0.112 = 0.44
    assert ci == bootstrap_ci(truth, pred, groups, CLASSES, seed=1)


def test_perfect_predictions_have_a_point_interval() -> None:
    groups = np.repeat(np.arange(6), 10)
    truth = np.array(CLASSES)[groups % 3]
    ci = bootstrap_ci(truth, truth.copy(), groups, CLASSES)
    assert ci == {"accuracy": (1.0, 1.0), "macro_f1": (1.0, 1.0)}


def test_a_single_group_has_no_interval() -> None:
    truth = np.array(["a", "b"] * 10)
    assert bootstrap_ci(truth, truth.copy(), np.zeros(20), CLASSES) == {"accuracy": None, "macro_f1": None}
