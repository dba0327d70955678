"""Pure streaming windowing: irregular IMU batches -> uniform 400 Hz grid -> (6, 2000) windows (STYLE.md §6).

No threads, no I/O. Fed the same samples, :class:`ImuWindower` yields the same windows as the offline
:func:`edgebind.preprocess.imu.windows_from_recording`, however the samples are split into batches: both put the
grid at ``t0 + round(k * 1e9 / rate)`` from the first sample of each gap-free stretch and make its samples with the
same :class:`edgebind.preprocess.resample.GridResampler` (linear interpolation; a source faster than the grid is
anti-aliased first by a causal FIR carried from read to read, its delay compensated).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import numpy as np

from edgebind.bridge.events import ImuBatch
from edgebind.errors import ConfigError, InputError
from edgebind.preprocess.imu import DEFAULT_IMU_CONTRACT, MAX_GAP_S, ImuContract
from edgebind.preprocess.resample import GridResampler, anti_alias_fir

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
    """Incremental resampling of IMU samples onto a uniform grid on the device clock.

    Each gap-free stretch goes through its own :class:`edgebind.preprocess.resample.GridResampler`, the one the
    offline path uses, so the stream's grid samples equal a recording's bit for bit; a source faster than the grid is
    anti-aliased there (a causal FIR whose delay is compensated; docs/streaming.md).

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
        self._told_filter = False
        self.reset()

    def reset(self) -> None:
        """Forget the grid; the next sample starts a new one (not counted as a gap)."""
        self.stretch: GridResampler | None = None
        self._last_t = 0
        self._new_grid = True

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
        x = np.asarray(imu)
        if x.shape != (len(t), 6):
            raise InputError(f"push needs t_ns (n,) and imu (n, 6), got {t.shape} and {x.shape}.")
        floor = -(2**62) if self.stretch is None else self._last_t
        if len(t) and (t[0] <= floor or (len(t) > 1 and not (t[1:] > t[:-1]).all())):
            running_max = np.maximum.accumulate(np.concatenate([[floor], t]))[:-1]
            keep = t > running_max  # strictly after every earlier sample
            self.dropped += int((~keep).sum())
            t, x = t[keep], x[keep]
        if len(t) == 0:
            return []
        chunks: list[GridChunk] = []
        prev = np.concatenate([[self._last_t], t[:-1]])
        starts = t - prev > self.max_gap_ns  # a new stretch starts at each of these samples
        if self.stretch is None:
            starts[0] = True
        for a, b in itertools.pairwise([0, *np.flatnonzero(starts[1:]) + 1, len(t)]):
            if starts[a]:
                if self.stretch is not None:
                    self.gaps += 1
                    logger.info("IMU gap of %.3f s at t=%d ns; grid restarted", (t[a] - prev[a]) / 1e9, t[a])
                    self._add(chunks, *self.stretch.finish())
                self.stretch = GridResampler(self.rate_hz)
                self._new_grid = True
            assert self.stretch is not None
            self._add(chunks, *self.stretch.push(t[a:b], x[a:b]))
            self._tell_filter()
        self._last_t = int(t[-1])
        return chunks

    def push_batch(self, batch: ImuBatch) -> list[GridChunk]:
        """:meth:`push` for a decoder's :class:`ImuBatch`."""
        return self.push(batch.t_ns, batch.imu)

    def next_due_ns(self, k_ahead: int) -> int | None:
        """Device time the source must reach before the grid sample ``k_ahead`` after the last emitted one comes out
        (None before the stretch's rate is known)."""
        s = self.stretch
        return None if s is None else s.next_due_ns(s.emitted + k_ahead - 1)

    def _add(self, chunks: list[GridChunk], t: np.ndarray, x: np.ndarray) -> None:
        if len(t):
            chunks.append(GridChunk(t_ns=t, imu=x, new_grid=self._new_grid))
            self._new_grid = False

    def _tell_filter(self) -> None:
        """Say once how a source faster than the grid is anti-aliased."""
        s = self.stretch
        if self._told_filter or s is None or not s.up or s.source_hz is None:
            return
        self._told_filter = True
        logger.info("IMU source runs at %.0f Hz: anti-aliased to the %.0f Hz grid (FIR, %d taps at %.0f Hz, "
                    "delay %.1f ms)", s.source_hz, self.rate_hz, len(anti_alias_fir(self.rate_hz, s.up)),
                    s.up * self.rate_hz, s.delay_ns / 1e6)


