"""EMA smoothing, abstain threshold and top-k decisions."""

from __future__ import annotations

import numpy as np
import pytest

from edgebind.errors import ConfigError
from edgebind.stream.smoothing import UNKNOWN, ProbSmoother, decide


def test_ema_blends_and_resets() -> None:
    s = ProbSmoother(alpha=0.25)
    np.testing.assert_allclose(s.update(np.array([1.0, 0.0])), [1.0, 0.0])
    np.testing.assert_allclose(s.update(np.array([0.0, 1.0])), [0.75, 0.25])
    np.testing.assert_allclose(s.update(np.array([0.0, 1.0])), [0.5625, 0.4375])
    s.reset()
    np.testing.assert_allclose(s.update(np.array([0.0, 1.0])), [0.0, 1.0])


def test_ema_restarts_when_label_count_changes() -> None:
    s = ProbSmoother(alpha=0.5)
    s.update(np.array([0.5, 0.5]))
    np.testing.assert_allclose(s.update(np.array([0.2, 0.3, 0.5])), [0.2, 0.3, 0.5])


def test_alpha_one_is_no_smoothing() -> None:
    s = ProbSmoother(alpha=1.0)
    s.update(np.array([0.9, 0.1]))
    np.testing.assert_allclose(s.update(np.array([0.1, 0.9])), [0.1, 0.9])


@pytest.mark.parametrize("alpha", [0.0, -0.1, 1.5])
def test_bad_alpha_names_the_range(alpha: float) -> None:
    with pytest.raises(ConfigError, match=r"\(0, 1\]"):
        ProbSmoother(alpha)


def test_decide_top_k_and_abstain() -> None:
    names = ["walk", "run", "sit"]
    raw = np.array([0.1, 0.6, 0.3])
    smoothed = np.array([0.45, 0.40, 0.15])
    d = decide(raw, smoothed, names, k=2)
    assert d.label == "walk" and d.raw_label == "run"
    assert [n for n, _ in d.top_k] == ["walk", "run"]
    assert d.top_k[0][1] == pytest.approx(0.45)
    assert decide(raw, smoothed, names, k=2, abstain=0.5).label == UNKNOWN
    assert decide(raw, smoothed, names, k=2, abstain=0.45).label == "walk"


def test_decide_rejects_bad_threshold() -> None:
    with pytest.raises(ConfigError, match="abstain"):
        decide(np.ones(2) / 2, np.ones(2) / 2, ["a", "b"], abstain=2.0)
    with pytest.raises(ConfigError, match="top-k"):
        decide(np.ones(2) / 2, np.ones(2) / 2, ["a", "b"], k=0)
