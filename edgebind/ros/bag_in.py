"""A ROS 2 bag -> a :class:`Recording`, read message by message so memory holds only the arrays.

Bags are read with ``rosbags`` (pure Python): a rosbag2 directory (``metadata.yaml`` and its split files in order,
sqlite3 or MCAP storage, per-message or per-file zstd compression), a bare ``.db3`` or a bare ``.mcap``. Messages
decode with the definitions the bag stores (Jazzy, MCAP) or, where it stores none (Humble's sqlite3), Humble's
standard types.

Topics are the ones named in :class:`BagOptions`, or found by message type (``sensor_msgs/msg/Imu``;
``sensor_msgs/msg/Image`` or ``CompressedImage``; ``std_msgs/msg/String`` for truth labels). A bag written by
:func:`edgebind.ros.bag_out.write_recording_bag` carries its Recording's meta and thermal unit, and reads back
unchanged.
"""

from __future__ import annotations

import json
import logging
import re
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


def _fail(path: Path, exc: BaseException) -> SensorError:
    kind = "rosbag2 sqlite3 bag" if path.suffix.lower() == ".db3" else (
        "rosbag2 directory" if path.is_dir() else "MCAP bag")
    fix = (f"if the recording was cut off, recover what it holds with 'mcap recover {path} -o fixed.mcap' (mcap CLI)"
           if kind == "MCAP bag" else "if the recording was cut off, rebuild its metadata.yaml with "
           f"'ros2 bag reindex {path}'")
    return SensorError(f"{path} is not a readable {kind} ({type(exc).__name__}: {exc}); {fix}.")


def _read_errors() -> tuple[type[BaseException], ...]:
    """The exceptions rosbags' readers raise for a damaged or foreign file (sqlite, zstd, YAML, MCAP records)."""
    from rosbags.rosbag2 import ReaderError

    errors: list[type[BaseException]] = [ReaderError, OSError, ValueError, KeyError, EOFError, struct.error]
    try:
        import apsw

        errors.append(apsw.Error)
    except ImportError:  # pragma: no cover - rosbags depends on apsw
        pass
    return tuple(errors)


