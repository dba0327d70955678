"""The IMU input contract: (6, 2000) float32 windows in SI units on a uniform 400 Hz grid (ARCHITECTURE.md).

ImageBind's IMU encoder takes ``[B, 6, 2000]`` (SPEC.md §3) but never documented channel order, units or
rate (SPEC.md §9). edgebind fixes one explicit convention, stored in every Bundle as an :class:`ImuContract`
so it can be corrected once the real checkpoint is measured: accel x,y,z then gyro x,y,z, m/s² and rad/s,
gravity included, 5 s at 400 Hz. Recordings and CSV files are resampled onto that grid on the device clock.
"""

from __future__ import annotations

import csv
import itertools
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bridge.recording import IMU_CHANNELS, Recording
from edgebind.errors import ConfigError, InputError, check_known, suggest

logger = logging.getLogger(__name__)

MAX_GAP_S = 0.1
"""A hole in the device timestamps longer than this splits a recording or stream; no window spans it."""

_TIME_UNITS_NS = {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0}


@dataclass(frozen=True)
class ImuContract:
    """What the IMU encoder is fed. Bundles store it (``to_dict``/``from_dict``).

    Attributes:
        channel_order: the 6 channel names, in input order. Defaults to accel x,y,z then gyro x,y,z.
        accel_unit: must be "m/s^2": every reader converts to SI at the boundary, so no other unit reaches a window.
        gyro_unit: must be "rad/s", for the same reason.
        gravity_included: whether the model expects the accelerometer channels to keep gravity (about 9.81 m/s^2 at
            rest). The live stream warns once when resting data says otherwise. Defaults to True.
        sample_rate_hz: uniform grid rate. Defaults to 400.0 (2000 steps / 5 s, SPEC.md §9).
        window_s: window length in seconds. Defaults to 5.0.
        num_samples: samples per window; must equal ``sample_rate_hz * window_s``. Defaults to 2000.
        source_rate_hz: the device rate of the data the model was trained on, before resampling to the grid (10.0
            for the BasicMotions demo). The live stream warns once when the device runs at another rate. Defaults to
            None (not recorded; no check).
    """

    channel_order: tuple[str, ...] = IMU_CHANNELS
    accel_unit: str = "m/s^2"
    gyro_unit: str = "rad/s"
    gravity_included: bool = True
    sample_rate_hz: float = 400.0
    window_s: float = 5.0
    num_samples: int = 2000
    source_rate_hz: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel_order", tuple(self.channel_order))
        if (self.accel_unit, self.gyro_unit) != ("m/s^2", "rad/s"):
            raise ConfigError(
                f"IMU contract units accel_unit={self.accel_unit!r}, gyro_unit={self.gyro_unit!r}; edgebind feeds "
                "models SI units only (readers convert at the boundary): set 'm/s^2' and 'rad/s'."
            )
        if self.source_rate_hz is not None and self.source_rate_hz <= 0:
            raise ConfigError(f"IMU contract source_rate_hz={self.source_rate_hz}; give the training data's device "
                              "rate in Hz (e.g. 100.0), or null when it is not known.")
        if len(self.channel_order) != 6:
            raise ConfigError(
                f"IMU contract lists {len(self.channel_order)} channels {self.channel_order}; "
                f"ImageBind's IMU encoder takes exactly 6 (accel x,y,z then gyro x,y,z), e.g. {IMU_CHANNELS}."
            )
        if self.sample_rate_hz <= 0 or self.window_s <= 0:
            raise ConfigError(
                f"IMU contract needs positive sample_rate_hz and window_s, got {self.sample_rate_hz} Hz and "
                f"{self.window_s} s; the default is 400 Hz for 5 s."
            )
        expected = round(self.sample_rate_hz * self.window_s)
        if abs(self.sample_rate_hz * self.window_s - self.num_samples) > 1e-6 * self.num_samples:
            raise ConfigError(
                f"IMU contract num_samples={self.num_samples} but "
                f"{self.sample_rate_hz} Hz x {self.window_s} s = {expected}; "
                "set sample_rate_hz = num_samples / window_s (ImageBind needs num_samples=2000)."
            )

    @property
    def period_ns(self) -> float:
        """Grid spacing in nanoseconds (2.5e6 at 400 Hz)."""
        return 1e9 / self.sample_rate_hz

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (lists, not tuples)."""
        d = asdict(self)
        d["channel_order"] = list(self.channel_order)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImuContract:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            ConfigError: an unknown key (with a did-you-mean) or an inconsistent value.
        """
        check_known("IMU contract field", d, (f.name for f in fields(cls)))
        return cls(**d)


