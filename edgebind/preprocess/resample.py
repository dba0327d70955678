"""One IMU resampler for recordings and live streams: device samples -> uniform grid, anti-aliased (pure numpy/scipy).

:class:`GridResampler` takes one gap-free stretch of device samples in chunks of any size and returns the grid
samples ``t0 + round(k * 1e9 / rate)`` they complete. The offline path (``resample_imu``: ``embed``, ``eval``,
``convert``, training windows) feeds it a whole stretch at once, the live stream feeds it each read: both get the
same float32 samples, bit for bit (tests/preprocess/test_resample.py feeds random-sized chunks).

How a grid sample is made:

* the source rate is measured once per stretch, from the median of its first :data:`DECIDE_INTERVALS` intervals (the
  live path holds those first samples until then);
* a source no faster than 1.05 x the grid rate is interpolated linearly at the grid times (nothing to filter);
* a faster source is interpolated linearly onto a fine uniform grid at ``up`` x the grid rate (``up`` the smallest
  integer with fine rate >= 1.95 x the source rate: 5, i.e. 2 kHz, for a 1 kHz IMU), low-passed there by a
  linear-phase Kaiser FIR (:func:`anti_alias_fir`: pass band to 0.7 x the new Nyquist, >= 60 dB from the new
  Nyquist up) with ``scipy.signal.upfirdn``, which also keeps every ``up``-th sample. The FIR's state is the tail of
  fine samples carried from one call to the next, and the stretch starts as if its first sample had always been
  there. The FIR's delay ((taps - 1) / 2 fine samples, 30.5 ms at 400 Hz from 1 kHz) is compensated: grid sample
  ``k`` is the filter output centred on grid time ``k``, so it is known only once the source has passed that time by
  the delay. That is the latency the filter adds to a live stream, and the tail an offline stretch loses at its end.
"""

from __future__ import annotations

import functools
import math

import numpy as np

DECIDE_INTERVALS = 8
"""Source intervals whose median decides, once per stretch, whether (and how finely) to anti-alias."""
FAST_RATIO = 1.05
"""A source faster than this x the grid rate is low-passed before it is decimated."""
PASS_FRACTION = 0.7
"""The FIR passes up to this fraction of the new Nyquist (140 Hz at 400 Hz)."""
STOP_DB = 60.0
"""The FIR's design attenuation from the new Nyquist up (Kaiser window)."""


@functools.lru_cache(maxsize=16)
def anti_alias_fir(rate_hz: float, up: int) -> np.ndarray:
    """The anti-alias FIR for a grid at ``rate_hz`` applied at ``up`` x that rate: odd length, unit DC gain.

    Pass band to ``PASS_FRACTION`` x the new Nyquist, stop band from the new Nyquist (``rate_hz / 2``) at
    ``STOP_DB``; ``scipy.signal.kaiserord`` picks the length, ``firwin`` the taps.
    """
    from scipy import signal

    fine_hz = up * rate_hz
    nyquist = rate_hz / 2
    numtaps, beta = signal.kaiserord(STOP_DB, (1 - PASS_FRACTION) * nyquist / (fine_hz / 2))
    numtaps |= 1  # odd: a whole-sample delay, so grid times need no fractional shift
    taps = signal.firwin(numtaps, (1 + PASS_FRACTION) / 2 * nyquist, window=("kaiser", beta), fs=fine_hz)
    taps.setflags(write=False)
    return taps


def fine_factor(source_hz: float, rate_hz: float) -> int:
    """``up`` for a source at ``source_hz``: 0 when no filter is needed, else the fine grid's multiple of the grid."""
    if source_hz <= FAST_RATIO * rate_hz:
        return 0
    return max(2, math.ceil(1.95 * source_hz / rate_hz))


def filter_delay_s(source_hz: float, rate_hz: float = 400.0) -> float:
    """Seconds the anti-alias filter delays a live grid sample for a source at ``source_hz`` (0 when unfiltered)."""
    up = fine_factor(source_hz, rate_hz)
    return 0.0 if up == 0 else (len(anti_alias_fir(rate_hz, up)) - 1) / 2 / (up * rate_hz)


