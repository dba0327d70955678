"""Is the live IMU stream what the bundle's model expects? One warning per contradiction, with the numbers.

Windows are resampled to the contract's grid whatever the device rate, so nothing fails when a sensor differs
from the training data; the labels just get worse. Two facts are measurable from the stream itself and declared
in the bundle's :class:`~edgebind.preprocess.imu.ImuContract`:

* the device rate, against ``source_rate_hz`` (the rate of the data the model was trained on, when recorded);
* the accelerometer magnitude at rest (about 9.81 m/s^2 with gravity, about 0 without), against
  ``gravity_included``.
"""

from __future__ import annotations

import numpy as np

from edgebind.calibration.profiles import G_MPS2
from edgebind.calibration.stationary import ACCEL_STD_LIMITS_MPS2, GYRO_STD_LIMITS_RADS
from edgebind.preprocess.imu import ImuContract

RATE_TOLERANCE = 0.25
"""A device rate this far (relative) from ``source_rate_hz`` is a contradiction (a nominal 100 Hz part runs 90-110)."""

OBSERVE_S = 10.0
"""Device seconds collected before each check: long enough for a 1 s rest and a stable rate estimate."""

REST_BLOCK_S = 1.0
"""A rest is a block this long whose every accelerometer and gyroscope axis stays within the still-pose limits of
:mod:`edgebind.calibration.stationary` (standard deviation under 0.3 m/s^2 and 0.1 rad/s)."""


class ImuContractCheck:
    """Collects the first ``observe_s`` of IMU samples and compares them with the contract.

    The rate is checked once. Resting gravity is checked on each later stretch of ``observe_s`` until one holds a
    rest (a moving sensor says nothing about gravity). Each contradiction is reported once.

    Args:
        contract: the bundle's IMU contract.
        observe_s: device seconds per check. Defaults to ``OBSERVE_S``.
    """

    def __init__(self, contract: ImuContract, observe_s: float = OBSERVE_S) -> None:
        self.contract, self.observe_s = contract, observe_s
        self._t: list[np.ndarray] = []
        self._imu: list[np.ndarray] = []
        self.rate_hz: float | None = None
        self.rest_accel_mps2: float | None = None
        self.warnings: list[str] = []

    @property
    def done(self) -> bool:
        return self.rate_hz is not None and self.rest_accel_mps2 is not None

    def push(self, t_ns: np.ndarray, imu: np.ndarray) -> list[str]:
        """Add samples: (n,) int64 device ns and (n, 6) accel m/s^2 then gyro rad/s. Returns new warnings."""
        if self.done or len(t_ns) == 0:
            return []
        self._t.append(np.asarray(t_ns, np.int64))
        self._imu.append(np.asarray(imu))
        if (int(self._t[-1][-1]) - int(self._t[0][0])) / 1e9 < self.observe_s:
            return []  # O(1) per batch on the reader thread; the work below runs once per observe_s
        t, x = np.concatenate(self._t), np.concatenate(self._imu).astype(np.float64)
        self._t, self._imu = [], []
        new: list[str] = []
        dt = np.diff(t)
        dt = dt[dt > 0]
        if len(dt) < 2:
            return []
        rate = 1e9 / float(np.median(dt))
        if self.rate_hz is None:
            self.rate_hz = rate
            new += self._check_rate(rate)
        rest = _rest_accel(x, rate)
        if rest is not None:
            self.rest_accel_mps2, rest_s = rest
            new += self._check_gravity(self.rest_accel_mps2, rest_s)
        self.warnings += new
        return new

    def _check_rate(self, rate_hz: float) -> list[str]:
        want = self.contract.source_rate_hz
        if want is None or abs(rate_hz / want - 1) <= RATE_TOLERANCE:
            return []
        return [f"the IMU streams at {rate_hz:.1f} Hz but the bundle's model was trained on {want:g} Hz data "
                f"(contract source_rate_hz); windows are resampled to {self.contract.sample_rate_hz:g} Hz either way, "
                f"but expect worse labels: set the sensor to {want:g} Hz or retrain on data at {rate_hz:.0f} Hz."]

    def _check_gravity(self, rest_mps2: float, seconds: float) -> list[str]:
        has_gravity = rest_mps2 > G_MPS2 / 2
        if has_gravity == self.contract.gravity_included:
            return []
        if self.contract.gravity_included:
            return [f"the accelerometer reads {rest_mps2:.2f} m/s^2 during {seconds:.1f} s at rest, but the bundle's "
                    f"model expects gravity included (about {G_MPS2:.2f}); stream raw accelerometer data, not "
                    "linear acceleration."]
        return [f"the accelerometer reads {rest_mps2:.2f} m/s^2 during {seconds:.1f} s at rest (gravity included), but "
                "the bundle's model was trained with gravity removed (contract gravity_included false); stream "
                "linear acceleration (the sensor's gravity-removed output) or retrain on raw data."]


def _rest_accel(imu: np.ndarray, rate_hz: float) -> tuple[float, float] | None:
    """(median |mean accel| over the still blocks in m/s^2, their total seconds), or None without a rest.

    Plain numpy on fixed blocks: it runs on the reader thread, so it must take well under a millisecond.
    """
    n = max(3, round(REST_BLOCK_S * rate_hz))
    k = len(imu) // n
    if k == 0:
        return None
    blocks = imu[: k * n].reshape(k, n, 6)  # (K, n, 6): K blocks of n samples
    std = blocks.std(axis=1)
    still = (std[:, :3].max(axis=1) < ACCEL_STD_LIMITS_MPS2[1]) & (std[:, 3:].max(axis=1) < GYRO_STD_LIMITS_RADS[1])
    if not still.any():
        return None
    magnitude = np.linalg.norm(blocks[still, :, :3].mean(axis=1), axis=1)
    return float(np.median(magnitude)), float(still.sum() * n / rate_hz)
