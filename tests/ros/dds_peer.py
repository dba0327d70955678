"""A second DDS process for the live ROS 2 tests, as a robot's driver or a ROS 2 tool would be: it publishes
``rosbags``-serialized CDR (not edgebind's) or prints the raw CDR of what it receives, with the REP 2011 type hash
``rosbags`` computes in its USER_DATA. Discovery follows edgebind.ros.dds (loopback only; ROS_DOMAIN_ID).

    python dds_peer.py pub-imu /imu/data --rate 200 --seconds 8 [--speed 4]
    python dds_peer.py pub-string /imu/data --seconds 8
    python dds_peer.py sub /edgebind/label_text std_msgs/msg/String reliable /edgebind/imu sensor_msgs/msg/Imu sensor
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from cyclonedds._clayer import ddspy_take, ddspy_write  # raw CDR in and out, bypassing edgebind's IDL types
from cyclonedds.core import InstanceState, Policy, Qos, SampleState, ViewState
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.util import duration
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from edgebind.ros import dds

STORE = get_typestore(Stores.ROS2_JAZZY)
for _msg in sorted((Path(__file__).parents[2] / "ros2" / "edgebind_msgs" / "msg").glob("*.msg")):  # ours, from source
    STORE.register(get_types_from_msg(_msg.read_text(), f"edgebind_msgs/msg/{_msg.stem}"))


def peer_qos(profile: str, ros_type: str, depth: int = 0) -> Qos:
    reliability = (Policy.Reliability.BestEffort if profile == "sensor"
                   else Policy.Reliability.Reliable(max_blocking_time=duration(milliseconds=100)))
    depth = depth or (5 if profile == "sensor" else 10)
    return Qos(reliability, Policy.History.KeepLast(depth), Policy.Durability.Volatile,
               Policy.Userdata(data=f"typehash={STORE.hash_rihs01(ros_type)};".encode()))


def imu_cdr(t_ns: int, k: int) -> bytes:
    """A REP 145 Imu sample (walking-like accel and gyro) serialized by rosbags."""
    T = STORE.types
    stamp = T["builtin_interfaces/msg/Time"](sec=t_ns // 10**9, nanosec=t_ns % 10**9)
    ph = 2 * math.pi * 1.8 * k / 200.0
    msg = T["sensor_msgs/msg/Imu"](
        header=T["std_msgs/msg/Header"](stamp=stamp, frame_id="imu_link"),
        orientation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0),
        orientation_covariance=__import__("numpy").array([-1.0] + [0.0] * 8),
        angular_velocity=T["geometry_msgs/msg/Vector3"](x=0.3 * math.sin(ph), y=0.1, z=0.05 * math.cos(ph)),
        angular_velocity_covariance=__import__("numpy").zeros(9),
        linear_acceleration=T["geometry_msgs/msg/Vector3"](x=2.0 * math.sin(ph), y=0.5, z=9.81 + math.cos(ph)),
        linear_acceleration_covariance=__import__("numpy").zeros(9))
    return bytes(STORE.serialize_cdr(msg, "sensor_msgs/msg/Imu"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["pub-imu", "pub-string", "sub"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--speed", type=float, default=1.0, help="publish this many times faster than the stamps say")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--count", type=int, default=0, help="sub: exit after this many samples of the first topic")
    ap.add_argument("--depth", type=int, default=0, help="sub: reader history depth [5 sensor, 10 reliable as rclcpp]")
    a = ap.parse_args()
    dp, _ = dds.participant()
    if a.mode.startswith("pub"):
        ros_type = "sensor_msgs/msg/Imu" if a.mode == "pub-imu" else "std_msgs/msg/String"
        from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsSubscription

        subs = BuiltinDataReader(dp, BuiltinTopicDcpsSubscription)
        writer = DataWriter(dp, dds.topic(dp, a.args[0], ros_type), qos=peer_qos("sensor", ros_type))
        print(json.dumps({"ready": True}), flush=True)
        t0_host, t0_ns, k, readers_seen = time.monotonic(), time.time_ns(), 0, {}
        while time.monotonic() - t0_host < a.seconds:
            if k % 50 == 0:
                for sample in subs.take(N=64):
                    ep = dds.endpoint(sample) if hasattr(sample, "topic_name") else None
                    if ep is not None and ep.topic not in readers_seen:  # printed at once: the test may kill us
                        readers_seen[ep.topic] = ep
                        print(json.dumps({"reader": ep.topic, "type": ep.type, "typehash": ep.type_hash}), flush=True)
            due = t0_host + k / a.rate / a.speed
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            if a.mode == "pub-imu":
                data = imu_cdr(t0_ns + round(k * 1e9 / a.rate), k)
            else:
                data = bytes(STORE.serialize_cdr(STORE.types["std_msgs/msg/String"](data=f"not an imu {k}"),
                                                 "std_msgs/msg/String"))
            ddspy_write(writer._ref, data)
            k += 1
        print(json.dumps({"sent": k}), flush=True)
        return
    readers = []
    for topic_name, ros_type, profile in zip(a.args[::3], a.args[1::3], a.args[2::3], strict=True):
        readers.append((topic_name, DataReader(dp, dds.topic(dp, topic_name, ros_type),
                                               qos=peer_qos(profile, ros_type, a.depth))))
    from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsPublication

    builtin, writers = BuiltinDataReader(dp, BuiltinTopicDcpsPublication), {}
    print(json.dumps({"ready": True}), flush=True)
    end, first = time.monotonic() + a.seconds, 0
    mask = SampleState.Any | ViewState.Any | InstanceState.Any
    while time.monotonic() < end:
        got = False
        for topic_name, reader in readers:
            taken, now = ddspy_take(reader._ref, mask, 256), time.time_ns()
            for data, info in taken:
                if info.valid_data:
                    got = True
                    print(json.dumps({"topic": topic_name, "cdr": bytes(data).hex(), "recv_ns": now,
                                      "source_ns": info.source_timestamp}), flush=True)
                    first += topic_name == readers[0][0]
        if a.count and first >= a.count:
            break
        for sample in builtin.take(N=64):
            ep = dds.endpoint(sample) if hasattr(sample, "topic_name") else None
            if ep is not None:
                writers[ep.topic] = ep
        if not got:
            time.sleep(0.005)
    for ep in writers.values():  # what this subscriber saw its peers announce: the writers' USER_DATA type hashes
        print(json.dumps({"writer": ep.topic, "type": ep.type, "typehash": ep.type_hash}), flush=True)


if __name__ == "__main__":
    main()
