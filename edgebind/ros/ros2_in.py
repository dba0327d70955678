"""``edgebind stream ros2:/imu/data``: live ROS 2 topics as a sensor link, over DDS with no ROS install.

:class:`Ros2Source` has the interface the stream uses of :class:`~edgebind.bridge.source.SensorSource` (a context
manager with ``events``, ``close``, ``idle_s`` and ``stats``). It subscribes with rclcpp's sensor-data QoS (best
effort, volatile; a deeper queue than its 5, see :data:`READER_DEPTH`) and turns ``sensor_msgs/msg/Imu`` (REP 145)
into ``ImuBatch`` and ``sensor_msgs/msg/Image`` into ``ThermalFrame`` (degrees C through the ``thermal_unit``).
Device time is ``header.stamp``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgebind.bridge.events import Event, ImuBatch, ThermalFrame
from edgebind.errors import ConfigError, SensorError
from edgebind.ros import dds, msgdefs, ros2types
from edgebind.ros.messages import check_thermal_unit, image_array, imu_sample, stamp_ns, to_celsius

log = logging.getLogger(__name__)

SCHEME = "ros2:"
TAKE_N = 256
WAKE_S = 0.05  # longest wait for data before the loop checks close(), --wait and discovery again
# The readers' queue. rclcpp's SensorDataQoS keeps 5, which a driver's burst (or a busy host) overruns: samples are
# then dropped silently. The depth is local to the reader, so best effort + volatile still match as SensorDataQoS.
READER_DEPTH = 1000


def is_ros2_url(url: str) -> bool:
    """True for ``ros2:/topic`` (a live ROS 2 source rather than a serial port)."""
    return url.startswith(SCHEME)


@dataclass(frozen=True)
class Ros2Input:
    """What ``stream ros2:...`` reads.

    Attributes:
        thermal_topic: a ``sensor_msgs/msg/Image`` topic of a thermal camera. Defaults to None.
        thermal_unit: unit of its values (``celsius``, ``kelvin_x100``, ``counts``). Defaults to celsius.
        thermal_sensor: the profile that converts ``counts``. Defaults to None.
        wait_s: seconds to wait for the first message before failing with what the domain has. Defaults to 10.
    """

    thermal_topic: str | None = None
    thermal_unit: str = "celsius"
    thermal_sensor: str | None = None
    wait_s: float = 10.0


def _check_topic(name: str, what: str) -> str:
    if not name.startswith("/") or len(name) < 2 or " " in name:
        raise ConfigError(f"{what} '{name}' is not an absolute ROS 2 topic; e.g. ros2:/imu/data or "
                          "--thermal-topic /thermal/image_raw.")
    return name


class Ros2Source:
    """Live ROS 2 IMU and thermal topics as source events.

    Args:
        url: ``ros2:/imu/data`` (``ros2:`` alone with a thermal topic: thermal only).
        options: thermal topic and unit, and how long to wait. Defaults to ``Ros2Input()``.
        env: the environment (``ROS_DOMAIN_ID`` ...). Defaults to ``os.environ``.

    Raises:
        ConfigError: a malformed topic, unit, or ROS 2 environment variable.
    """

    def __init__(self, url: str, options: Ros2Input | None = None, env: dict[str, str] | None = None) -> None:
        self.options = opts = options or Ros2Input()
        topic = url[len(SCHEME):]
        self.imu_topic = _check_topic(topic, "ros2: topic") if topic else None
        self.thermal_topic = _check_topic(opts.thermal_topic, "--thermal-topic") if opts.thermal_topic else None
        if self.imu_topic is None and self.thermal_topic is None:
            raise ConfigError("ros2: names no topic; e.g. edgebind stream ros2:/imu/data (or ros2: --thermal-topic "
                              "/thermal/image_raw).")
        if not opts.wait_s > 0:
            raise ConfigError(f"--wait must be > 0 seconds, got {opts.wait_s}.")
        check_thermal_unit(opts.thermal_unit, opts.thermal_sensor)
        self.url, self.env = url, env
        self.readers: dict[str, tuple[str, Any]] = {}  # topic -> (ROS type, reader)
        self.discovery: Any = None
        self.settings: Any = None
        self.info = None
        self._closed = threading.Event()
        self._last_ns = 0
        self._counts = {"ros2_imu_msgs": 0, "ros2_thermal_msgs": 0, "ros2_bad_msgs": 0, "ros2_stamp_reorders": 0}
        self._lost = {"samples_lost": 0, "thermal_frames_lost": 0}
        self._waitset: Any = None
        self._conditions: list[Any] = []

    def __enter__(self) -> Ros2Source:
        from cyclonedds.core import InstanceState, ReadCondition, SampleState, ViewState, WaitSet
        from cyclonedds.sub import DataReader

        dp, self.settings = dds.participant(self.env)
        self.discovery = dds.Discovery(dp)
        self._waitset = WaitSet(dp)  # wakes the reader loop as soon as a sample is in (keep-last 5 overwrites)
        self._conditions = []
        for topic, ros_type in ((self.imu_topic, msgdefs.IMU), (self.thermal_topic, msgdefs.IMAGE)):
            if topic is not None:
                reader = DataReader(dp, dds.topic(dp, topic, ros_type),
                                    qos=dds.qos("sensor", ros_type, depth=READER_DEPTH))
                self.readers[topic] = (ros_type, reader)
                cond = ReadCondition(reader, SampleState.Any | ViewState.Any | InstanceState.Any)
                self._waitset.attach(cond)
                self._conditions.append(cond)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End :meth:`events` and delete the readers. Thread-safe."""
        self._closed.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def idle_s(self) -> float:
        """Seconds since a message last arrived (inf before the first)."""
        return (time.monotonic_ns() - self._last_ns) / 1e9 if self._last_ns else float("inf")

    @property
    def stats(self) -> dict[str, int]:
        """Messages received per kind, messages that could not be used, stamps that went backwards, and the
        messages DDS reports lost (sequence gaps of the best-effort writers: ``samples_lost``,
        ``thermal_frames_lost``)."""
        self._read_lost()
        return {**self._counts, **self._lost}

    def _read_lost(self) -> None:
        for topic, key in ((self.imu_topic, "samples_lost"), (self.thermal_topic, "thermal_frames_lost")):
            held = self.readers.get(topic) if topic is not None else None
            if held is not None:
                self._lost[key] = int(held[1].get_sample_lost_status().total_count)

    def _wrong_types(self) -> str | None:
        """A sentence when a watched topic is published with another type."""
        for ep in self.discovery.poll():
            want = self.readers.get(ep.topic)
            if want is not None and ep.type != want[0]:
                return f"{ep.topic} is published as {ep.type}, not {want[0]}"
        return None

    def _fail_waiting(self, reason: str) -> SensorError:
        s = self.settings
        return SensorError(f"{self.url}: {reason} on ROS 2 domain {s.domain_id} ({s.scope}); seen: "
                           f"{self.discovery.describe()}. Check the topic name and ROS_DOMAIN_ID, or wait longer "
                           "with --wait.")

    def events(self, timeout_s: float = 1.0, on_tick: Callable[[], None] | None = None) -> Iterator[Event]:
        """Yield ``ImuBatch`` and ``ThermalFrame`` events until :meth:`close`; ``on_tick`` is called in this thread
        on each turn of the loop (the systemd watchdog's beat, as ``SensorSource.events``).

        Raises:
            SensorError: nothing arrived within ``wait_s`` seconds, or a watched topic carries another type; the
                message names the topics and types seen on the domain.
        """
        started = time.monotonic()
        try:
            while not self._closed.is_set():
                if on_tick is not None:
                    on_tick()
                got = False
                for topic, (ros_type, reader) in self.readers.items():
                    samples = reader.take(N=TAKE_N)
                    if samples:
                        got = True
                        self._last_ns = time.monotonic_ns()
                        yield from self._convert(topic, ros_type, samples, self._last_ns)
                if got:
                    continue
                if not self._last_ns:
                    wrong = self._wrong_types()
                    if wrong is not None:
                        raise self._fail_waiting(wrong)
                    if time.monotonic() - started > self.options.wait_s:
                        topics = ", ".join(f"{t} ({ty})" for t, (ty, _) in self.readers.items())
                        raise self._fail_waiting(f"nothing published on {topics} within {self.options.wait_s:g} s")
                self._waitset.wait(int(WAKE_S * 1e9))
        finally:
            self._read_lost()  # the last counts, before the readers go
            self._conditions.clear()
            self._waitset = None
            self.readers.clear()
            if self.discovery is not None:
                self.discovery.close()

    def _convert(self, topic: str, ros_type: str, samples: list[Any], host_ns: int) -> Iterator[Event]:
        if ros_type == msgdefs.IMU:
            rows, stamps, gyro = [], [], True
            for msg in samples:
                if not hasattr(msg, "header"):  # a dispose/unregister notification, no data
                    continue
                t, vals, has_gyro = imu_sample(msg)
                stamps.append(t)
                rows.append(vals)
                gyro = gyro and has_gyro
            self._counts["ros2_imu_msgs"] += len(rows)
            if not rows:
                return
            t_ns = np.asarray(stamps, dtype=np.int64)
            if np.any(np.diff(t_ns) < 0):  # best effort keeps order per writer; sort what came out of order
                self._counts["ros2_stamp_reorders"] += 1
                order = np.argsort(t_ns, kind="stable")
                t_ns, rows = t_ns[order], [rows[i] for i in order]
            arr = np.asarray(rows, dtype=np.float32)
            yield ImuBatch(t_ns=t_ns, accel_mps2=arr[:, :3], gyro_rads=arr[:, 3:6], host_t_ns=host_ns,
                           has_gyro=gyro)
            return
        for msg in samples:
            if not hasattr(msg, "header"):
                continue
            try:
                temp_c = to_celsius(image_array(msg, topic), self.options.thermal_unit, self.options.thermal_sensor)
            except SensorError as exc:
                self._counts["ros2_bad_msgs"] += 1
                log.warning("%s", exc)
                continue
            self._counts["ros2_thermal_msgs"] += 1
            yield ThermalFrame(t_ns=stamp_ns(msg.header.stamp), temp_c=temp_c, host_t_ns=host_ns)


def open_source(url: str, options: Ros2Input | None = None) -> Ros2Source:
    """A :class:`Ros2Source` for ``ros2:`` URLs (what the stream session opens instead of a serial port)."""
    return Ros2Source(url, options)


__all__ = ["Ros2Input", "Ros2Source", "is_ros2_url", "open_source", "ros2types"]
