"""Pure streaming windowing: irregular IMU batches -> uniform 400 Hz grid -> (6, 2000) windows (STYLE.md §6).

No threads, no I/O. Fed the same samples, :class:`ImuWindower` yields the same windows as the offline
:func:`edgebind.preprocess.imu.windows_from_recording`, however the samples are split into batches: both put the
grid at ``t0 + round(k * 1e9 / rate)`` from the first sample of each gap-free stretch and interpolate linearly
between the two device samples around each grid time.

Unlike the offline path, the stream does not low-pass filter a source faster than the grid rate (a zero-phase
filter needs the future); feed it sensor data whose own digital low-pass is set below 200 Hz.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import numpy as np

from edgebind.bridge.events import ImuBatch
from edgebind.errors import ConfigError, InputError
from edgebind.preprocess.imu import DEFAULT_IMU_CONTRACT, MAX_GAP_S, ImuContract

logger = logging.getLogger(__name__)


@dataclass
class GridChunk:
    """Samples on the uniform grid.

    Attributes:
        t_ns: (m,) int64 device time of each grid sample.
        imu: (m, 6) float32 interpolated samples.
        new_grid: True when this chunk starts a fresh grid (first data, or after a gap); windows must not span it.
    """

    t_ns: np.ndarray
    imu: np.ndarray
    new_grid: bool


class StreamResampler:
    """Incremental linear resampling of IMU samples onto a uniform grid on the device clock.

    Args:
        rate_hz: grid rate. Defaults to 400.0.
        max_gap_s: a hole between consecutive device timestamps longer than this restarts the grid at the next
            sample (counted in ``gaps``). Defaults to 0.1 s.

    Attributes:
        gaps: number of grid restarts caused by holes.
        dropped: samples discarded because their timestamp did not increase.
    """

    def __init__(self, rate_hz: float = 400.0, max_gap_s: float = MAX_GAP_S) -> None:
        if rate_hz <= 0 or max_gap_s <= 0:
            raise ConfigError(f"StreamResampler needs rate_hz > 0 and max_gap_s > 0, got {rate_hz}, {max_gap_s}.")
        self.rate_hz = rate_hz
        self.period_ns = 1e9 / rate_hz
        self.max_gap_ns = max_gap_s * 1e9
        self.gaps = 0
        self.dropped = 0
        self._warned_fast = False
        self.reset()

    def reset(self) -> None:
        """Forget the grid; the next sample starts a new one (not counted as a gap)."""
        self._t0: int | None = None
        self._next_k = 0
        self._last_t = 0
        self._last_x = np.zeros(6)

    def push(self, t_ns: np.ndarray, imu: np.ndarray) -> list[GridChunk]:
        """Add device samples; return the grid samples they complete.

        Args:
            t_ns: (n,) int64 device times in ns.
            imu: (n, 6) samples in contract order and units.

        Returns:
            Chunks in time order; usually one, more when the batch contains a gap, none when no grid time was
            passed.

        Raises:
            InputError: shapes do not match.
        """
        t = np.asarray(t_ns, dtype=np.int64).reshape(-1)
        x = np.asarray(imu, dtype=np.float64)
        if x.shape != (len(t), 6):
            raise InputError(f"push needs t_ns (n,) and imu (n, 6), got {t.shape} and {x.shape}.")
        floor = -(2**62) if self._t0 is None else self._last_t
        running_max = np.maximum.accumulate(np.concatenate([[floor], t]))[:-1]
        keep = t > running_max  # strictly after every earlier sample
        if not keep.all():
            self.dropped += int((~keep).sum())
            t, x = t[keep], x[keep]
        if len(t) == 0:
            return []
        self._check_rate(t)
        chunks: list[GridChunk] = []
        prev = np.concatenate([[self._last_t], t[:-1]])
        breaks = np.flatnonzero(t - prev > self.max_gap_ns)
        if self._t0 is None:
            breaks = np.union1d(breaks, [0])
        bounds = [*breaks.tolist(), len(t)]
        if bounds[0] != 0:
            bounds.insert(0, 0)
        for a, b in itertools.pairwise(bounds):
            new_grid = self._t0 is None or a in breaks
            if new_grid:
                if self._t0 is not None:
                    self.gaps += 1
                    logger.info("IMU gap of %.3f s at t=%d ns; grid restarted", (t[a] - prev[a]) / 1e9, t[a])
                self._start_grid(int(t[a]))
            chunk = self._emit(t[a:b], x[a:b], new_grid)
            if chunk is not None:
                chunks.append(chunk)
        return chunks

    def push_batch(self, batch: ImuBatch) -> list[GridChunk]:
        """:meth:`push` for a decoder's :class:`ImuBatch`."""
        return self.push(batch.t_ns, batch.imu)

    def _start_grid(self, t0: int) -> None:
        """Put grid index 0 at device time ``t0`` (the stretch's first sample)."""
        self._t0, self._next_k = t0, 0

    def _emit(self, t: np.ndarray, x: np.ndarray, new_grid: bool) -> GridChunk | None:
        """Interpolate every not-yet-emitted grid time up to ``t[-1]`` from the previous sample and ``t``, ``x``."""
        assert self._t0 is not None
        t0 = self._t0
        if t[0] == t0:  # the grid's first sample has no left neighbour: use it alone
            src_t, src_x = t, x
        else:
            src_t, src_x = np.concatenate([[self._last_t], t]), np.concatenate([self._last_x[None], x])
        k_end = int(np.floor((int(src_t[-1]) - t0) / self.period_ns + 1e-9))
        self._last_t, self._last_x = int(t[-1]), x[-1]
        if k_end < self._next_k:
            return None
        ks = np.arange(self._next_k, k_end + 1)
        grid = t0 + np.round(ks * self.period_ns).astype(np.int64)
        self._next_k = k_end + 1
        rel_src = (src_t - t0).astype(np.float64)  # relative times keep ns precision in float64
        rel_grid = (grid - t0).astype(np.float64)
        out = np.stack([np.interp(rel_grid, rel_src, src_x[:, c]) for c in range(6)], axis=1)  # (m, 6)
        return GridChunk(t_ns=grid, imu=out.astype(np.float32), new_grid=new_grid)

    def _check_rate(self, t: np.ndarray) -> None:
        """Warn once when the source is faster than the grid (the stream does not anti-alias)."""
        if self._warned_fast or len(t) < 8:
            return
        src_rate = 1e9 / float(np.median(np.diff(t)))
        if src_rate > 1.05 * self.rate_hz:
            self._warned_fast = True
            logger.warning(
                "IMU source runs at %.0f Hz, faster than the %.0f Hz grid; the stream does not low-pass, so "
                "vibration above %.0f Hz aliases. Set the sensor's digital low-pass below that.",
                src_rate,
                self.rate_hz,
                self.rate_hz / 2,
            )