DEFAULT_IMU_CONTRACT = ImuContract()


def check_imu_input(array: np.ndarray, contract: ImuContract = DEFAULT_IMU_CONTRACT) -> np.ndarray:
    """Validate an array that is already at the model's input shape.

    Args:
        array: (6, T) or (N, 6, T) with T = ``contract.num_samples`` (2000), any real dtype.
        contract: the IMU contract. Defaults to 6 x 2000.

    Returns:
        (N, 6, T) float32 with the values unchanged.

    Raises:
        InputError: wrong number of dimensions, channels or samples, or non-finite values; the message
            says what to pass instead.
    """
    x = np.asarray(array)
    n, t = 6, contract.num_samples
    want = (
        f"(6, {t}) or (N, 6, {t}) (accel x,y,z then gyro x,y,z; {contract.window_s:g} s at "
        f"{contract.sample_rate_hz:g} Hz)"
    )
    if x.ndim not in (2, 3):
        raise InputError(f"IMU input has shape {x.shape} ({x.ndim}-D); expected {want}.")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise InputError(f"IMU input has dtype {x.dtype}; expected real numbers of shape {want}.")
    channels, steps = x.shape[-2], x.shape[-1]
    if channels != n and steps == n and x.shape[-2] == t:
        raise InputError(
            f"IMU input has shape {x.shape}, which is channels-last; expected {want}. "
            "Transpose it with np.swapaxes(x, -1, -2)."
        )
    if channels == 3:
        raise InputError(
            f"IMU input has 3 channels (shape {x.shape}); ImageBind's IMU encoder needs 6, accel+gyro. "
            "Append three zero gyro channels (np.concatenate([acc, np.zeros_like(acc)], axis=-2); "
            "accuracy will suffer) or pass a recording/CSV with accel and gyro columns."
        )
    if channels != n:
        raise InputError(f"IMU input has {channels} channels (shape {x.shape}); expected {want}.")
    if steps != t:
        raise InputError(
            f"IMU input has {steps} samples per channel (shape {x.shape}); the encoder needs exactly {t}. "
            f"Pass a recording (.npz) or a CSV with timestamps so it is resampled to "
            f"{contract.sample_rate_hz:g} Hz and cut into {contract.window_s:g} s windows."
        )
    if not np.isfinite(x).all():
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise InputError(f"IMU input contains {bad} NaN/inf values; fill or drop the gaps before embedding.")
    x = x.astype(np.float32, copy=False)
    return x[None] if x.ndim == 2 else x


