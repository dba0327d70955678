"""Calibration test helpers: a pseudo-terminal IMU/thermal device that follows a person turning it."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from edgebind.bridge import protocol as p
from edgebind.calibration.profiles import G_MPS2, accel_scale_mps2_per_lsb, gyro_scale_rads_per_lsb


class PtyDevice:
    """A fake sensor on a pty: waits for the host's START, then sends INFO and streams IMU (and thermal) frames.

    The IMU reads ``accel_raw = inv(matrix) @ (g * up) + bias`` in counts plus noise, where ``up`` is the current
    pose (settable while streaming, like a person turning the sensor). Device time runs ``speed`` times faster
    than wall time, paced with an Event wait (which also stops the thread).
    """

    def __init__(self, sensor: str = "mpu6050", rate_hz: float = 400.0, bias_mps2: np.ndarray | None = None,
                 matrix: np.ndarray | None = None, gyro_bias_rads: np.ndarray | None = None,
                 thermal: bool = False, speed: float = 20.0, noise_mps2: float = 0.02, seed: int = 0) -> None:
        self.sensor, self.rate_hz, self.speed, self.thermal = sensor, rate_hz, speed, thermal
        self.bias = np.zeros(3) if bias_mps2 is None else np.asarray(bias_mps2, float)
        self.matrix = np.eye(3) if matrix is None else np.asarray(matrix, float)
        self.gyro_bias = np.zeros(3) if gyro_bias_rads is None else np.asarray(gyro_bias_rads, float)
        self.noise = noise_mps2
        self.up = np.array([0.0, 0.0, 1.0])
        self.shake = 0.0  # m/s^2 amplitude of motion added to the accelerometer
        self.rng = np.random.default_rng(seed)
        self.accel_lsb = accel_scale_mps2_per_lsb(sensor, "4g")
        self.gyro_lsb = gyro_scale_rads_per_lsb(sensor, "500dps")
        self.master, slave = os.openpty()
        self.port = os.ttyname(slave)
        self._slave = slave
        self.started = threading.Event()
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _wait_for_start(self) -> bool:
        buf = b""
        while not self.stop.is_set():
            import select

            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            buf += os.read(self.master, 4096)
            *blocks, buf = buf.split(p.DELIMITER)
            for block in blocks:
                if not block:
                    continue
                try:
                    header, _ = p.parse_frame(block)
                except p.FrameError:
                    continue
                if header.type == p.FrameType.START:
                    self.started.set()
                    return True
        return False

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.stop.is_set():
            try:
                n = os.write(self.master, view)
            except BlockingIOError:
                continue
            except OSError:
                self.stop.set()
                return
            view = view[n:]

    def _run(self) -> None:
        if not self._wait_for_start():
            return
        self._write(p.encode_info(0, accel_lsb_mps2=self.accel_lsb, gyro_lsb_rads=self.gyro_lsb,
                                  imu_rate_hz=self.rate_hz, thermal_rate_hz=8.0 if self.thermal else 0.0,
                                  accel_fs_g=4, gyro_fs_dps=500, firmware="pty-test", imu_sensor=self.sensor,
                                  thermal_sensor="mlx90640" if self.thermal else ""))
        batch, dt_us = 40, round(1e6 / self.rate_hz)
        seq, t_us, th_seq, next_th_us = 0, 0, 0, 0
        inv = np.linalg.inv(self.matrix)
        while not self.stop.wait(batch / self.rate_hz / self.speed):
            acc = (inv @ (G_MPS2 * self.up)) + self.bias
            acc = acc + self.rng.normal(0, self.noise, (batch, 3)) + self.shake * self.rng.normal(0, 1, (batch, 3))
            gyr = self.gyro_bias + self.rng.normal(0, 0.002, (batch, 3))
            counts = np.concatenate([np.round(acc / self.accel_lsb), np.round(gyr / self.gyro_lsb)], axis=1)
            self._write(p.encode_imu(seq, t_us, dt_us, np.clip(counts, -32768, 32767).astype(np.int16)))
            seq += batch
            t_us += batch * dt_us
            if self.thermal and t_us >= next_th_us:
                frame = 20.0 + 5.0 * self.rng.random((24, 32))
                self._write(p.encode_thermal(th_seq, t_us, np.round(frame * 100).astype(np.int16),
                                             p.PixelEncoding.INT16, 0.01, 0.0, p.ThermalSensor.MLX90640))
                th_seq += 1
                next_th_us += 125_000

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=2.0)
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def pty_device() -> Iterator[type[PtyDevice]]:
    """Factory for :class:`PtyDevice`; every device made is closed after the test."""
    made: list[PtyDevice] = []

    class _Factory(PtyDevice):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            made.append(self)

    yield _Factory
    for dev in made:
        dev.close()
