"""The bags a robot records, written by rosbags (an independent rosbag2 implementation): Humble's sqlite3 directory
and its bare .db3, Jazzy's sqlite3 and MCAP directories, per-message and per-file zstd, split files; read
value-for-value by ``edgebind convert``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.bridge.recording import Recording
from edgebind.cli import cli


def convert(src: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["convert", str(src), "--thermal-unit", "kelvin_x100", *extra, "-o", str(out)])
    return result.exit_code, result.output


SOURCES = ["humble_sqlite3", "humble_sqlite3.db3", "jazzy_sqlite3", "jazzy_mcap", "humble_sqlite3_zstd_message",
           "humble_sqlite3_zstd_message.db3", "jazzy_mcap_zstd_file_split"]


def _source(robot_bags: dict[str, Path], name: str) -> Path:
    if name.endswith(".db3"):  # the storage file itself, as a user passes it
        bag = robot_bags[name.removesuffix(".db3")]
        return bag / f"{bag.name}_0.db3"
    return robot_bags[name]


@pytest.mark.parametrize("name", SOURCES)
def test_convert_reads_every_value(robot_bags: dict[str, Path], robot_data: dict[str, np.ndarray], name: str,
                                   tmp_path: Path) -> None:
    src = _source(robot_bags, name)
    assert src.exists(), sorted(p.name for p in src.parent.iterdir())
    code, out = convert(src, tmp_path / "r.npz")
    assert code == 0, out
    assert "3000 IMU samples (100.0 Hz), 120 thermal frames (120, 160)" in out, out
    rec, d = Recording.load(tmp_path / "r.npz"), robot_data
    np.testing.assert_array_equal(rec.imu, d["imu"])  # float32 -> float64 in the message -> float32: exact
    np.testing.assert_array_equal(rec.imu_t_ns, d["imu_t_ns"])  # every sample, stamps identical
    np.testing.assert_array_equal(rec.thermal_t_ns, d["thermal_t_ns"])  # type: ignore[arg-type]
    expected_c = (d["counts"].astype(np.float64) * 0.01 - 273.15).astype(np.float32)
    np.testing.assert_array_equal(rec.thermal, expected_c)
    assert rec.labels is not None and rec.labels.tolist() == d["labels"].tolist()
    np.testing.assert_array_equal(rec.label_t_ns, d["label_t_ns"])  # type: ignore[arg-type]
    assert rec.meta["imu_topic"] == "/imu/data" and rec.meta["thermal_encoding"] == "16UC1"


def test_humble_bag_stores_no_definitions(robot_bags: dict[str, Path]) -> None:
    """The Humble fixture is what Humble writes: no message definitions in the database, metadata version 5."""
    import sqlite3

    bag = robot_bags["humble_sqlite3"]
    con = sqlite3.connect(bag / f"{bag.name}_0.db3")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert "message_definitions" not in tables and "version: 5" in (bag / "metadata.yaml").read_text()


def test_split_files_are_read_in_order(robot_bags: dict[str, Path]) -> None:
    bag = robot_bags["jazzy_mcap_zstd_file_split"]
    assert sorted(p.name for p in bag.iterdir()) == [f"{bag.name}_0.mcap.zstd", f"{bag.name}_1.mcap.zstd",
                                                     "metadata.yaml"]


def _raw_mcap(path: Path, topic: str, schema_name: str, schema_text: str) -> Path:
    """An MCAP (ros2 profile) whose one channel carries ``schema_text`` and a few bytes, written with the mcap
    library (mcap_ros2's writer cannot encode a ROS 1 definition)."""
    from mcap.writer import Writer

    with path.open("wb") as f:
        w = Writer(f)
        w.start(profile="ros2", library="test")
        sid = w.register_schema(schema_name, "ros2msg", schema_text.encode())
        cid = w.register_channel(topic, "cdr", sid)
        w.add_message(cid, log_time=0, data=b"\x00\x01\x00\x00" + bytes(16), publish_time=0)
        w.finish()
    return path


ROS1_IMU = ("Header header\ngeometry_msgs/Vector3 linear_acceleration\n" + "=" * 80 + "\nMSG: std_msgs/Header\n"
            "uint32 seq\ntime stamp\nstring frame_id\n" + "=" * 80 + "\nMSG: geometry_msgs/Vector3\nfloat64 x\n"
            "float64 y\nfloat64 z\n")


@pytest.mark.parametrize(("schema", "said"), [
    (ROS1_IMU, "topic /imu/data (sensor_msgs/msg/Imu) has a ROS 1 style message definition"),
    ("float64 x\nint32[ broken\n", "topic /imu/data (sensor_msgs/msg/Imu) has a message definition that does not "
                                   "parse (TypesysError")])
def test_ros1_or_broken_definitions_give_one_line_naming_the_topic(tmp_path: Path, schema: str, said: str) -> None:
    path = _raw_mcap(tmp_path / "old.mcap", "/imu/data", "sensor_msgs/msg/Imu", schema)
    code, out = convert(path, tmp_path / "x.npz")
    assert code == 1 and said in out, out
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out


def test_a_directory_without_metadata_names_the_fix(tmp_path: Path) -> None:
    code, out = convert(tmp_path, tmp_path / "x.npz")
    assert code == 1 and "without metadata.yaml, so not a rosbag2 bag" in out and "ros2 bag reindex" in out, out


def test_every_command_takes_the_humble_directory_as_its_npz(robot_bags: dict[str, Path], tiny_ckpt: Path,
                                                             tmp_path: Path) -> None:
    """embed and labels teach read a Humble rosbag2 directory as they read the Recording convert makes of it: the
    same numbers out."""
    bag = robot_bags["humble_sqlite3"]
    npz = tmp_path / "r.npz"
    assert convert(bag, npz)[0] == 0

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    for src in (bag, npz):
        run("embed", "imu", str(src), "--hop", "5", "--checkpoint", str(tiny_ckpt), "-o",
            str(tmp_path / f"{src.name}.npy"))
        assert "25 windows added" in run("labels", "teach", str(src), "walking", "--labels",
                                         str(tmp_path / f"t_{src.name}" / "labels.txt"))  # 29.99 s: windows at 0..24 s
    np.testing.assert_array_equal(np.load(tmp_path / f"{bag.name}.npy"), np.load(tmp_path / "r.npz.npy"))
    taught = [np.load(tmp_path / f"t_{name}" / "examples" / "walking.npz") for name in (bag.name, npz.name)]
    assert taught[0].files == taught[1].files
    for key in taught[0].files:
        if taught[0][key].dtype != object and key != "meta":
            np.testing.assert_array_equal(taught[0][key], taught[1][key])


def test_calibrate_reads_a_rosbag2_directory(tmp_path: Path) -> None:
    """A six-position IMU session as a Humble sqlite3 directory fits the same profile as its Recording."""
    from roskit import rosbags_messages, write_rosbag2

    from edgebind.calibration.profiles import CalibrationProfile
    from edgebind.calibration.synthetic import SIX_FACES, random_truth, simulate_session

    s = simulate_session(*random_truth(np.random.default_rng(0), full_matrix=False), SIX_FACES, seed=1)
    Recording(imu=s.imu, imu_t_ns=s.t_ns).save(tmp_path / "six.npz")
    none = np.zeros(0, np.int64)
    ts, msgs = rosbags_messages("humble", s.imu, s.t_ns, np.zeros((0, 2, 2), np.uint16), none, [], none)
    write_rosbag2(tmp_path / "six", "humble", "sqlite3", msgs, ts)
    for src in ("six.npz", "six"):
        result = CliRunner().invoke(cli, ["calibrate", "imu", str(tmp_path / src), "--sensor", "mpu6050", "-o",
                                          str(tmp_path / f"{src}.json")])
        assert result.exit_code == 0, result.output
    assert CalibrationProfile.load(tmp_path / "six.json") == CalibrationProfile.load(tmp_path / "six.npz.json")


def test_eval_scores_a_rosbag2_directory_as_its_npz(robot_bags: dict[str, Path], tiny_ckpt: Path,
                                                    tmp_path: Path) -> None:
    """eval on the Jazzy MCAP directory: its String topic is the label track, the figures those of the npz."""
    import json

    bag = robot_bags["jazzy_mcap"]
    assert convert(bag, tmp_path / "r.npz")[0] == 0
    (tmp_path / "labels.txt").write_text("Standing\nWalking\nRunning\nBadminton\n")
    got = []
    for src in (bag, tmp_path / "r.npz"):
        result = CliRunner().invoke(cli, ["eval", str(src), "--checkpoint", str(tiny_ckpt), "--labels",
                                          str(tmp_path / "labels.txt"), "--k", "0", "--no-probe",
                                          "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.output.strip().splitlines()[-1])
        report.pop("recordings")
        got.append(report)
    assert got[0] == got[1]


def test_simulate_replays_a_rosbag2_directory(imu_400: Recording, tmp_path: Path) -> None:
    """A Jazzy MCAP directory of 3 s of 400 Hz IMU, replayed by ``simulate`` and recorded back: every sample."""
    from roskit import rosbags_messages, write_rosbag2
    from simdevice import simulate_then_record

    from edgebind.bridge.remix import trim

    rec = trim(imu_400, 3.0)
    none = np.zeros(0, np.int64)
    ts, msgs = rosbags_messages("jazzy", rec.imu, rec.imu_t_ns, np.zeros((0, 2, 2), np.uint16), none, [], none)
    bag = write_rosbag2(tmp_path / "walk", "jazzy", "mcap", msgs, ts)
    first = simulate_then_record(bag, tmp_path / "tty", tmp_path / "out.npz")
    assert f"{len(rec.imu)} IMU samples" in first, first
    got = Recording.load(tmp_path / "out.npz")
    np.testing.assert_array_equal(got.imu_t_ns, rec.imu_t_ns)
    np.testing.assert_allclose(got.imu, rec.imu, atol=1e-5)
