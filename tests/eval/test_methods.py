"""k-shot prototypes and the linear probe on synthetic embeddings with a known answer; leakage by construction."""

from __future__ import annotations

import numpy as np
import pytest

from edgebind.errors import InputError
from edgebind.eval.data import LabelledWindows
from edgebind.eval.methods import draw_support, kshot_predictions, probe_predictions, prototypes, support_split
from edgebind.eval.metrics import score

S = 1_000_000_000
CLASSES = ["c0", "c1", "c2"]


def synthetic(centres: np.ndarray, groups_per_class: int = 6, per_group: int = 12, noise: float = 0.3,
              fingerprint: float = 0.0, hop_s: float = 1.0, seed: int = 0,
              labels: np.ndarray | None = None) -> LabelledWindows:
    """Segments of one recording, one class each, laid end to end; 5 s windows every ``hop_s`` inside each.

    Embeddings: the class centre (or none for ``labels`` given per group), plus a fixed random direction per
    segment times ``fingerprint`` (what a recording session leaves in every window), plus noise.
    """
    rng = np.random.default_rng(seed)
    n_groups = groups_per_class * len(CLASSES)
    seg_labels = labels if labels is not None else np.array(CLASSES * groups_per_class)
    dim = centres.shape[1]
    emb, truth, seg, start = [], [], [], []
    t = 0.0
    for g in range(n_groups):
        finger = rng.normal(size=dim)
        finger /= np.linalg.norm(finger)
        cls = CLASSES.index(seg_labels[g])
        for w in range(per_group):
            emb.append(centres[cls] + fingerprint * finger + noise * rng.normal(size=dim) / np.sqrt(dim))
            truth.append(seg_labels[g])
            seg.append(g)
            start.append(t + w * hop_s)
        t += (per_group - 1) * hop_s + 5.0  # the segment's last window ends here; the next segment starts after
    e = np.array(emb, np.float32)
    start_ns = np.round(np.array(start) * S).astype(np.int64)
    return LabelledWindows(e / np.linalg.norm(e, axis=1, keepdims=True), np.array(truth), np.zeros(len(truth), int),
                           np.array(seg), start_ns, start_ns + 5 * S - 1, ["synthetic"])


def orthogonal(dim: int = 16) -> np.ndarray:
    return np.eye(dim)[: len(CLASSES)]


def test_prototype_is_the_unit_mean_of_unit_embeddings() -> None:
    emb = np.array([[3.0, 0.0], [0.0, 1.0], [0.0, 5.0]])
    p = prototypes(emb, np.array(["a", "a", "b"]), ["a", "b"])
    assert np.allclose(p, [[np.sqrt(0.5), np.sqrt(0.5)], [0.0, 1.0]])


def test_kshot_on_separated_classes_is_right_and_on_identical_classes_guesses() -> None:
    w = synthetic(orthogonal())
    preds = kshot_predictions(w, w.groups("segment"), CLASSES, 1, range(5))
    assert score(preds.truth, preds.pred, CLASSES).accuracy == 1.0
    same = orthogonal()
    same[2] = same[0]  # c2 looks exactly like c0: a prototype cannot tell them apart
    w = synthetic(same, noise=1.0)
    preds = kshot_predictions(w, w.groups("segment"), CLASSES, 10, range(10))
    s = score(preds.truth, preds.pred, CLASSES)
    assert s.recall["c1"] > 0.95
    assert 0.3 < s.recall["c0"] < 0.7 and 0.3 < s.recall["c2"] < 0.7  # a coin toss between c0 and c2
    assert 0.55 < s.accuracy < 0.78  # (1 + 0.5 + 0.5) / 3 = 0.667


def test_probe_learns_classes_but_not_recording_fingerprints() -> None:
    w = synthetic(orthogonal(), noise=1.0)
    assert score(*_probe(w), CLASSES).accuracy > 0.95
    # No class signal at all, but every segment carries its own strong fingerprint: a probe cross-validated by
    # window would learn fingerprint -> label and score ~100 %; by segment it can only guess.
    rng = np.random.default_rng(3)
    w = synthetic(np.zeros((3, 16)), groups_per_class=8, fingerprint=1.0, noise=0.3,
                  labels=rng.permutation(np.array(CLASSES * 8)))
    assert score(*_probe(w), CLASSES).accuracy < 0.55


def _probe(w: LabelledWindows) -> tuple[np.ndarray, np.ndarray]:
    p = probe_predictions(w, w.groups("segment"))
    return p.truth, p.pred


def test_overlapping_windows_never_straddle_support_and_query() -> None:
    w = synthetic(orthogonal(), per_group=30, hop_s=0.25)  # each window overlaps 19 others of its segment
    groups = w.groups("segment")
    for seed in range(40):
        sup, query = support_split(w, groups, CLASSES, 5, seed)
        assert sorted(w.truth[sup].tolist()) == sorted(CLASSES * 5)
        assert not set(groups[sup]) & set(groups[query])
        assert not w.overlaps(sup, query)
        assert len(query) >= 30 * 3


def test_kshot_errors_say_what_to_do() -> None:
    w = synthetic(orthogonal(), groups_per_class=2, per_group=4)
    g = w.groups("segment")
    with pytest.raises(InputError, match="k=5 is larger than the 4 windows of class 'c0'"):
        support_split(w, g, CLASSES, 5, 0)
    with pytest.raises(InputError, match="class 'c0' occurs in only one segment"):
        support_split(w, w.groups("recording"), CLASSES, 1, 0, "segment")
    with pytest.raises(InputError, match="no window of class 'c3'"):
        draw_support(w, [*CLASSES, "c3"], 1, 0)
    with pytest.raises(InputError, match="k=9 is larger than the 8 --support windows"):
        draw_support(w, CLASSES, 9, 0)


def test_support_set_draws_k_per_class_and_a_new_draw_per_seed() -> None:
    w = synthetic(orthogonal(), groups_per_class=2, per_group=4)
    draws = [draw_support(w, CLASSES, 3, seed) for seed in range(4)]
    for d in draws:
        assert sorted(w.truth[d].tolist()) == sorted(CLASSES * 3)
    assert len({tuple(d) for d in draws}) > 1
