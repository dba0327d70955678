"""A ROS 2 bag (MCAP) -> a :class:`Recording`, read message by message so memory holds only the arrays.

Topics are the ones named in :class:`BagOptions`, or found by message type (``sensor_msgs/msg/Imu``;
``sensor_msgs/msg/Image`` or ``CompressedImage``; ``std_msgs/msg/String`` for truth labels). A bag written by
:func:`edgebind.ros.bag_out.write_recording_bag` carries its Recording's meta and thermal unit, and reads back
unchanged.
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bridge.recording import Recording
from edgebind.errors import SensorError, suggest
from edgebind.ros import msgdefs
from edgebind.ros.deps import require
from edgebind.ros.messages import check_thermal_unit, compressed_array, image_array, imu_sample, stamp_ns, to_celsius

log = logging.getLogger(__name__)

IMU_TYPES = (msgdefs.IMU,)
THERMAL_TYPES = (msgdefs.IMAGE, msgdefs.COMPRESSED_IMAGE)
LABEL_TYPES = (msgdefs.STRING,)
NO_TOPIC = "none"  # --label-topic none: ignore every String topic
META_NAME = "edgebind"  # MCAP metadata record written by bag_out
MAX_REPEATED_STAMPS = 0.1  # more repeats than this fraction: the driver does not stamp samples (an error)
REP145 = "REP 145: accel = specific force in m/s^2 with gravity, gyro in rad/s, time = header.stamp"


@dataclass(frozen=True)
class BagOptions:
    """Which topics of a bag to read, and how to read thermal values.

    Attributes:
        imu_topic: the ``sensor_msgs/msg/Imu`` topic. Defaults to the only one in the bag.
        thermal_topic: the ``Image``/``CompressedImage`` topic. Defaults to the only one in the bag.
        label_topic: a ``std_msgs/msg/String`` topic of truth labels, ``none`` to ignore labels. Defaults to the only
            String topic in the bag.
        thermal_unit: ``celsius``, ``kelvin_x100`` or ``counts``; ROS has no standard. Defaults to the unit an
            edgebind bag records; required for other bags with a thermal topic.
        thermal_sensor: thermal sensor profile (``lepton3.5``, ``mlx90640``, ``amg8833``) for ``counts``.
    """

    imu_topic: str | None = None
    thermal_topic: str | None = None
    label_topic: str | None = None
    thermal_unit: str | None = None
    thermal_sensor: str | None = None


class _Grow:
    """A numpy array that doubles when full: O(n) appends with one copy at most per doubling."""

    def __init__(self, width: int, dtype: Any) -> None:
        self.buf = np.empty((1024, width), dtype)
        self.n = 0

    def append(self, row: Any) -> None:
        if self.n == len(self.buf):
            self.buf = np.concatenate([self.buf, np.empty_like(self.buf)])
        self.buf[self.n] = row
        self.n += 1

    def array(self) -> np.ndarray:
        return self.buf[: self.n]


def _fail(path: Path, exc: Exception) -> SensorError:
    return SensorError(f"{path} is not a readable MCAP bag ({type(exc).__name__}: {exc}); if the recording was cut "
                       f"off, recover what it holds with 'mcap recover {path} -o fixed.mcap' (mcap CLI).")


def _summary(path: Path) -> tuple[dict[str, str], dict[str, str] | None]:
    """(topic -> message type, the ``edgebind`` metadata record or None) from the bag's summary section.

    Raises:
        SensorError: a missing file, or no readable summary (a truncated or foreign file), naming the fix.
    """
    require("mcap_ros2")
    from mcap.exceptions import McapError
    from mcap.reader import make_reader

    if not path.is_file():
        raise SensorError(f"bag {path} does not exist; write one with 'edgebind record PORT -o {path.name}'.")
    with path.open("rb") as f:
        try:
            reader = make_reader(f)
            summary = reader.get_summary()
            if summary is None:
                raise ValueError("no summary section")
            stored = next((dict(r.metadata) for r in reader.iter_metadata() if r.name == META_NAME), None)
        except (McapError, struct.error, ValueError, EOFError) as exc:
            raise _fail(path, exc) from None
    topics = {}
    for ch in summary.channels.values():
        schema = summary.schemas.get(ch.schema_id)
        topics[ch.topic] = schema.name if schema is not None else ""
    return topics, stored


def _pick(topics: dict[str, str], kind: str, types: tuple[str, ...], explicit: str | None, flag: str,
          path: Path) -> str | None:
    """The topic to read for ``kind``: the one named, or the only one of ``types``; None when there is none."""
    candidates = sorted(t for t, ty in topics.items() if ty in types)
    if explicit == NO_TOPIC:
        return None
    if explicit is not None:
        if explicit not in topics:
            pool = candidates or sorted(topics)
            raise SensorError(f"{path} has no topic '{explicit}'.{suggest(explicit, pool)} Pass {flag} with one of "
                              f"the bag's {kind} topics ({', '.join(candidates) or 'none'}).")
        if topics[explicit] not in types:
            raise SensorError(f"{path}: topic {explicit} is {topics[explicit]}, not {' or '.join(types)}; pass "
                              f"{flag} with one of {', '.join(candidates) or '(none in this bag)'}.")
        return explicit
    if len(candidates) > 1:
        raise SensorError(f"{path} has {len(candidates)} {kind} topics ({', '.join(candidates)}); choose one with "
                          f"{flag} {candidates[0]}" + (f" (or {flag} none)." if kind == "label" else "."))
    return candidates[0] if candidates else None


def read_bag(path: str | Path, options: BagOptions | None = None,
             modalities: Collection[str] = ("imu", "thermal", "labels")) -> Recording:
    """Read a ROS 2 bag into a Recording (IMU in SI units per REP 145, thermal in degrees C, String labels).

    Args:
        path: the ``.mcap`` file.
        options: topics and thermal unit. Defaults to ``BagOptions()`` (found by message type).
        modalities: what to read, of ``imu``, ``thermal``, ``labels``; the rest is left in the bag. Defaults to all.

    Returns:
        The Recording; ``meta`` names the topics, frame ids, encodings and units used.

    Raises:
        SensorError: a missing or truncated bag, a topic that is absent or ambiguous, no IMU or thermal topic at all,
            an unknown image encoding, or frames of different sizes; each message names the fix.
        ConfigError: a missing thermal unit, or ``counts`` without a sensor.
    """
    path, opts = Path(path), options or BagOptions()
    topics, stored = _summary(path)
    imu_t = _pick(topics, "IMU", IMU_TYPES, opts.imu_topic, "--imu-topic", path) if "imu" in modalities else None
    th_t = (_pick(topics, "thermal", THERMAL_TYPES, opts.thermal_topic, "--thermal-topic", path)
            if "thermal" in modalities else None)
    lab_t = (_pick(topics, "label", LABEL_TYPES, opts.label_topic, "--label-topic", path)
             if "labels" in modalities else None)
    if imu_t is None and th_t is None:
        listing = ", ".join(f"{t} ({ty})" for t, ty in sorted(topics.items())) or "no topics"
        wanted = " or ".join(m for m in ("IMU", "thermal") if m.lower() in modalities)
        raise SensorError(f"{path} has no {wanted} topic (it has {listing}); record sensor_msgs/msg/Imu "
                          "(or Image) topics, or name yours with --imu-topic / --thermal-topic.")
    unit = opts.thermal_unit
    if th_t is not None:
        if unit is None and stored is not None and stored.get("thermal_topic") == th_t:
            unit = stored.get("thermal_unit")
        if unit is None:
            raise SensorError(f"{path}: thermal topic {th_t} has no standard radiometric unit; pass --thermal-unit "
                              "celsius, kelvin_x100 (Lepton TLinear, centi-kelvin) or counts (with "
                              "--thermal-sensor).")
        check_thermal_unit(unit, opts.thermal_sensor)
    acc = _Accumulator(path, imu_t, th_t, lab_t)
    for topic, msg, log_time in _iter_messages(path, [t for t in (imu_t, th_t, lab_t) if t is not None]):
        acc.add(topic, msg, log_time)
    rec = acc.recording(unit, opts.thermal_sensor)
    if (stored is not None and "recording_meta" in stored and imu_t in (None, stored.get("imu_topic"))
            and th_t in (None, stored.get("thermal_topic"))):
        rec.meta = json.loads(stored["recording_meta"])  # an edgebind bag: its Recording's meta, unchanged
    return rec


def _iter_messages(path: Path, topics: list[str]) -> Iterator[tuple[str, Any, int]]:
    """(topic, decoded message, log time ns) in file order. The non-seeking reader holds one chunk at a time; the
    indexed reader would also hold every message's index entry (~700 bytes each)."""
    from mcap.exceptions import McapError
    from mcap.reader import NonSeekingReader
    from mcap_ros2.decoder import DecoderFactory

    with path.open("rb") as f:
        reader = NonSeekingReader(f, decoder_factories=[DecoderFactory()])
        try:
            for _schema, channel, message, msg in reader.iter_decoded_messages(topics, log_time_order=False):
                yield channel.topic, msg, message.log_time
        except (McapError, struct.error, ValueError, EOFError) as exc:
            raise _fail(path, exc) from None


