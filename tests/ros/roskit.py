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




def rosbags_messages(distro: str, imu: np.ndarray, imu_t: np.ndarray, frames: np.ndarray, frame_t: np.ndarray,
                     labels: list[str], label_t: np.ndarray) -> tuple[Any, list[tuple[str, str, int, Any]]]:
    """(rosbags typestore of ``distro``, [(topic, type, log time ns, message)] in log-time order): sensor_msgs/Imu
    on /imu/data, 16UC1 sensor_msgs/Image on /thermal/image_raw, std_msgs/String on /activity."""
    from rosbags.typesys import Stores, get_typestore

    ts = get_typestore(Stores.ROS2_HUMBLE if distro == "humble" else Stores.ROS2_JAZZY)
    T = ts.types
    Header, Time = T["std_msgs/msg/Header"], T["builtin_interfaces/msg/Time"]
    Vector3, Quaternion = T["geometry_msgs/msg/Vector3"], T["geometry_msgs/msg/Quaternion"]

    def header(t_ns: int, frame_id: str) -> Any:
        return Header(stamp=Time(sec=int(t_ns) // 10**9, nanosec=int(t_ns) % 10**9), frame_id=frame_id)

    out: list[tuple[str, str, int, Any]] = []
    no_orientation = np.array([-1.0] + [0.0] * 8)
    for t, row in zip(imu_t.tolist(), imu.astype(np.float64), strict=True):
        msg = T["sensor_msgs/msg/Imu"](
            header=header(t, "imu_link"), orientation=Quaternion(x=0.0, y=0.0, z=0.0, w=1.0),
            orientation_covariance=no_orientation, angular_velocity=Vector3(x=row[3], y=row[4], z=row[5]),
            angular_velocity_covariance=np.zeros(9), linear_acceleration=Vector3(x=row[0], y=row[1], z=row[2]),
            linear_acceleration_covariance=np.zeros(9))
        out.append(("/imu/data", "sensor_msgs/msg/Imu", t, msg))
    for t, frame in zip(frame_t.tolist(), frames, strict=True):
        h, w = frame.shape
        msg = T["sensor_msgs/msg/Image"](header=header(t, "thermal_optical_frame"), height=h, width=w,
                                         encoding="16UC1", is_bigendian=0, step=w * 2,
                                         data=np.frombuffer(frame.astype("<u2").tobytes(), np.uint8))
        out.append(("/thermal/image_raw", "sensor_msgs/msg/Image", t, msg))
    for t, label in zip(label_t.tolist(), labels, strict=True):
        out.append(("/activity", "std_msgs/msg/String", t, T["std_msgs/msg/String"](data=label)))
    out.sort(key=lambda m: m[2])
    return ts, out


def write_rosbag2(path: Path, distro: str, storage: str, messages: list[tuple[str, str, int, Any]], ts: Any,
                  compression: str = "none", split_at: int | None = None) -> Path:
    """A rosbag2 directory written by rosbags' Writer, as ``ros2 bag record`` on ``distro`` writes it.

    ``humble`` + ``sqlite3``: the database is then given Humble's shape (schema version 3, no stored message
    definitions, metadata version 5), so a reader must know the standard types itself. ``split_at``: messages from
    that index go into a second file ``<name>_1`` (written by rosbags too), listed after the first in
    metadata.yaml, as rosbag2 splits a bag.
    """
    import sqlite3

    from rosbags.rosbag2 import Writer
    from rosbags.rosbag2.enums import CompressionFormat, CompressionMode, StoragePlugin
    from ruamel.yaml import YAML

    def write_opened(dst: Path, part: list[tuple[str, str, int, Any]]) -> None:
        plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
        writer = Writer(dst, version=8, storage_plugin=plugin)
        if compression != "none":
            writer.set_compression(CompressionMode[compression.upper()], CompressionFormat.ZSTD)
        writer.open()
        conns: dict[str, Any] = {}
        for topic, msgtype, t, msg in part:
            if topic not in conns:
                conns[topic] = writer.add_connection(topic, msgtype, typestore=ts)
            writer.write(conns[topic], t, ts.serialize_cdr(msg, msgtype))
        writer.close()

    parts = [messages] if split_at is None else [messages[:split_at], messages[split_at:]]
    yaml = YAML(typ="safe")
    meta: dict[str, Any] = {}
    for i, part in enumerate(parts):
        dst = path if i == 0 else path.with_name(f"{path.name}_part{i}")
        write_opened(dst, part)
        part_meta = yaml.load((dst / "metadata.yaml").read_text())
        info_i = part_meta["rosbag2_bagfile_information"]
        old = info_i["relative_file_paths"][0]
        name = f"{path.name}_{i}{old[len(dst.name):]}"  # rosbag2's names: run1_0.db3, run1_1.db3, ...
        (dst / old).rename(path / name)
        info_i["relative_file_paths"] = [name]
        info_i["files"] = [{**info_i["files"][0], "path": name}]
        if i == 0:
            meta, info = part_meta, info_i
            continue
        info["relative_file_paths"].append(name)
        info["files"].append(info_i["files"][0])
        info["message_count"] += info_i["message_count"]
        end = info_i["starting_time"]["nanoseconds_since_epoch"] + info_i["duration"]["nanoseconds"]
        info["duration"]["nanoseconds"] = end - info["starting_time"]["nanoseconds_since_epoch"]
        counts = {t["topic_metadata"]["name"]: t for t in info["topics_with_message_count"]}
        for t in info_i["topics_with_message_count"]:
            if t["topic_metadata"]["name"] in counts:
                counts[t["topic_metadata"]["name"]]["message_count"] += t["message_count"]
            else:
                info["topics_with_message_count"].append(t)
        (dst / "metadata.yaml").unlink()
        dst.rmdir()
    if distro == "humble":
        if storage == "sqlite3":
            for name in info["relative_file_paths"]:
                db = path / name
                if db.suffix != ".db3":
                    continue  # a per-file compressed database stays as written
                con = sqlite3.connect(db)
                con.executescript("DROP TABLE message_definitions; UPDATE schema SET schema_version = 3;")
                con.commit()
                con.close()
        info["version"] = 5
        for key in ("custom_data", "ros_distro"):
            info.pop(key, None)
        for t in info["topics_with_message_count"]:
            t["topic_metadata"].pop("type_description_hash", None)
    with (path / "metadata.yaml").open("w") as f:
        yaml.dump(meta, f)
    return path
