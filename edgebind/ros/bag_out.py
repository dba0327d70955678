"""Recordings and live sessions -> ROS 2 bags (MCAP, ``ros2`` profile, CDR messages) that Foxglove, the ``mcap``
CLI and ``mcap_ros2`` open without a ROS install.

* :func:`write_recording_bag`: a Recording as ``sensor_msgs/msg/Imu``, ``sensor_msgs/msg/Image`` (``32FC1``, degrees
  C) and ``std_msgs/msg/String`` labels, with the Recording's meta in an ``edgebind`` metadata record, so that
  :func:`edgebind.ros.bag_in.read_bag` gives it back unchanged. Log time = ``header.stamp`` = device time.
* :class:`SessionBag`: what ``edgebind stream --mcap`` writes: the raw messages received, one
  ``edgebind_msgs/msg/WindowLabel`` per labelled window and, optionally, ``edgebind_msgs/msg/Embedding``. Log time
  is the host's wall clock when the data arrived (as rosbag2 records), ``header.stamp`` the device time.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebind.bridge.events import Event, ImuBatch, ThermalFrame
from edgebind.bridge.recording import Recording
from edgebind.ros import msgdefs
from edgebind.ros.deps import require
from edgebind.ros.messages import embedding_message, image_message, imu_message, label_message


@dataclass(frozen=True)
class BagTopics:
    """Topic names and frame ids edgebind writes (REP 105 style ``*_link`` frames; override for your robot)."""

    imu: str = "/imu"
    thermal: str = "/thermal/image"
    labels: str = "/edgebind/labels"
    truth: str = "/edgebind/truth"
    embeddings: str = "/edgebind/embeddings"
    imu_frame: str = "imu_link"
    thermal_frame: str = "thermal_optical_frame"


class _Bag:
    """An ``mcap_ros2`` writer with the schemas registered on first use."""

    def __init__(self, path: str | Path) -> None:
        require("mcap_ros2")
        from mcap_ros2.writer import Writer

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")
        self.writer = Writer(self._file)
        self._schemas: dict[str, Any] = {}

    def add_edgebind_metadata(self, topics: BagTopics, **extra: str) -> None:
        """The ``edgebind`` metadata record: which topics hold what, and the thermal unit (degrees C)."""
        self.writer.add_metadata("edgebind", {"imu_topic": topics.imu, "thermal_topic": topics.thermal,
                                              "thermal_unit": "celsius", **extra})

    def write(self, topic: str, datatype: str, message: dict[str, Any], log_time_ns: int) -> None:
        schema = self._schemas.get(datatype)
        if schema is None:
            schema = self._schemas[datatype] = self.writer.register_msgdef(datatype, msgdefs.MSGDEFS[datatype])
        self.writer.write_message(topic, schema, message, log_time=max(int(log_time_ns), 0))

    def close(self) -> None:
        if not self._file.closed:
            self.writer.finish()
            self._file.close()


def write_recording_bag(rec: Recording, path: str | Path, topics: BagTopics | None = None) -> Path:
    """Write ``rec`` as a ROS 2 bag.

    Args:
        rec: the Recording (IMU in m/s^2 and rad/s, thermal in degrees C, optional labels).
        path: the ``.mcap`` to write.
        topics: topic names and frame ids. Defaults to ``BagTopics()``.

    Returns:
        The path written.
    """
    tp = topics or BagTopics()
    bag = _Bag(path)
    try:
        has_gyro = bool(rec.meta.get("has_gyro", True))
        for t, row in zip(rec.imu_t_ns.tolist(), rec.imu, strict=True):
            bag.write(tp.imu, msgdefs.IMU, imu_message(t, row, tp.imu_frame, has_gyro), t)
        if rec.thermal is not None and rec.thermal_t_ns is not None:
            for t, frame in zip(rec.thermal_t_ns.tolist(), rec.thermal, strict=True):
                bag.write(tp.thermal, msgdefs.IMAGE, image_message(t, frame, tp.thermal_frame), t)
        if rec.labels is not None and rec.label_t_ns is not None:
            for t, label in zip(rec.label_t_ns.tolist(), rec.labels.tolist(), strict=True):
                bag.write(tp.truth, msgdefs.STRING, {"data": label}, t)
        bag.add_edgebind_metadata(tp, recording_meta=json.dumps(rec.meta, sort_keys=True), label_topic=tp.truth)
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
    """

    def __init__(self, path: str | Path, embeddings: bool = False, topics: BagTopics | None = None) -> None:
        self.topics, self.embeddings = topics or BagTopics(), embeddings
        self._bag = _Bag(path)
        self._bag.add_edgebind_metadata(self.topics, window_label_topic=self.topics.labels)
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
        now, tp = time.time_ns(), self.topics
        with self._lock:
            if isinstance(event, ImuBatch):
                for t, row in zip(event.t_ns.tolist(), event.imu, strict=True):
                    self._bag.write(tp.imu, msgdefs.IMU, imu_message(t, row, tp.imu_frame, event.has_gyro), now)
                self.counts["imu"] += len(event.t_ns)
            elif isinstance(event, ThermalFrame):
                self._bag.write(tp.thermal, msgdefs.IMAGE, image_message(event.t_ns, event.temp_c, tp.thermal_frame),
                                now)
                self.counts["thermal"] += 1

    def on_result(self, result: Any) -> None:
        """Log one ``LabelResult`` (and its embedding when asked and present)."""
        now, tp = time.time_ns(), self.topics
        frame = tp.imu_frame if result.modality == "imu" else tp.thermal_frame
        with self._lock:
            self._bag.write(tp.labels, msgdefs.WINDOW_LABEL, label_message(result.to_json(), result.t_end_ns, frame),
                            now)
            self.counts["labels"] += 1
            emb = getattr(result, "embedding", None)
            if self.embeddings and emb is not None:
                msg = embedding_message(result.modality, result.index, result.t_end_ns, emb, frame)
                self._bag.write(tp.embeddings, msgdefs.EMBEDDING, msg, now)
                self.counts["embeddings"] += 1

    def close(self) -> None:
        """Finish the MCAP (summary and index); idempotent."""
        with self._lock:
            self._bag.close()
