"""Real sketches' serial output, printed on a pseudo-terminal as the sketch prints it, read as ``record`` reads it.

Each test checks what the issue asks: every sample kept, values in SI units within the print precision, the
right time axis (rate within 1 %), thermal frames in degrees C.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgebind.bridge.events import LogMessage
from edgebind.bridge.units import UnitOptions
from edgebind.errors import SensorError

from .sketches import (
    G,
    i2cdevlib_counts,
    i2cdevlib_line,
    imu_truth,
    mlx_frame,
    plotter_line,
    record_board,
    sparkfun_line,
    teleplot_lines,
)


def _check(rec, truth: np.ndarray, rate_hz: float, atol: np.ndarray) -> None:
    assert len(rec.imu) == len(truth)  # every sample kept
    err = np.abs(rec.imu - truth)
    assert np.all(err <= atol), err.max(axis=0)
    assert rec.imu_rate_hz == pytest.approx(rate_hz, rel=0.01)
    assert np.all(np.diff(rec.imu_t_ns) > 0)


def test_adafruit_mpu6050_plotter() -> None:
    rate, truth = 100.0, imu_truth(220)
    items = [(0.0, "\r\n")] + [(i / rate, plotter_line(r)) for i, r in enumerate(truth)]
    rec, _, _ = record_board(items)
    assert rec.meta["format"] == "plotter"
    assert rec.meta["units"]["accel_unit"] == "mps2" and rec.meta["units"]["gyro_unit"] == "rads"
    _check(rec, truth, rate, np.full(6, 0.005 + 1e-6))  # 2 decimals


def test_sparkfun_icm20948_example1_with_waiting_lines() -> None:
    rate, truth = 50.0, imu_truth(130, seed=1)
    items = [(0.0, "Initialization of the sensor returned: All is well.\r\n")]
    for i, r in enumerate(truth):
        items.append((i / rate, sparkfun_line(r)))
        if i % 40 == 7:
            items.append((i / rate + 0.002, "Waiting for data\r\n"))
    rec, stats, _ = record_board(items)
    assert rec.meta["format"] == "sparkfun" and stats["other_lines"] == 4 and stats["header_lines"] == 1
    assert rec.meta["units"]["accel_unit"] == "mg" and rec.meta["units"]["gyro_unit"] == "dps"
    _check(rec, truth, rate, np.array([0.005e-3 * G + 1e-6] * 3 + [np.radians(0.005) + 1e-6] * 3))


def test_i2cdevlib_mpu6050_raw_needs_and_uses_the_sensor_profile() -> None:
    rate, truth = 100.0, imu_truth(220, seed=2)
    banner = [(0.0, "Initializing I2C devices...\r\n"), (0.0, "Testing device connections...\r\n"),
              (0.0, "MPU6050 connection successful\r\n")]
    items = banner + [(i / rate, i2cdevlib_line(r)) for i, r in enumerate(truth)]
    rec, stats, _ = record_board(items, units=UnitOptions(sensor="mpu6050"))
    counts = np.array([i2cdevlib_counts(r) for r in truth])
    expected = np.concatenate([counts[:, :3] * G / 16384, np.radians(counts[:, 3:] / 131)], axis=1)
    assert rec.meta["format"] == "i2cdevlib" and stats["header_lines"] == 3
    _check(rec, expected, rate, np.full(6, 1e-5))
    with pytest.raises(SensorError, match="--sensor mpu6050"):
        record_board(items[:40])


def test_teleplot_one_variable_per_line_with_unit() -> None:
    rate, truth = 50.0, imu_truth(130, seed=3)
    items = [(i / rate, teleplot_lines(r)) for i, r in enumerate(truth)]
    rec, _, events = record_board(items)
    assert rec.meta["format"] == "teleplot" and rec.meta["units"]["accel_unit"] == "g"
    # the gyroscope names no unit: rad/s, and the stream says so once
    notes = [e for e in events if isinstance(e, LogMessage) and "gyroscope unit not named" in e.text]
    assert len(notes) == 1
    _check(rec, truth, rate, np.array([0.00005 * G + 1e-6] * 3 + [0.00005 + 1e-6] * 3))


def test_headerless_csv_in_g_and_dps_with_mlx90640_frames_between() -> None:
    """The issue's case 4: plain CSV at 20 Hz with MLX90640_simpletest frames (2 Hz) between the lines."""
    rate, truth = 20.0, imu_truth(60, seed=4)
    rng = np.random.default_rng(5)
    frames = np.round(rng.normal(25, 3, size=(3, 24, 32)), 1)
    items = [(0.0, "Adafruit MLX90640 Simple Test\r\n")]
    for i, r in enumerate(truth):
        items.append((i / rate, ",".join(f"{v:.4f}" for v in np.concatenate([r[:3] / G, np.degrees(r[3:])]))
                      + "\r\n"))
        if i % 20 == 10:
            items.append((i / rate + 0.01, mlx_frame(frames[i // 20])))
    rec, stats, _ = record_board(items, units=UnitOptions(gyro_unit="dps"))
    assert rec.meta["units"]["accel_unit"] == "g"  # detected from the gravity magnitude
    _check(rec, truth, rate, np.array([0.00005 * G + 1e-6] * 3 + [np.radians(0.00005) + 1e-6] * 3))
    assert rec.thermal is not None and len(rec.thermal) == 3 and stats["thermal_bad_frames"] == 0
    np.testing.assert_allclose(rec.thermal, frames, atol=0.051)
    # each frame sits on the IMU time axis between the line before and the line after it
    for k, t in enumerate(rec.thermal_t_ns):
        i = 20 * k + 10
        assert rec.imu_t_ns[i] <= t <= rec.imu_t_ns[i + 1]


def test_record_cli_prints_the_units_and_names_the_sensor_flag(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from edgebind.cli import cli

    from .sketches import PtyBoard

    truth = imu_truth(150, seed=6)
    items = [(i / 100.0, i2cdevlib_line(r)) for i, r in enumerate(truth)]
    for args, ok in ((["--sensor", "mpu6050"], True), ([], False)):
        board = PtyBoard(items, wait_for_host=True)
        board.start()
        try:
            result = CliRunner().invoke(cli, ["record", board.port, "-o", str(tmp_path / "r.npz"), "--baud", "115200",
                                              "--idle", "0.7", "--duration", "20", *args])
        finally:
            board.close()
        if ok:
            assert result.exit_code == 0, result.output
            assert "units: raw mpu6050 counts at 2g/250dps" in result.output and "format i2cdevlib" in result.output
        else:
            assert result.exit_code == 1
            error = result.output.strip().splitlines()[-1]
            assert error.startswith("Error:") and "pass --sensor mpu6050" in error


def test_convert_a_saved_serial_log_with_unit_flags(tmp_path, data_dir) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from edgebind.bridge.recording import Recording
    from edgebind.cli import cli

    truth = imu_truth(300, seed=7)
    log = tmp_path / "monitor.log"  # headerless CSV in g and deg/s, as a terminal saved it
    log.write_text("".join(",".join(f"{v:.4f}" for v in np.concatenate([r[:3] / G, np.degrees(r[3:])])) + "\r\n"
                           for r in truth))
    out = tmp_path / "walk.npz"
    result = CliRunner().invoke(cli, ["convert", str(log), "--rate", "50", "--gyro-unit", "dps", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "accelerometer g (detected from the gravity magnitude" in result.output and "gyroscope dps" in result.output
    rec = Recording.load(out)
    assert len(rec.imu) == 300 and rec.imu_rate_hz == pytest.approx(50.0)
    np.testing.assert_allclose(rec.imu, truth, atol=np.radians(0.00005) + 0.00005 * G)
    no_rate = CliRunner().invoke(cli, ["convert", str(log), "-o", str(out)])
    assert no_rate.exit_code == 1 and "pass --rate HZ" in no_rate.output
    wrong = CliRunner().invoke(cli, ["convert", str(data_dir / "imu" / "BasicMotions_TEST.ts"), "--accel-unit", "g",
                                     "-o", str(out)])
    assert wrong.exit_code == 1 and "--accel-unit: only for a serial log" in wrong.output


def test_labels_teach_a_raw_count_sketch_with_sensor(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """labels teach takes --sensor (issue 21, part 3): i2cdevlib MPU6050_raw counts are taught in SI units; without
    --sensor the error names a flag that labels teach has."""
    from click.testing import CliRunner

    from edgebind.cli import cli
    from edgebind.exemplars import load_examples

    from .sketches import PtyBoard

    truth = imu_truth(700, seed=7)  # 7 s at 100 Hz: one 5 s window, then silence
    items = [(i / 100.0, i2cdevlib_line(r)) for i, r in enumerate(truth)]
    labels = tmp_path / "labels.txt"
    for args, ok in ((["--sensor", "mpu6050", "--rate", "100"], True), ([], False)):
        board = PtyBoard(items, wait_for_host=True)
        board.start()
        try:
            result = CliRunner().invoke(cli, ["labels", "teach", board.port, "waving", "--labels", str(labels),
                                              "--seconds", "9", "--baud", "115200", *args])
        finally:
            board.close()
        if ok:
            assert result.exit_code == 0, result.output
            assert "waving: @examples/waving.npz" in labels.read_text()
            windows = load_examples(tmp_path / "examples" / "waving.npz")
            assert len(windows) >= 1
            accel_z = float(windows[0][2].mean())  # m/s^2 from counts, gravity on z, not 16384
            assert abs(accel_z - G) < 0.2, accel_z
        else:
            assert result.exit_code == 1 and "pass --sensor mpu6050" in result.output, result.output