class _Accumulator:
    """Collects one bag's messages into arrays, then builds the Recording."""

    def __init__(self, path: Path, imu_topic: str | None, thermal_topic: str | None, label_topic: str | None) -> None:
        self.path, self.imu_topic, self.thermal_topic, self.label_topic = path, imu_topic, thermal_topic, label_topic
        self.imu = _Grow(6, np.float32)
        self.imu_t = _Grow(1, np.int64)
        self.no_gyro = 0
        self.frames: list[np.ndarray] = []
        self.frame_t: list[int] = []
        self.labels: list[tuple[int, str]] = []
        self.frame_ids: dict[str, set[str]] = {"imu": set(), "thermal": set()}
        self.encoding = ""

    def add(self, topic: str, msg: Any, log_time_ns: int) -> None:
        if topic == self.imu_topic:
            t, row, has_gyro = imu_sample(msg)
            self.imu.append(row)
            self.imu_t.append(t)
            self.no_gyro += not has_gyro
            self.frame_ids["imu"].add(msg.header.frame_id)
        elif topic == self.thermal_topic:
            compressed = hasattr(msg, "format")
            self.frames.append(compressed_array(msg, topic) if compressed else image_array(msg, topic))
            self.frame_t.append(stamp_ns(msg.header.stamp))
            self.frame_ids["thermal"].add(msg.header.frame_id)
            self.encoding = f"CompressedImage {msg.format}" if compressed else msg.encoding
        elif topic == self.label_topic:  # std_msgs/String has no header: the label starts at its log time
            self.labels.append((int(log_time_ns), msg.data))

    def recording(self, unit: str | None, sensor: str | None) -> Recording:
        path = self.path
        meta: dict[str, Any] = {"source": f"ROS 2 bag {path.name}", "converted_by": "edgebind.ros.read_bag"}
        imu, imu_t = self.imu.array(), self.imu_t.array()[:, 0]
        if self.imu_topic is not None:
            if not len(imu):
                raise SensorError(f"{path}: IMU topic {self.imu_topic} holds no messages; pick another --imu-topic.")
            n = len(imu)
            imu, imu_t, dropped = _sorted_unique(imu, imu_t)
            if dropped > MAX_REPEATED_STAMPS * n:
                raise SensorError(f"{path}: {dropped} of {n} messages on {self.imu_topic} repeat an earlier "
                                  "header.stamp, so the driver does not stamp its samples; set header.stamp to each "
                                  "sample's time in the IMU driver (REP 145) and record again.")
            meta.update({"imu_topic": self.imu_topic, "imu_frame_id": _one(self.frame_ids["imu"]),
                         "imu_rate_hz": float(1e9 / np.median(np.diff(imu_t))) if len(imu_t) > 1 else 0.0,
                         "gravity_included": True, "has_gyro": self.no_gyro == 0, "units": REP145,
                         "imu_duplicate_stamps_dropped": dropped})
        thermal = thermal_t = None
        if self.thermal_topic is not None and self.frames:
            shapes = sorted({fr.shape for fr in self.frames})
            if len(shapes) > 1:
                raise SensorError(f"{path}: thermal topic {self.thermal_topic} changes frame size ({shapes}); split "
                                  "the bag where the camera mode changes (mcap filter) and convert each part.")
            order = np.argsort(np.asarray(self.frame_t), kind="stable")
            raw = np.stack([self.frames[i] for i in order])  # (M, H, W)
            thermal, thermal_t = to_celsius(raw, str(unit), sensor), np.asarray(self.frame_t, np.int64)[order]
            meta.update({"thermal_topic": self.thermal_topic, "thermal_frame_id": _one(self.frame_ids["thermal"]),
                         "thermal_encoding": self.encoding, "thermal_unit": unit, "frames": len(thermal),
                         "thermal_rate_hz": float(1e9 / np.median(np.diff(thermal_t))) if len(thermal_t) > 1 else 0.0})
            if sensor:
                meta["thermal_sensor"] = sensor
        labels = label_t = None
        if self.label_topic is not None and self.labels:
            self.labels.sort(key=lambda x: x[0])
            label_t = np.array([t for t, _ in self.labels], np.int64)
            labels = np.array([s for _, s in self.labels])
            meta["label_topic"] = self.label_topic
        return Recording(imu=imu, imu_t_ns=imu_t, thermal=thermal, thermal_t_ns=thermal_t, labels=labels,
                         label_t_ns=label_t, meta=meta)


