"""Fixtures for the stop/kill tests: real recordings (tests/data) saved as .npz for ``edgebind simulate``, and a
helper that waits for a file to hold data."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from edgebind.bridge.recording import Recording
from edgebind.bridge.remix import mlx_sized, retime, trim, with_thermal

RATE_HZ = 200.0


@pytest.fixture(scope="session")
def imu_200hz(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Recording]:
    """BasicMotions TEST (tests/data) re-timed to 200 Hz, 20 s (4000 samples), saved for the simulator."""
    from edgebind.bridge.convert import convert

    rec = trim(retime(convert(Path(__file__).parents[1] / "data" / "imu" / "BasicMotions_TEST.ts"), RATE_HZ), 20.0)
    return rec.save(tmp_path_factory.mktemp("rec") / "bm200.npz"), rec


@pytest.fixture(scope="session")
def imu_thermal_2s(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Recording]:
    """2 s of BasicMotions at 200 Hz with a Lepton clip (tests/data) shrunk to MLX90640 frames beside it."""
    from edgebind.bridge.convert import convert

    data = Path(__file__).parents[1] / "data"
    clip = mlx_sized(convert(data / "thermal" / "20240507-074536.cptv"))
    rec = with_thermal(trim(retime(convert(data / "imu" / "BasicMotions_TEST.ts"), RATE_HZ), 2.0), clip)
    return rec.save(tmp_path_factory.mktemp("rec") / "loop.npz"), rec


def wait_for(check: Callable[[], bool], timeout_s: float = 20.0, what: str = "") -> None:
    """Poll ``check`` every 50 ms until it is true (or fail after ``timeout_s``)."""
    end = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)
