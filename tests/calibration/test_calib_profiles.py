"""Sensor specs (datasheet data files) and the calibration profile JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from edgebind.calibration.profiles import (
    G_MPS2,
    CalibrationProfile,
    ThermalCalibration,
    accel_full_scale_mps2,
    accel_scale_mps2_per_lsb,
    check_profile_sensor,
    format_axis_map,
    gyro_scale_rads_per_lsb,
    imu_counts_to_si,
    load_sensor_spec,
    merge_profile,
    parse_axis_map,
    sensor_names,
)
from edgebind.errors import ConfigError

REQUIRED = {"mpu6050", "icm42688", "bmi270", "lsm6dsox", "mlx90640", "amg8833", "lepton3.5"}


def test_all_required_specs_ship_with_a_source_and_rates() -> None:
    assert set(sensor_names()) >= REQUIRED
    for name in sensor_names():
        spec = load_sensor_spec(name)
        assert "datasheet" in spec["source"].lower() or "specification" in spec["source"].lower(), name
        assert spec["nominal_rates_hz"], name
    for name in sensor_names("imu"):
        spec = load_sensor_spec(name)
        assert spec["accel"]["noise_density_ug_per_sqrt_hz"] > 0
        assert spec["gyro"]["noise_density_dps_per_sqrt_hz"] > 0
        assert spec["accel"]["default_range"] in spec["accel"]["lsb_per_g"]
        assert "right-handed" in spec["axes"].lower()
    assert set(sensor_names("thermal")) == {"mlx90640", "amg8833", "lepton3.5"}


def test_raw_to_si_scales_match_the_datasheets() -> None:
    # MPU-6050: 16384 LSB/g at +-2 g, 131 LSB/(deg/s) at +-250 deg/s.
    assert accel_scale_mps2_per_lsb("MPU-6050", "2g") == pytest.approx(G_MPS2 / 16384)
    assert gyro_scale_rads_per_lsb("mpu6050", "250dps") == pytest.approx(math.radians(1) / 131)
    # LSM6DSOX is specified in mg/LSB and mdps/LSB; the LSB-per-unit tables must agree with those.
    spec = load_sensor_spec("lsm6dsox")
    for rng, mg in spec["accel"]["datasheet_sensitivity_mg_per_lsb"].items():
        assert accel_scale_mps2_per_lsb("lsm6dsox", rng) == pytest.approx(mg * 1e-3 * G_MPS2, rel=1e-6)
    for rng, mdps in spec["gyro"]["datasheet_sensitivity_mdps_per_lsb"].items():
        assert gyro_scale_rads_per_lsb("lsm6dsox", rng) == pytest.approx(math.radians(mdps * 1e-3), rel=1e-6)
    assert accel_full_scale_mps2("bmi270", "8g") == pytest.approx(8 * G_MPS2)
    si = imu_counts_to_si(np.array([[0, 0, 8192, 65, 0, 0]]), "icm42688", "4g", "500dps")
    np.testing.assert_allclose(si[0], [0, 0, G_MPS2, math.radians(65 / 65.5), 0, 0], rtol=1e-6)


def test_unknown_sensor_and_range_suggest_the_right_name() -> None:
    with pytest.raises(ConfigError, match=r"Did you mean 'mpu6050'"):
        load_sensor_spec("mpu6005")
    with pytest.raises(ConfigError, match=r"thermal sensor, not imu"):
        load_sensor_spec("amg8833", "imu")
    with pytest.raises(ConfigError, match=r"no accel range '3g'"):
        accel_scale_mps2_per_lsb("mpu6050", "3g")


def test_axis_map_parses_formats_and_rejects_bad_maps() -> None:
    r = parse_axis_map("+y,-x,+z")
    np.testing.assert_array_equal(r @ np.array([1.0, 2.0, 3.0]), [2.0, -1.0, 3.0])
    assert format_axis_map(r) == ["+y", "-x", "+z"]
    for bad in ("+x,+x,+z", "+x,+y", "+x,+y,+w"):
        with pytest.raises(ConfigError, match=r"e.g. '\+y,-x,\+z'"):
            parse_axis_map(bad)


def test_profile_round_trips_and_validates(tmp_path) -> None:
    prof = CalibrationProfile(sensor="BMI270", accel_bias_mps2=[0.1, -0.2, 0.3], gyro_bias_rads=[1e-3, 0, -2e-3],
                              axis_map=["-y", "+x", "+z"],
                              thermal=ThermalCalibration(sensor="lepton35", raw_units="tlinear_0.01k",
                                                         bad_pixels=[[1, 2]]))
    path = prof.save(tmp_path / "p.json")
    data = json.loads(path.read_text())
    for key in ("sensor", "accel_bias_mps2", "accel_matrix", "gyro_bias_rads", "axis_map", "thermal"):
        assert key in data
    back = CalibrationProfile.load(path)
    assert back.sensor == "bmi270" and back.thermal is not None and back.thermal.sensor == "lepton3.5"
    assert back.to_dict() == prof.to_dict()
    data["accel_bias"] = [0, 0, 0]
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"Did you mean 'accel_bias_mps2'"):
        CalibrationProfile.load(path)
    with pytest.raises(ConfigError, match=r"shape \(3, 3\)"):
        CalibrationProfile(accel_matrix=[[1, 0], [0, 1]])
    with pytest.raises(ConfigError, match=r"does not exist; create it with"):
        CalibrationProfile.load(tmp_path / "missing.json")


def test_merge_keeps_the_other_part(tmp_path) -> None:
    path = tmp_path / "robot.json"
    CalibrationProfile(sensor="mpu6050", accel_bias_mps2=[0.5, 0, 0]).save(path)
    merged, kept = merge_profile(path, CalibrationProfile(thermal=ThermalCalibration(sensor="amg8833")), "thermal")
    assert kept and merged.sensor == "mpu6050" and merged.accel_bias_mps2[0] == 0.5
    assert merged.thermal is not None and merged.thermal.sensor == "amg8833"


def test_a_profile_for_another_sensor_is_refused_with_the_fix() -> None:
    prof = CalibrationProfile(sensor="mpu6050", thermal=ThermalCalibration(sensor="mlx90640"))
    check_profile_sensor(prof, imu_sensor="MPU-6050", thermal_sensor="MLX90640")
    with pytest.raises(ConfigError, match=r"made for IMU 'mpu6050' but this stream reports 'icm42688'.*"
                                          "edgebind calibrate imu PORT --sensor icm42688"):
        check_profile_sensor(prof, imu_sensor="icm42688")
    with pytest.raises(ConfigError, match=r"thermal sensor 'mlx90640' but .* 'amg8833'.*calibrate thermal"):
        check_profile_sensor(prof, thermal_sensor="amg8833")
    with pytest.raises(ConfigError, match=r"no IMU calibration"):
        check_profile_sensor(CalibrationProfile(), imu_sensor="bmi270")
    check_profile_sensor(prof, imu_sensor="smartwatch (BasicMotions)")  # no spec for that name: logged, not refused
