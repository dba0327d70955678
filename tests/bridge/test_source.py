"""SensorSource + SimulatedDevice over real pseudo-terminals: round trips on real data, faults, reconnects."""

from __future__ import annotations

import numpy as np
import pytest

from edgebind.bridge.events import ImuBatch, LogMessage, ThermalFrame
from edgebind.bridge.record import record
from edgebind.bridge.recording import Recording
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.bridge.source import SensorSource
from edgebind.errors import ConfigError, SensorError

from .conftest import synthetic


@pytest.mark.parametrize("fmt", ["binary", "csv"])
def test_round_trip_basicmotions(basicmotions: Recording, fmt: str) -> None:
    rec = basicmotions
    with SimulatedDevice(rec, fmt=fmt, speed=2000.0) as sim:
        out = record(sim.port, fmt="auto", max_samples=len(rec.imu), idle_s=1.0, duration_s=20.0)
    c = out.meta["counters"]
    print(f"\n{fmt}: sent {sim.stats['imu_samples_sent']} samples, recorded {len(out.imu)}, "
          f"lost {c.get('samples_lost', 0)}, crc failures {c.get('crc_failures', 0)}, "
          f"malformed lines {c.get('malformed_lines', 0)}")
    assert out.meta["format"] == fmt
    np.testing.assert_array_equal(out.imu_t_ns, rec.imu_t_ns)
    tol = 5e-7 * 1.01 if fmt == "csv" else np.array([sim.scale.accel_lsb_mps2] * 3 + [sim.scale.gyro_lsb_rads] * 3) / 2
    assert np.all(np.abs(out.imu - rec.imu) <= tol + 1e-6)
    assert c["bytes_discarded"] == 0 and c["queue_dropped_bytes"] == 0


def test_round_trip_daphnet_binary_without_gyro(daphnet: Recording) -> None:
    with SimulatedDevice(daphnet, fmt="binary", speed=1000.0) as sim:
        out = record(sim.port, max_samples=len(daphnet.imu), idle_s=1.0, duration_s=20.0)
    np.testing.assert_array_equal(out.imu_t_ns, daphnet.imu_t_ns)
    assert np.abs(out.imu - daphnet.imu).max() <= sim.scale.accel_lsb_mps2 / 2 + 1e-6
    assert out.meta["has_gyro"] is False and out.meta["device"]["has_gyro"] is False


