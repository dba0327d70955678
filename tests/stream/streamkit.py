"""Helpers for the stream tests: real recordings re-timed to a sensor rate, a thermal clip laid beside them."""

from __future__ import annotations

import os
import select
import threading
import tty

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


class GarbageDevice:
    """A pty that, once the host opens it, sends what a device at another baud rate looks like: random bytes."""

    def __init__(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        os.close(slave)
        self._master = master
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        rng = np.random.default_rng(7)
        poller = select.poll()
        poller.register(self._master, select.POLLOUT | select.POLLIN)
        while not self._stop.is_set():
            events = poller.poll(20)
            if not events or events[0][1] & select.POLLHUP:  # host not there yet: wait for it
                self._stop.wait(0.005)
                continue
            try:
                os.write(self._master, rng.integers(0, 256, 512, dtype=np.uint8).tobytes())
            except OSError:
                self._stop.wait(0.005)

    def __enter__(self) -> GarbageDevice:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5.0)
        os.close(self._master)
