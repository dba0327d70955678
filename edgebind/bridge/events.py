"""What decoders emit: plain dataclasses in SI units with device timestamps. Shared by bridge, calibration, stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class DeviceInfo:
    """The device's self-description (binary protocol INFO frame, or inferred for CSV)."""

    firmware: str = ""
    imu_sensor: str = ""
    thermal_sensor: str = ""
    imu_rate_hz: float = 0.0
    thermal_rate_hz: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImuBatch:
    """Consecutive IMU samples.

    Attributes:
        t_ns: (n,) int64 device time of each sample in ns (estimated from the rate where the link has no clock).
        accel_mps2: (n, 3) float32, gravity included.
        gyro_rads: (n, 3) float32; zeros where the sensor has no gyroscope (see ``has_gyro``).
        host_t_ns: host monotonic time (ns) when the bytes carrying the last sample arrived.
        imu6: (n, 6) float32 whose columns ``accel_mps2`` and ``gyro_rads`` are views of, where the decoder made
            them in one piece (``imu`` then returns it without a copy); None otherwise.
    """

    t_ns: np.ndarray
    accel_mps2: np.ndarray
    gyro_rads: np.ndarray
    host_t_ns: int = 0
    has_gyro: bool = True
    imu6: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def imu(self) -> np.ndarray:
        """(n, 6) float32 in Recording channel order."""
        if self.imu6 is not None:
            return self.imu6
        return np.concatenate([self.accel_mps2, self.gyro_rads], axis=1).astype(np.float32)


@dataclass
class ThermalFrame:
    """One thermal image. ``temp_c`` is (H, W) float32 in degrees Celsius."""

    t_ns: int
    temp_c: np.ndarray
    host_t_ns: int = 0


@dataclass
class LogMessage:
    """Text the device sent (log or error)."""

    t_ns: int
    level: str
    text: str


@dataclass
class Gap:
    """Samples known to be lost (sequence gap, CRC failure, disconnect)."""

    stream: str  # "imu" | "thermal"
    missing: int
    reason: str
    t_ns: int = 0
    duration_ns: int = 0  # how long the link or device was away (disconnect, pause, reboot), where known


Event = DeviceInfo | ImuBatch | ThermalFrame | LogMessage | Gap