def test_thermal_cptv_round_trip(data_dir) -> None:  # type: ignore[no-untyped-def]
    from edgebind.bridge.convert import convert

    path = data_dir / "thermal" / "20240507-074536.cptv"
    rec = convert(path)
    with SimulatedDevice(rec, fmt="binary", speed=200.0) as sim, SensorSource(sim.port) as src:
        frames = []
        for event in src.events(timeout_s=0.05):
            if isinstance(event, ThermalFrame):
                frames.append(event)
            if len(frames) == len(rec.thermal) or src.idle_s > 3.0:
                break
    assert len(frames) == len(rec.thermal)
    np.testing.assert_allclose(np.stack([f.temp_c for f in frames]), rec.thermal, atol=0.0051)
    assert [f.t_ns for f in frames] == [int(t) // 1000 * 1000 for t in rec.thermal_t_ns]


def test_simulator_waits_for_start_then_answers_commands() -> None:
    import serial

    from edgebind.bridge import protocol as p
    from edgebind.bridge.binary import BinaryDecoder

    with SimulatedDevice(synthetic(n=800), fmt="binary", speed=50.0) as sim:
        port = serial.serial_for_url(sim.port, baudrate=921600, timeout=0.2)
        try:
            assert port.read(64) == b"", "the device streamed before START"
            assert not sim.started.is_set()
            port.write(p.DELIMITER + p.encode_command("start") + p.encode_command("set_rate", rate_hz=100.0))
            assert sim.started.wait(2.0)
            dec = BinaryDecoder()
            events: list = []
            while not any(isinstance(e, LogMessage) for e in events):
                chunk = port.read(4096)
                assert chunk, "no data after START"
                events += dec.feed(chunk)
        finally:
            port.close()
    assert dec.info is not None and dec.info.imu_rate_hz == pytest.approx(400.0)
    log_msg = next(e for e in events if isinstance(e, LogMessage))
    assert log_msg.level == "warning" and "set_rate" in log_msg.text


def test_faults_over_pty_are_survived_and_counted() -> None:
    rec = synthetic(n=4000, rate_hz=1000.0, thermal=30, seed=5)
    with SimulatedDevice(rec, fmt="binary", speed=20.0, faults="bitflip=0.01,drop_frames=0.01,garbage=0.01,seed=4",
                         imu_batch=5) as sim:
        out = record(sim.port, max_samples=len(rec.imu), idle_s=0.5, duration_s=20.0)
    stats = out.meta["counters"]
    got = np.isin(rec.imu_t_ns, out.imu_t_ns)
    first, last = np.flatnonzero(got)[[0, -1]]
    print(f"\nfaults: {sim.fault_stats}; decoder: crc {stats['crc_failures']} cobs {stats['cobs_errors']} "
          f"resyncs {stats['resyncs']} samples_lost {stats['samples_lost']} received {len(out.imu)}/{len(rec.imu)}")
    assert sim.fault_stats["units_touched"] > 20
    assert stats["samples_lost"] == int((~got[first : last + 1]).sum())
    kept = np.searchsorted(rec.imu_t_ns, out.imu_t_ns)
    assert np.abs(out.imu - rec.imu[kept]).max() < 0.01  # what arrives is right (CRC-checked)


def test_disconnect_and_reconnect_via_link(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rec = synthetic(n=4000, rate_hz=400.0)  # 10 s
    with SimulatedDevice(rec, fmt="binary", speed=10.0, faults="disconnect=4", link=tmp_path / "imu") as sim:
        out = record(str(sim.link), max_samples=len(rec.imu), idle_s=0.5, duration_s=20.0)
    stats = out.meta["counters"]
    print(f"\ndisconnect: reconnects {stats['reconnects']}, recorded {len(out.imu)}, samples_lost "
          f"{stats['samples_lost']}, skipped while away {sim.stats['samples_skipped_offline']}")
    assert stats["reconnects"] == 1 and sim.stats["reconnects"] == 1
    assert out.imu_t_ns[-1] == rec.imu_t_ns[-1], "streaming resumed after the reconnect"
    assert len(out.imu) + stats["samples_lost"] == len(rec.imu)
    assert stats["samples_lost"] >= sim.stats["samples_skipped_offline"] > 0
    assert any("reconnected" in entry["text"] for entry in out.meta["logs"])


def test_bad_ports_and_formats_name_the_fix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SensorError, match="no such port"):
        SensorSource(str(tmp_path / "ttyUSB9")).__enter__()
    with pytest.raises(ConfigError, match="Did you mean 'binary'"):
        SensorSource("loop://", fmt="binay")
    with SimulatedDevice(synthetic(n=2000), fmt="binary", speed=10.0) as sim, \
            SensorSource(sim.port, fmt="csv") as src:
        src.send_command("start")  # a CSV source does not start the device by itself
        with pytest.raises(SensorError, match="--format binary"):
            for _ in src.events(timeout_s=0.1):
                pass
    with pytest.raises(ConfigError, match="unknown device command"):
        SensorSource("loop://").send_command("reboot")


def test_loop_url_echo_decodes_binary() -> None:
    from edgebind.bridge.encode import binary_units

    rec = synthetic(n=200)
    with SensorSource("loop://", fmt="binary", reconnect=False) as src:
        src.transport.write(b"".join(u.data for u in binary_units(rec)[0]))
        got = 0
        for event in src.events(timeout_s=0.5):
            got += len(event.t_ns) if isinstance(event, ImuBatch) else 0
            if got >= 200:
                break
    assert got == 200 and src.stats["unknown_types"] >= 1  # our own START command came back through the loop


def test_imu_without_info_asks_the_device_for_it() -> None:
    import threading

    from edgebind.bridge import protocol as p

    with SensorSource("loop://", fmt="binary", reconnect=False) as src:
        stopper = threading.Timer(0.5, src.close)  # events() waits while open; nothing here is ever yielded
        stopper.start()
        src.transport.write(b"\x00" + p.encode_imu(0, 0, 1000, np.ones((4, 6), np.int16)))
        events = list(src.events(timeout_s=0.05))
        stopper.join()
    # loop:// echoes what we send: START, then the GET_INFO the source sent on seeing IMU without scale factors
    assert events == [] and src.stats["imu_before_info"] == 4 and src.stats["unknown_types"] == 2
