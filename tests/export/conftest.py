"""Fixtures for export tests: real recordings from tests/data as Recordings and a calibration set, tiny bundles."""

from __future__ import annotations

from pathlib import Path

import pytest
from officialref import DATA


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
def calib_npz(imu_rec: Path, thermal_rec: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A calib.npz (the 'edgebind calibrate capture' format) of real data through the input contracts:
    40 BasicMotions windows (resampled to 400 Hz) and the 46 CPTV frames (percentile-mapped, 224x224)."""

    from edgebind.bridge.recording import Recording
    from edgebind.calibration.capture import CalibrationSet
    from edgebind.preprocess.imu import windows_from_recording
    from edgebind.preprocess.thermal import map_temperature, to_model_input

    imu, ends = windows_from_recording(Recording.load(imu_rec), hop_s=2.5)
    imu, ends = imu[::4][:40], ends[::4][:40]
    rec = Recording.load(thermal_rec)
    assert rec.thermal is not None and rec.thermal_t_ns is not None
    frames = to_model_input(map_temperature(rec.thermal))
    cs = CalibrationSet(imu, ends, frames, rec.thermal_t_ns, {"source": "BasicMotions TEST + CPTV 20240507"})
    return cs.save(tmp_path_factory.mktemp("calib") / "calib.npz")