def _one(ids: set[str]) -> str | list[str]:
    return next(iter(ids)) if len(ids) == 1 else sorted(ids)


def _sorted_unique(imu: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Samples in stamp order; repeated stamps (a driver that re-publishes) keep their first sample."""
    if len(t) > 1 and np.all(np.diff(t) > 0):
        return imu, t, 0
    order = np.argsort(t, kind="stable")
    t, imu = t[order], imu[order]
    keep = np.concatenate([[True], np.diff(t) > 0])
    dropped = int((~keep).sum())
    if dropped:
        log.warning("%d IMU messages repeat an earlier header.stamp; kept the first of each", dropped)
    return imu[keep], t[keep], dropped


def iter_bag_labels(path: str | Path, topic: str | None = None) -> Iterator[dict[str, Any]]:
    """The ``stream --json`` lines of a session bag's ``edgebind_msgs/msg/WindowLabel`` topic, in file order.

    Args:
        path: a bag written by ``edgebind stream --mcap``.
        topic: the label topic. Defaults to ``BagTopics().labels`` (``/edgebind/labels``).
    """
    from edgebind.ros.bag_out import BagTopics
    from edgebind.ros.messages import label_line

    _summary(Path(path))  # a missing or truncated bag: the same one-line error as read_bag
    for _topic, msg, _t in _iter_messages(Path(path), [topic or BagTopics().labels]):
        yield label_line(msg)
