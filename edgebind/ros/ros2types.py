"""ROS 2 message types on the wire without a ROS install: names, fields, REP 2011 type hashes, DDS types.

Every type edgebind speaks live is parsed from the ``.msg`` text in :mod:`edgebind.ros.msgdefs` (the text its bags
carry), so the bag schemas, the DDS types and the type hashes cannot disagree:

* ROS 2 topic ``/imu/data`` is the DDS topic ``rt/imu/data``; type ``sensor_msgs/msg/Imu`` is the DDS type
  ``sensor_msgs::msg::dds_::Imu_`` (the rmw mapping of ROS 2 design "Topic and Service name mapping to DDS").
* :func:`type_hash` is the ``RIHS01_<sha256>`` of REP 2011, which Jazzy's rmw puts in each endpoint's USER_DATA as
  ``typehash=RIHS01_...;``.
* :func:`idl_type` builds the ``cyclonedds`` IDL struct (plain CDR, as ``rmw_cyclonedds_cpp`` and Fast DDS write);
  cyclonedds is imported only there.

This module is pure but for that last function; it imports nothing beyond the standard library and msgdefs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from edgebind.errors import ConfigError
from edgebind.ros import msgdefs

# REP 2011 / type_description_interfaces/msg/FieldType: ids of the base types; +48 fixed array, +96 bounded
# sequence, +144 unbounded sequence; 1 = nested type.
FIELD_TYPE_IDS = {"int8": 2, "uint8": 3, "int16": 4, "uint16": 5, "int32": 6, "uint32": 7, "int64": 8, "uint64": 9,
                  "float32": 10, "float64": 11, "char": 13, "bool": 15, "byte": 16, "string": 17}
NESTED_TYPE_ID = 1
ARRAY_OFFSET, BOUNDED_SEQUENCE_OFFSET, SEQUENCE_OFFSET = 48, 96, 144
_FIELD = re.compile(r"^(?P<type>[A-Za-z_][\w/]*)(?:\[(?P<size>\d*)\])?$")


@dataclass(frozen=True)
class Field:
    """One field of a message: ``name``, base or nested ``type`` (``pkg/msg/Name``), array ``size`` or sequence."""

    name: str
    type: str
    size: int | None = None  # fixed array length
    sequence: bool = False  # unbounded ``T[]``

    @property
    def nested(self) -> bool:
        return self.type not in FIELD_TYPE_IDS


def full_name(name: str) -> str:
    """``std_msgs/Header`` or ``std_msgs/msg/Header`` -> ``std_msgs/msg/Header``."""
    parts = name.split("/")
    return f"{parts[0]}/msg/{parts[-1]}" if len(parts) in (2, 3) else name


def parse_msg(text: str) -> list[Field]:
    """The fields of one ``.msg`` text (comments, blank lines and constants skipped; defaults ignored).

    Raises:
        ConfigError: a field type this module does not speak (bounded strings or sequences, wstring).
    """
    fields = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        typ, name, *_default = line.split()
        if "=" in name:  # a constant: not a field
            continue
        m = _FIELD.match(typ)
        if m is None or (m["type"] not in FIELD_TYPE_IDS and "/" not in m["type"]):
            raise ConfigError(f"unsupported ROS 2 field type '{typ}' in '{raw.strip()}'; edgebind speaks base types, "
                              "fixed arrays, unbounded sequences and nested messages.")
        size = m["size"]
        base = m["type"] if m["type"] in FIELD_TYPE_IDS else full_name(m["type"])
        fields.append(Field(name, base, int(size) if size else None, size == ""))
    return fields


@functools.cache
def definitions() -> dict[str, list[Field]]:
    """Every type in :data:`msgdefs.MSGDEFS`, with its dependencies: ``pkg/msg/Name`` -> fields."""
    out: dict[str, list[Field]] = {}
    for name, text in msgdefs.MSGDEFS.items():
        main, *deps = text.split(msgdefs.SEP + "\n")
        out[full_name(name)] = parse_msg(main)
        for dep in deps:
            header, _, body = dep.partition("\n")
            out[full_name(header.removeprefix("MSG: ").strip())] = parse_msg(body)
    return out


def fields(ros_type: str) -> list[Field]:
    """The fields of ``ros_type`` (``pkg/msg/Name``).

    Raises:
        ConfigError: a type edgebind does not know.
    """
    defs = definitions()
    if ros_type not in defs:
        from edgebind.errors import suggest

        raise ConfigError(f"unknown ROS 2 message type '{ros_type}'.{suggest(ros_type, defs)}")
    return defs[ros_type]


def dds_topic(ros_topic: str) -> str:
    """ROS 2 topic ``/imu/data`` -> DDS topic ``rt/imu/data``."""
    return "rt/" + ros_topic.lstrip("/")


def ros_topic(dds_name: str) -> str | None:
    """DDS topic ``rt/imu/data`` -> ``/imu/data``; None for a DDS topic that is not a ROS 2 topic."""
    return "/" + dds_name[3:] if dds_name.startswith("rt/") else None


def dds_type(ros_type: str) -> str:
    """``sensor_msgs/msg/Imu`` -> ``sensor_msgs::msg::dds_::Imu_``."""
    pkg, kind, name = full_name(ros_type).split("/")
    return f"{pkg}::{kind}::dds_::{name}_"


def ros_type(dds_name: str) -> str:
    """``sensor_msgs::msg::dds_::Imu_`` -> ``sensor_msgs/msg/Imu`` (other DDS type names unchanged)."""
    parts = dds_name.split("::")
    if len(parts) == 4 and parts[2] == "dds_" and parts[3].endswith("_"):
        return f"{parts[0]}/{parts[1]}/{parts[3][:-1]}"
    return dds_name


def _field_description(f: Field) -> dict[str, Any]:
    tid = NESTED_TYPE_ID if f.nested else FIELD_TYPE_IDS[f.type]
    if f.size is not None:
        tid += ARRAY_OFFSET
    elif f.sequence:
        tid += SEQUENCE_OFFSET
    return {"name": f.name, "type": {"type_id": tid, "capacity": f.size or 0, "string_capacity": 0,
                                     "nested_type_name": f.type if f.nested else ""}}


def _referenced(ros_type_name: str, seen: set[str]) -> None:
    for f in fields(ros_type_name):
        if f.nested and f.type not in seen:
            seen.add(f.type)
            _referenced(f.type, seen)


@functools.cache
def type_hash(ros_type_name: str) -> str:
    """REP 2011 ``RIHS01_<sha256 hex>`` of a type: the hashable type description (fields and nested types, no
    comments or defaults; referenced types sorted by name) as compact-with-spaces JSON, hashed with SHA-256."""
    refs: set[str] = set()
    _referenced(ros_type_name, refs)

    def struct(name: str) -> dict[str, Any]:
        return {"type_name": name, "fields": [_field_description(f) for f in fields(name)]}

    desc = {"type_description": struct(ros_type_name),
            "referenced_type_descriptions": [struct(n) for n in sorted(refs)]}
    return "RIHS01_" + hashlib.sha256(json.dumps(desc, separators=(", ", ": ")).encode()).hexdigest()


def user_data(ros_type_name: str) -> bytes:
    """The USER_DATA Jazzy's rmw gives a ROS 2 reader or writer: ``typehash=RIHS01_...;``."""
    return f"typehash={type_hash(ros_type_name)};".encode()


