"""Device time for text lines without a timestamp: the line rate by regression of host arrival time on line index.

Counting N lines over the time between the first and the last arrival measures N - 1 intervals (10 Hz reads as
11 Hz over one second) and suffers from the arrival jitter of both end points. A least-squares line through all
(index, arrival) pairs uses every line: over a few seconds its slope is the true period within a fraction of a
percent, and it is re-estimated as the stream runs. A silence much longer than the period (unplugged, rebooted)
starts a new segment whose device time resumes at the host time that passed, and is reported as a gap.
"""

from __future__ import annotations

import numpy as np

_MAX_POINTS = 20_000
UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def timestamp_unit(stamps: np.ndarray, host_ns: np.ndarray, dotted: bool) -> str:
    """The unit of a timestamp column: ``s`` (a decimal point), ``ms`` or ``us``.

    A sensor runs at 0.5-5000 Hz. A step below 200 can only be milliseconds (as microseconds it would be above
    5 kHz), a step above 2000 only microseconds (below 0.5 Hz as milliseconds). In between (``millis()`` at
    0.5-5 Hz, or ``micros()`` at 500-5000 Hz) the line rate on the host clock decides, which is off by a factor
    of 1000 for the wrong unit, so a replay at 10x still reads right. Without arrival times: 1000 or more is us.
    """
    if dotted:
        return "s"
    diffs = np.diff(stamps)
    step = float(np.median(diffs[diffs > 0])) if np.any(diffs > 0) else 0.0
    if step < 200:
        return "ms"
    if step > 2000:
        return "us"
    span_s = (host_ns[-1] - host_ns[0]) / 1e9 if len(host_ns) > 1 else 0.0
    if span_s > 0.2:
        lines_per_s = (len(stamps) - 1) / span_s
        return min(("ms", "us"), key=lambda u: abs(np.log(lines_per_s * step * UNIT_NS[u] / 1e9)))
    return "us" if step >= 1000 else "ms"


class LineClock:
    """Device time (ns) of the k-th IMU line, from host arrival times.

    Args:
        rate_hz: a known rate (``--rate``): no estimation, but pauses are still bridged. Defaults to None.
        refit_s: host seconds between re-estimates. Defaults to 1.0.
        pause_periods: a silence longer than this many periods (and 0.5 s) starts a new segment. Defaults to 20.
    """

    def __init__(self, rate_hz: float | None = None, refit_s: float = 1.0, pause_periods: float = 20.0) -> None:
        self.fixed = rate_hz is not None
        self.period_ns = 1e9 / rate_hz if rate_hz else 0.0
        self.refit_ns = int(refit_s * 1e9)
        self.pause_periods = pause_periods
        self._x: list[float] = []  # line index within the segment
        self._y: list[float] = []  # host arrival, ns since the segment's first line
        self._seg_host0 = 0
        self._seg_index0 = 0
        self._anchor_index = 0  # index where the current period took over
        self._anchor_t = 0.0  # device ns at _anchor_index
        self._last_fit_host = 0
        self._last_host = 0
        self.index = 0  # lines seen
        self.segments = 0

    @property
    def rate_hz(self) -> float:
        """The current rate estimate (0 until known)."""
        return 1e9 / self.period_ns if self.period_ns else 0.0

    def fit(self) -> float | None:
        """Period (ns) of the current segment by least squares on the lower envelope of the arrivals, or None with
        fewer than 2 distinct arrival times.

        Arrival = send time + a latency that is never negative (and large for lines the OS buffered before the
        port was read): lines arriving far later than the fit says (more than 4 median absolute deviations above
        the median residual, at least 0.2 ms) are dropped and the fit repeated, so late bursts do not tilt it.
        """
        if len(self._x) < 2 or self._y[-1] <= self._y[0]:
            return None
        x, y = np.asarray(self._x), np.asarray(self._y)
        slope, icpt = np.polyfit(x, y, 1)
        for _ in range(5):
            resid = y - (slope * x + icpt)
            med = float(np.median(resid))
            mad = float(np.median(np.abs(resid - med)))
            keep = resid <= med + 4 * max(mad, 2e5)
            if keep.all() or keep.sum() < 2 or np.ptp(x[keep]) == 0:
                break
            x, y = x[keep], y[keep]
            slope, icpt = np.polyfit(x, y, 1)
        return float(slope) if slope > 0 else None

    def span_s(self) -> float:
        """Host seconds covered by the current segment."""
        return (self._y[-1] - self._y[0]) / 1e9 if self._y else 0.0

    def add(self, host_t_ns: int) -> tuple[int, int]:
        """Register the next line; returns (its device time in ns, silence in ns if it starts a new segment else 0)."""
        gap = 0
        if self._y and self.period_ns and host_t_ns > 0:
            silence = host_t_ns - self._last_host
            if silence > max(5e8, self.pause_periods * self.period_ns):
                gap = silence
                # resume where the host clock says the device is: last line's time + the silence
                self._anchor_t = self.time_of(self.index - 1) + silence
                self._anchor_index = self.index
                self._x, self._y = [], []
                self.segments += 1
        if not self._y:
            self._seg_host0, self._seg_index0 = host_t_ns, self.index
            self._last_fit_host = host_t_ns
        self._x.append(float(self.index - self._seg_index0))
        self._y.append(float(host_t_ns - self._seg_host0))
        if len(self._x) > 2 * _MAX_POINTS:  # fit the most recent lines only: bounded memory, follows slow drift
            del self._x[:-_MAX_POINTS], self._y[:-_MAX_POINTS]
        self._last_host = host_t_ns
        t = self.time_of(self.index)
        self.index += 1
        if not self.fixed and host_t_ns - self._last_fit_host >= self.refit_ns:
            self._last_fit_host = host_t_ns
            self.refit()
        return t, gap

    def refit(self) -> None:
        """Re-estimate the period; later lines continue from the last line's time at the new period."""
        period = self.fit()
        if period is None or self.fixed:
            return
        if self.period_ns:
            self._anchor_t = self.time_of(self.index)
            self._anchor_index = self.index
        self.period_ns = period

    def time_of(self, index: int) -> int:
        """Device time (ns) of line ``index`` (with the current period)."""
        return round(self._anchor_t + (index - self._anchor_index) * self.period_ns)
