"""One DDS participant for live ROS 2 topics, through ``cyclonedds`` (Eclipse Cyclone DDS, the middleware of
``rmw_cyclonedds_cpp``): the domain, where discovery goes, the QoS profiles of rclcpp, and what is on the domain.

ROS 2 conventions (docs/robotics.md):

* ``ROS_DOMAIN_ID`` picks the domain (default 0).
* Discovery stays on loopback (:data:`LOOPBACK_CONFIG`: the 127.0.0.1 interface, multicast off, the one peer
  127.0.0.1) unless ``CYCLONEDDS_URI`` names another Cyclone DDS configuration or
  ``ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET`` asks for the network (Cyclone's defaults: multicast on the default
  interface). ``ROS_LOCALHOST_ONLY=1`` and ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` keep the loopback default.
* Writers and readers carry Jazzy's USER_DATA ``typehash=RIHS01_...;`` (:func:`edgebind.ros.ros2types.user_data`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edgebind.errors import ConfigError, SensorError
from edgebind.ros import ros2types

MAX_DOMAIN_ID = 232  # the largest domain id whose RTPS ports fit in 16 bits (ROS 2 "domain ID" concept page)
DISCOVERY_RANGES = ("SUBNET", "LOCALHOST", "OFF", "SYSTEM_DEFAULT")

# Loopback only: the 127.0.0.1 interface, no multicast, unicast discovery to the participant ports of 127.0.0.1.
LOOPBACK_CONFIG = """<CycloneDDS><Domain Id="any">
  <General><Interfaces><NetworkInterface address="127.0.0.1"/></Interfaces>
    <AllowMulticast>false</AllowMulticast></General>
  <Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>{max_index}</MaxAutoParticipantIndex>
    <Peers>{peers}</Peers></Discovery>
