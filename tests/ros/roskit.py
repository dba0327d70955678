"""Bags written the way rosbag2 writes them: ``mcap_ros2.writer`` with the standard ROS 2 message definitions."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

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


