"""Turn a Recording into what a device would send: binary frames or CSV lines, each with its send time.

Used by the simulator and the benchmarks. IMU values are quantised to int16 counts with the scale factors of the
smallest standard ICM-42688 range that holds the data; thermal frames use each sensor's native encoding
(MLX90640 int16 centi-°C, AMG8833 int16 quarter-°C, Lepton u16 TLinear centi-kelvin, anything else float32).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from edgebind import __version__
from edgebind.bridge import protocol as p
from edgebind.bridge.recording import Recording

log = logging.getLogger(__name__)

ACCEL_RANGES_G = (2, 4, 8, 16)
GYRO_RANGES_DPS = (250, 500, 1000, 2000)
THERMAL_LAYOUTS = {  # (H, W) -> sensor, encoding, scale, offset   (°C = value * scale + offset)
    (24, 32): (p.ThermalSensor.MLX90640, p.PixelEncoding.INT16, 0.01, 0.0),
    (8, 8): (p.ThermalSensor.AMG8833, p.PixelEncoding.INT16, 0.25, 0.0),
    (120, 160): (p.ThermalSensor.LEPTON, p.PixelEncoding.UINT16, 0.01, -273.15),
}


@dataclass
class Unit:
    """One thing the device sends: a frame or a line, due at device time ``t_ns`` (relative to the first sample)."""

    t_ns: int
    data: bytes
    kind: str  # "info" | "imu" | "thermal" | "log"
    samples: int = 0
    seq: int = 0  # IMU: index of the first sample; THERMAL: frame index


@dataclass(frozen=True)
class ImuScale:
    """int16 count -> SI factors and the range they come from."""

    accel_lsb_mps2: float
    gyro_lsb_rads: float
    accel_fs_g: int
    gyro_fs_dps: int
    has_gyro: bool


def choose_scale(imu: np.ndarray, has_gyro: bool = True) -> ImuScale:
    """The smallest standard range holding ``imu`` ((N, 6), m/s^2 and rad/s) and its LSB sizes."""
    acc_max = float(np.abs(imu[:, :3]).max()) if len(imu) else 0.0
    gyr_max = float(np.abs(imu[:, 3:]).max()) if len(imu) else 0.0
    fs_g = next((g for g in ACCEL_RANGES_G if g * p.GRAVITY_MPS2 > acc_max * 1.001), 0)
    accel_lsb = fs_g * p.GRAVITY_MPS2 / 32768 if fs_g else acc_max / 32000
    fs_dps = next((d for d in GYRO_RANGES_DPS if math.radians(d) > gyr_max * 1.001), 0)
    gyro_lsb = math.radians(fs_dps) / 32768 if fs_dps else gyr_max / 32000
    return ImuScale(float(np.float32(accel_lsb)), float(np.float32(gyro_lsb)) if has_gyro else 0.0,
                    fs_g or int(acc_max / p.GRAVITY_MPS2) + 1, fs_dps or int(math.degrees(gyr_max)) + 1, has_gyro)


def recording_has_gyro(rec: Recording) -> bool:
    """False when meta says so (Daphnet) or every gyro value is zero."""
    return bool(rec.meta.get("has_gyro", True)) and bool(np.any(rec.imu[:, 3:]))


def _t0(rec: Recording) -> int:
    starts = [int(rec.imu_t_ns[0])] if len(rec.imu_t_ns) else []
    if rec.thermal_t_ns is not None and len(rec.thermal_t_ns):
        starts.append(int(rec.thermal_t_ns[0]))
    return min(starts) if starts else 0


def binary_units(rec: Recording, imu_batch: int | None = None, loop_t_ns: int = 0,
                 loop_seq: tuple[int, int] = (0, 0)) -> tuple[list[Unit], ImuScale]:
    """Frames for ``rec``: INFO first, then IMU batches and THERMAL frames merged by send time.

    Args:
        rec: the recording.
        imu_batch: most samples per IMU frame. Defaults to about 100 frames per second.
        loop_t_ns: device time added to every timestamp sent (a replay that loops keeps its clock running); the
            units' due times ``t_ns`` stay relative to the recording's start. Defaults to 0.
        loop_seq: (IMU sample, THERMAL frame) sequence numbers already sent before this pass. Defaults to (0, 0).

    Returns:
        Units sorted by due time, and the scale used (needed to check quantisation).
    """
    has_gyro = recording_has_gyro(rec)
    scale = choose_scale(rec.imu, has_gyro)
    t0 = _t0(rec)
    rate = rec.imu_rate_hz
    batch = imu_batch or max(1, min(p.MAX_IMU_BATCH, round(rate / 100)))
    info = info_frame(rec, scale, 0)
    units = [Unit(-1, info, "info")]
    imu_units, imu_frames = _imu_units(rec, scale, t0, batch, loop_t_ns, loop_seq[0])
    units += imu_units
    units += _thermal_units(rec, t0, loop_t_ns, loop_seq[1])
    units.sort(key=lambda u: u.t_ns)
    thermal_sent = loop_seq[1]
    for u in units:  # protocol v2: each IMU frame carries the THERMAL frames sent before it
        if u.kind == "thermal":
            thermal_sent += 1
        elif u.kind == "imu":
            seq, t_us, dt, counts = imu_frames[u.seq]
            u.seq = seq
            u.data = p.encode_imu(seq, t_us, dt, counts, has_gyro=scale.has_gyro, thermal_count=thermal_sent)
    return units, scale


def next_seqs(units: list[Unit], start: tuple[int, int] = (0, 0)) -> list[tuple[int, int]]:
    """For each unit index, the (IMU, THERMAL) sequence numbers the next frames carry once the units before it
    were sent (what INFO reports); one more entry for the end. ``start``: those of a looping replay's pass."""
    out, (imu, thermal) = [], start
    for u in units:
        out.append((imu, thermal))
        if u.kind == "imu":
            imu = u.seq + u.samples
        elif u.kind == "thermal":
            thermal = u.seq + 1
    out.append((imu, thermal))
    return out