def _storage_path(path: Path) -> Path:
    """The path rosbags should open: a storage file inside a rosbag2 directory whose ``metadata.yaml`` compresses
    messages is read through its directory (only the directory says how to decompress them)."""
    meta = path.parent / "metadata.yaml"
    if not path.is_file() or not meta.is_file():
        return path
    from ruamel.yaml import YAML  # rosbags' own YAML library
    from ruamel.yaml.error import YAMLError

    try:
        info = YAML(typ="safe").load(meta.read_text(encoding="utf-8"))["rosbag2_bagfile_information"]
        listed = path.name in [Path(p).name for p in info.get("relative_file_paths", [])]
        mode = str(info.get("compression_mode") or "").lower()
    except (YAMLError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        log.debug("cannot read %s: %s", meta, exc)
        return path
    if listed and mode == "message":
        log.info("%s holds zstd-compressed messages; reading it through %s", path.name, path.parent)
        return path.parent
    return path


class _Bag:
    """An open rosbag2 bag (a directory, a ``.db3`` or an ``.mcap``), read with rosbags' reader.

    Attributes:
        topics: topic -> message type.
        stored: the ``edgebind`` metadata record (MCAP metadata, or ``custom_data`` of metadata.yaml), or None.
    """

    def __init__(self, path: Path) -> None:
        require("rosbags")
        from rosbags.rosbag2 import Reader

        self.path = path
        if path.suffix.lower() == ".bag" and path.is_file():
            raise SensorError(f"{path} is a ROS 1 bag; edgebind reads ROS 2 bags: convert it with 'rosbags-convert "
                              f"--src {path} --dst {path.with_suffix('')}' (the rosbags package), then pass that "
                              "directory.")
        if path.is_dir() and not (path / "metadata.yaml").is_file():
            raise SensorError(f"{path} is a directory without metadata.yaml, so not a rosbag2 bag; pass a bag "
                              f"directory, a .db3 or .mcap file, or rebuild the metadata with 'ros2 bag reindex "
                              f"{path}'.")
        if not path.exists():
            raise SensorError(f"bag {path} does not exist; write one with 'edgebind record PORT -o {path.name}'.")
        self.errors = _read_errors()
        try:
            self.reader = Reader(_storage_path(path))
            self.reader.open()
        except self.errors as exc:
            raise _fail(path, exc) from None
        self.topics = {name: info.msgtype or "" for name, info in self.reader.topics.items()}
        self.stored = self._stored()

    def _stored(self) -> dict[str, str] | None:
        custom = getattr(getattr(self.reader.storage, "metadata", None), "custom", None) or {}
        if META_NAME in custom:
            return dict(json.loads(custom[META_NAME]))
        if self.path.is_file() and self.path.suffix.lower() == ".mcap":
            require("mcap")
            from mcap.exceptions import McapError
            from mcap.reader import make_reader

            with self.path.open("rb") as f:
                try:
                    return next((dict(r.metadata) for r in make_reader(f).iter_metadata() if r.name == META_NAME),
                                None)
                except (McapError, struct.error, ValueError, EOFError) as exc:  # the record is optional
                    log.debug("no edgebind metadata in %s: %s", self.path, exc)
        return None

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> _Bag:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def messages(self, topics: list[str]) -> Iterator[tuple[str, Any, int]]:
        """(topic, decoded message, log time ns) of ``topics``, in log-time order per storage file."""
        decoders = {t: _decoder(self.path, t, self.reader.topics[t]) for t in topics}
        conns = [c for t in topics for c in self.reader.topics[t].connections]
        it = self.reader.messages(conns)
        while True:
            try:
                conn, log_time, raw = next(it)
            except StopIteration:
                return
            except self.errors as exc:
                raise _fail(self.path, exc) from None
            yield conn.topic, decoders[conn.topic](bytes(raw)), log_time


_ROS1_FIELD = re.compile(r"^\s*(time|duration)(\[\d*\])?\s+\w+", re.M)
_ROS1_SEQ = re.compile(r"^MSG:\s*std_msgs/Header\s*\n(?:(?!MSG:).*\n)*?\s*uint32\s+seq\b", re.M)


def _default_types() -> dict[str, Any]:
    """Type definitions for bags that store none (rosbag2 on Humble with sqlite3): Humble's standard types (the
    same fields in Jazzy for every type edgebind reads) and edgebind_msgs."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    typs = dict(get_typestore(Stores.ROS2_HUMBLE).fielddefs)
    for name in (msgdefs.WINDOW_LABEL, msgdefs.EMBEDDING):
        typs.update(get_types_from_msg(msgdefs.MSGDEFS[name], name))
    return typs


def _decoder(path: Path, topic: str, info: Any) -> Any:
    """A function raw CDR bytes -> the topic's message, from the definition the bag stores (or the standard one).

    Raises:
        SensorError: one line naming the topic: a ROS 1 style definition, a definition that does not parse, a
            non-CDR serialisation, or a type the bag does not define and ROS 2 does not know.
    """
    from rosbags.serde import SerdeError
    from rosbags.typesys import Stores, TypesysError, get_types_from_idl, get_types_from_msg, get_typestore

    msgtype = info.msgtype or ""
    conn = info.connections[0]
    fmt = getattr(conn.ext, "serialization_format", "cdr")
    if fmt != "cdr":
        raise SensorError(f"{path}: topic {topic} is serialised as '{fmt}', not CDR; edgebind reads ROS 2 (CDR) bags.")
    kind, text = conn.msgdef.format.name, conn.msgdef.data
    try:
        if kind == "MSG":
            if _ROS1_FIELD.search(text) or _ROS1_SEQ.search(text):
                raise SensorError(f"{path}: topic {topic} ({msgtype}) has a ROS 1 style message definition (a 'time'/"
                                  "'duration' field or a Header with 'seq'); record it with ROS 2, or convert a ROS 1 "
                                  "bag with 'rosbags-convert --src in.bag --dst out'.")
            typs = get_types_from_msg(text, msgtype)
        elif kind == "IDL":
            typs = {}
            for part in text.split("=" * 80 + "\n"):
                body = part.split("\n", 1)[1] if part.startswith("IDL: ") else part
                if body.strip():
                    typs.update(get_types_from_idl(body))
        else:
            typs = _default_types()
        store = get_typestore(Stores.EMPTY)
        store.register(typs)
        if msgtype not in store.fielddefs:
            raise SensorError(f"{path}: topic {topic} has type {msgtype}, which the bag does not define and ROS 2 "
                              "Humble does not know; record it with a definition (Jazzy or MCAP storage).")
    except (TypesysError, KeyError, ValueError, IndexError) as exc:
        raise SensorError(f"{path}: topic {topic} ({msgtype}) has a message definition that does not parse "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); re-record it "
                          "with a ROS 2 driver.") from None

    def decode(raw: bytes) -> Any:
        try:
            return store.deserialize_cdr(raw, msgtype)
        except (SerdeError, struct.error, ValueError, IndexError, UnicodeDecodeError, AssertionError) as exc:
            raise SensorError(f"{path}: a message on {topic} does not decode as {msgtype} ({type(exc).__name__}: "
                              f"{exc}); a bag recorded with --compression-mode message must be read as its "
                              "directory (with metadata.yaml).") from None

    return decode


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
        path: a rosbag2 directory (``metadata.yaml`` and its split files ``_0``, ``_1``, ... in order, per-message
            or per-file zstd compressed or not), a ``.db3`` (sqlite3) or an ``.mcap`` file.
        options: topics and thermal unit. Defaults to ``BagOptions()`` (found by message type).
        modalities: what to read, of ``imu``, ``thermal``, ``labels``; the rest is left in the bag. Defaults to all.

    Returns:
        The Recording; ``meta`` names the topics, frame ids, encodings and units used.

    Raises:
        SensorError: a missing or truncated bag, a ROS 1 style or unreadable message definition (one line naming
            the topic), a topic that is absent or ambiguous, no IMU or thermal topic at all,
            an unknown image encoding, or frames of different sizes; each message names the fix.
        ConfigError: a missing thermal unit, or ``counts`` without a sensor.
    """
    path, opts = Path(path), options or BagOptions()
    with _Bag(path) as bag:
        return _read(bag, opts, modalities)


def _read(bag: _Bag, opts: BagOptions, modalities: Collection[str]) -> Recording:
    path, topics, stored = bag.path, bag.topics, bag.stored
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
    for topic, msg, log_time in bag.messages([t for t in (imu_t, th_t, lab_t) if t is not None]):
        acc.add(topic, msg, log_time)
    rec = acc.recording(unit, opts.thermal_sensor)
    if (stored is not None and "recording_meta" in stored and imu_t in (None, stored.get("imu_topic"))
            and th_t in (None, stored.get("thermal_topic"))):
        rec.meta = json.loads(stored["recording_meta"])  # an edgebind bag: its Recording's meta, unchanged
    return rec


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

    with _Bag(Path(path)) as bag:  # a missing or truncated bag: the same one-line error as read_bag
        for _topic, msg, _t in bag.messages([topic or BagTopics().labels]):
            yield label_line(msg)
