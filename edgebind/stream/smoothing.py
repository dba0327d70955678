"""Pure zero-shot decisions over a stream: temporal smoothing of label probabilities and an abstain threshold.

Consecutive windows overlap (hop < window), so their probabilities are strongly correlated; an exponential moving
average (EMA) removes the flicker of single windows at the cost of ``(1 - alpha) / alpha`` hops of lag. A window
whose smoothed top-1 probability stays under the abstain threshold is answered ``unknown`` instead of a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgebind.errors import ConfigError

UNKNOWN = "unknown"


class ProbSmoother:
    """Exponential moving average of probability vectors, reset when the label set or the stream changes.

    Args:
        alpha: weight of the newest window in (0, 1]; 1.0 turns smoothing off. Defaults to 0.5.

    Raises:
        ConfigError: ``alpha`` outside (0, 1].
    """

    def __init__(self, alpha: float = 0.5) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ConfigError(f"smoothing alpha must be in (0, 1] (1 = off), got {alpha}; try 0.5.")
        self.alpha = alpha
        self._state: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the history (after a gap in the stream or a new label bank)."""
        self._state = None

    def update(self, probs: np.ndarray) -> np.ndarray:
        """Blend one window's probabilities into the average.

        Args:
            probs: (n_labels,) probabilities of the newest window.

        Returns:
            (n_labels,) float64 smoothed probabilities (they still sum to 1).
        """
        p = np.asarray(probs, dtype=np.float64).reshape(-1)
        if self._state is None or self._state.shape != p.shape:
            self._state = p.copy()
        else:
            self._state = self.alpha * p + (1.0 - self.alpha) * self._state
        return self._state.copy()


@dataclass(frozen=True)
class Decision:
    """What one window is labelled.

    Attributes:
        label: the best label, or ``unknown`` when its smoothed probability is under the abstain threshold.
        top_k: the ``k`` best (label, smoothed probability) pairs, best first.
        raw_label: the best label of this window alone (no smoothing, no abstain).
    """

    label: str
    top_k: tuple[tuple[str, float], ...]
    raw_label: str


def decide(raw_probs: np.ndarray, smoothed: np.ndarray, names: list[str], k: int = 3,
           abstain: float = 0.0) -> Decision:
    """Pick the label of a window.

    Args:
        raw_probs: (n_labels,) this window's probabilities.
        smoothed: (n_labels,) smoothed probabilities (``raw_probs`` when smoothing is off).
        names: the label names, in bank order.
        k: how many labels to report. Defaults to 3.
        abstain: answer ``unknown`` when the best smoothed probability is below this. Defaults to 0 (never).

    Raises:
        ConfigError: ``abstain`` outside [0, 1] or ``k`` < 1.
    """
    if not 0.0 <= abstain <= 1.0:
        raise ConfigError(f"abstain threshold must be a probability in [0, 1], got {abstain}; e.g. 0.5.")
    if k < 1:
        raise ConfigError(f"top-k must be at least 1, got {k}.")
    order = np.argsort(-smoothed, kind="stable")[:k]
    top = tuple((names[i], float(smoothed[i])) for i in order)
    best_name, best_p = top[0]
    raw_label = names[int(np.argmax(raw_probs))]
    return Decision(UNKNOWN if best_p < abstain else best_name, top, raw_label)