class SlidingWindow:
    """Numpy ring buffer over grid samples that yields overlapping windows.

    Args:
        num_samples: window length. Defaults to 2000.
        hop: samples between the ends of consecutive windows (the first window ends at sample
            ``num_samples``). Defaults to ``num_samples`` (no overlap).
        channels: values per sample. Defaults to 6.

    Attributes:
        windows: windows emitted so far.
    """

    def __init__(self, num_samples: int = 2000, hop: int | None = None, channels: int = 6) -> None:
        hop = num_samples if hop is None else hop
        if num_samples < 1 or hop < 1 or channels < 1:
            raise ConfigError(
                f"SlidingWindow needs num_samples, hop and channels >= 1, got {num_samples}, {hop}, {channels}."
            )
        self.num_samples, self.hop, self.channels = num_samples, hop, channels
        self._buf = np.zeros((num_samples, channels), dtype=np.float32)  # (time, channel) ring
        self.windows = 0
        self.reset()

    def reset(self) -> None:
        """Drop buffered samples (call it when the grid restarts); the next window needs a full buffer."""
        self._pos = 0
        self._until_next = self.num_samples

    def push(self, t_ns: np.ndarray, samples: np.ndarray) -> list[tuple[np.ndarray, int]]:
        """Append grid samples; return each window they complete.

        Args:
            t_ns: (n,) int64 device times of the samples.
            samples: (n, channels) values.

        Returns:
            (window, end_t_ns) pairs: window is (channels, num_samples) float32, oldest sample first, and
            end_t_ns the device time of its last sample.
        """
        t = np.asarray(t_ns, dtype=np.int64).reshape(-1)
        x = np.asarray(samples, dtype=np.float32)
        if x.shape != (len(t), self.channels):
            raise InputError(f"push needs t_ns (n,) and samples (n, {self.channels}), got {t.shape}, {x.shape}.")
        out: list[tuple[np.ndarray, int]] = []
        i = 0
        while i < len(t):
            take = min(self._until_next, len(t) - i, self.num_samples)
            self._write(x[i : i + take])
            i += take
            self._until_next -= take
            if self._until_next == 0:
                # oldest sample sits at the write position once the ring is full: (N, C) -> (C, N)
                window = np.concatenate([self._buf[self._pos :], self._buf[: self._pos]]).T.copy()
                out.append((window, int(t[i - 1])))
                self.windows += 1
                self._until_next = self.hop
        return out

    def _write(self, x: np.ndarray) -> None:
        """Copy ``x`` (m <= num_samples, channels) into the ring at the write position."""
        first = min(len(x), self.num_samples - self._pos)
        self._buf[self._pos : self._pos + first] = x[:first]
        self._buf[: len(x) - first] = x[first:]
        self._pos = (self._pos + len(x)) % self.num_samples


class ImuWindower:
    """:class:`StreamResampler` + :class:`SlidingWindow`: device batches in, model-ready windows out.

    Args:
        contract: rate and window length. Defaults to 2000 samples at 400 Hz.
        hop_s: seconds between window ends. Defaults to ``contract.window_s``.
        max_gap_s: hole that restarts the grid and empties the window. Defaults to 0.1 s.
    """

    def __init__(
        self,
        contract: ImuContract = DEFAULT_IMU_CONTRACT,
        hop_s: float | None = None,
        max_gap_s: float = MAX_GAP_S,
    ) -> None:
        hop = round((contract.window_s if hop_s is None else hop_s) * contract.sample_rate_hz)
        if hop < 1:
            raise ConfigError(f"hop_s={hop_s} is under one sample at {contract.sample_rate_hz:g} Hz.")
        self.resampler = StreamResampler(contract.sample_rate_hz, max_gap_s)
        self.window = SlidingWindow(contract.num_samples, hop)

    def push(self, t_ns: np.ndarray, imu: np.ndarray) -> list[tuple[np.ndarray, int]]:
        """Add device samples ((n,) ns, (n, 6)); return completed ((6, num_samples) float32, end_t_ns) pairs."""
        out: list[tuple[np.ndarray, int]] = []
        for chunk in self.resampler.push(t_ns, imu):
            if chunk.new_grid:
                self.window.reset()
            out.extend(self.window.push(chunk.t_ns, chunk.imu))
        return out
