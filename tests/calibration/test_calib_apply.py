"""A profile applied to whole recordings (record, embed) equals the per-sample correction the stream applies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.bridge.recording import Recording
from edgebind.calibration.apply import calibrate_recording
from edgebind.calibration.imu import apply_imu_profile
from edgebind.calibration.profiles import CalibrationProfile
from edgebind.checkpoint import save_checkpoint
from edgebind.cli import cli
from edgebind.config import get_config
from edgebind.errors import ConfigError
from edgebind.models import build_encoder


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    prof = CalibrationProfile(sensor="mpu6050", accel_bias_mps2=[0.3, -0.2, 0.5],
                              accel_matrix=[[1.02, 0.01, 0.0], [0.0, 0.98, 0.0], [0.0, 0.0, 1.01]],
                              gyro_bias_rads=[0.01, -0.02, 0.005], axis_map=["+y", "-x", "+z"])
    return prof.save(tmp_path / "profile.json")


def _recording(seconds: float = 6.0, rate_hz: float = 200.0, sensor: str = "mpu6050") -> Recording:
    rng = np.random.default_rng(0)
    n = int(seconds * rate_hz)
    imu = rng.normal(size=(n, 6)).astype(np.float32) + np.array([0, 0, 9.81, 0, 0, 0], np.float32)
    return Recording(imu=imu, imu_t_ns=(np.arange(n) * 1e9 / rate_hz).astype(np.int64),
                     meta={"imu_sensor": sensor})


def test_calibrate_recording_matches_per_sample(profile: Path) -> None:
    rec = _recording()
    out = calibrate_recording(rec, profile)
    np.testing.assert_allclose(out.imu, apply_imu_profile(rec.imu, profile), rtol=0, atol=1e-6)
    assert out.meta["calibration"]["sensor"] == "mpu6050"
    np.testing.assert_array_equal(out.imu_t_ns, rec.imu_t_ns)
    # axis map +y,-x: model x is sensor y, model y is minus sensor x (gyro, bias removed)
    np.testing.assert_allclose(out.imu[:, 3], rec.imu[:, 4] + 0.02, atol=1e-5)
    np.testing.assert_allclose(out.imu[:, 4], -(rec.imu[:, 3] - 0.01), atol=1e-5)


def test_profile_for_another_sensor_is_refused(profile: Path) -> None:
    with pytest.raises(ConfigError, match="made for IMU 'mpu6050' but the recording reports 'icm42688'"):
        calibrate_recording(_recording(sensor="icm42688"), profile)


def test_embed_applies_calibration(tmp_path: Path, profile: Path) -> None:
    rec_path = _recording().save(tmp_path / "rec.npz")
    ckpt = save_checkpoint(build_encoder(get_config("tiny_imu")), tmp_path / "tiny.safetensors")
    runner = CliRunner()
    args = ["embed", "imu", str(rec_path), "--checkpoint", str(ckpt)]
    r1 = runner.invoke(cli, [*args, "-o", str(tmp_path / "raw.npy")])
    r2 = runner.invoke(cli, [*args, "--calibration", str(profile), "-o", str(tmp_path / "cal.npy")])
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    raw, cal = np.load(tmp_path / "raw.npy"), np.load(tmp_path / "cal.npy")
    assert raw.shape == cal.shape == (1, 1024)
    assert np.abs(raw - cal).max() > 1e-3  # the correction reaches the model
    # the same correction applied by hand, then embedded unchanged, gives the same embedding
    calibrate_recording(Recording.load(rec_path), profile).save(tmp_path / "hand.npz")
    r3 = runner.invoke(cli, ["embed", "imu", str(tmp_path / "hand.npz"), "--checkpoint", str(ckpt),
                             "-o", str(tmp_path / "hand.npy")])
    assert r3.exit_code == 0, r3.output
    np.testing.assert_allclose(np.load(tmp_path / "hand.npy"), cal, atol=1e-5)
