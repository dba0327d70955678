"""Fixtures for export tests: real recordings from tests/data as Recordings and a calibration set, tiny bundles."""

from __future__ import annotations

from pathlib import Path

import pytest
from officialref import DATA, make_calib_npz


@pytest.fixture(scope="session")
def imu_rec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BasicMotions TEST (real smartwatch IMU, 40 cases x 10 s) as a Recording .npz."""
    from edgebind.bridge.convert import convert

    src = DATA / "imu" / "BasicMotions_TEST.ts"
    return convert(src).save(tmp_path_factory.mktemp("rec") / "basicmotions_test.npz")


@pytest.fixture(scope="session")
def thermal_rec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 46-frame FLIR Lepton clip (Cacophony Project) as a Recording .npz."""
    from edgebind.bridge.convert import convert

    src = DATA / "thermal" / "20240507-074536.cptv"
    return convert(src).save(tmp_path_factory.mktemp("rec") / "cptv.npz")


@pytest.fixture(scope="session")
def tiny_fp32(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real exported bundle: tiny random IMU + thermal, fp32 ONNX for the CPU, with a 3-label bank."""
    from edgebind.export import export_bundle

    d = tmp_path_factory.mktemp("tiny")
    (d / "labels.txt").write_text("walking\nrunning\nstanding\n")
    export_bundle(d / "b", target="cpu", precision="fp32", modalities="imu,thermal", random_init=True,
                  preset="tiny", labels=d / "labels.txt", remember=False)
    return d / "b"


@pytest.fixture(scope="session")
def calib_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A calib.npz of real data through the input contracts (tests/officialref.py: make_calib_npz)."""
    return make_calib_npz(tmp_path_factory.mktemp("calib"))