</Domain></CycloneDDS>"""
LOOPBACK_PEER = '<Peer address="127.0.0.1"/>'
MAX_PARTICIPANT_INDEX = 32  # participants on this machine that find each other (each probes 127.0.0.1's ports)


@dataclass(frozen=True)
class DomainSettings:
    """Where a participant joins: the domain id, the Cyclone DDS configuration (None: Cyclone reads
    ``CYCLONEDDS_URI`` or uses its defaults) and a description for messages."""

    domain_id: int
    config: str | None
    scope: str


def settings(env: Mapping[str, str] | None = None) -> DomainSettings:
    """The domain and discovery scope the ROS 2 environment variables ask for (see the module docstring).

    Raises:
        ConfigError: ``ROS_DOMAIN_ID`` or ``ROS_AUTOMATIC_DISCOVERY_RANGE`` is not a valid value.
    """
    env = os.environ if env is None else env
    raw = env.get("ROS_DOMAIN_ID", "").strip() or "0"
    try:
        domain_id = int(raw)
    except ValueError:
        domain_id = -1
    if not 0 <= domain_id <= MAX_DOMAIN_ID:
        raise ConfigError(f"ROS_DOMAIN_ID={raw!r} is not a domain id 0..{MAX_DOMAIN_ID}; e.g. export ROS_DOMAIN_ID=0.")
    scope = env.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "").strip().upper()
    if scope and scope not in DISCOVERY_RANGES:
        raise ConfigError(f"ROS_AUTOMATIC_DISCOVERY_RANGE={scope!r} is not one of {', '.join(DISCOVERY_RANGES)}; "
                          "unset it for loopback only.")
    if env.get("CYCLONEDDS_URI", "").strip():
        return DomainSettings(domain_id, None, f"CYCLONEDDS_URI={env['CYCLONEDDS_URI'].strip()}")
    if scope in ("SUBNET", "SYSTEM_DEFAULT") and env.get("ROS_LOCALHOST_ONLY", "").strip() != "1":
        return DomainSettings(domain_id, None, "the network (Cyclone DDS defaults, multicast discovery)")
    peers = "" if scope == "OFF" else LOOPBACK_PEER
    config = LOOPBACK_CONFIG.format(max_index=MAX_PARTICIPANT_INDEX, peers=peers)
    return DomainSettings(domain_id, config, "loopback only (no discovery)" if scope == "OFF" else "loopback only")


_lock = threading.Lock()
_participants: dict[int, tuple[Any, Any, DomainSettings]] = {}


def participant(env: Mapping[str, str] | None = None) -> tuple[Any, DomainSettings]:
    """This process's DDS participant on the domain :func:`settings` picks (one per domain, shared by the ROS 2
    publisher and source; it lives as long as the process).

    Raises:
        ConfigError: bad ROS 2 environment variables, or ``cyclonedds`` is not installed.
        SensorError: Cyclone DDS cannot start (a bad ``CYCLONEDDS_URI``, no loopback interface).
    """
    s = settings(env)
    try:
        from cyclonedds.core import DDSException
        from cyclonedds.domain import Domain, DomainParticipant
    except ImportError as exc:
        raise ConfigError(f"cyclonedds is not installed ({exc}); live ROS 2 topics need the ros2 extra: "
                          "pip install 'edgebind[ros2]'.") from None
    with _lock:
        held = _participants.get(s.domain_id)
        if held is not None:
            if held[2] != s:
                raise ConfigError(f"this process already joined ROS 2 domain {s.domain_id} with {held[2].scope}; "
                                  f"it cannot join it again with {s.scope}.")
            return held[1], held[2]
        try:
            domain = Domain(s.domain_id, s.config) if s.config is not None else None
            dp = DomainParticipant(s.domain_id)
        except DDSException as exc:
            raise SensorError(f"Cyclone DDS could not join ROS 2 domain {s.domain_id} ({s.scope}): {exc}; check "
                              "CYCLONEDDS_URI, or unset it for loopback only.") from None
        _participants[s.domain_id] = (domain, dp, s)
        return dp, s


def qos(profile: str, ros_type: str, depth: int | None = None) -> Any:
    """The QoS of rclcpp's ``SensorDataQoS`` (``sensor``: best effort, keep last 5, volatile) or its default
    (``reliable``: reliable, keep last 10, volatile), with the type hash in USER_DATA. ``depth`` replaces the
    history depth (a local queue: it does not change which endpoints match)."""
    from cyclonedds.core import Policy, Qos
    from cyclonedds.util import duration

    if profile == "sensor":
        reliability, keep = Policy.Reliability.BestEffort, 5
    elif profile == "reliable":
        reliability, keep = Policy.Reliability.Reliable(max_blocking_time=duration(milliseconds=100)), 10
    else:
        raise ConfigError(f"unknown QoS profile '{profile}'; use sensor or reliable.")
    return Qos(reliability, Policy.History.KeepLast(depth or keep), Policy.Durability.Volatile,
               Policy.Userdata(data=ros2types.user_data(ros_type)))


def topic(dp: Any, ros_topic: str, ros_type: str) -> Any:
    """The DDS topic of a ROS 2 topic and type on participant ``dp``."""
    from cyclonedds.topic import Topic

    return Topic(dp, ros2types.dds_topic(ros_topic), ros2types.idl_type(ros_type))


@dataclass(frozen=True)
class Endpoint:
    """A remote reader or writer seen in discovery: ROS topic, ROS type and the type hash in its USER_DATA."""

    topic: str
    type: str
    type_hash: str | None


def endpoint(sample: Any) -> Endpoint | None:
    """An :class:`Endpoint` from a DCPS publication/subscription sample; None for a DDS topic that is not ROS 2."""
    from cyclonedds.core import Policy

    name = ros2types.ros_topic(str(sample.topic_name))
    if name is None:
        return None
    ud = sample.qos[Policy.Userdata] if sample.qos is not None else None
    return Endpoint(name, ros2types.ros_type(str(sample.type_name)),
                    ros2types.parse_user_data(ud.data if ud is not None else None).get("typehash"))


class Discovery:
    """What ROS 2 writers other participants have (the DCPS builtin publication topic); updated by :meth:`poll`."""

    def __init__(self, dp: Any) -> None:
        from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsPublication

        self.reader: Any = BuiltinDataReader(dp, BuiltinTopicDcpsPublication)
        self.own = dp.guid  # this process's participant: its own writers are not "seen on the domain"
        self.seen: dict[str, Endpoint] = {}  # key -> endpoint

    def poll(self) -> list[Endpoint]:
        """Read new publication samples; returns every remote ROS 2 writer seen so far (gone ones dropped)."""
        for sample in self.reader.take(N=256):
            if not hasattr(sample, "topic_name"):  # a writer went away: its key sample
                self.seen.pop(str(getattr(sample.key_sample, "key", "")), None)
                continue
            ep = endpoint(sample)
            if ep is not None and sample.participant_key != self.own:
                self.seen[str(sample.key)] = ep
        return list(self.seen.values())

    def wait(self, seconds: float) -> list[Endpoint]:
        """Poll for ``seconds`` (discovery takes a moment) and return what was seen."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.poll()
            time.sleep(0.05)
        return self.poll()

    def describe(self, exclude_own: set[str] | None = None) -> str:
        """``/imu/data (sensor_msgs/msg/Imu), ...`` or ``no ROS 2 topics``."""
        pairs = sorted({(e.topic, e.type) for e in self.poll() if e.topic not in (exclude_own or set())})
        return ", ".join(f"{t} ({ty})" for t, ty in pairs) or "no ROS 2 topics"

    def close(self) -> None:
        """Delete the builtin reader (cyclonedds deletes an entity when its last reference goes)."""
        self.reader = None
