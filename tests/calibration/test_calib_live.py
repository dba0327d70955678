"""Live paths over a pseudo-terminal device: INT8 calibration capture and the guided IMU session."""

from __future__ import annotations

import queue

import numpy as np
import pytest

from edgebind.calibration.capture import CalibrationSet, capture
from edgebind.calibration.live import SIX_POSITIONS, guided_imu_session
from edgebind.calibration.profiles import G_MPS2, CalibrationProfile, ThermalCalibration
from edgebind.errors import ConfigError, SensorError

UPS = {"+x": [1, 0, 0], "-x": [-1, 0, 0], "+y": [0, 1, 0], "-y": [0, -1, 0], "+z": [0, 0, 1], "-z": [0, 0, -1]}


def test_capture_goes_through_profile_windowing_and_contracts(pty_device, tmp_path) -> None:
    bias = np.array([0.4, -0.3, 0.5])
    dev = pty_device(bias_mps2=bias, gyro_bias_rads=[0.02, -0.01, 0.03], thermal=True)
    profile = CalibrationProfile(sensor="mpu6050", accel_bias_mps2=bias.tolist(), gyro_bias_rads=[0.02, -0.01, 0.03],
                                 axis_map="+y,-x,+z",
                                 thermal=ThermalCalibration(sensor="mlx90640", raw_units="celsius",
                                                            frame_shape=[24, 32], bad_pixels=[[3, 4]]))
    seen: queue.Queue[tuple[int, int]] = queue.Queue()
    result = capture(dev.port, 2, profile, max_duration_s=20, on_progress=lambda a, b: seen.put((a, b)))
    assert dev.started.is_set()
    assert result.imu.shape == (2, 6, 2000) and result.imu.dtype == np.float32
    assert result.thermal.shape == (2, 1, 224, 224) and 0.0 <= result.thermal.min() <= result.thermal.max() <= 1.0
    # the device rests +z up with a bias: after the profile, accel reads (0, 0, g) and gyro reads 0
    np.testing.assert_allclose(result.imu[:, :3].mean(axis=2), [[0, 0, G_MPS2]] * 2, atol=0.01)
    np.testing.assert_allclose(result.imu[:, 3:].mean(axis=2), 0.0, atol=2e-3)
    assert np.all(np.diff(result.imu_t_ns) >= 5e9 - 1e7)  # default hop: distinct 5 s windows
    assert seen.qsize() >= 2
    path = result.save(tmp_path / "calib.npz")
    back = CalibrationSet.load(path)
    np.testing.assert_array_equal(back.imu, result.imu)
    assert back.meta["format"] == "edgebind-calib-v1" and back.meta["profile"]["sensor"] == "mpu6050"
    assert back.meta["device"]["imu_sensor"] == "mpu6050"


def test_capture_without_profile_keeps_the_bias(pty_device) -> None:
    dev = pty_device(bias_mps2=[0.4, -0.3, 0.5])
    result = capture(dev.port, 1, None, max_duration_s=20)
    np.testing.assert_allclose(result.imu[0, :3].mean(axis=1), [0.4, -0.3, G_MPS2 + 0.5], atol=0.01)
    assert result.thermal.shape == (0, 1, 224, 224)


def test_capture_refuses_a_profile_for_another_sensor(pty_device) -> None:
    dev = pty_device(sensor="icm42688")
    with pytest.raises(ConfigError, match=r"made for IMU 'mpu6050' but the device reports 'icm42688'"):
        capture(dev.port, 1, CalibrationProfile(sensor="mpu6050"), max_duration_s=20)


def test_capture_times_out_with_counts(pty_device) -> None:
    dev = pty_device(speed=1.0)  # real time: 5 s windows cannot fill in 0.5 s
    with pytest.raises(SensorError, match=r"collected 0 IMU windows and 0 thermal frames of 3 in .*--max-seconds"):
        capture(dev.port, 3, None, max_duration_s=0.5)


def test_guided_session_fits_the_device_truth(pty_device) -> None:
    bias, matrix, gyro_bias = np.array([0.3, -0.2, 0.4]), np.diag([1.02, 0.98, 1.01]), np.array([0.01, -0.02, 0.005])
    dev = pty_device(bias_mps2=bias, matrix=matrix, gyro_bias_rads=gyro_bias, speed=20.0)
    asked: list[str] = []

    def ask(k: int, name: str, instruction: str) -> None:  # the "person" turns the sensor
        asked.append(name)
        dev.up = np.array(UPS[name], dtype=float)

    # settle_s: longer than thread latency on a busy CI box, so no sample from the previous pose counts
    result, rec = guided_imu_session(dev.port, ask=ask, hold_s=2.0, settle_s=0.3)
    assert asked == [name for name, _ in SIX_POSITIONS]
    prof = result.profile
    print("guided session errors: bias", np.round(np.subtract(prof.accel_bias_mps2, bias), 4),
          "matrix diag", np.round(np.diag(prof.accel_matrix) - np.diag(matrix), 5),
          "gyro", np.round(np.subtract(prof.gyro_bias_rads, gyro_bias), 5))
    assert prof.sensor == "mpu6050"  # from the device's INFO frame
    np.testing.assert_allclose(prof.accel_bias_mps2, bias, atol=0.005)
    np.testing.assert_allclose(prof.accel_matrix, matrix, atol=0.001)
    np.testing.assert_allclose(prof.gyro_bias_rads, gyro_bias, atol=0.001)
    assert list(rec.labels) == [f"pose:{n}" for n, _ in SIX_POSITIONS]


