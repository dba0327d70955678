"""Device time -> the host's wall clock (ROS time), for ``header.stamp`` of live ROS 2 messages.

ROS 2 tools align topics on ``header.stamp`` in the robot's clock (system time unless ``use_sim_time``), so a device
clock (ns since boot) must be mapped first. Each source event carries its device time and the host monotonic time
its bytes arrived; a :class:`~edgebind.bridge.clock.ClockEstimator` turns those pairs into device -> host monotonic,
and the current wall-minus-monotonic offset turns that into nanoseconds since the epoch.
"""

from __future__ import annotations

import time

import numpy as np

from edgebind.bridge.clock import RosClock
from edgebind.bridge.events import Event


class HostStamps:
    """Wall-clock stamps for device times, learned from the events of one link (same pairs as ``SensorSource``).

    A thin face of :class:`~edgebind.bridge.clock.RosClock` (the one mapping session bags and the Foxglove view
    use): pass theirs as ``ros_clock`` and the ROS 2 topics carry the very stamps the bag holds.
    """

    def __init__(self, ros_clock: RosClock | None = None) -> None:
        self.ros_clock = ros_clock if ros_clock is not None else RosClock()
        self.clock = self.ros_clock.clock

    def observe(self, event: Event) -> None:
        """Learn from one source event (a reboot starts a new device clock); once per event."""
        self.ros_clock.observe(event)

    def event_ns(self, event: Event) -> np.ndarray:
        """The stamps of an ImuBatch's samples or a ThermalFrame (one), paired and mapped once per event for every
        output sharing the RosClock, never stepping back per stream."""
        return self.ros_clock.stamps(event)

    def wall_ns(self, device_ns: int | np.ndarray) -> np.ndarray:
        """Nanoseconds since the epoch (int64) at device time(s) ``device_ns``; now, before any pair."""
        if self.clock.pairs == 0 or self.clock.first_device_ns is None:
            return np.full(np.shape(device_ns), time.time_ns(), dtype=np.int64)
        return self.ros_clock.to_ros_ns(device_ns)
