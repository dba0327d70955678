"""Converters from the public recordings in shared/data to Recordings (``.npz``): BasicMotions ``.ts``,
Daphnet ``.csv`` and CPTV thermal clips. Each writes what it knows, and what it does not, into ``meta``.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bridge.protocol import GRAVITY_MPS2
from edgebind.bridge.recording import Recording
from edgebind.errors import SensorError, suggest

log = logging.getLogger(__name__)

KINDS = ("basicmotions", "daphnet", "cptv", "serial")
DAPHNET_POSITIONS = ("ankle", "leg", "trunk")
LEPTON_TLINEAR_SCALE_K = 0.01  # Lepton 3.5 radiometric TLinear at high resolution: counts are centi-kelvin
KELVIN_OFFSET = 273.15


def detect_kind(path: Path) -> str:
    """``basicmotions`` for ``.ts``, ``daphnet`` for ``.csv``, ``cptv`` for ``.cptv``.

    Raises:
        SensorError: unknown extension.
    """
    ext = path.suffix.lower()
    kinds = {".ts": "basicmotions", ".csv": "daphnet", ".cptv": "cptv", ".log": "serial", ".txt": "serial"}
    if ext not in kinds:
        raise SensorError(f"cannot tell what {path} is from its extension '{ext}'; pass --kind "
                          f"{'|'.join(KINDS)}.")
    return kinds[ext]


def convert(path: str | Path, kind: str = "auto", **kwargs: Any) -> Recording:
    """Convert one file from shared/data (or the same formats) to a Recording.

    Args:
        path: a BasicMotions ``.ts``, Daphnet ``.csv``, ``.cptv`` file, or a saved serial log (``.log``/``.txt``).
        kind: ``auto`` (from the extension) or one of :data:`KINDS`.
        **kwargs: passed on (``position`` for Daphnet; ``fmt``, ``rate_hz``, ``units`` for a serial log).

    Raises:
        SensorError: missing or malformed file, unknown kind.
    """
    path = Path(path)
    if not path.is_file():
        raise SensorError(f"{path} does not exist; the public recordings are in shared/data (see its README).")
    kind = detect_kind(path) if kind == "auto" else kind
    if kind == "basicmotions":
        return convert_basicmotions(path)
    if kind == "daphnet":
        return convert_daphnet(path, **kwargs)
    if kind == "cptv":
        return convert_cptv(path)
    if kind == "serial":
        return convert_serial_log(path, **kwargs)
    raise SensorError(f"unknown recording kind '{kind}'.{suggest(kind, KINDS)}")


def convert_serial_log(path: Path, fmt: str = "auto", rate_hz: float | None = None, units: Any = None) -> Recording:
    """A serial log saved from a terminal (Arduino Serial Monitor, ``screen -L``, ``cat /dev/ttyACM0 > x.log``),
    decoded as ``edgebind record`` decodes the live port (docs/sensors.md), units included.

    A log has no arrival times, so lines without a timestamp column need ``rate_hz``.

    Raises:
        SensorError: nothing usable in the file, no timestamps and no ``rate_hz``, or a unit/sensor problem.
    """
    from edgebind.bridge.record import RecordingBuilder
    from edgebind.bridge.text import TextDecoder

    dec = TextDecoder("auto" if fmt in ("auto", "text") else fmt, rate_hz=rate_hz, units=units)
    builder = RecordingBuilder()
    for event in dec.feed(path.read_bytes()) + dec.flush():
        builder.add(event)
    problem = dec.problem()
    if problem:
        raise SensorError(f"{path}: {problem}")
    if dec.info is None or (not builder.samples and not builder.thermal):
        raise SensorError(f"{path}: no IMU line or thermal frame of a known text format (docs/sensors.md); "
                          f"counters {dec.stats}.")
    if not dec.info.extra["timestamp_column"] and rate_hz is None and builder.samples:
        raise SensorError(f"{path}: the lines carry no timestamp and a log has no arrival times; pass --rate HZ "
                          "(the rate the sketch prints at).")
    extra = dec.info.extra
    meta = {"source": f"serial log {path.name}", "format": dec.fmt, "counters": dict(dec.stats),
            "units": {k: v for k, v in extra.items() if "unit" in k and isinstance(v, str)},
            "converted_by": "edgebind convert"}
    return builder.build(meta)


def convert_basicmotions(path: Path) -> Recording:
    """UEA BasicMotions ``.ts``: cases laid end to end, 10 Hz, one label per case.

    The smartwatch's accelerometer has gravity removed and is in "about m/s^2"; the gyroscope unit is not
    documented (rad/s assumed). Both facts go into ``meta`` so nobody mistakes it for the model's contract.
    """
    cases: list[np.ndarray] = []
    labels: list[str] = []
    in_data = False
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower().startswith("@data"):
            in_data = True
            continue
        if line.startswith("@") or not in_data:
            continue
        *dims, label = line.split(":")
        try:
            case = np.array([[float(v) for v in d.split(",")] for d in dims], dtype=np.float32)  # (6, 100)
        except ValueError as exc:
            raise SensorError(f"{path}:{lineno}: not a BasicMotions case ({exc}); is this a UEA .ts file?") from None
        if case.shape[0] != 6:
            raise SensorError(f"{path}:{lineno}: {case.shape[0]} dimensions, BasicMotions has 6.")
        cases.append(case.T)  # (6, 100) -> (100, 6)
        labels.append(label.strip())
    if not cases:
        raise SensorError(f"{path} holds no @data cases; is this a UEA .ts file?")
    imu = np.concatenate(cases)
    period_ns = 100_000_000  # 10 Hz
    t = np.arange(len(imu), dtype=np.int64) * period_ns
    starts = np.cumsum([0] + [len(c) for c in cases[:-1]]) * period_ns
    meta = {
        "source": f"UEA BasicMotions ({path.name})", "licence": "BSD-3-Clause (aeon wheel)",
        "imu_sensor": "smartwatch (BasicMotions)", "imu_rate_hz": 10.0, "cases": len(cases),
        "samples_per_case": int(cases[0].shape[0]), "gravity_included": False, "has_gyro": True,
        "units": "accelerometer 'about m/s^2' with gravity removed; gyroscope unit undocumented (rad/s assumed)",
        "converted_by": "edgebind convert",
    }
    return Recording(imu=imu, imu_t_ns=t, labels=np.array(labels), label_t_ns=starts, meta=meta)


def convert_daphnet(path: Path, position: str = "ankle") -> Recording:
    """Daphnet freezing-of-gait ``.csv``: one sensor position's accelerometer (milli-g -> m/s^2), no gyroscope.

    Axes: horizontal-forward -> x, vertical -> y, horizontal-lateral -> z. The file's timestamps are rounded to
    1 ms, so sample times are rebuilt from the nominal 64 Hz (they differ from the file by < 1 ms).
    """
    if position not in DAPHNET_POSITIONS:
        raise SensorError(f"unknown Daphnet position '{position}'.{suggest(position, DAPHNET_POSITIONS)}")
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cols = [f"{position}_horiz_fwd", f"{position}_vert", f"{position}_horiz_lateral"]
    if header[0] != "timestamp" or any(c not in header for c in cols):
        raise SensorError(f"{path} header {header[:4]}... is not Daphnet's (timestamp,ankle_horiz_fwd,...).")
    idx = [header.index(c) for c in cols]
    anomaly = header.index("is_anomaly") if "is_anomaly" in header else None
    rows = [line.split(",") for line in lines[1:] if line.strip()]
    accel_mg = np.array([[float(r[i]) for i in idx] for r in rows], dtype=np.float64)  # (N, 3)
    t_file = np.array([dt.datetime.fromisoformat(r[0]).replace(tzinfo=dt.timezone.utc).timestamp() for r in rows])
    t = np.arange(len(rows), dtype=np.int64) * 15_625_000  # 64 Hz
    t0_ns = round(float(t_file[0]) * 1e9)
    worst_ms = float(np.abs((t_file - t_file[0]) - t / 1e9).max() * 1e3)
    if worst_ms > 2.0:
        log.warning("%s: file timestamps differ from 64 Hz by up to %.1f ms", path, worst_ms)
    imu = np.zeros((len(rows), 6), np.float32)
    imu[:, :3] = accel_mg * GRAVITY_MPS2 / 1000.0
    labels = label_t = None
    if anomaly is not None:
        flags = np.array([int(float(r[anomaly])) for r in rows])
        change = np.flatnonzero(np.diff(np.concatenate([[-1], flags])))
        labels = np.where(flags[change] > 0, "freeze", "walk")
        label_t = t[change]
    meta = {
        "source": f"Daphnet freezing of gait ({path.name}), {position} sensor", "licence": "CC BY 4.0 "
        "(Bächlin et al., 2010)", "imu_sensor": f"Daphnet {position} accelerometer", "imu_rate_hz": 64.0,
        "has_gyro": False, "gravity_included": True, "units": "accelerometer milli-g converted to m/s^2; "
        "gyroscope absent (zeros)", "axes": "x=horizontal forward, y=vertical, z=horizontal lateral",
        "file_t0_ns": t0_ns, "timestamp_rebuild_max_ms": round(worst_ms, 3), "converted_by": "edgebind convert",
    }
    return Recording(imu=imu, imu_t_ns=t, labels=labels, label_t_ns=label_t, meta=meta)


def convert_cptv(path: Path) -> Recording:
    """A CPTV clip (FLIR Lepton 3.5, 160x120): raw counts -> degrees C, frame times from ``time_on``.

    Counts are read as radiometric TLinear centi-kelvin (°C = counts * 0.01 - 273.15), the only reading under
    which 16-bit values near 27 500 make sense for a night scene; this is an assumption recorded in ``meta``.
    Background frames are skipped.
    """
    from cptv import CPTVReader

    with path.open("rb") as f:
        try:
            reader = CPTVReader(f)
            frames = [fr for fr in reader if not fr.background_frame]
        except Exception as exc:  # cptv raises bare exceptions on corrupt files
            raise SensorError(f"{path} is not a readable CPTV file ({exc}).") from exc
        model = reader.model.decode() if isinstance(reader.model, bytes) else str(reader.model)
        device = reader.device_name.decode() if isinstance(reader.device_name, bytes) else str(reader.device_name)
        start = str(reader.timestamp)
    if not frames:
        raise SensorError(f"{path} has no thermal frames.")
    counts = np.stack([fr.pix for fr in frames]).astype(np.float32)  # (M, 120, 160) uint16 counts
    temp_c = counts * LEPTON_TLINEAR_SCALE_K - KELVIN_OFFSET
    t_on = np.array([fr.time_on.total_seconds() for fr in frames])
    t_ns = np.round((t_on - t_on[0]) * 1e9).astype(np.int64)
    if temp_c.min() < -60 or temp_c.max() > 200:
        log.warning("%s: %.1f..%.1f °C is implausible; the counts may not be TLinear centi-kelvin", path,
                    temp_c.min(), temp_c.max())
    meta = {
        "source": f"The Cacophony Project CPTV clip {path.name} (camera {device}, {start})",
        "licence": "MIT (python-cptv 0.0.11 test fixtures, Jon Hardie and Giampaolo Feraro)",
        "thermal_sensor": model, "thermal_rate_hz": float(1 / np.median(np.diff(t_on))) if len(t_on) > 1 else 0.0,
        "thermal_units": "degrees C from raw counts assuming Lepton TLinear 0.01 K/count (unverified)",
        "thermal_raw_min": int(counts.min()), "thermal_raw_max": int(counts.max()), "frames": len(frames),
        "converted_by": "edgebind convert",
    }
    return Recording(thermal=temp_c, thermal_t_ns=t_ns, meta=meta)
