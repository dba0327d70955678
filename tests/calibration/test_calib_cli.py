"""``edgebind calibrate imu|thermal|capture`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.bridge.recording import Recording
from edgebind.calibration.capture import CalibrationSet
from edgebind.calibration.profiles import CalibrationProfile
from edgebind.calibration.synthetic import SIX_FACES, TILTS, random_truth, simulate_session
from edgebind.cli import cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _session(tmp_path: Path, poses: np.ndarray) -> Path:
    bias, matrix, gyro_bias = random_truth(np.random.default_rng(0), full_matrix=len(poses) >= 9)
    s = simulate_session(bias, matrix, gyro_bias, poses, seed=1)
    return Recording(imu=s.imu, imu_t_ns=s.t_ns, meta={"imu_sensor": "mpu6050"}).save(tmp_path / "session.npz")


def test_calibrate_imu_from_a_recording_writes_a_profile(tmp_path: Path) -> None:
    rec = _session(tmp_path, np.concatenate([SIX_FACES, TILTS]))
    out = tmp_path / "robot.json"
    code, text = run("calibrate", "imu", str(rec), "--accel-range", "4g", "--axis-map", "+y,-x,+z", "-o", str(out))
    assert code == 0, text
    assert "12 (+x, +y, +z, -x, -y, -z up)" in text and "symmetric" in text and "(good)" in text
    prof = CalibrationProfile.load(out)
    assert prof.sensor == "mpu6050" and prof.axis_map == ["+y", "-x", "+z"] and prof.accel_range == "4g"
    assert "edgebind calibrate capture" in text


def test_calibrate_imu_with_too_few_positions_says_what_to_do(tmp_path: Path) -> None:
    rec = _session(tmp_path, SIX_FACES[:4])
    code, text = run("calibrate", "imu", str(rec), "-o", str(tmp_path / "p.json"))
    assert code == 1
    assert "found 4 distinct stationary positions" in text and "each face pointing up" in text
    assert "Traceback" not in text and not (tmp_path / "p.json").exists()


def test_calibrate_thermal_from_a_cptv_clip_keeps_the_imu_part(data_dir: Path, tmp_path: Path) -> None:
    clip = data_dir / "thermal" / "20240507-074536.cptv"
    out = tmp_path / "robot.json"
    CalibrationProfile(sensor="bmi270", accel_bias_mps2=[0.1, 0.2, 0.3]).save(out)
    code, text = run("calibrate", "thermal", str(clip), "--mapping", "fixed", "-o", str(out))
    assert code == 0, text
    assert "tlinear_0.01k" in text and "kept its IMU part" in text
    data = json.loads(out.read_text())
    assert data["sensor"] == "bmi270" and data["thermal"]["sensor"] == "lepton3.5"
    assert data["thermal"]["mapping"]["mapping"] == "fixed"


def test_calibrate_thermal_names_the_sensor_to_pass(data_dir: Path, tmp_path: Path) -> None:
    clip = data_dir / "thermal" / "20240507-074536.cptv"
    code, text = run("calibrate", "thermal", str(clip), "--sensor", "mlx9640", "-o", str(tmp_path / "p.json"))
    assert code == 1 and "unknown sensor 'mlx9640'. Did you mean 'mlx90640'?" in text


def test_calibrate_capture_writes_a_calibration_set(pty_device, tmp_path: Path) -> None:
    dev = pty_device(bias_mps2=[0.2, 0.1, -0.3])
    prof = CalibrationProfile(sensor="mpu6050", accel_bias_mps2=[0.2, 0.1, -0.3]).save(tmp_path / "p.json")
    out = tmp_path / "calib.npz"
    code, text = run("calibrate", "capture", dev.port, "--profile", str(prof), "--windows", "2", "-o", str(out),
                     "--max-seconds", "20")
    assert code == 0, text
    assert "imu (2, 6, 2000)" in text and "export --int8" in text
    calib = CalibrationSet.load(out)
    assert calib.imu.shape == (2, 6, 2000)
    assert abs(float(calib.imu[:, 2].mean()) - 9.80665) < 0.01


def test_calibrate_capture_refuses_a_profile_for_another_sensor(pty_device, tmp_path: Path) -> None:
    dev = pty_device(sensor="lsm6dsox")
    prof = CalibrationProfile(sensor="mpu6050").save(tmp_path / "p.json")
    code, text = run("calibrate", "capture", dev.port, "--profile", str(prof), "--windows", "1", "-o",
                     str(tmp_path / "c.npz"), "--max-seconds", "20")
    assert code == 1
    assert "made for IMU 'mpu6050' but the device reports 'lsm6dsox'" in text and "--sensor lsm6dsox" in text


def test_calibrate_imu_guided_on_a_live_port(pty_device, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The person is simulated: answering each prompt turns the device to the position the prompt names."""
    import click

    from edgebind.calibration.live import SIX_POSITIONS

    ups = {"+x": [1, 0, 0], "-x": [-1, 0, 0], "+y": [0, 1, 0], "-y": [0, -1, 0], "+z": [0, 0, 1], "-z": [0, 0, -1]}
    dev = pty_device(bias_mps2=[0.2, -0.1, 0.3], speed=20.0)
    prompts: list[str] = []

    def person(text: str, **kwargs: object) -> str:
        prompts.append(text)
        k = int(text[1 : text.index("/")]) - 1
        dev.up = np.array(ups[SIX_POSITIONS[k][0]], dtype=float)
        return ""

    monkeypatch.setattr(click, "prompt", person)
    out, session = tmp_path / "robot.json", tmp_path / "session.npz"
    code, text = run("calibrate", "imu", dev.port, "--hold-s", "1.5", "--settle-s", "0.3", "--save-session",
                     str(session), "-o", str(out))
    assert code == 0, text
    assert len(prompts) == 6 and "top face (+Z) up" in prompts[0]
    prof = CalibrationProfile.load(out)
    assert prof.sensor == "mpu6050"
    np.testing.assert_allclose(prof.accel_bias_mps2, [0.2, -0.1, 0.3], atol=0.01)
    # the saved session refits to the same profile
    code, text = run("calibrate", "imu", str(session), "-o", str(tmp_path / "again.json"))
    assert code == 0, text
    np.testing.assert_allclose(CalibrationProfile.load(tmp_path / "again.json").accel_bias_mps2,
                               prof.accel_bias_mps2, atol=1e-6)


def test_calibrate_thermal_on_a_live_port(pty_device, tmp_path: Path) -> None:
    dev = pty_device(thermal=True)
    out = tmp_path / "robot.json"
    code, text = run("calibrate", "thermal", dev.port, "--frames", "5", "--mapping", "fixed", "-o", str(out))
    assert code == 0, text
    prof = CalibrationProfile.load(out)
    assert prof.thermal is not None and prof.thermal.sensor == "mlx90640" and prof.thermal.raw_units == "celsius"
    assert prof.thermal.frame_shape == [24, 32] and prof.thermal.bad_pixels == []
    assert 18.0 <= prof.thermal.mapping["min_temp_c"] < prof.thermal.mapping["max_temp_c"] <= 27.0
