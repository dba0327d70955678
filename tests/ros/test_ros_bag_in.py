"""ROS 2 bags in: every sample and timestamp, REP 145 units, thermal encodings and units, labels, errors."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from roskit import BagWriter, image_msg, imu_msg

from edgebind.bridge.recording import Recording
from edgebind.cli import cli
from edgebind.errors import ConfigError, SensorError
from edgebind.ros.bag_in import BagOptions, read_bag

T0 = 1_700_000_000_000_000_000


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_convert_gives_every_sample_timestamp_frame_and_label(robot_bag: Path, imu_400: Recording,
                                                              lepton_counts: tuple[np.ndarray, np.ndarray],
                                                              tmp_path: Path) -> None:
    code, out = run("convert", str(robot_bag), "--thermal-unit", "kelvin_x100", "-o", str(tmp_path / "r.npz"))
    assert code == 0, out
    assert f"{len(imu_400.imu)} IMU samples (400.0 Hz), 12 thermal frames (120, 160)" in out
    rec = Recording.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(rec.imu, imu_400.imu)
    np.testing.assert_array_equal(rec.imu_t_ns, T0 + imu_400.imu_t_ns)
    frames, frame_t = lepton_counts
    np.testing.assert_array_equal(rec.thermal_t_ns, T0 + frame_t)
    np.testing.assert_allclose(rec.thermal, frames.astype(np.float64) / 100 - 273.15, atol=2e-6)  # float32 of C
    assert 0 < float(np.median(rec.thermal)) < 10  # a cold night scene in C (counts would be ~27 500)
    assert imu_400.labels is not None and rec.labels is not None and rec.label_t_ns is not None
    assert rec.labels.tolist() == imu_400.labels[:len(rec.labels)].tolist() and len(rec.labels) == 2
    np.testing.assert_array_equal(rec.label_at(rec.imu_t_ns), imu_400.label_at(imu_400.imu_t_ns))
    assert rec.meta["imu_topic"] == "/imu/data" and rec.meta["imu_frame_id"] == "imu_link"
    assert rec.meta["thermal_frame_id"] == "thermal_optical_frame" and rec.meta["thermal_encoding"] == "16UC1"
    assert rec.meta["label_topic"] == "/activity" and rec.meta["gravity_included"] is True


@pytest.mark.parametrize("encoding", ["mono8", "mono16", "16UC1", "32FC1", "16UC1-bigendian", "png16", "png8"])
def test_thermal_encodings_give_the_same_temperatures(tmp_path: Path, lepton_counts: tuple[np.ndarray, np.ndarray],
                                                      encoding: str) -> None:
    from PIL import Image

    counts = lepton_counts[0][:2]
    if encoding in ("mono8", "png8"):
        raw: np.ndarray = (counts // 256).astype(np.uint8)  # an 8-bit stream: its values are what they are
    elif encoding == "32FC1":
        raw = (counts.astype(np.float64) / 100 - 273.15).astype(np.float32)
    else:
        raw = counts
    unit = "celsius" if encoding in ("32FC1", "mono8", "png8") else "kelvin_x100"
    bag = BagWriter(tmp_path / "t.mcap")
    for i, frame in enumerate(raw):
        if encoding.startswith("png"):
            buf = io.BytesIO()
            Image.fromarray(frame).save(buf, format="PNG")
            fmt = "mono16; png compressed" if frame.dtype == np.uint16 else "png"
            bag.write("/cam", "sensor_msgs/msg/CompressedImage",
                      {"header": {"stamp": {"sec": i, "nanosec": 0}, "frame_id": "f"}, "format": fmt,
                       "data": buf.getvalue()}, i)
        else:
            ros_enc = encoding.split("-")[0]
            bag.write("/cam", "sensor_msgs/msg/Image", image_msg(i * 10**9, frame, ros_enc, "bigendian" in encoding),
                      i)
    bag.close()
    rec = read_bag(tmp_path / "t.mcap", BagOptions(thermal_unit=unit))
    assert rec.thermal is not None and len(rec.imu) == 0
    expected = raw.astype(np.float64) / 100 - 273.15 if unit == "kelvin_x100" else raw.astype(np.float64)
    np.testing.assert_allclose(rec.thermal, expected, atol=2e-5)
    np.testing.assert_array_equal(rec.thermal_t_ns, [0, 10**9])


def test_counts_go_through_the_sensor_profile(tmp_path: Path, lepton_counts: tuple[np.ndarray, np.ndarray]) -> None:
    bag = BagWriter(tmp_path / "t.mcap")
    bag.write("/cam", "sensor_msgs/msg/Image", image_msg(0, lepton_counts[0][0], "16UC1"), 0)
    bag.close()
    with pytest.raises(ConfigError, match=r"--thermal-sensor lepton3\.5"):
        read_bag(tmp_path / "t.mcap", BagOptions(thermal_unit="counts"))
    rec = read_bag(tmp_path / "t.mcap", BagOptions(thermal_unit="counts", thermal_sensor="lepton3.5"))
    assert rec.thermal is not None  # the Lepton profile reads these counts as TLinear 0.01 K
    np.testing.assert_allclose(rec.thermal[0], lepton_counts[0][0] * 0.01 - 273.15, atol=2e-5)


def test_rep145_no_gyro_and_unsorted_duplicate_stamps(tmp_path: Path) -> None:
    bag = BagWriter(tmp_path / "imu.mcap")
    for t in (3, 1, 2, 2, *range(4, 13)):  # a driver that re-publishes once, out of order
        bag.write("/imu", "sensor_msgs/msg/Imu", imu_msg(t * 2_500_000, [0, 0, 9.81, 0, 0, t], gyro_cov0=-1.0), t)
    bag.close()
    rec = read_bag(tmp_path / "imu.mcap")
    np.testing.assert_array_equal(rec.imu_t_ns, np.arange(1, 13) * 2_500_000)
    np.testing.assert_array_equal(rec.imu[:, 5], np.arange(1, 13))
    np.testing.assert_allclose(rec.imu[:, 2], 9.81, rtol=1e-7)  # +g on z at rest: specific force, gravity kept
    assert rec.meta["has_gyro"] is False and rec.meta["imu_duplicate_stamps_dropped"] == 1


def test_unstamped_imu_messages(tmp_path: Path) -> None:
    bag = BagWriter(tmp_path / "zero.mcap")
    for i in range(20):  # a driver that leaves header.stamp at zero
        bag.write("/imu", "sensor_msgs/msg/Imu", imu_msg(0, [0, 0, 9.81, 0, 0, 0]), i * 2_500_000)
    bag.close()
    with pytest.raises(SensorError, match=r"19 of 20 messages on /imu repeat an earlier header\.stamp"):
        read_bag(tmp_path / "zero.mcap")


def _two_imu_bag(path: Path) -> Path:
    bag = BagWriter(path)
    for topic in ("/imu/a", "/imu/b"):
        bag.write(topic, "sensor_msgs/msg/Imu", imu_msg(0, [0] * 6), 0)
    bag.write("/chatter", "std_msgs/msg/String", {"data": "hi"}, 0)
    bag.close()
    return path


def test_several_imu_topics_are_listed_and_one_is_chosen(tmp_path: Path) -> None:
    path = _two_imu_bag(tmp_path / "two.mcap")
    code, out = run("convert", str(path), "-o", str(tmp_path / "x.npz"))
    assert code == 1 and "2 IMU topics (/imu/a, /imu/b); choose one with --imu-topic /imu/a" in out
    assert len(out.strip().splitlines()) == 1
    assert len(read_bag(path, BagOptions(imu_topic="/imu/b")).imu) == 1


def test_missing_topic_names_the_candidates(tmp_path: Path) -> None:
    path = _two_imu_bag(tmp_path / "two.mcap")
    with pytest.raises(SensorError, match=r"no topic '/imu/c'\. Did you mean '/imu/[ab]'\?.*\(/imu/a, /imu/b\)"):
        read_bag(path, BagOptions(imu_topic="/imu/c"))
    with pytest.raises(SensorError, match="topic /chatter is std_msgs/msg/String, not sensor_msgs/msg/Imu"):
        read_bag(path, BagOptions(imu_topic="/chatter"))


def test_bag_without_imu(tmp_path: Path) -> None:
    bag = BagWriter(tmp_path / "s.mcap")
    bag.write("/chatter", "std_msgs/msg/String", {"data": "hi"}, 0)
    bag.close()
    code, out = run("embed", "imu", str(tmp_path / "s.mcap"), "-o", str(tmp_path / "e.npy"))
    assert code == 1 and "has no IMU topic (it has /chatter (std_msgs/msg/String))" in out and "--imu-topic" in out


def test_unknown_encoding(tmp_path: Path) -> None:
    bag = BagWriter(tmp_path / "rgb.mcap")
    bag.write("/cam", "sensor_msgs/msg/Image", image_msg(0, np.zeros((2, 6), np.uint8), "rgb8"), 0)
    bag.close()
    code, out = run("convert", str(tmp_path / "rgb.mcap"), "--thermal-unit", "celsius", "-o", str(tmp_path / "x.npz"))
    assert code == 1 and "image encoding 'rgb8' is not a single-channel thermal format; publish one of mono8" in out


def test_jpeg_is_refused(tmp_path: Path) -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((24, 32), 128, np.uint8)).save(buf, format="JPEG")
    bag = BagWriter(tmp_path / "jpeg.mcap")
    bag.write("/cam/compressed", "sensor_msgs/msg/CompressedImage",
              {"header": {"stamp": {"sec": 0, "nanosec": 0}, "frame_id": "f"}, "format": "jpeg",
               "data": buf.getvalue()}, 0)
    bag.close()
    with pytest.raises(SensorError, match="compressed format 'jpeg' loses temperatures; publish PNG"):
        read_bag(tmp_path / "jpeg.mcap", BagOptions(thermal_unit="celsius"))


def test_thermal_topic_needs_a_unit(robot_bag: Path) -> None:
    with pytest.raises(SensorError, match="no standard radiometric unit; pass --thermal-unit"):
        read_bag(robot_bag)
    assert read_bag(robot_bag, modalities=("imu",)).thermal is None  # IMU alone needs no thermal unit


def test_truncated_mcap(robot_bag: Path, tmp_path: Path) -> None:
    """A bag cut off (no summary, a torn last record) reads up to the cut by itself; one cut before its first channel
    is not a bag."""
    from edgebind.ros import load_recording

    full = read_bag(robot_bag, modalities=("imu",))
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(robot_bag.read_bytes()[: robot_bag.stat().st_size // 2])
    half = load_recording(cut, modalities=("imu",))
    assert 0 < len(half.imu) < len(full.imu)
    np.testing.assert_array_equal(half.imu_t_ns, full.imu_t_ns[: len(half.imu)])
    code, out = run("convert", str(cut), "--label-topic", "none", "--thermal-topic", "none", "-o",
                    str(tmp_path / "x.npz"))
    assert code == 0 and f"wrote {tmp_path / 'x.npz'}: {len(half.imu)} IMU samples" in out, out
    head = tmp_path / "head.mcap"
    head.write_bytes(robot_bag.read_bytes()[:40])
    code, out = run("convert", str(head), "-o", str(tmp_path / "y.npz"))
    assert code == 1 and "not a readable MCAP bag" in out, out


def test_reading_streams_in_bounded_memory(tmp_path: Path) -> None:
    """Python memory grows with the output arrays (32 B/sample, doubled while growing: 53 B measured), not with
    decoded messages or the reader's message index (~700 B each with mcap's indexed reader)."""

    def peak_bytes(n: int) -> int:
        path = tmp_path / f"{n}.mcap"
        bag = BagWriter(path, chunk_size=1 << 16)  # small chunks: many in either bag, so their buffer cancels out
        for i in range(n):
            bag.write("/imu", "sensor_msgs/msg/Imu", imu_msg(i * 2_500_000, [0, 0, 9.81, 0.1, 0.2, 0.3]), i)
        bag.close()
        tracemalloc.start()
        rec = read_bag(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(rec.imu) == n
        return peak

    small, large = peak_bytes(2000), peak_bytes(10000)
    per_message = (large - small) / 8000
    assert per_message < 150, f"{per_message:.0f} bytes per message: the reader holds messages"


def test_wrong_thermal_unit_is_a_one_line_error_naming_the_flag(robot_bag: Path, tmp_path: Path) -> None:
    """The bag holds centi-kelvin counts (~27 500): read as celsius they are 27 500 °C (issue 21, part 5)."""
    code, out = run("convert", str(robot_bag), "--thermal-unit", "celsius", "-o", str(tmp_path / "r.npz"))
    assert code == 1 and "--thermal-unit" in out and "outside -60..500" in out, out
    assert len(out.strip().splitlines()) == 1 and not (tmp_path / "r.npz").exists()


def test_celsius_frames_read_as_kelvin_x100_are_refused() -> None:
    from edgebind.ros.messages import to_celsius

    scene_c = np.random.default_rng(0).uniform(15, 35, size=(4, 24, 32)).astype(np.float32)  # a room in °C
    with pytest.raises(SensorError, match=r"median of -273 °C.*pass --thermal-unit"):
        to_celsius(scene_c, "kelvin_x100")
    np.testing.assert_array_equal(to_celsius(scene_c, "celsius"), scene_c)
    hot_spot = scene_c.copy()
    hot_spot[:, :4, :4] = 900.0  # a flame in a few pixels is a scene, not a wrong unit
    np.testing.assert_array_equal(to_celsius(hot_spot, "celsius"), hot_spot)
