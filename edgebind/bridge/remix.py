"""Recordings reshaped for replay: re-timed to a sensor rate, trimmed, a thermal clip laid beside the IMU, frames
shrunk to a smaller sensor's size. Shared by the stream tests and ``benchmarks/bench_stream.py``."""

from __future__ import annotations

import numpy as np

from edgebind.bridge.recording import Recording


def retime(rec: Recording, rate_hz: float) -> Recording:
    """The same motion at ``rate_hz`` (linear interpolation on the device clock), labels kept."""
    t_new = np.arange(0, rec.imu_t_ns[-1] + 1, round(1e9 / rate_hz), dtype=np.int64)
    imu = np.stack([np.interp(t_new, rec.imu_t_ns, rec.imu[:, c]) for c in range(6)], axis=1)
    return Recording(imu=imu, imu_t_ns=t_new, labels=rec.labels, label_t_ns=rec.label_t_ns,
                     meta={**rec.meta, "imu_rate_hz": rate_hz, "retimed_from_hz": rec.imu_rate_hz})


def with_thermal(rec: Recording, clip: Recording) -> Recording:
    """Lay a thermal clip's frames beside the IMU, looping the clip over the IMU's duration."""
    assert clip.thermal is not None and clip.thermal_t_ns is not None
    period = int(clip.thermal_t_ns[-1] + np.median(np.diff(clip.thermal_t_ns)))
    reps = int(rec.imu_t_ns[-1] // period) + 1
    t = np.concatenate([clip.thermal_t_ns + k * period for k in range(reps)])
    frames = np.concatenate([clip.thermal] * reps)
    keep = t <= rec.imu_t_ns[-1]
    return Recording(imu=rec.imu, imu_t_ns=rec.imu_t_ns, thermal=frames[keep], thermal_t_ns=t[keep],
                     labels=rec.labels, label_t_ns=rec.label_t_ns,
                     meta={**rec.meta, "thermal_source": clip.meta.get("source", "cptv")})


def trim(rec: Recording, seconds: float) -> Recording:
    """The first ``seconds`` of ``rec`` (IMU and thermal)."""
    end = int(seconds * 1e9)
    keep = rec.imu_t_ns <= end
    thermal = thermal_t = None
    if rec.thermal is not None and rec.thermal_t_ns is not None:
        th = rec.thermal_t_ns <= end
        thermal, thermal_t = rec.thermal[th], rec.thermal_t_ns[th]
    return Recording(imu=rec.imu[keep], imu_t_ns=rec.imu_t_ns[keep], thermal=thermal, thermal_t_ns=thermal_t,
                     labels=rec.labels, label_t_ns=rec.label_t_ns, meta=rec.meta)


def mlx_sized(clip: Recording) -> Recording:
    """A 160x120 Lepton clip box-averaged 5x5 to MLX90640 size (32x24), so IMU 400 Hz + thermal fit 921600 baud."""
    assert clip.thermal is not None and clip.thermal.shape[1:] == (120, 160)
    small = clip.thermal.reshape(len(clip.thermal), 24, 5, 32, 5).mean(axis=(2, 4))  # (M, 120, 160) -> (M, 24, 32)
    return Recording(imu=clip.imu, imu_t_ns=clip.imu_t_ns, thermal=small, thermal_t_ns=clip.thermal_t_ns,
                     meta={**clip.meta, "resized": "5x5 box average to 32x24"})