def parse_user_data(data: bytes | None) -> dict[str, str]:
    """``k=v;k=v;`` USER_DATA (rmw's format) -> dict; junk is ignored."""
    out = {}
    for item in (data or b"").decode("utf-8", "replace").split(";"):
        key, sep, value = item.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


@functools.cache
def idl_type(ros_type_name: str) -> Any:
    """The cyclonedds IDL struct of ``ros_type_name`` (nested types built as needed); attribute names are the
    ``.msg`` field names, so :mod:`edgebind.ros.messages` reads its samples as it reads ``mcap_ros2``'s."""
    from cyclonedds.idl import make_idl_struct, types

    base = {"int8": types.int8, "uint8": types.uint8, "int16": types.int16, "uint16": types.uint16,
            "int32": types.int32, "uint32": types.uint32, "int64": types.int64, "uint64": types.uint64,
            "float32": types.float32, "float64": types.float64, "char": types.uint8, "byte": types.byte,
            "bool": bool, "string": str}
    members: dict[str, Any] = {}
    for f in fields(ros_type_name):
        t = idl_type(f.type) if f.nested else base[f.type]
        if f.size is not None:
            t = types.array[t, f.size]  # type: ignore[misc]
        elif f.sequence:
            t = types.sequence[t]  # type: ignore[misc]
        members[f.name] = t
    return make_idl_struct(dds_type(ros_type_name).rsplit("::", 1)[1], dds_type(ros_type_name), members)


def build(ros_type_name: str, value: dict[str, Any]) -> Any:
    """An IDL sample of ``ros_type_name`` from the nested dict :mod:`edgebind.ros.messages` makes for bags."""
    kwargs = {}
    for f in fields(ros_type_name):
        v = value[f.name]
        if f.nested:
            v = [build(f.type, x) for x in v] if f.size is not None or f.sequence else build(f.type, v)
        kwargs[f.name] = v
    return idl_type(ros_type_name)(**kwargs)
