"""Recordings and live sessions -> ROS 2 bags (CDR messages with their ROS 2 definitions): a bare ``.mcap``
(``ros2`` profile) that Foxglove, the ``mcap`` CLI and ``mcap_ros2`` open without a ROS install, or a rosbag2
directory (``metadata.yaml`` + MCAP storage, written by rosbags) that ``ros2 bag play`` takes.

* :func:`write_recording_bag`: a Recording as ``sensor_msgs/msg/Imu``, ``sensor_msgs/msg/Image`` (``32FC1``, degrees
  C) and ``std_msgs/msg/String`` labels, with the Recording's meta in an ``edgebind`` metadata record, so that
  :func:`edgebind.ros.bag_in.read_bag` gives it back unchanged. Log time = ``header.stamp`` = the Recording's
  times, or the ROS times passed (``record``'s host clock), with the device times beside them.
* :class:`SessionBag`: what ``edgebind stream --mcap`` writes: the raw messages received, one
  ``edgebind_msgs/msg/WindowLabel`` per labelled window and, optionally, ``edgebind_msgs/msg/Embedding``.

Clocks (docs/robotics.md): by default sensor messages are stamped in ROS time (the host's wall clock: device time
mapped through the running clock estimate, :class:`edgebind.bridge.clock.RosClock`); log time = ``header.stamp``,
and each sample's device time is kept in a ``sensor_msgs/msg/TimeReference`` (``time_ref``) on
``/imu/device_time`` and ``/thermal/device_time``. ``stamp="device"`` keeps ``header.stamp`` = device time, and a
session bag's log time is then the host's wall clock at arrival.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bridge.clock import RosClock
from edgebind.bridge.events import Event, ImuBatch, ThermalFrame
from edgebind.bridge.recording import Recording
from edgebind.errors import ConfigError
from edgebind.ros import msgdefs
from edgebind.ros.deps import require
from edgebind.ros.messages import (
    embedding_message,
    image_message,
    imu_message,
    label_message,
    time_reference_message,
)

STAMPS = ("host", "device")
META_NAME = "edgebind"  # the MCAP metadata record / metadata.yaml custom_data key that bag_in reads


@dataclass(frozen=True)
class BagTopics:
    """Topic names and frame ids edgebind writes (REP 105 style ``*_link`` frames; override for your robot)."""

    imu: str = "/imu"
    thermal: str = "/thermal/image"
    labels: str = "/edgebind/labels"
    truth: str = "/edgebind/truth"
    embeddings: str = "/edgebind/embeddings"
    imu_device_time: str = "/imu/device_time"
    thermal_device_time: str = "/thermal/device_time"
    imu_frame: str = "imu_link"
    thermal_frame: str = "thermal_optical_frame"


class _McapBag:
    """A bare ``.mcap`` written by ``mcap_ros2``, the schemas registered on first use."""

    def __init__(self, path: str | Path) -> None:
        require("mcap_ros2")
        from mcap_ros2.writer import Writer

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")
        self.writer = Writer(self._file)
        self._schemas: dict[str, Any] = {}

    def add_metadata(self, record: dict[str, str]) -> None:
        self.writer.add_metadata(META_NAME, record)

    def write(self, topic: str, datatype: str, message: dict[str, Any], log_time_ns: int) -> None:
        schema = self._schemas.get(datatype)
        if schema is None:
            schema = self._schemas[datatype] = self.writer.register_msgdef(datatype, msgdefs.MSGDEFS[datatype])
        self.writer.write_message(topic, schema, message, log_time=max(int(log_time_ns), 0))

    def flush(self) -> None:
        """End the chunk in progress and fsync: a reader of the file, even one cut off later, sees every message
        written so far (mcap's ``Writer.flush``, mcap >= 1.5)."""
        if not self._file.closed:
            self.writer._writer.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self.writer.finish()
            self._file.close()


class _Rosbag2Dir:
    """A rosbag2 directory (``metadata.yaml`` version 8 + one MCAP storage file) written by rosbags' Writer; the
    ``edgebind`` record goes into metadata.yaml's ``custom_data``."""

    def __init__(self, path: str | Path) -> None:
        require("rosbags")
        from rosbags.rosbag2 import Writer
        from rosbags.rosbag2.enums import StoragePlugin
        from rosbags.typesys import Stores, get_types_from_msg, get_typestore

        self.path = Path(path)
        if self.path.exists():
            raise ConfigError(f"{self.path} exists; a rosbag2 bag is a new directory: pass another -o DIR or remove "
                              "it.")
        self.store = get_typestore(Stores.EMPTY)
        for name, text in msgdefs.MSGDEFS.items():
            self.store.register(get_types_from_msg(text, name))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = Writer(self.path, version=8, storage_plugin=StoragePlugin.MCAP)
        self.writer.open()
        self._conns: dict[str, Any] = {}
        self._closed = False

    def add_metadata(self, record: dict[str, str]) -> None:
        self.writer.set_custom_data(META_NAME, json.dumps(record, sort_keys=True))

    def write(self, topic: str, datatype: str, message: dict[str, Any], log_time_ns: int) -> None:
        conn = self._conns.get(topic)
        if conn is None:
            conn = self._conns[topic] = self.writer.add_connection(topic, datatype, typestore=self.store)
        raw = self.store.serialize_cdr(_message(self.store, datatype, message), datatype)
        self.writer.write(conn, max(int(log_time_ns), 0), raw)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.writer.close()


def _message(store: Any, msgtype: str, value: dict[str, Any]) -> Any:
    """A rosbags message object of ``msgtype`` from the plain dict :mod:`edgebind.ros.messages` builds."""
    _consts, fields = store.fielddefs[msgtype]
    return store.types[msgtype](**{name: _field(store, node, value[name]) for name, node in fields})


def _field(store: Any, node: tuple[Any, Any], value: Any) -> Any:
    kind, detail = int(node[0]), node[1]
    if kind == 1:  # a base type: number or string
        return value
    if kind == 2:  # a nested message
        return _message(store, detail, value)
    (inner_kind, inner), _size = detail  # an array or sequence
    if int(inner_kind) == 1 and inner[0] != "string":
        dtype = {"byte": "uint8", "char": "uint8"}.get(inner[0], inner[0])
        if isinstance(value, (bytes, bytearray, memoryview)):
            return np.frombuffer(bytes(value), dtype=np.uint8).view(dtype)
        return np.asarray(value, dtype=dtype)
    return [_field(store, (inner_kind, inner), v) for v in value]


def _open_bag(path: str | Path, rosbag2: bool) -> _McapBag | _Rosbag2Dir:
    return _Rosbag2Dir(path) if rosbag2 else _McapBag(path)


def _metadata(topics: BagTopics, stamp: str, **extra: str) -> dict[str, str]:
    """The ``edgebind`` record: which topics hold what, the thermal unit (degrees C) and the stamps' clock."""
    record = {"imu_topic": topics.imu, "thermal_topic": topics.thermal, "thermal_unit": "celsius", "stamp": stamp,
              **extra}
    if stamp == "host":
        record.update(imu_device_time_topic=topics.imu_device_time,
                      thermal_device_time_topic=topics.thermal_device_time)
    return record


def check_stamp(stamp: str) -> str:
    """``stamp`` if it is ``host`` or ``device``, else a ConfigError naming the choices."""
    if stamp not in STAMPS:
        raise ConfigError(f"unknown --stamp '{stamp}'; use host (ROS time, the default) or device.")
    return stamp


def write_recording_bag(rec: Recording, path: str | Path, topics: BagTopics | None = None, *, rosbag2: bool = False,
                        ros_t_ns: tuple[np.ndarray, np.ndarray | None] | None = None) -> Path:
    """Write ``rec`` as a ROS 2 bag.

    Args:
        rec: the Recording (IMU in m/s^2 and rad/s, thermal in degrees C, optional labels).
        path: the ``.mcap`` to write, or with ``rosbag2`` the directory to create.
        topics: topic names and frame ids. Defaults to ``BagTopics()``.
        rosbag2: write a rosbag2 directory (metadata.yaml + MCAP) for ``ros2 bag play``. Defaults to a bare .mcap.
        ros_t_ns: (IMU, thermal) ROS times of each sample and frame (``record``'s host clock, see
            :class:`edgebind.bridge.clock.RosClock`): they become ``header.stamp`` and log time, and the Recording's
            own (device) times go into TimeReference messages beside them. Defaults to None: the Recording's times.

    Returns:
        The path written.
    """
    tp = topics or BagTopics()
    bag = _open_bag(path, rosbag2)
    try:
        has_gyro = bool(rec.meta.get("has_gyro", True))
        imu_ros = None if ros_t_ns is None else np.asarray(ros_t_ns[0], np.int64)
        for i, (t, row) in enumerate(zip(rec.imu_t_ns.tolist(), rec.imu, strict=True)):
            stamp = t if imu_ros is None else int(imu_ros[i])
            bag.write(tp.imu, msgdefs.IMU, imu_message(stamp, row, tp.imu_frame, has_gyro), stamp)
            if imu_ros is not None:
                bag.write(tp.imu_device_time, msgdefs.TIME_REFERENCE,
                          time_reference_message(stamp, t, tp.imu_frame), stamp)
        if rec.thermal is not None and rec.thermal_t_ns is not None:
            th_ros = None if ros_t_ns is None or ros_t_ns[1] is None else np.asarray(ros_t_ns[1], np.int64)
            for i, (t, frame) in enumerate(zip(rec.thermal_t_ns.tolist(), rec.thermal, strict=True)):
                stamp = t if th_ros is None else int(th_ros[i])
                bag.write(tp.thermal, msgdefs.IMAGE, image_message(stamp, frame, tp.thermal_frame), stamp)
                if th_ros is not None:
                    bag.write(tp.thermal_device_time, msgdefs.TIME_REFERENCE,
                              time_reference_message(stamp, t, tp.thermal_frame), stamp)
        if rec.labels is not None and rec.label_t_ns is not None:
            for t, label in zip(rec.label_t_ns.tolist(), rec.labels.tolist(), strict=True):
                bag.write(tp.truth, msgdefs.STRING, {"data": label}, t)
        bag.add_metadata(_metadata(tp, "device" if ros_t_ns is None else "host",
                                   recording_meta=json.dumps(rec.meta, sort_keys=True), label_topic=tp.truth))
    finally:
        bag.close()
    return bag.path


class SessionBag:
    """A live session's bag: raw IMU and thermal messages, one label per window, optional embeddings.

    Use it as the stream's observer: :meth:`on_event` from the reader thread, :meth:`on_result` from the inference
    threads (a lock serialises the writer). Close it (or use ``with``) to write the MCAP summary.

    Args:
        path: the ``.mcap`` to write.
        embeddings: also log each labelled input's unit embedding. Defaults to False.
        topics: topic names and frame ids. Defaults to ``BagTopics()``.
        stamp: ``host`` (ROS time: ``header.stamp`` = log time = device time through ``ros_clock``, device time in
            TimeReference messages) or ``device`` (``header.stamp`` = device time, log time = host arrival).
            Defaults to host.
        ros_clock: the device -> ROS time mapping, shared with other outputs. Defaults to a new one fed by
            :meth:`on_event`.
    """

    def __init__(self, path: str | Path, embeddings: bool = False, topics: BagTopics | None = None,
                 stamp: str = "host", ros_clock: RosClock | None = None) -> None:
        self.topics, self.embeddings = topics or BagTopics(), embeddings
        self.stamp = check_stamp(stamp)
        self.ros_clock = (ros_clock or RosClock()) if stamp == "host" else None
        self._bag = _McapBag(path)
        self._bag.add_metadata(_metadata(self.topics, stamp, window_label_topic=self.topics.labels))
        self._lock = threading.Lock()
        self.counts = {"imu": 0, "thermal": 0, "labels": 0, "embeddings": 0}

    @property
    def path(self) -> Path:
        return self._bag.path

    def __enter__(self) -> SessionBag:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def on_event(self, event: Event) -> None:
        """Log the raw IMU samples and thermal frames of one source event (reader thread)."""
        now, tp, rc = time.time_ns(), self.topics, self.ros_clock
        ros = rc.stamps(event) if rc is not None else None  # paired and mapped once for every output
        with self._lock:
            if isinstance(event, ImuBatch):
                device = event.t_ns.tolist()
                stamps = device if ros is None else ros.tolist()
                for t, s, row in zip(device, stamps, event.imu, strict=True):
                    self._bag.write(tp.imu, msgdefs.IMU, imu_message(s, row, tp.imu_frame, event.has_gyro),
                                    now if rc is None else s)
                    if rc is not None:
                        self._bag.write(tp.imu_device_time, msgdefs.TIME_REFERENCE,
                                        time_reference_message(s, t, tp.imu_frame), s)
                self.counts["imu"] += len(event.t_ns)
            elif isinstance(event, ThermalFrame):
                s = event.t_ns if ros is None else int(ros[0])
                self._bag.write(tp.thermal, msgdefs.IMAGE, image_message(s, event.temp_c, tp.thermal_frame),
                                now if rc is None else s)
                if rc is not None:
                    self._bag.write(tp.thermal_device_time, msgdefs.TIME_REFERENCE,
                                    time_reference_message(s, event.t_ns, tp.thermal_frame), s)
                self.counts["thermal"] += 1

    def on_result(self, result: Any) -> None:
        """Log one ``LabelResult`` (and its embedding when asked and present); log time = the host's clock now."""
        now, tp = time.time_ns(), self.topics
        frame = tp.imu_frame if result.modality == "imu" else tp.thermal_frame
        stamp = None if self.ros_clock is None else int(self.ros_clock.to_ros_ns(result.t_end_ns))
        with self._lock:
            self._bag.write(tp.labels, msgdefs.WINDOW_LABEL,
                            label_message(result.to_json(), result.t_end_ns, frame, stamp), now)
            self.counts["labels"] += 1
            emb = getattr(result, "embedding", None)
            if self.embeddings and emb is not None:
                msg = embedding_message(result.modality, result.index, result.t_end_ns if stamp is None else stamp,
                                        emb, frame)
                self._bag.write(tp.embeddings, msgdefs.EMBEDDING, msg, now)
                self.counts["embeddings"] += 1

    def close(self) -> None:
        """Finish the MCAP (summary and index); idempotent."""
        with self._lock:
            self._bag.close()

    def flush(self) -> None:
        """Put every message logged so far on disk (``SessionOutputs`` calls it every second)."""
        with self._lock:
            flush = getattr(self._bag, "flush", None)
            if flush is not None:
                flush()
