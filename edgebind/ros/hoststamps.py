"""Device time -> the host's wall clock (ROS time), for ``header.stamp`` of live ROS 2 messages.

ROS 2 tools align topics on ``header.stamp`` in the robot's clock (system time unless ``use_sim_time``), so a device
clock (ns since boot) must be mapped first. Each source event carries its device time and the host monotonic time
its bytes arrived; a :class:`~edgebind.bridge.clock.ClockEstimator` turns those pairs into device -> host monotonic,
and the current wall-minus-monotonic offset turns that into nanoseconds since the epoch.
"""

from __future__ import annotations

import time

import numpy as np

from edgebind.bridge.clock import ClockEstimator
from edgebind.bridge.events import Event, Gap, ImuBatch, ThermalFrame


class HostStamps:
    """Wall-clock stamps for device times, learned from the events of one link (same pairs as ``SensorSource``)."""

    def __init__(self) -> None:
        self.clock = ClockEstimator()

    def observe(self, event: Event) -> None:
        """Learn from one source event (a reboot starts a new device clock)."""
        if isinstance(event, Gap) and event.reason == "device reboot":
            self.clock.reset()
        elif isinstance(event, ImuBatch) and len(event.t_ns):
            self.clock.add(int(event.t_ns[-1]), event.host_t_ns)
        elif isinstance(event, ThermalFrame):
            self.clock.add(int(event.t_ns), event.host_t_ns)

    def wall_ns(self, device_ns: int | np.ndarray) -> np.ndarray:
        """Nanoseconds since the epoch (int64) at device time(s) ``device_ns``; now, before any pair."""
        offset = time.time_ns() - time.monotonic_ns()
        if self.clock.pairs == 0 or self.clock.first_device_ns is None:
            return np.full(np.shape(device_ns), time.time_ns(), dtype=np.int64)
        return self.clock.device_to_host(device_ns) + np.int64(offset)
