"""ROS 2 types without ROS: REP 2011 hashes against rosbags' hash_rihs01, CDR bytes against rosbags' serializer,
the edgebind_msgs package source against the Python types, and the ROS 2 environment variables. No network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("cyclonedds", reason="the ros2 extra (pip install 'edgebind[ros2]') is not installed")
rosbags_typesys = pytest.importorskip("rosbags.typesys")

from edgebind.errors import ConfigError  # noqa: E402
from edgebind.ros import dds, msgdefs, ros2types  # noqa: E402
from edgebind.ros.messages import image_message, imu_message, label_message  # noqa: E402

PKG = Path(__file__).parents[2] / "ros2" / "edgebind_msgs"


def jazzy_with_ours() -> Any:
    """rosbags' Jazzy type store with edgebind_msgs registered from the package's .msg files."""
    from rosbags.typesys import get_types_from_msg

    store = rosbags_typesys.get_typestore(rosbags_typesys.Stores.ROS2_JAZZY)
    for msg in sorted((PKG / "msg").glob("*.msg")):
        store.register(get_types_from_msg(msg.read_text(), f"edgebind_msgs/msg/{msg.stem}"))
    return store


def test_type_hashes_equal_rosbags_rihs01() -> None:
    store = jazzy_with_ours()
    names = sorted(ros2types.definitions())
    assert {"sensor_msgs/msg/Imu", "sensor_msgs/msg/Image", "std_msgs/msg/String",
            "edgebind_msgs/msg/WindowLabel"} <= set(names)
    for name in names:
        assert ros2types.type_hash(name) == store.hash_rihs01(name), name
    # Jazzy's published hash of sensor_msgs/msg/Imu (what `ros2 topic info -v` shows on a Jazzy robot)
    assert ros2types.type_hash("sensor_msgs/msg/Imu") == (
        "RIHS01_7d9a00ff131080897a5ec7e26e315954b8eae3353c3f995c55faf71574000b5b")
    want = f"typehash={store.hash_rihs01('std_msgs/msg/String')};"
    assert ros2types.user_data("std_msgs/msg/String") == want.encode()


def test_msg_files_match_the_python_types() -> None:
    """The shipped .msg files (what colcon builds) define the same fields as the types edgebind puts on the wire."""
    from rosbags.typesys import get_types_from_msg

    msgs = sorted((PKG / "msg").glob("*.msg"))
    assert [m.stem for m in msgs] == ["Embedding", "WindowLabel"]
    cmake = (PKG / "CMakeLists.txt").read_text()
    assert "<name>edgebind_msgs</name>" in (PKG / "package.xml").read_text()
    base = {"string": "string"}
    for msg in msgs:
        name = f"edgebind_msgs/msg/{msg.stem}"
        assert f'"msg/{msg.name}"' in cmake
        parsed = get_types_from_msg(msg.read_text(), name)[name][1]
        want = ros2types.fields(name)
        assert [f[0] for f in parsed] == [f.name for f in want]
        for (fname, desc), f in zip(parsed, want, strict=True):
            kind, rest = desc
            if kind.name == "NAME":  # nested
                assert rest == f.type and f.size is None and not f.sequence, fname
            elif kind.name == "BASE":
                assert base.get(rest[0], rest[0]) == f.type and f.size is None and not f.sequence, fname
            else:  # SEQUENCE (unbounded) or ARRAY
                (_, inner), size = rest
                assert inner[0] == f.type and f.sequence == (kind.name == "SEQUENCE" and size == 0), fname
        # and the definition the bags carry names the same fields
        assert [f.name for f in ros2types.parse_msg(msgdefs.MSGDEFS[name].split(msgdefs.SEP)[0])] == [p[0] for p in
                                                                                                       parsed]


def ros_msg(store: Any, ros_type: str, value: Any) -> Any:
    """A rosbags message of ``ros_type`` from the dict edgebind.ros.messages builds (nested dicts)."""
    cls = store.types[ros_type]
    kwargs = {}
    for f in ros2types.fields(ros_type):
        v = value[f.name]
        if f.nested:
            v = ros_msg(store, f.type, v)
        elif f.size is not None or (f.sequence and f.type not in ("string",)):
            v = np.asarray(list(v) if not isinstance(v, bytes) else np.frombuffer(v, np.uint8),
                           dtype={"float64": np.float64, "float32": np.float32, "uint8": np.uint8}[f.type])
        kwargs[f.name] = v
    return cls(**kwargs)


LINE = {"t_end_s": 4.9975, "modality": "imu", "label": "Walking", "top_k": [
    {"label": "Walking", "score": 0.61}, {"label": "Running", "score": 0.3}, {"label": "Standing", "score": 0.09}],
    "latency_ms": 4.9, "runner_ms": 3.2, "drops": {"windows_skipped": 1, "samples_lost": 7}, "index": 3}


@pytest.mark.parametrize("ros_type,value", [
    (msgdefs.IMU, imu_message(1_796_000_000_123_456_789, np.array([0.1, -9.8, 0.3, 0.01, 0.02, -0.5]), "imu_link")),
    (msgdefs.IMU, imu_message(5, np.arange(6.0), "imu", has_gyro=False)),
    (msgdefs.IMAGE, image_message(7_000_000_001, np.linspace(20, 37, 24 * 32, dtype=np.float32).reshape(24, 32),
                                  "thermal_optical_frame")),
    (msgdefs.STRING, {"data": json.dumps(LINE)}),
    (msgdefs.STRING, {"data": "abcde"}),  # a length that needs padding
    (msgdefs.WINDOW_LABEL, label_message(LINE, 1_796_000_000_999_000_000, "imu_link")),
])
def test_cdr_bytes_equal_rosbags(ros_type: str, value: dict[str, Any]) -> None:
    store = jazzy_with_ours()
    ours = ros2types.build(ros_type, value).serialize()
    theirs = bytes(store.serialize_cdr(ros_msg(store, ros_type, value), ros_type))
    assert ours == theirs
    back = ros2types.idl_type(ros_type).deserialize(theirs)  # and we read what rosbags writes
    assert back.serialize() == theirs


def test_dds_names() -> None:
    assert ros2types.dds_topic("/edgebind/label_text") == "rt/edgebind/label_text"
    assert ros2types.ros_topic("rt/imu/data") == "/imu/data" and ros2types.ros_topic("DCPSParticipant") is None
    assert ros2types.dds_type("sensor_msgs/msg/Imu") == "sensor_msgs::msg::dds_::Imu_"
    assert ros2types.ros_type("edgebind_msgs::msg::dds_::WindowLabel_") == "edgebind_msgs/msg/WindowLabel"
    assert ros2types.parse_user_data(b"typehash=RIHS01_ab;x=1;") == {"typehash": "RIHS01_ab", "x": "1"}


def test_environment_picks_domain_and_keeps_discovery_on_loopback() -> None:
    s = dds.settings({})
    assert s.domain_id == 0 and s.scope == "loopback only" and s.config is not None
    assert '<NetworkInterface address="127.0.0.1"/>' in s.config
    assert "<AllowMulticast>false</AllowMulticast>" in s.config
    assert '<Peer address="127.0.0.1"/>' in s.config
    for env in ({"ROS_LOCALHOST_ONLY": "1"}, {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"},
                {"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET", "ROS_LOCALHOST_ONLY": "1"}):
        assert dds.settings(env).config == s.config, env
    assert dds.settings({"ROS_DOMAIN_ID": "42"}).domain_id == 42
    assert dds.settings({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}).config is None  # the user asked for the network
    assert dds.settings({"CYCLONEDDS_URI": "file:///etc/cdds.xml"}).config is None  # the user's own configuration
    assert "<Peer " not in str(dds.settings({"ROS_AUTOMATIC_DISCOVERY_RANGE": "OFF"}).config)
    with pytest.raises(ConfigError, match="ROS_DOMAIN_ID='300'"):
        dds.settings({"ROS_DOMAIN_ID": "300"})
    with pytest.raises(ConfigError, match="ROS_AUTOMATIC_DISCOVERY_RANGE='LAN'"):
        dds.settings({"ROS_AUTOMATIC_DISCOVERY_RANGE": "LAN"})
