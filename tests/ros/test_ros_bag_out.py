"""Bags out: a Recording round-trips through a bag, opens in the official readers with ROS 2 schemas, and embeds
exactly as the equivalent Recording."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.bridge.recording import Recording
from edgebind.bridge.remix import trim
from edgebind.cli import cli
from edgebind.ros.bag_in import read_bag
from edgebind.ros.bag_out import write_recording_bag


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def read_ros2(path: Path) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # mcap_ros2.reader warns that it is a convenience module
        from mcap_ros2.reader import read_ros2_messages

        return list(read_ros2_messages(str(path)))


@pytest.fixture(scope="module")
def rec(imu_400: Recording, lepton_counts: tuple[np.ndarray, np.ndarray]) -> Recording:
    frames, t = lepton_counts
    short = trim(imu_400, 2.0)
    return Recording(imu=short.imu, imu_t_ns=short.imu_t_ns, thermal=frames[:3] * 0.01 - 273.15,
                     thermal_t_ns=t[:3], labels=np.array(["Standing", "Running"]), label_t_ns=np.array([0, 10**9]),
                     meta={**short.meta, "has_gyro": True})


def test_recording_round_trips_unchanged(rec: Recording, tmp_path: Path) -> None:
    back = read_bag(write_recording_bag(rec, tmp_path / "r.mcap"))
    for name in ("imu", "imu_t_ns", "thermal", "thermal_t_ns", "labels", "label_t_ns"):
        np.testing.assert_array_equal(getattr(back, name), getattr(rec, name), err_msg=name)
    assert back.meta == rec.meta


def test_official_reader_sees_ros2_schemas_and_values(rec: Recording, tmp_path: Path) -> None:
    path = write_recording_bag(rec, tmp_path / "r.mcap")
    msgs = read_ros2(path)
    by_topic: dict[str, list[Any]] = {}
    for m in msgs:
        by_topic.setdefault(m.channel.topic, []).append(m)
    assert {t: ms[0].schema.name for t, ms in by_topic.items()} == {"/imu": "sensor_msgs/msg/Imu",
                                                                    "/thermal/image": "sensor_msgs/msg/Image",
                                                                    "/edgebind/truth": "std_msgs/msg/String"}
    assert all(m.channel.message_encoding == "cdr" for m in msgs)
    imu = [m.ros_msg for m in by_topic["/imu"]]
    assert len(imu) == len(rec.imu)
    k = 7
    assert (imu[k].header.stamp.sec * 10**9 + imu[k].header.stamp.nanosec) == rec.imu_t_ns[k]
    assert imu[k].header.frame_id == "imu_link" and imu[k].orientation_covariance[0] == -1.0  # REP 145: no orientation
    assert [imu[k].linear_acceleration.x, imu[k].angular_velocity.z] == [rec.imu[k, 0], rec.imu[k, 5]]
    img = by_topic["/thermal/image"][1].ros_msg
    assert (img.encoding, img.height, img.width, img.step) == ("32FC1", 120, 160, 640)
    assert rec.thermal is not None
    np.testing.assert_array_equal(np.frombuffer(img.data, "<f4").reshape(120, 160), rec.thermal[1])
    assert [m.ros_msg.data for m in by_topic["/edgebind/truth"]] == ["Standing", "Running"]


def test_mcap_library_validates_crcs(rec: Recording, tmp_path: Path) -> None:
    from mcap.reader import make_reader

    path = write_recording_bag(rec, tmp_path / "r.mcap")
    with path.open("rb") as f:
        reader = make_reader(f, validate_crcs=True)
        assert reader.get_header().profile == "ros2"
        stats = reader.get_summary().statistics
        n = len(rec.imu) + 3 + 2
        assert stats.message_count == n and sum(1 for _ in reader.iter_messages()) == n


def test_embed_of_a_bag_equals_embed_of_the_recording(robot_bag: Path, tiny_ckpt: Path, tmp_path: Path) -> None:
    code, out = run("convert", str(robot_bag), "--thermal-unit", "kelvin_x100", "-o", str(tmp_path / "r.npz"))
    assert code == 0, out
    for modality, extra in (("imu", ["--hop", "2"]), ("thermal", ["--thermal-unit", "kelvin_x100"])):
        code, out = run("embed", modality, str(robot_bag), *extra, "--checkpoint", str(tiny_ckpt), "-o",
                        str(tmp_path / f"bag_{modality}.npy"))
        assert code == 0, out
        code, out = run("embed", modality, str(tmp_path / "r.npz"), *extra[:2 if modality == "imu" else 0],
                        "--checkpoint", str(tiny_ckpt), "-o", str(tmp_path / f"npz_{modality}.npy"))
        assert code == 0, out
        from_bag, from_npz = np.load(tmp_path / f"bag_{modality}.npy"), np.load(tmp_path / f"npz_{modality}.npy")
        # 12 s of IMU: windows end at 5, 7, 9 and 11 s; 12 thermal frames
        assert from_bag.shape == from_npz.shape and len(from_bag) == (4 if modality == "imu" else 12)
        np.testing.assert_array_equal(from_bag, from_npz)


def test_record_writes_a_bag_that_convert_reads_back(imu_400: Recording, tmp_path: Path) -> None:
    from edgebind.bridge.simulator import SimulatedDevice

    with SimulatedDevice(trim(imu_400, 3.0), fmt="binary", speed=4.0) as sim:
        code, out = run("record", str(sim.link), "-o", str(tmp_path / "s.mcap"), "--samples", "1000", "--stamp",
                        "device")  # the device clock: exact 2.5 ms steps (ROS time: tests/ros/test_ros_time.py)
    assert code == 0, out
    code, out = run("convert", str(tmp_path / "s.mcap"), "-o", str(tmp_path / "s.npz"))
    assert code == 0, out
    back = Recording.load(tmp_path / "s.npz")
    assert len(back.imu) >= 1000 and back.meta["format"] == "binary"  # the recorder's meta survived the bag
    np.testing.assert_allclose(back.imu[:1000], imu_400.imu[:1000], atol=0.01)  # int16 link quantisation
    assert np.all(np.diff(back.imu_t_ns) == 2_500_000)


def _fields(msgdef: str) -> list[list[tuple[str, str]]]:
    """Each section's (type, name) pairs, comments and default values dropped."""
    sections = []
    for part in msgdef.split("=" * 80):
        lines = [ln.split("#")[0].split() for ln in part.strip().splitlines() if not ln.startswith("MSG:")]
        sections.append([(w[0], w[1]) for w in lines if len(w) >= 2])
    return sections


@pytest.mark.parametrize("name", ["sensor_msgs/msg/Imu", "sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage",
                                  "std_msgs/msg/String"])
def test_written_schemas_are_the_standard_ros2_definitions(name: str) -> None:
    """A bag must also replay in ROS 2 (ros2 bag play decodes with its own compiled types): same fields, same order."""
    import roskit

    from edgebind.ros.msgdefs import MSGDEFS

    standard = {"sensor_msgs/msg/Imu": roskit.ROS_IMU, "sensor_msgs/msg/Image": roskit.ROS_IMAGE,
                "sensor_msgs/msg/CompressedImage": roskit.ROS_COMPRESSED, "std_msgs/msg/String": roskit.ROS_STRING}
    assert _fields(MSGDEFS[name]) == _fields(standard[name])