def resample_imu(imu: np.ndarray, t_ns: np.ndarray, rate_hz: float = 400.0) -> tuple[np.ndarray, np.ndarray]:
    """Resample IMU samples onto a uniform grid on the device clock, starting at the first sample.

    The samples go through :class:`edgebind.preprocess.resample.GridResampler` in one piece, as the live stream's
    reads do piece by piece, so both give the same samples: linear interpolation, and for a source faster than
    1.05 x ``rate_hz`` a causal linear-phase FIR low-pass first (>= 60 dB from the new Nyquist up; its delay is
    compensated, so the samples near the end that would need later source samples are not made).

    Args:
        imu: (N, 6) samples in contract order and units.
        t_ns: (N,) int64 strictly increasing device times in ns.
        rate_hz: target rate. Defaults to 400.0.

    Returns:
        imu: (M, 6) float32 at ``t0 + round(k * 1e9 / rate_hz)``; M = floor(span * rate) + 1 unfiltered, fewer by the
            filter's delay (30.5 ms: 12 samples at 400 Hz from a 1 kHz source) when anti-aliased.
        t_ns: (M,) int64 grid times.

    Raises:
        InputError: mismatched lengths, fewer than 2 samples, or timestamps that do not increase.
    """
    from edgebind.preprocess.resample import GridResampler

    imu = np.asarray(imu, dtype=np.float64)
    t_ns = np.asarray(t_ns, dtype=np.int64).reshape(-1)
    if imu.ndim != 2 or imu.shape[1] != 6 or len(imu) != len(t_ns):
        raise InputError(
            f"resample_imu needs imu (N, 6) and t_ns (N,), got {imu.shape} and {t_ns.shape}; "
            "put samples in rows and the 6 channels in columns."
        )
    if len(t_ns) < 2 or np.any(np.diff(t_ns) <= 0):
        raise InputError(
            f"resample_imu needs at least 2 samples with strictly increasing t_ns (got {len(t_ns)} samples); "
            "sort the samples and drop duplicate timestamps."
        )
    resampler = GridResampler(rate_hz)
    parts = [resampler.push(t_ns, imu), resampler.finish()]
    grid = np.concatenate([p[0] for p in parts])
    return np.concatenate([p[1] for p in parts]), grid


