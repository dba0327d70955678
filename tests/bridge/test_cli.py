"""The convert, simulate and record commands: main paths and main errors (messages name the fix)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from simdevice import simulate_then_record

from edgebind.bridge.recording import Recording
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.cli import cli

from .conftest import synthetic


def test_convert_real_files(data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    cases = [("imu/BasicMotions_TEST.ts", 4000, "gravity removed"), ("imu/daphnet_S06R02E0.csv", 7040, "milli-g"),
             ("thermal/20240507-074536.cptv", 0, "TLinear")]
    for rel, n_imu, caveat in cases:
        src = data_dir / rel
        out = tmp_path / (src.stem + ".npz")
        result = runner.invoke(cli, ["convert", str(src), "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "next: edgebind simulate" in result.output
        rec = Recording.load(out)
        assert len(rec.imu) == n_imu and caveat in json_text(rec.meta)
        assert "licence" in rec.meta
    rec = Recording.load(tmp_path / "20240507-074536.npz")
    assert rec.thermal is not None and rec.thermal.shape == (46, 120, 160)
    assert float(rec.thermal.min()) > -10 and float(rec.thermal.max()) < 40  # a night scene in °C
    bm = Recording.load(tmp_path / "BasicMotions_TEST.npz")
    assert bm.imu_rate_hz == pytest.approx(10.0) and bm.meta["gravity_included"] is False
    assert set(bm.labels.tolist()) == {"Standing", "Running", "Walking", "Badminton"}
    dp = Recording.load(tmp_path / "daphnet_S06R02E0.npz")
    assert dp.meta["has_gyro"] is False and np.all(dp.imu[:, 3:] == 0)
    assert 5 < float(np.median(np.linalg.norm(dp.imu[:, :3], axis=1))) < 15  # ~1 g in m/s^2


def json_text(meta: dict) -> str:
    import json

    return json.dumps(meta, ensure_ascii=False)


def test_convert_unknown_extension(tmp_path: Path) -> None:
    bad = tmp_path / "x.wav"
    bad.write_bytes(b"RIFF")
    result = CliRunner().invoke(cli, ["convert", str(bad), "-o", str(tmp_path / "x.npz")])
    assert result.exit_code == 1 and "--kind" in result.output


def test_record_from_simulated_device(tmp_path: Path) -> None:
    rec = synthetic(n=2000, rate_hz=400.0, thermal=10)
    out = tmp_path / "copy.npz"
    with SimulatedDevice(rec, fmt="binary", speed=20.0) as sim:
        result = CliRunner().invoke(cli, ["record", sim.port, "-o", str(out), "--idle", "0.5", "--duration", "15"])
    assert result.exit_code == 0, result.output
    assert "2000 IMU samples" in result.output and "10 thermal frames" in result.output
    got = Recording.load(out)
    np.testing.assert_array_equal(got.imu_t_ns, rec.imu_t_ns)
    counters = got.meta["counters"]
    for key in ("crc_failures", "resyncs", "seq_gaps", "bytes_discarded", "queue_dropped_bytes", "reconnects",
                "clock_drift_ppb", "samples_lost"):
        assert key in counters


def test_record_missing_port_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["record", str(tmp_path / "ttyUSB3"), "-o", str(tmp_path / "r.npz"),
                                      "--duration", "1"])
    assert result.exit_code == 1
    assert "no such port" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_record_of_nothing_is_an_error_not_an_empty_success(tmp_path: Path) -> None:
    """loop:// echoes only what the host sends: no samples arrive, so record exits 1 and writes no file."""
    out = tmp_path / "r.npz"
    result = CliRunner().invoke(cli, ["record", "loop://", "-o", str(out), "--idle", "0.3"])
    assert result.exit_code == 1, result.output
    assert "no IMU samples and no thermal frames" in result.output and "--baud" in result.output
    assert "no losses" not in result.output and not out.exists()


def test_record_binary_stream_as_csv_names_the_format(tmp_path: Path) -> None:
    rec = synthetic(n=2000)
    with SimulatedDevice(rec, fmt="binary", speed=5.0) as sim:
        sim_started = threading.Thread(target=_start_device, args=(sim.port,), daemon=True)
        sim_started.start()
        result = CliRunner().invoke(cli, ["record", sim.port, "-o", str(tmp_path / "r.npz"), "--format", "csv",
                                          "--duration", "10"])
    assert result.exit_code == 1 and "--format binary" in result.output


def _start_device(port: str) -> None:
    """Send START from a second handle, as a CSV host never does (the simulator waits for it)."""
    import serial

    from edgebind.bridge import protocol as p

    with serial.serial_for_url(port, timeout=0.1) as s:
        s.write(p.DELIMITER + p.encode_command("start"))


def test_simulate_rejects_non_monotonic_recording(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, imu=np.zeros((3, 6), np.float32), imu_t_ns=np.array([0, 20, 10], np.int64))
    result = CliRunner().invoke(cli, ["simulate", str(path)])
    assert result.exit_code == 1 and "not strictly increasing" in result.output and "sort the samples" in result.output


def test_simulate_command_then_record(tmp_path: Path) -> None:
    rec = synthetic(n=1200, rate_hz=400.0)
    src, link = tmp_path / "in.npz", tmp_path / "tty"
    rec.save(src)
    first = simulate_then_record(src, link, tmp_path / "out.npz", first_line_timeout_s=20)
    assert "simulated device on /dev/" in first and str(link) in first, first
    got = Recording.load(tmp_path / "out.npz")
    assert got.meta["format"] == "csv"
    np.testing.assert_array_equal(got.imu_t_ns, rec.imu_t_ns)
    np.testing.assert_allclose(got.imu, rec.imu, atol=1e-5)


def test_record_at_the_wrong_baud_rate_says_so(tmp_path: Path) -> None:
    with SimulatedDevice(synthetic(n=4000), fmt="binary", speed=20.0, faults="wrong_baud=8") as sim:
        result = CliRunner().invoke(cli, ["record", sim.port, "-o", str(tmp_path / "r.npz"), "--duration", "10"])
    assert result.exit_code == 1 and "baud rate is probably wrong" in result.output, result.output


def test_record_applies_calibration(tmp_path: Path) -> None:
    from edgebind.calibration.imu import apply_imu_profile
    from edgebind.calibration.profiles import CalibrationProfile

    profile = CalibrationProfile(sensor="icm42688", accel_bias_mps2=[0.2, -0.1, 0.3], gyro_bias_rads=[0.01, 0, 0],
                                 axis_map=["+y", "+x", "-z"]).save(tmp_path / "profile.json")
    rec = synthetic(n=2000, rate_hz=400.0)
    out = tmp_path / "cal.npz"
    with SimulatedDevice(rec, fmt="binary", speed=20.0) as sim:
        result = CliRunner().invoke(cli, ["record", sim.port, "-o", str(out), "--idle", "0.5", "--duration", "15",
                                          "--calibration", str(profile)])
    assert result.exit_code == 0, result.output
    got = Recording.load(out)
    assert got.meta["calibration"]["sensor"] == "icm42688"
    np.testing.assert_allclose(got.imu, apply_imu_profile(rec.imu, profile), atol=5e-3)  # link quantisation
