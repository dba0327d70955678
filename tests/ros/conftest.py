"""Fixtures for the ROS 2 adapters: bags written the way rosbag2 writes them (``mcap_ros2.writer``, the standard
message definitions), from real recordings in tests/data (BasicMotions re-timed to 400 Hz, a Lepton 3.5 clip's raw
TLinear counts)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgebind.bridge.convert import convert
from edgebind.bridge.recording import Recording
from edgebind.bridge.remix import retime, trim

pytest.importorskip("mcap_ros2", reason="the ros extra (pip install 'edgebind[ros]') is not installed")

SEP = "=" * 80 + "\n"
TIME = "MSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec\n"
HEADER = "MSG: std_msgs/Header\n# Standard metadata\nbuiltin_interfaces/Time stamp\nstring frame_id\n"
# The standard ROS 2 definitions as rosbag2 stores them (comments and default values included, as in the .msg files).
ROS_IMU = ("# REP 145\nstd_msgs/Header header\ngeometry_msgs/Quaternion orientation\n"
           "float64[9] orientation_covariance # Row major about x, y, z axes\n"
           "geometry_msgs/Vector3 angular_velocity\nfloat64[9] angular_velocity_covariance\n"
           "geometry_msgs/Vector3 linear_acceleration\nfloat64[9] linear_acceleration_covariance\n"
           + SEP + HEADER + SEP + TIME + SEP
           + "MSG: geometry_msgs/Quaternion\nfloat64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n" + SEP
           + "MSG: geometry_msgs/Vector3\nfloat64 x\nfloat64 y\nfloat64 z\n")
ROS_IMAGE = ("std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\n"
             "uint8[] data\n" + SEP + HEADER + SEP + TIME)
ROS_COMPRESSED = "std_msgs/Header header\nstring format\nuint8[] data\n" + SEP + HEADER + SEP + TIME
ROS_STRING = "string data\n"


def stamp(t_ns: int) -> dict[str, int]:
    return {"sec": int(t_ns) // 1_000_000_000, "nanosec": int(t_ns) % 1_000_000_000}


def imu_msg(t_ns: int, row: Iterable[float], frame_id: str = "imu_link", gyro_cov0: float = 0.0) -> dict[str, Any]:
    ax, ay, az, gx, gy, gz = (float(v) for v in row)
    return {"header": {"stamp": stamp(t_ns), "frame_id": frame_id},
            "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0}, "orientation_covariance": [-1.0] + [0.0] * 8,
            "angular_velocity": {"x": gx, "y": gy, "z": gz}, "angular_velocity_covariance": [gyro_cov0] + [0.0] * 8,
            "linear_acceleration": {"x": ax, "y": ay, "z": az}, "linear_acceleration_covariance": [0.0] * 9}


def image_msg(t_ns: int, frame: np.ndarray, encoding: str, big_endian: bool = False) -> dict[str, Any]:
    dt = frame.dtype.newbyteorder(">" if big_endian else "<")
    h, w = frame.shape
    return {"header": {"stamp": stamp(t_ns), "frame_id": "thermal_optical_frame"}, "height": h, "width": w,
            "encoding": encoding, "is_bigendian": int(big_endian), "step": w * dt.itemsize,
            "data": frame.astype(dt).tobytes()}


class BagWriter:
    """``mcap_ros2.writer.Writer`` with the standard schemas, as a test writes a robot's bag."""

    def __init__(self, path: Path, chunk_size: int = 1 << 20) -> None:
        from mcap_ros2.writer import Writer

        self.f = path.open("wb")
        self.w = Writer(self.f, chunk_size=chunk_size)
        self.schemas = {name: self.w.register_msgdef(name, text) for name, text in (
            ("sensor_msgs/msg/Imu", ROS_IMU), ("sensor_msgs/msg/Image", ROS_IMAGE),
            ("sensor_msgs/msg/CompressedImage", ROS_COMPRESSED), ("std_msgs/msg/String", ROS_STRING))}

    def write(self, topic: str, datatype: str, msg: dict[str, Any], log_time_ns: int) -> None:
        self.w.write_message(topic, self.schemas[datatype], msg, log_time=int(log_time_ns))

    def close(self) -> None:
        self.w.finish()
        self.f.close()


@pytest.fixture(scope="session")
def imu_400() -> Recording:
    """12 s of real BasicMotions motion re-timed to 400 Hz (4801 samples), with its class labels."""
    return trim(retime(convert(Path(__file__).parents[1] / "data" / "imu" / "BasicMotions_TEST.ts"), 400.0), 12.0)


@pytest.fixture(scope="session")
def lepton_counts() -> tuple[np.ndarray, np.ndarray]:
    """(frames (M, 120, 160) uint16 raw TLinear centi-kelvin counts, t_ns) of a real Lepton 3.5 clip, first 12."""
    from edgebind.preprocess.thermal import load_cptv

    frames, t_ns = load_cptv(Path(__file__).parents[1] / "data" / "thermal" / "20240507-074536.cptv")
    return frames[:12].astype(np.uint16), t_ns[:12]


@pytest.fixture(scope="session")
def robot_bag(tmp_path_factory: pytest.TempPathFactory, imu_400: Recording,
              lepton_counts: tuple[np.ndarray, np.ndarray]) -> Path:
    """A robot's bag: /imu/data (400 Hz, frame imu_link), /thermal/image_raw (16UC1 counts), /activity (String)."""
    path = tmp_path_factory.mktemp("bags") / "robot.mcap"
    bag = BagWriter(path)
    t0 = 1_700_000_000_000_000_000  # ROS time: the epoch clock, as a robot's bag has
    for t, row in zip(imu_400.imu_t_ns.tolist(), imu_400.imu, strict=True):
        bag.write("/imu/data", "sensor_msgs/msg/Imu", imu_msg(t0 + t, row), t0 + t + 1_000_000)
    frames, frame_t = lepton_counts
    for t, frame in zip(frame_t.tolist(), frames, strict=True):
        bag.write("/thermal/image_raw", "sensor_msgs/msg/Image", image_msg(t0 + t, frame, "16UC1"), t0 + t)
    assert imu_400.labels is not None and imu_400.label_t_ns is not None
    for t, label in zip(imu_400.label_t_ns.tolist(), imu_400.labels.tolist(), strict=True):
        if t <= imu_400.imu_t_ns[-1]:
            bag.write("/activity", "std_msgs/msg/String", {"data": label}, t0 + t)
    bag.close()
    return path


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded tiny IMU + thermal + text encoders (random weights) in edgebind's checkpoint format."""
    import torch

    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config
    from edgebind.models import build_encoder

    torch.manual_seed(0)
    encoders = [build_encoder(get_config(n)).eval() for n in ("tiny_imu", "tiny_thermal", "tiny_text")]
    return save_checkpoint(encoders, tmp_path_factory.mktemp("ckpt") / "tiny.safetensors")