def split_at_gaps(t_ns: np.ndarray, max_gap_s: float = MAX_GAP_S) -> list[slice]:
    """Slices of ``t_ns`` (device ns) between holes longer than ``max_gap_s`` seconds."""
    cuts = np.flatnonzero(np.diff(t_ns) > max_gap_s * 1e9) + 1
    bounds = [0, *cuts.tolist(), len(t_ns)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def windows_from_recording(
    rec: Recording,
    hop_s: float = 5.0,
    contract: ImuContract = DEFAULT_IMU_CONTRACT,
    max_gap_s: float = MAX_GAP_S,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a recording into model-ready IMU windows.

    Each gap-free stretch is resampled onto its own ``contract.sample_rate_hz`` grid (starting at its first
    sample) and windows start every ``hop_s`` seconds from that start, as :class:`edgebind.stream.window`
    produces them live.

    Args:
        rec: a Recording with ``imu`` (N, 6) in contract units and ``imu_t_ns`` device times.
        hop_s: seconds between window starts. Defaults to 5.0 (no overlap).
        contract: the IMU contract. Defaults to 6 x 2000 at 400 Hz.
        max_gap_s: a timestamp hole longer than this starts a new stretch. Defaults to 0.1 s.

    Returns:
        windows: (K, 6, num_samples) float32.
        end_t_ns: (K,) int64 device time of each window's last sample.

    Raises:
        InputError: no stretch is as long as one window (the message gives the duration found and needed), or
            ``hop_s`` rounds to zero samples.
    """
    hop = round(hop_s * contract.sample_rate_hz)
    if hop < 1:
        raise InputError(
            f"hop_s={hop_s} is shorter than one sample at {contract.sample_rate_hz:g} Hz; "
            f"use hop_s >= {1 / contract.sample_rate_hz:g} s."
        )
    n = contract.num_samples
    windows: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    longest_s = 0.0
    for part in split_at_gaps(rec.imu_t_ns, max_gap_s):
        t = rec.imu_t_ns[part]
        if len(t) < 2:
            continue
        longest_s = max(longest_s, (t[-1] - t[0]) / 1e9)
        x, grid = resample_imu(rec.imu[part], t, contract.sample_rate_hz)
        starts = np.arange(0, len(x) - n + 1, hop)
        if len(starts) == 0:
            continue
        idx = starts[:, None] + np.arange(n)[None, :]  # (K, n) sample indices
        windows.append(np.ascontiguousarray(x[idx].transpose(0, 2, 1)))  # (K, n, 6) -> (K, 6, n)
        ends.append(grid[starts + n - 1])
    if not windows:
        needed = (n - 1) / contract.sample_rate_hz
        raise InputError(
            f"recording is too short for one IMU window: its longest gap-free stretch lasts "
            f"{longest_s:.3f} s ({len(rec.imu_t_ns)} samples in all), but a window needs {needed:.4f} s "
            f"({n} samples at "
            f"{contract.sample_rate_hz:g} Hz). Record at least {contract.window_s:g} s without pauses."
        )
    return np.concatenate(windows).astype(np.float32, copy=False), np.concatenate(ends)


def _time_unit_from_header(name: str) -> str | None:
    """'t_ns' -> 'ns', 'time_ms' -> 'ms'; None when the column name carries no unit."""
    for unit in _TIME_UNITS_NS:
        if name.lower().strip().endswith(f"_{unit}") or name.lower().strip() == unit:
            return unit
    return None


def _si_units(imu: np.ndarray, header: list[str] | None, units: Any, path: Path) -> tuple[np.ndarray, dict[str, str]]:
    """``imu`` in m/s^2 and rad/s, its units chosen as a serial text stream's are (bridge/units.py): a unit the
    header names, else ``--accel-unit``/``--gyro-unit``, else the resting gravity magnitude of the first 8 samples
    (the text reader's probe) for the accelerometer and rad/s for the gyroscope."""
    from edgebind.bridge.units import (
        ACCEL_UNITS,
        GYRO_UNITS,
        UnitOptions,
        choose_accel_unit,
        choose_gyro_unit,
        header_units,
    )

    opts = units if units is not None else UnitOptions()
    named = header_units(header or [])
    acc_unit, acc_how, warning = choose_accel_unit(opts, named.get("accel"), np.linalg.norm(imu[:8, :3], axis=1))
    gyr_unit, gyr_how, note = choose_gyro_unit(opts, named.get("gyro"))
    for text in (warning, note if np.any(imu[:, 3:]) else None):
        if text:
            logger.warning("%s: %s", path, text)
    scale = np.array([ACCEL_UNITS[acc_unit]] * 3 + [GYRO_UNITS[gyr_unit]] * 3)
    return imu * scale, {"accel_unit": acc_unit, "accel_unit_source": acc_how, "gyro_unit": gyr_unit,
                         "gyro_unit_source": gyr_how}


def load_imu_csv(path: str | Path, rate_hz: float | None = None, time_unit: str | None = None,
                 units: Any = None) -> Recording:
    """Read a CSV of IMU samples into a :class:`Recording` in m/s² and rad/s.

    Accepted layouts: 6 numeric columns (accel x,y,z, gyro x,y,z; needs ``rate_hz``) or a timestamp followed by
    those 6. An optional header row is skipped; a timestamp header ending in ``_s``, ``_ms``, ``_us`` or ``_ns``
    gives the time unit, otherwise numeric times are seconds. Units are chosen as ``edgebind convert`` chooses a
    serial log's (``units``, a :class:`~edgebind.bridge.units.UnitOptions`; default auto): accelerometer g, mg or
    m/s² from the header or the resting gravity magnitude, gyroscope from the header, else rad/s. A UTF-8 BOM and
    CRLF line ends are accepted.

    Args:
        path: the CSV file.
        rate_hz: sample rate for files without a timestamp column (ignored when there is one).
        time_unit: "s", "ms", "us" or "ns", overriding the header. Defaults to the header's unit, else
            seconds.

    Returns:
        A Recording whose ``imu_t_ns`` starts at the first timestamp (or 0).

    Raises:
        InputError: the file is missing, has the wrong column count, non-numeric cells, no timestamps and no
            ``rate_hz``, or timestamps that do not increase.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"IMU CSV {path} does not exist; check the path.")
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].lstrip().startswith("#")]
    if not rows:
        raise InputError(f"IMU CSV {path} has no rows; expected 6 columns (or timestamp + 6) per sample.")
    header: list[str] | None = None
    try:
        [float(c) for c in rows[0]]
    except ValueError:
        header, rows = rows[0], rows[1:]
    width = len(rows[0]) if rows else len(header or [])
    if width not in (6, 7):
        raise InputError(
            f"IMU CSV {path} has {width} columns; expected 6 (accel x,y,z m/s², gyro x,y,z rad/s) or a "
            "timestamp then those 6. Select the columns first (e.g. with pandas) and save a new CSV."
        )
    try:
        values = np.array(rows, dtype=np.float64)
    except ValueError as exc:
        raise InputError(f"IMU CSV {path} has a non-numeric or missing cell ({exc}); fix or drop that row.") from exc
    if width == 7:
        header_unit = _time_unit_from_header(header[0]) if header else None
        unit = time_unit or header_unit or "s"
        if unit not in _TIME_UNITS_NS:
            raise InputError(f"unknown time unit '{unit}'.{suggest(unit, _TIME_UNITS_NS)}")
        t_ns = np.round((values[:, 0] - values[0, 0]) * _TIME_UNITS_NS[unit]).astype(np.int64)
        imu = values[:, 1:]
    else:
        if not rate_hz:
            raise InputError(
                f"IMU CSV {path} has no timestamp column; give its sample rate (rate_hz / --rate), "
                "or add a first column of times in seconds."
            )
        t_ns = np.round(np.arange(len(values)) * 1e9 / rate_hz).astype(np.int64)
        imu = values
    if len(t_ns) > 1 and np.any(np.diff(t_ns) <= 0):
        bad = int(np.argmax(np.diff(t_ns) <= 0)) + 1
        raise InputError(
            f"IMU CSV {path}: timestamps do not increase at data row {bad + 1}; sort the rows, "
            "drop duplicates, or give time_unit if the times are not in seconds."
        )
    imu, unit_meta = _si_units(imu, header, units, path)
    rec = Recording(imu=imu.astype(np.float32), imu_t_ns=t_ns, meta={"source": str(path), "units": unit_meta})
    logger.info("read %d IMU samples from %s at %.1f Hz", len(t_ns), path, rec.imu_rate_hz)
    return rec


def load_imu_input(
    path: str | Path,
    contract: ImuContract = DEFAULT_IMU_CONTRACT,
    hop_s: float | None = None,
    rate_hz: float | None = None,
    units: Any = None,
) -> np.ndarray:
    """Model-ready IMU windows from a file, as ``edgebind embed imu`` reads them.

    Args:
        path: ``.npy`` already shaped (6, T)/(N, 6, T) (passed unchanged), a Recording ``.npz``, or a
            ``.csv``.
        contract: the IMU contract. Defaults to 6 x 2000 at 400 Hz.
        hop_s: seconds between windows for recordings and CSV. Defaults to ``contract.window_s``.
        rate_hz: CSV sample rate when the file has no timestamp column.
        units: CSV units (see :func:`load_imu_csv`).

    Returns:
        (N, 6, num_samples) float32.

    Raises:
        InputError: unknown extension or an input that breaks the contract.
    """
    path = Path(path)
    hop = contract.window_s if hop_s is None else hop_s
    suffix = path.suffix.lower()
    if suffix == ".npy":
        if not path.is_file():
            raise InputError(f"IMU input {path} does not exist; check the path.")
        return check_imu_input(np.load(path, allow_pickle=False), contract)
    if suffix == ".npz":
        return windows_from_recording(Recording.load(path), hop, contract)[0]
    if suffix == ".csv":
        return windows_from_recording(load_imu_csv(path, rate_hz=rate_hz, units=units), hop, contract)[0]
    raise InputError(
        f"cannot read IMU input {path}: unknown extension '{suffix}'; "
        "pass a .npy (6, 2000)/(N, 6, 2000) array, a Recording .npz, or a .csv (timestamp + 6 columns)."
    )