def _lerp(tq: np.ndarray, ts: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``xs`` (n, c) at ``tq`` (m,) within ``[ts[0], ts[-1]]``; all channels in one go.

    The same values as ``np.interp`` per channel (its formula; a query on a sample time returns that sample), and
    a query equal to a sample time takes the pair that ends there, so the result never depends on which later
    samples are known (what makes chunked and whole-stretch resampling agree bit for bit).
    """
    i = np.clip(np.searchsorted(ts, tq, side="left"), 1, len(ts) - 1)
    t_lo, t_hi = ts[i - 1], ts[i]
    lo, hi = xs[i - 1], xs[i]
    out = (hi - lo) / (t_hi - t_lo)[:, None] * (tq - t_lo)[:, None] + lo  # np.interp's formula, so its values
    exact = tq == t_hi
    out[exact] = hi[exact]  # a query on a sample is that sample, as in np.interp
    return out  # type: ignore[no-any-return]


def _last_index_at_or_before(limit: float, step: float) -> int:
    """The largest ``j`` with ``j * step <= limit`` (exactly as ``j * step`` is computed elsewhere)."""
    j = math.floor(limit / step)
    while (j + 1) * step <= limit:
        j += 1
    while j >= 0 and j * step > limit:
        j -= 1
    return j


class GridResampler:
    """Resample one gap-free stretch of IMU samples onto the grid ``t0 + round(k * 1e9 / rate_hz)``.

    Args:
        rate_hz: grid rate. Defaults to 400.0.
        channels: values per sample. Defaults to 6.

    Attributes:
        t0_ns: device time of the stretch's first sample (grid index 0); None before the first push.
        up: 0 (linear interpolation only), a fine-grid factor (anti-aliased), or None until decided.
        source_hz: the source rate measured from the first intervals (None until decided).
    """

    def __init__(self, rate_hz: float = 400.0, channels: int = 6) -> None:
        self.rate_hz, self.channels = float(rate_hz), channels
        self.period_ns = 1e9 / self.rate_hz
        self.t0_ns: int | None = None
        self.up: int | None = None
        self.source_hz: float | None = None
        self._held_t: list[np.ndarray] = []
        self._held_x: list[np.ndarray] = []
        self._next_k = 0  # next grid index to emit
        self._last_t = 0.0  # the last source sample (relative ns) and its value: the left neighbour of the next
        self._last_x = np.zeros(channels)
        self._taps = np.zeros(1)
        self._fine_ns = 0.0
        self._next_j = 0  # next fine index to interpolate
        self._hist = np.zeros((0, channels))  # fine samples from index self._hist_j0 on, kept for the FIR
        self._hist_j0 = 0

    @property
    def delay_ns(self) -> float:
        """How far the source must pass a grid time before that grid sample is out (the FIR's delay; 0 unfiltered)."""
        if not self.up:
            return 0.0
        return (len(self._taps) - 1) / 2 * self._fine_ns

    def next_due_ns(self, k: int) -> int | None:
        """Device time the source must reach before grid sample ``k`` can come out (None while undecided)."""
        if self.t0_ns is None or self.up is None:
            return None
        return self.t0_ns + round(k * self.period_ns) + math.ceil(self.delay_ns)

    @property
    def emitted(self) -> int:
        """Grid samples emitted so far."""
        return self._next_k

    def push(self, t_ns: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add samples (strictly increasing ``t_ns`` (n,) int64, ``x`` (n, channels)) of this stretch.

        Returns:
            grid_t_ns: (m,) int64 device times of the grid samples completed.
            values: (m, channels) float32.
        """
        t = np.asarray(t_ns, dtype=np.int64).reshape(-1)
        if len(t) == 0:
            return self._empty()
        xv = np.asarray(x, dtype=np.float64).reshape(len(t), self.channels)
        if self.t0_ns is None:
            self.t0_ns = int(t[0])
        rel = (t - self.t0_ns).astype(np.float64)  # relative times keep ns precision in float64
        if self.up is None:
            self._held_t.append(rel)
            self._held_x.append(xv)
            if sum(len(h) for h in self._held_t) <= DECIDE_INTERVALS:
                return self._empty()
            return self._decide()
        return self._advance(rel, xv)

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """The stretch ended (gap, end of a recording): decide from fewer intervals if still undecided.

        A decided stretch has nothing more to give: grid samples the FIR would need future samples for are not made.
        """
        if self.up is None and sum(len(h) for h in self._held_t) >= 2:
            return self._decide()
        return self._empty()

    def _empty(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(0, np.int64), np.zeros((0, self.channels), np.float32)

    def _decide(self) -> tuple[np.ndarray, np.ndarray]:
        rel, xv = np.concatenate(self._held_t), np.concatenate(self._held_x)
        self._held_t, self._held_x = [], []
        self.source_hz = float(1e9 / np.median(np.diff(rel[: DECIDE_INTERVALS + 1])))
        self.up = fine_factor(self.source_hz, self.rate_hz)
        if self.up:
            self._taps = anti_alias_fir(self.rate_hz, self.up)
            self._fine_ns = self.period_ns / self.up
            n = len(self._taps)
            pad = (-(n - 1)) % self.up  # history so that the first output sits at a multiple of up (upfirdn keeps)
            self._hist_j0 = (n - 1) // 2 - (n - 1) - pad
            self._hist = np.repeat(xv[:1], -self._hist_j0, axis=0)  # as if the first sample had always been there
        self._last_t, self._last_x = float(rel[0]), xv[0]
        if len(rel) > 1:
            return self._advance(rel[1:], xv[1:], first=True)
        return self._empty()

    def _advance(self, rel: np.ndarray, xv: np.ndarray, first: bool = False) -> tuple[np.ndarray, np.ndarray]:
        src_t = np.concatenate([[self._last_t], rel])
        src_x = np.concatenate([self._last_x[None], xv])
        self._last_t, self._last_x = float(rel[-1]), xv[-1]
        if self.up == 0:
            return self._linear(src_t, src_x, first)
        return self._filtered(src_t, src_x)

    def _linear(self, src_t: np.ndarray, src_x: np.ndarray, first: bool) -> tuple[np.ndarray, np.ndarray]:
        """Grid samples by linear interpolation (a source no faster than the grid)."""
        k_end = _last_index_at_or_before(src_t[-1], self.period_ns)
        while k_end >= 0 and round(k_end * self.period_ns) > src_t[-1]:
            k_end -= 1
        if k_end < self._next_k:
            return self._empty()
        ks = np.arange(self._next_k, k_end + 1)
        self._next_k = k_end + 1
        grid_rel = np.round(ks * self.period_ns)
        values = _lerp(grid_rel, src_t, src_x)
        assert self.t0_ns is not None
        return self.t0_ns + grid_rel.astype(np.int64), values.astype(np.float32)

    def _filtered(self, src_t: np.ndarray, src_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fine samples by linear interpolation, then the FIR + keep every ``up``-th (``scipy.signal.upfirdn``)."""
        from scipy.signal import upfirdn

        assert self.up is not None and self.t0_ns is not None
        j_end = _last_index_at_or_before(src_t[-1], self._fine_ns)
        if j_end >= self._next_j:
            js = np.arange(self._next_j, j_end + 1)
            fine = _lerp(js * self._fine_ns, src_t, src_x)
            self._hist = np.concatenate([self._hist, fine])
            self._next_j = j_end + 1
        n, up = len(self._taps), self.up
        delay = (n - 1) // 2
        k_last = (self._next_j - 1 - delay) // up  # the last grid sample whose FIR window is complete
        if k_last < self._next_k:
            return self._empty()
        # grid sample k is the FIR output at fine index J = up*k + delay: in upfirdn's terms (output m sums
        # taps[i] * hist[m*up - i]) it is m = (J - hist_j0) / up, a whole number because the history always starts
        # ``lead`` fine samples before the first sample of the next output's window, lead making J - hist_j0 divisible
        last = up * k_last + delay - self._hist_j0
        out = upfirdn(self._taps, self._hist[: last + 1], 1, up, axis=0)
        first = (up * self._next_k + delay - self._hist_j0) // up
        values = out[first : first + k_last - self._next_k + 1]
        ks = np.arange(self._next_k, k_last + 1)
        self._next_k = k_last + 1
        keep_from = up * self._next_k + delay - (n - 1) - (-(n - 1)) % up - self._hist_j0
        self._hist = self._hist[keep_from:]
        self._hist_j0 += keep_from
        return self.t0_ns + np.round(ks * self.period_ns).astype(np.int64), values.astype(np.float32)