class SlidingWindow:
    """Numpy ring buffer over grid samples that yields overlapping windows.

    The ring is channel-major and twice the window long, each sample written at ``i`` and ``i + num_samples``, so
    every window is one contiguous slice of it (copied once, for the inference thread).

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
        self._buf = np.zeros((channels, 2 * num_samples), dtype=np.float32)  # (channel, time) ring, written twice
        self.windows = 0
        self.reset()

    def reset(self) -> None:
        """Drop buffered samples (call it when the grid restarts); the next window needs a full buffer."""
        self._pos = 0
        self._until_next = self.num_samples

    @property
    def until_next(self) -> int:
        """Grid samples still needed before the next window is complete."""
        return self._until_next

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
                # the oldest sample sits at the write position once the ring is full
                out.append((self._buf[:, self._pos : self._pos + self.num_samples].copy(), int(t[i - 1])))
                self.windows += 1
                self._until_next = self.hop
        return out

    def _write(self, x: np.ndarray) -> None:
        """Copy ``x`` (m <= num_samples, channels) into the ring at the write position, and its mirror."""
        n, m = self.num_samples, len(x)
        first = min(m, n - self._pos)
        xt = x.T
        for base in (0, n):
            self._buf[:, base + self._pos : base + self._pos + first] = xt[:, :first]
            self._buf[:, base : base + m - first] = xt[:, first:]
        self._pos = (self._pos + m) % n


class ImuWindower:
    """:class:`StreamResampler` + :class:`SlidingWindow`: device batches in, model-ready windows out.

    Batches are held until the newest sample reaches the device time at which the next window can be complete
    (or ``max_held`` samples wait), then resampled in one block: the windows and their times are the same as
    resampling every batch at once (the resampler is exact under any split), with far fewer numpy calls per second.

    Args:
        contract: rate and window length. Defaults to 2000 samples at 400 Hz.
        hop_s: seconds between window ends. Defaults to ``contract.window_s``.
        max_gap_s: hole that restarts the grid and empties the window. Defaults to 0.1 s.
        max_held: most device samples held before they are resampled anyway. Defaults to 4096.
    """

    def __init__(
        self,
        contract: ImuContract = DEFAULT_IMU_CONTRACT,
        hop_s: float | None = None,
        max_gap_s: float = MAX_GAP_S,
        max_held: int = 4096,
    ) -> None:
        hop = round((contract.window_s if hop_s is None else hop_s) * contract.sample_rate_hz)
        if hop < 1:
            raise ConfigError(f"hop_s={hop_s} is under one sample at {contract.sample_rate_hz:g} Hz.")
        self.resampler = StreamResampler(contract.sample_rate_hz, max_gap_s)
        self.window = SlidingWindow(contract.num_samples, hop)
        self.max_held = max_held
        self._held_t: list[np.ndarray] = []
        self._held_x: list[np.ndarray] = []
        self._held = 0

    def reset(self) -> None:
        """Forget held samples, the grid and the window (a reconnected device may restart its clock)."""
        self._held_t, self._held_x, self._held = [], [], 0
        self.resampler.reset()
        self.window.reset()

    def push(self, t_ns: np.ndarray, imu: np.ndarray) -> list[tuple[np.ndarray, int]]:
        """Add device samples ((n,) ns, (n, 6)); return completed ((6, num_samples) float32, end_t_ns) pairs."""
        t = np.asarray(t_ns, dtype=np.int64).reshape(-1)
        if len(t) == 0:
            return []
        self._held_t.append(t)
        self._held_x.append(np.asarray(imu))
        self._held += len(t)
        due = self.resampler.next_due_ns(self.window.until_next)
        if due is not None and int(t[-1]) < due - 1 and self._held < self.max_held:  # 1 ns: rounding
            return []
        return self.flush()

    def flush(self) -> list[tuple[np.ndarray, int]]:
        """Resample what is held now; the windows it completes."""
        if not self._held:
            return []
        t = self._held_t[0] if len(self._held_t) == 1 else np.concatenate(self._held_t)
        x = self._held_x[0] if len(self._held_x) == 1 else np.concatenate(self._held_x)
        self._held_t, self._held_x, self._held = [], [], 0
        out: list[tuple[np.ndarray, int]] = []
        for chunk in self.resampler.push(t, x):
            if chunk.new_grid:
                self.window.reset()
            out.extend(self.window.push(chunk.t_ns, chunk.imu))
        return out
