"""The edges of the ros package: without the extra installed, addresses, and convert between .npz and .mcap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.bridge.recording import Recording
from edgebind.bridge.remix import trim
from edgebind.cli import cli
from edgebind.errors import ConfigError
from edgebind.ros.live import parse_address


def test_without_the_extra_a_bag_names_the_install(robot_bag: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rosbags", None)  # as if rosbags (the bag reader) were not installed
    result = CliRunner().invoke(cli, ["convert", str(robot_bag), "-o", str(tmp_path / "x.npz")])
    assert result.exit_code == 1 and "pip install 'edgebind[ros]'" in result.output


def test_importing_the_commands_loads_neither_ros_libraries_nor_torch() -> None:
    code = ("import sys, edgebind.cli.stream, edgebind.cli.convert, edgebind.ros.session, edgebind.ros.live; "
            "print(sorted(m for m in ('torch', 'mcap', 'mcap_ros2', 'foxglove', 'rosbags') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(("address", "expected"), [("127.0.0.1:8765", ("127.0.0.1", 8765)),
                                                   ("0.0.0.0", ("0.0.0.0", 8765)), ("9000", ("127.0.0.1", 9000)),
                                                   (":0", ("127.0.0.1", 0))])
def test_foxglove_addresses(address: str, expected: tuple[str, int]) -> None:
    assert parse_address(address) == expected


def test_bad_foxglove_port() -> None:
    with pytest.raises(ConfigError, match=r"port '99999' is not 0\.\.65535; e\.g\. --foxglove 127\.0\.0\.1:8765"):
        parse_address("localhost:99999")


def test_convert_npz_to_mcap_and_back(imu_400: Recording, tmp_path: Path) -> None:
    trim(imu_400, 1.0).save(tmp_path / "a.npz")
    for src, dst in (("a.npz", "b.mcap"), ("b.mcap", "c.npz")):
        result = CliRunner().invoke(cli, ["convert", str(tmp_path / src), "-o", str(tmp_path / dst)])
        assert result.exit_code == 0, result.output
    a, c = Recording.load(tmp_path / "a.npz"), Recording.load(tmp_path / "c.npz")
    np.testing.assert_array_equal(c.imu, a.imu)
    np.testing.assert_array_equal(c.imu_t_ns, a.imu_t_ns)
    assert c.labels is not None and c.labels.tolist() == a.labels.tolist() and c.meta == a.meta  # type: ignore[union-attr]


def test_thermal_only_clip_round_trips(data_dir: Path, tmp_path: Path) -> None:
    clip = data_dir / "thermal" / "20240507-074536.cptv"
    for src, dst in ((clip, tmp_path / "c.npz"), (tmp_path / "c.npz", tmp_path / "c.mcap"),
                     (tmp_path / "c.mcap", tmp_path / "back.npz")):
        result = CliRunner().invoke(cli, ["convert", str(src), "-o", str(dst)])
        assert result.exit_code == 0, result.output
    a, b = Recording.load(tmp_path / "c.npz"), Recording.load(tmp_path / "back.npz")
    assert a.thermal is not None and b.thermal is not None and len(b.imu) == 0
    np.testing.assert_array_equal(b.thermal, a.thermal)
    np.testing.assert_array_equal(b.thermal_t_ns, a.thermal_t_ns)  # type: ignore[arg-type]
    assert b.meta == a.meta


def test_calibrate_imu_from_a_robot_bag_equals_from_the_recording(tmp_path: Path) -> None:
    from roskit import BagWriter, imu_msg

    from edgebind.calibration.profiles import CalibrationProfile
    from edgebind.calibration.synthetic import SIX_FACES, random_truth, simulate_session

    s = simulate_session(*random_truth(np.random.default_rng(0), full_matrix=False), SIX_FACES, seed=1)
    Recording(imu=s.imu, imu_t_ns=s.t_ns).save(tmp_path / "six.npz")
    bag = BagWriter(tmp_path / "six.mcap")
    for t, row in zip(s.t_ns.tolist(), s.imu, strict=True):
        bag.write("/imu/data_raw", "sensor_msgs/msg/Imu", imu_msg(t, row), t)
    bag.close()
    for src in ("six.npz", "six.mcap"):
        result = CliRunner().invoke(cli, ["calibrate", "imu", str(tmp_path / src), "--sensor", "mpu6050",
                                          "--imu-topic", "/imu/data_raw", "-o", str(tmp_path / f"{src}.json")])
        assert result.exit_code == 0, result.output
    assert CalibrationProfile.load(tmp_path / "six.mcap.json") == CalibrationProfile.load(tmp_path / "six.npz.json")


def test_a_busy_foxglove_port_names_the_fix() -> None:
    pytest.importorskip("foxglove", reason="the ros extra (pip install 'edgebind[ros]') is not installed")
    from edgebind.errors import SensorError
    from edgebind.ros.live import FoxgloveView

    with FoxgloveView("127.0.0.1:0") as first:
        assert first.url == f"ws://127.0.0.1:{first.port}" and str(first.port) in first.app_url
        with pytest.raises(SensorError, match=r"cannot serve Foxglove on 127\.0\.0\.1:\d+ \(.*in use.*--foxglove"):
            FoxgloveView(f"127.0.0.1:{first.port}")


def test_simulate_replays_a_bag_as_a_device(imu_400: Recording, tmp_path: Path) -> None:
    from roskit import BagWriter, imu_msg
    from simdevice import simulate_then_record

    rec = trim(imu_400, 3.0)
    bag = BagWriter(tmp_path / "walk.mcap")
    for t, row in zip(rec.imu_t_ns.tolist(), rec.imu, strict=True):
        bag.write("/imu/data", "sensor_msgs/msg/Imu", imu_msg(t, row), t)
    bag.close()
    link = tmp_path / "tty"
    first = simulate_then_record(tmp_path / "walk.mcap", link, tmp_path / "out.npz")
    assert f"{len(rec.imu)} IMU samples" in first, first
    got = Recording.load(tmp_path / "out.npz")
    np.testing.assert_array_equal(got.imu_t_ns, rec.imu_t_ns)
    np.testing.assert_allclose(got.imu, rec.imu, atol=1e-5)


def _handshake(port: int, subprotocols: str) -> bytes:
    """The server's answer to a WebSocket upgrade that offers ``subprotocols`` (raw HTTP over loopback)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                      f"Sec-WebSocket-Protocol: {subprotocols}\r\n\r\n").encode())
        return sock.recv(4096)


def test_foxglove_view_refuses_clients_that_offer_only_the_old_subprotocol() -> None:
    """foxglove-sdk serves foxglove.sdk.v1 (and v1.1) only and has no option to add foxglove.websocket.v1: a client
    that offers only the old one (older Lichtblick, PlotJuggler, roslibjs-based tools) gets HTTP 400 with this text,
    as docs/robotics.md says; one that offers both connects."""
    pytest.importorskip("foxglove", reason="the ros extra (pip install 'edgebind[ros]') is not installed")
    from edgebind.ros.live import FoxgloveView

    with FoxgloveView("127.0.0.1:0") as view:
        old = _handshake(view.port, "foxglove.websocket.v1")
        assert old.startswith(b"HTTP/1.1 400") and b"Missing expected sec-websocket-protocol header" in old
        for offered, chosen in (("foxglove.sdk.v1", b"foxglove.sdk.v1"),
                                ("foxglove.websocket.v1, foxglove.sdk.v1", b"foxglove.sdk.v1")):
            answer = _handshake(view.port, offered)
            assert answer.startswith(b"HTTP/1.1 101") and b"sec-websocket-protocol: " + chosen in answer.lower()
