"""Fixtures for bridge tests: small synthetic recordings and real ones from tests/data."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from edgebind.bridge.recording import Recording

# hypothesis caches constants under ./.hypothesis; keep the checkout clean (the tests use database=None too)
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "edgebind-hypothesis")

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "firmware_bridge" / "golden"


def synthetic(n: int = 400, rate_hz: float = 400.0, thermal: int = 0, seed: int = 0) -> Recording:
    """A seeded IMU recording (gravity on z) with optional MLX90640-shaped thermal frames at 8 Hz."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.int64) * round(1e9 / rate_hz)
    imu = rng.normal(0, 2, size=(n, 6)).astype(np.float32)
    imu[:, 2] += 9.81
    imu[:, 3:] *= 0.5
    th = tt = None
    if thermal:
        th = rng.normal(25, 4, size=(thermal, 24, 32)).astype(np.float32)
        tt = np.arange(thermal, dtype=np.int64) * 125_000_000
    return Recording(imu=imu, imu_t_ns=t, thermal=th, thermal_t_ns=tt, meta={"source": "synthetic"})


@pytest.fixture
def basicmotions(shared_recording: Callable[[str], Recording]) -> Recording:
    """BasicMotions TRAIN as a Recording (4000 samples at 10 Hz)."""
    return shared_recording("imu/BasicMotions_TRAIN.ts")


@pytest.fixture
def daphnet(shared_recording: Callable[[str], Recording]) -> Recording:
    """Daphnet S06R02E0 ankle accelerometer as a Recording (7040 samples at 64 Hz, no gyro)."""
    return shared_recording("imu/daphnet_S06R02E0.csv")
