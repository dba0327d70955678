"""The runner side of a streaming encoder (ARCHITECTURE.md, "Streaming encoder"): windows in, step calls out.

A streaming bundle holds a step model: k x ``hop_samples`` new samples (1 <= k <= ``max_hops``) and the state in, the
embedding and the next state out. Callers still hand over whole windows (``stream``, ``embed --hop``, ``eval`` do not
know which kind of encoder they run). :class:`StepStream` keeps the state and the last window; a window that
continues it by k whole hops costs one call over those k hops, and any other window (the first, one after a gap, one
shifted by a part of a hop) resets the state and steps through the whole window, in one call too. Pure numpy: no
torch on the device path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

StepFn = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def continuation(prev: np.ndarray, new: np.ndarray, hop: int, hint: int | None = None) -> int | None:
    """Samples by which window ``new`` (C, T) continues ``prev`` (C, T), a whole number of hops, or None.

    ``hint`` (the last shift seen) is tried first, so a steady stream costs one comparison per window.
    """
    T = new.shape[-1]
    order = ([hint] if hint else []) + [s for s in range(hop, T, hop) if s != hint]
    for s in order:
        if np.array_equal(prev[:, s:], new[:, : T - s]):
            return s
    return None


def hops_per_call(spec: Mapping[str, Any]) -> int:
    """The most hops one step-model call takes: the manifest's ``max_hops``; bundles exported before multi-hop
    steps have none and take one hop per call."""
    return int(spec.get("max_hops", 1))


class StepStream:
    """Owns a step model's state across windows.

    Args:
        step: ``feeds -> outputs`` of the step model (one ``session.run``).
        spec: the manifest's ``stream`` entry (``hop_samples``, ``window_samples``, state names and shapes).
        samples_name: the step model's samples input.
        output_name: its embedding output.

    Attributes:
        steps: hops stepped over. calls: step-model calls made (one per window when the model takes up to a
            window's hops per call, ``max_hops``; one per hop otherwise). resets: windows that did not continue the
            previous one.
    """

    def __init__(self, step: StepFn, spec: Mapping[str, Any], samples_name: str, output_name: str) -> None:
        self.step_fn, self.spec = step, spec
        self.hop = int(spec["hop_samples"])
        self.window = int(spec["window_samples"])
        self.samples_name, self.output_name = samples_name, output_name
        self.state_in = list(spec["state_inputs"])
        self.state_out = list(spec["state_outputs"])
        self.max_hops = hops_per_call(spec)
        self.steps = 0
        self.calls = 0
        self.resets = 0
        self.reset()

    def reset(self) -> None:
        """Forget the state (the next window is stepped through from scratch)."""
        self._prev: np.ndarray | None = None
        self._shift: int | None = None
        self._state: dict[str, np.ndarray] = {}

    def _zero_state(self) -> dict[str, np.ndarray]:
        return {name: np.zeros([1, *self.spec["state_shapes"][name][1:]], np.float32) for name in self.state_in}

    def embed_one(self, window: np.ndarray) -> np.ndarray:
        """(C, T) window -> (out_dim,) embedding, stepping only over the samples the last window lacked."""
        w = np.asarray(window, dtype=np.float32)[:, : self.window]
        shift = continuation(self._prev, w, self.hop, self._shift) if self._prev is not None else None
        if shift is None:
            self.resets += 1
            self._state = self._zero_state()
            todo = self.window - self.window % self.hop
        else:
            todo, self._shift = shift, shift
        start = w.shape[1] - todo
        out: np.ndarray | None = None
        per_call = self.hop * self.max_hops
        for a in range(start, w.shape[1], per_call):  # one call for a whole label's hops (a window at most)
            b = min(a + per_call, w.shape[1])
            res = self.step_fn({self.samples_name: np.ascontiguousarray(w[None, :, a:b]), **self._state})
            self._state = {i_name: res[o_name] for i_name, o_name in zip(self.state_in, self.state_out,
                                                                             strict=True)}
            out = res[self.output_name]
            self.steps += (b - a) // self.hop
            self.calls += 1
        assert out is not None
        self._prev = w.copy()
        return np.asarray(out[0], dtype=np.float32)

    def embed(self, windows: np.ndarray) -> np.ndarray:
        """(N, C, T) consecutive windows -> (N, out_dim), the state carried from each window to the next."""
        return np.stack([self.embed_one(w) for w in windows]).astype(np.float32, copy=False)


__all__ = ["StepStream", "continuation", "hops_per_call"]
