"""ROS 2 message definitions as MCAP stores them (ros2msg: the type's .msg text, then each dependency after a
line of 80 ``=`` and ``MSG: pkg/Type``), so a bag opens in Foxglove and ``mcap_ros2`` without a ROS install.

The standard types are copied field for field from ROS 2 (sensor_msgs, std_msgs, builtin_interfaces,
geometry_msgs; comments dropped). ``edgebind_msgs`` are ours: one label per window, one embedding per input.
"""

from __future__ import annotations

SEP = "=" * 80

_TIME = "int32 sec\nuint32 nanosec\n"
_HEADER = "builtin_interfaces/Time stamp\nstring frame_id\n"
_QUATERNION = "float64 x\nfloat64 y\nfloat64 z\nfloat64 w\n"
_VECTOR3 = "float64 x\nfloat64 y\nfloat64 z\n"


def _with_deps(body: str, *deps: tuple[str, str]) -> str:
    return body + "".join(f"{SEP}\nMSG: {name}\n{text}" for name, text in deps)


_HEADER_DEPS = (("std_msgs/Header", _HEADER), ("builtin_interfaces/Time", _TIME))

IMU = "sensor_msgs/msg/Imu"
IMAGE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"
STRING = "std_msgs/msg/String"
TIME_REFERENCE = "sensor_msgs/msg/TimeReference"
WINDOW_LABEL = "edgebind_msgs/msg/WindowLabel"
EMBEDDING = "edgebind_msgs/msg/Embedding"

MSGDEFS: dict[str, str] = {
    IMU: _with_deps(
        "std_msgs/Header header\n"
        "geometry_msgs/Quaternion orientation\nfloat64[9] orientation_covariance\n"
        "geometry_msgs/Vector3 angular_velocity\nfloat64[9] angular_velocity_covariance\n"
        "geometry_msgs/Vector3 linear_acceleration\nfloat64[9] linear_acceleration_covariance\n",
        *_HEADER_DEPS, ("geometry_msgs/Quaternion", _QUATERNION), ("geometry_msgs/Vector3", _VECTOR3)),
    IMAGE: _with_deps(
        "std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\n"
        "uint8[] data\n", *_HEADER_DEPS),
    COMPRESSED_IMAGE: _with_deps("std_msgs/Header header\nstring format\nuint8[] data\n", *_HEADER_DEPS),
    STRING: "string data\n",
    # header.stamp: the ROS (host) time of a sample, time_ref: the same sample on the device's clock
    TIME_REFERENCE: _with_deps("std_msgs/Header header\nbuiltin_interfaces/Time time_ref\nstring source\n",
                               *_HEADER_DEPS),
    # One message per labelled window; the fields are those of a `edgebind stream --json` line (docs/robotics.md).
    WINDOW_LABEL: _with_deps(
        "std_msgs/Header header\n"
        "string modality\nstring label\nuint32 index\n"
        "string[] top_k_labels\nfloat64[] top_k_scores\n"
        "float64 latency_ms\nfloat64 runner_ms\nuint32 windows_skipped\nuint32 samples_lost\n"
        "builtin_interfaces/Time device_stamp\n", *_HEADER_DEPS),
    EMBEDDING: _with_deps("std_msgs/Header header\nstring modality\nuint32 index\nfloat32[] data\n", *_HEADER_DEPS),
}
