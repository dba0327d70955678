"""Synthetic calibration sessions with a known truth, for tests, docs and ``scripts/imu_calibration_demo.py``.

A session rests the sensor in a list of orientations and turns it smoothly between them, like a person following
``edgebind calibrate imu``. Raw readings are made from a known accelerometer bias and matrix and a known gyroscope
bias, with white noise at the datasheet's noise density and the range's LSB quantisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgebind.calibration.profiles import (
    G_MPS2,
    accel_scale_mps2_per_lsb,
    gyro_scale_rads_per_lsb,
    load_sensor_spec,
)

SIX_FACES = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=np.float64)
_S = 1 / math.sqrt(2)
TILTS = np.array([[_S, _S, 0], [-_S, 0, _S], [0, _S, -_S], [_S, 0, -_S], [-_S, -_S, 0], [0, -_S, _S]])


@dataclass
class SyntheticSession:
    """A simulated session and the truth it was made from.

    Attributes:
        imu: (N, 6) float32 raw readings, accel m/s^2 then gyro rad/s (sensor frame).
        t_ns: (N,) int64 sample times.
        rate_hz: sample rate.
        accel_bias_mps2: (3,) true bias b; accel_matrix: (3, 3) true M (a_true = M (a_raw - b)).
        gyro_bias_rads: (3,) true gyroscope bias.
        pose_spans: (K, 2) sample index ranges where the sensor rests.
    """

    imu: np.ndarray
    t_ns: np.ndarray
    rate_hz: float
    accel_bias_mps2: np.ndarray
    accel_matrix: np.ndarray
    gyro_bias_rads: np.ndarray
    pose_spans: np.ndarray


def random_truth(rng: np.random.Generator, full_matrix: bool = True, sensor: str = "mpu6050"
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw a plausible (accel bias m/s^2, accel matrix, gyro bias rad/s) within the sensor's datasheet offsets.

    Scale errors are up to 3 %, misalignment (off-diagonal, symmetric) up to 1 % when ``full_matrix``.
    """
    spec = load_sensor_spec(sensor, "imu")
    zero_g = np.asarray(spec["accel"]["zero_g_offset_mg"], dtype=np.float64) * 1e-3 * G_MPS2
    bias = rng.uniform(0.3, 1.0, 3) * zero_g * rng.choice([-1, 1], 3)
    matrix = np.diag(1 + rng.uniform(-0.03, 0.03, 3))
    if full_matrix:
        off = rng.uniform(-0.01, 0.01, 3)
        matrix[0, 1] = matrix[1, 0] = off[0]
        matrix[0, 2] = matrix[2, 0] = off[1]
        matrix[1, 2] = matrix[2, 1] = off[2]
    zro = math.radians(min(float(spec["gyro"]["zero_rate_offset_dps"]), 3.0))
    gyro_bias = rng.uniform(0.3, 1.0, 3) * zro * rng.choice([-1, 1], 3)
    return bias, matrix, gyro_bias


def simulate_session(accel_bias_mps2: np.ndarray, accel_matrix: np.ndarray, gyro_bias_rads: np.ndarray,
                     poses: np.ndarray = SIX_FACES, sensor: str = "mpu6050", rate_hz: float = 400.0,
                     rest_s: float = 3.0, turn_s: float = 1.5, seed: int = 0) -> SyntheticSession:
    """Simulate a still-pose session.

    Args:
        accel_bias_mps2: (3,) true accelerometer bias. accel_matrix: (3, 3) true M. gyro_bias_rads: (3,).
        poses: (K, 3) "up" directions in the sensor frame (the accelerometer reads +g along them at rest).
            Defaults to the six faces.
        sensor: spec whose noise densities and default-range LSBs are used. Defaults to "mpu6050".
        rate_hz: sample rate in Hz. Defaults to 400.
        rest_s: seconds at rest per pose. Defaults to 3.0. turn_s: seconds per turn. Defaults to 1.5.
        seed: noise seed.
    """
    rng = np.random.default_rng(seed)
    spec = load_sensor_spec(sensor, "imu")
    sigma_a = spec["accel"]["noise_density_ug_per_sqrt_hz"] * 1e-6 * G_MPS2 * math.sqrt(rate_hz / 2)
    sigma_g = math.radians(spec["gyro"]["noise_density_dps_per_sqrt_hz"]) * math.sqrt(rate_hz / 2)
    ups = np.asarray(poses, dtype=np.float64)
    ups = ups / np.linalg.norm(ups, axis=1, keepdims=True)
    n_rest, n_turn = round(rest_s * rate_hz), round(turn_s * rate_hz)
    acc_parts, gyr_parts, spans = [], [], []
    pos = 0
    for k, up in enumerate(ups):
        acc_parts.append(np.tile(G_MPS2 * up, (n_rest, 1)))
        gyr_parts.append(np.zeros((n_rest, 3)))
        spans.append((pos, pos + n_rest))
        pos += n_rest
        if k + 1 == len(ups):
            break
        nxt = ups[k + 1]
        axis = np.cross(up, nxt)
        angle = math.atan2(np.linalg.norm(axis), float(up @ nxt))
        axis = axis / np.linalg.norm(axis) if np.linalg.norm(axis) > 1e-9 else np.array([1.0, 0, 0])
        s = np.linspace(0, 1, n_turn)
        theta = angle * (1 - np.cos(np.pi * s)) / 2  # smooth start and stop
        dtheta = angle * np.pi * np.sin(np.pi * s) / 2 / turn_s
        # Rodrigues: gravity direction rotating from `up` towards `nxt` about `axis`, seen in the sensor frame.
        c, sn = np.cos(theta)[:, None], np.sin(theta)[:, None]
        g_dir = up * c + np.cross(axis, up) * sn + axis * (axis @ up) * (1 - c)
        shake = 0.3 * np.sin(2 * np.pi * 3 * s)[:, None] * rng.normal(size=3)  # hand motion, m/s^2
        acc_parts.append(G_MPS2 * g_dir + shake)
        gyr_parts.append(-axis * dtheta[:, None])  # the body turns opposite to gravity's apparent rotation
        pos += n_turn
    acc_true = np.concatenate(acc_parts)
    gyr_true = np.concatenate(gyr_parts)
    acc_raw = acc_true @ np.linalg.inv(accel_matrix).T + accel_bias_mps2 + rng.normal(0, sigma_a, acc_true.shape)
    gyr_raw = gyr_true + gyro_bias_rads + rng.normal(0, sigma_g, gyr_true.shape)
    lsb_a = accel_scale_mps2_per_lsb(sensor, "4g")
    lsb_g = gyro_scale_rads_per_lsb(sensor, spec["gyro"]["default_range"])
    imu = np.concatenate([np.round(acc_raw / lsb_a) * lsb_a, np.round(gyr_raw / lsb_g) * lsb_g], axis=1)
    t_ns = (np.arange(len(imu)) * (1e9 / rate_hz)).astype(np.int64)
    return SyntheticSession(imu.astype(np.float32), t_ns, rate_hz, np.asarray(accel_bias_mps2, np.float64),
                            np.asarray(accel_matrix, np.float64), np.asarray(gyro_bias_rads, np.float64),
                            np.array(spans))