def test_guided_session_redoes_a_position_when_the_sensor_moves_then_gives_up(pty_device) -> None:
    dev = pty_device(speed=20.0)
    retries: list[str] = []

    def ask(k: int, name: str, instruction: str) -> None:
        dev.up = np.array(UPS[name], dtype=float)
        dev.shake = 1.0 if name == "-z" else 0.0  # the person never holds -z still

    with pytest.raises(SensorError, match=r"moved during stationary segment 'pose:-z'.*record that position again"):
        guided_imu_session(dev.port, ask=ask, on_retry=lambda name, why: retries.append(name), hold_s=1.0,
                           settle_s=0.3, retries=1)
    assert retries == ["-z"]


def test_capture_from_the_bridge_simulator_matches_the_offline_windows() -> None:
    """A recorded calibration session replayed by the bridge's SimulatedDevice: fit offline, capture live with the
    profile; the captured windows equal the offline windows of the corrected recording (up to int16 quantisation)."""
    from edgebind.bridge.recording import Recording
    from edgebind.bridge.simulator import SimulatedDevice
    from edgebind.calibration.imu import apply_imu_profile, calibrate_imu_recording
    from edgebind.calibration.synthetic import SIX_FACES, TILTS, random_truth, simulate_session
    from edgebind.preprocess.imu import windows_from_recording

    bias, matrix, gyro_bias = random_truth(np.random.default_rng(4), full_matrix=True)
    s = simulate_session(bias, matrix, gyro_bias, np.concatenate([SIX_FACES, TILTS]), seed=9)
    rec = Recording(imu=s.imu, imu_t_ns=s.t_ns, meta={"imu_sensor": "mpu6050"})
    profile = calibrate_imu_recording(rec).profile
    with SimulatedDevice(rec, speed=50.0) as sim:
        calib = capture(sim.port, 4, profile, max_duration_s=30)
    offline, ends = windows_from_recording(
        Recording(imu=apply_imu_profile(rec.imu, profile), imu_t_ns=rec.imu_t_ns))
    assert calib.imu.shape == (4, 6, 2000)
    np.testing.assert_array_equal(calib.imu_t_ns - calib.imu_t_ns[0], ends[:4] - ends[0])
    diff = np.abs(calib.imu - offline[:4]).max(axis=(0, 2))
    print("captured vs offline windows, max |diff| per channel:", np.round(diff, 5))
    assert np.all(diff < 0.01)


def test_capture_thermal_from_a_real_lepton_clip_through_the_simulator(data_dir) -> None:
    from edgebind.bridge.convert import convert
    from edgebind.bridge.simulator import SimulatedDevice
    from edgebind.calibration.thermal import apply_thermal_profile, calibrate_thermal, thermal_contract
    from edgebind.preprocess.thermal import map_temperature, to_model_input

    clip = data_dir / "thermal" / "20240917-1921337.cptv"
    rec = convert(clip)  # degrees C, meta thermal_sensor "lepton3.5"
    cal = calibrate_thermal(rec.thermal, "lepton3.5", raw_units="celsius", mapping="fixed").calibration
    profile = CalibrationProfile(thermal=cal)
    with SimulatedDevice(rec, speed=20.0) as sim:
        calib = capture(sim.port, 2, profile, hop_s=1.0, max_duration_s=30)
    assert calib.imu.shape == (0, 6, 2000) and calib.thermal.shape == (2, 1, 224, 224)
    first = int(np.searchsorted(rec.thermal_t_ns, calib.thermal_t_ns[0] - calib.thermal_t_ns[0]))
    temp_c = apply_thermal_profile(rec.thermal[first], profile)  # the bad pixel repaired, as in the stream
    want = to_model_input(map_temperature(temp_c, thermal_contract(profile)))[0]
    err = np.abs(calib.thermal[0] - want).max()
    print(f"captured vs offline thermal input: max |diff| {err:.4f} ({cal.quality['bad_pixels']} bad pixel repaired)")
    assert err <= 1 / 255 + 1e-6  # at most one 8-bit level (the link carries centi-kelvin)
