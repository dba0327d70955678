"""Scores of predicted against true labels, and their 95 % intervals by a bootstrap over recordings (or segments).

Windows cut every second from 5 s of signal overlap and are far from independent; resampling single windows would
give intervals that are too narrow. The bootstrap therefore draws whole groups (recordings, or label segments)
with replacement and scores every window of each drawn group (a cluster bootstrap).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 1000


@dataclass(frozen=True)
class Scores:
    """Top-1 accuracy, macro-F1 over the true classes, and each true class's recall (fractions in [0, 1])."""

    accuracy: float
    macro_f1: float
    recall: dict[str, float]


def group_counts(truth: np.ndarray, pred: np.ndarray, groups: np.ndarray, classes: list[str]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per-group confusion counts.

    Returns:
        group ids (G,), and (G, C, C + 1) counts: rows true class, columns predicted class, the last column for
        predictions of a label outside ``classes`` (a miss of its row).
    """
    ids, inverse = np.unique(groups, return_inverse=True)
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    counts = np.zeros((len(ids), k, k + 1))
    rows = np.array([index[c] for c in truth], dtype=np.int64)
    cols = np.array([index.get(c, k) for c in pred], dtype=np.int64)
    np.add.at(counts, (inverse, rows, cols), 1.0)
    return ids, counts


def confusion(truth: np.ndarray, pred: np.ndarray, classes: list[str]) -> np.ndarray:
    """(C, C) counts over ``classes``, rows true, columns predicted (predictions of other labels left out)."""
    return group_counts(truth, pred, np.zeros(len(truth)), classes)[1][0, :, :-1]


def _accuracy_f1(cm: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accuracy, macro-F1 and per-class recall of (..., C, C) confusions whose rows hold (..., C) true counts."""
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(rows > 0, tp / rows, np.nan)
        f1 = np.where(tp > 0, 2 * tp / (rows + cm.sum(axis=-2)), 0.0)  # 2TP / (2TP + FN + FP) = 2PR / (P + R)
    f1 = np.where(rows > 0, f1, np.nan)  # macro over the classes present
    return tp.sum(axis=-1) / rows.sum(axis=-1), np.nanmean(f1, axis=-1), recall


def scores_from(cm: np.ndarray, row_totals: np.ndarray, classes: list[str]) -> Scores:
    """Scores from a confusion matrix and the true count of each row (misses into other labels included)."""
    acc, f1, recall = _accuracy_f1(cm, row_totals)
    return Scores(accuracy=float(acc), macro_f1=float(f1),
                  recall={c: float(r) for c, r, n in zip(classes, recall, row_totals, strict=True) if n > 0})


def score(truth: np.ndarray, pred: np.ndarray, classes: list[str]) -> Scores:
    """Scores of ``pred`` against ``truth`` over the true ``classes`` (a prediction of another label is a miss)."""
    counts = group_counts(truth, pred, np.zeros(len(truth)), classes)[1][0]
    return scores_from(counts[:, :-1], counts.sum(axis=1), classes)


def bootstrap_ci(truth: np.ndarray, pred: np.ndarray, groups: np.ndarray, classes: list[str], seed: int = 0,
                 resamples: int = BOOTSTRAP_RESAMPLES) -> dict[str, tuple[float, float] | None]:
    """95 % percentile intervals of accuracy and macro-F1, resampling whole ``groups`` with replacement.

    Args:
        truth, pred: (W,) labels.
        groups: (W,) group id of each window (recording or segment); windows of one group are drawn together.
        classes: the true classes scored.
        seed: seeds the resampling. Defaults to 0.
        resamples: bootstrap draws. Defaults to 1000.

    Returns:
        ``{"accuracy": (lo, hi), "macro_f1": (lo, hi)}``; None for both with a single group (nothing to resample).
    """
    ids, per_group = group_counts(truth, pred, groups, classes)
    if len(ids) < 2:
        return {"accuracy": None, "macro_f1": None}
    rng = np.random.default_rng(seed)
    k = len(classes)
    draws = np.stack([np.bincount(rng.integers(0, len(ids), len(ids)), minlength=len(ids))
                      for _ in range(resamples)]).astype(np.float64)  # (B, G) times each group is drawn
    full = np.tensordot(draws, per_group, axes=1)  # (B, C, C+1)
    acc, f1, _ = _accuracy_f1(full[..., :k], full.sum(axis=-1))
    return {"accuracy": _interval(acc), "macro_f1": _interval(f1)}


def _interval(x: np.ndarray) -> tuple[float, float]:
    lo, hi = np.nanpercentile(x, [2.5, 97.5])
    return float(lo), float(hi)
