"""``edgebind stream --ros2``: the live session published on ROS 2 topics over DDS, with no ROS install.

Topics under the namespace (default ``/edgebind``; docs/robotics.md):

* ``imu``        ``sensor_msgs/msg/Imu`` (REP 145), one message per sample, sensor-data QoS;
* ``thermal``    ``sensor_msgs/msg/Image`` ``32FC1`` in degrees C, sensor-data QoS;
* ``labels``     ``edgebind_msgs/msg/WindowLabel``, one per labelled window, reliable, keep last 10;
* ``label_text`` ``std_msgs/msg/String`` holding the ``stream --json`` line, reliable, keep last 10.

Every ``header.stamp`` is the host's wall clock (ROS time) of the sample or of the window's end
(:class:`~edgebind.ros.hoststamps.HostStamps`); the JSON line keeps the device time in ``t_end_s``.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from edgebind.bridge.clock import RosClock
from edgebind.bridge.events import Event, ImuBatch, ThermalFrame
from edgebind.errors import ConfigError
from edgebind.ros import dds, msgdefs, ros2types
from edgebind.ros.bag_out import BagTopics
from edgebind.ros.hoststamps import HostStamps
from edgebind.ros.messages import image_message, imu_message, label_message

DEFAULT_NAMESPACE = "/edgebind"
_NAME = re.compile(r"^(/[A-Za-z][A-Za-z0-9_]*)+$")

# topic name -> (ROS type, QoS profile)
TOPICS = {"imu": (msgdefs.IMU, "sensor"), "thermal": (msgdefs.IMAGE, "sensor"),
          "labels": (msgdefs.WINDOW_LABEL, "reliable"), "label_text": (msgdefs.STRING, "reliable")}


def check_namespace(namespace: str) -> str:
    """``/edgebind`` (a trailing ``/`` dropped).

    Raises:
        ConfigError: not an absolute ROS 2 name of letters, digits and ``_`` tokens.
    """
    ns = namespace.rstrip("/")
    if not _NAME.match(ns):
        raise ConfigError(f"--ros2-namespace '{namespace}' is not an absolute ROS 2 name (tokens of letters, digits "
                          "and _ after each /, each starting with a letter); e.g. --ros2-namespace "
                          f"{DEFAULT_NAMESPACE}.")
    return ns


class Ros2Publisher:
    """DDS writers for one live session; a stream observer like :class:`~edgebind.ros.bag_out.SessionBag`.

    Args:
        namespace: prefix of the four topics. Defaults to ``/edgebind``.
        env: the environment to read ``ROS_DOMAIN_ID`` and discovery settings from. Defaults to ``os.environ``.

    Raises:
        ConfigError: a bad namespace or ROS 2 environment variable, or cyclonedds missing.
        SensorError: Cyclone DDS cannot start.
    """

    def __init__(self, namespace: str = DEFAULT_NAMESPACE, env: dict[str, str] | None = None,
                 ros_clock: RosClock | None = None) -> None:
        from cyclonedds.pub import DataWriter

        self.namespace = check_namespace(namespace)
        self.frames = BagTopics()
        dp, self.settings = dds.participant(env)
        self.writers = {name: DataWriter(dp, dds.topic(dp, self.topic(name), ros_type), qos=dds.qos(profile, ros_type))
                        for name, (ros_type, profile) in TOPICS.items()}
        self.stamps = HostStamps(ros_clock)  # shared with the session bag and the Foxglove view when given
        self._lock = threading.Lock()
        self.counts = {name: 0 for name in TOPICS}
        self.closed = False

    def topic(self, name: str) -> str:
        """The full ROS 2 topic of ``imu``, ``thermal``, ``labels`` or ``label_text``."""
        return f"{self.namespace}/{name}"

    def _write(self, name: str, value: dict[str, Any]) -> None:
        ros_type = TOPICS[name][0]
        self.writers[name].write(ros2types.build(ros_type, value))
        self.counts[name] += 1

    def on_event(self, event: Event) -> None:
        """Publish the IMU samples and thermal frames of one source event, stamped in host time (reader thread)."""
        stamps = self.stamps.event_ns(event).tolist()
        if self.closed:
            return
        if isinstance(event, ImuBatch) and len(event.t_ns):
            with self._lock:
                for t, row in zip(stamps, event.imu, strict=True):
                    self._write("imu", imu_message(t, row, self.frames.imu_frame, event.has_gyro))
        elif isinstance(event, ThermalFrame):
            t = int(stamps[0])
            with self._lock:
                self._write("thermal", image_message(t, event.temp_c, self.frames.thermal_frame))

    def on_result(self, result: Any) -> None:
        """Publish one ``LabelResult`` as a WindowLabel and as its JSON line (inference thread)."""
        if self.closed:
            return
        line = result.to_json()
        frame = self.frames.imu_frame if result.modality == "imu" else self.frames.thermal_frame
        t = int(self.stamps.wall_ns(result.t_end_ns))
        with self._lock:
            self._write("labels", label_message(line, t, frame))
            self._write("label_text", {"data": json.dumps(line)})

    def lines(self) -> list[str]:
        """What the user should know: where the topics are, or after :meth:`close`, what went out."""
        where = f"ROS 2 domain {self.settings.domain_id}, {self.settings.scope}"
        if not self.closed:
            return [f"ros2: publishing {', '.join(self.topic(n) for n in TOPICS)} on {where}; try: ros2 topic echo "
                    f"{self.topic('label_text')}"]
        c = self.counts
        return [f"ros2: published {c['imu']} IMU samples, {c['thermal']} thermal frames and {c['labels']} labels on "
                f"{where}"]

    def close(self) -> None:
        """Wait briefly for reliable readers to acknowledge the last labels, then delete the writers; idempotent."""
        from cyclonedds.util import duration

        with self._lock:
            if not self.closed:
                for name, (_, profile) in TOPICS.items():
                    if profile == "reliable":
                        self.writers[name].wait_for_acks(duration(milliseconds=500))
            self.closed = True
            self.writers.clear()