def info_frame(rec: Recording, scale: ImuScale, t_us: int, next_seq: tuple[int, int] = (0, 0)) -> bytes:
    """The INFO frame a device replaying ``rec`` sends at device time ``t_us`` (on START and GET_INFO)."""
    th_rate = 0.0
    if rec.thermal_t_ns is not None and len(rec.thermal_t_ns) > 1:
        th_rate = float(1e9 / np.median(np.diff(rec.thermal_t_ns)))
    return p.encode_info(
        t_us, accel_lsb_mps2=scale.accel_lsb_mps2, gyro_lsb_rads=scale.gyro_lsb_rads, imu_rate_hz=rec.imu_rate_hz,
        thermal_rate_hz=th_rate, accel_fs_g=scale.accel_fs_g, gyro_fs_dps=scale.gyro_fs_dps,
        firmware=f"edgebind-sim {__version__}", imu_sensor=str(rec.meta.get("imu_sensor", "recording")),
        thermal_sensor=str(rec.meta.get("thermal_sensor", "recording")) if rec.thermal is not None else "",
        next_seq=next_seq,
    )


def _imu_units(rec: Recording, scale: ImuScale, t0: int, batch: int, loop_t_ns: int = 0,
               loop_seq: int = 0) -> tuple[list[Unit], list[tuple[int, int, int, np.ndarray]]]:
    """IMU units (data filled in by ``binary_units`` once the thermal count is known) and their frame arguments."""
    units: list[Unit] = []
    frames: list[tuple[int, int, int, np.ndarray]] = []
    if not len(rec.imu):
        return units, frames
    t_us = (rec.imu_t_ns - t0 + loop_t_ns) // 1000
    acc = np.clip(np.round(rec.imu[:, :3] / scale.accel_lsb_mps2), -32768, 32767)
    counts = acc
    if scale.has_gyro:
        gyr = np.clip(np.round(rec.imu[:, 3:] / scale.gyro_lsb_rads), -32768, 32767)
        counts = np.concatenate([acc, gyr], axis=1)  # (N, 6)
    counts = counts.astype(np.int16)
    i, n = 0, len(t_us)
    while i < n:
        j = i + 1
        dt = int(t_us[j] - t_us[i]) if j < n else 0
        if 0 < dt <= 0xFFFF:
            while j < n and j - i < batch and t_us[j] - t_us[j - 1] == dt:
                j += 1
        else:
            dt = 0
        units.append(Unit(int(rec.imu_t_ns[j - 1] - t0), b"", "imu", j - i, seq=len(frames)))
        frames.append((loop_seq + i, int(t_us[i]), dt if j - i > 1 else 0, counts[i:j]))
        i = j
    return units, frames


def _thermal_units(rec: Recording, t0: int, loop_t_ns: int = 0, loop_seq: int = 0) -> list[Unit]:
    units: list[Unit] = []
    if rec.thermal is None or rec.thermal_t_ns is None:
        return units
    shape = rec.thermal.shape[1:]
    sensor, enc, scale, offset = THERMAL_LAYOUTS.get(shape, (p.ThermalSensor.OTHER, p.PixelEncoding.FLOAT32, 1.0, 0.0))
    for k, (frame, t) in enumerate(zip(rec.thermal, rec.thermal_t_ns, strict=True)):
        values = frame if enc == p.PixelEncoding.FLOAT32 else np.round((frame - offset) / scale)
        t_rel = int(t - t0)
        data = p.encode_thermal(loop_seq + k, (t_rel + loop_t_ns) // 1000, values, enc, scale, offset, sensor)
        units.append(Unit(t_rel, data, "thermal", seq=loop_seq + k))
    return units


def csv_units(rec: Recording, timestamps: bool = True, decimals: int = 6, loop_t_ns: int = 0) -> list[Unit]:
    """One text line per IMU sample: ``t_us,ax,ay,az[,gx,gy,gz]`` (comma-separated, ``decimals`` places);
    ``loop_t_ns`` is added to the time sent (see :func:`binary_units`).

    Thermal frames have no CSV form and are left out (logged).
    """
    if rec.thermal is not None:
        log.warning("CSV carries IMU only: %d thermal frames of the recording are not sent", len(rec.thermal))
    has_gyro = recording_has_gyro(rec)
    t0 = _t0(rec)
    cols = rec.imu if has_gyro else rec.imu[:, :3]
    units = []
    for t, row in zip(rec.imu_t_ns, cols, strict=True):
        values = ",".join(f"{v:.{decimals}f}" for v in row)
        line = f"{(t - t0 + loop_t_ns) // 1000},{values}\n" if timestamps else f"{values}\n"
        units.append(Unit(int(t - t0), line.encode("ascii"), "imu", 1))
    return units
