"""Clock offset and drift between the device and the host, from (device time, host receive time) pairs.

Every receive time is the device time plus an offset, plus drift (crystals differ by tens of ppm), plus a
latency that is never negative (UART, USB polling, the FTDI latency timer, the OS scheduler). The lower envelope
of ``host - device`` is therefore the best estimate of the clock relation: per bucket of device time we keep the
smallest difference and fit a straight line through those minima (the idea behind NTP's minimum filter).
The offset includes the smallest transport latency seen, which is what a pipeline that cuts windows on the
device clock and reports results in host time wants.

ROS time is the host's wall clock (``time.time_ns()``, ns since the Unix epoch). :func:`device_to_ros_ns` maps device
time there: device -> host monotonic through the estimate, then monotonic -> wall by the current difference of the
two host clocks. :class:`RosClock` is that mapping fed from the events themselves (what session bags, record bags
and the Foxglove view stamp ``header.stamp`` with).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np

from edgebind.bridge.events import Event, Gap, ImuBatch, ThermalFrame


class ClockEstimator:
    """Online estimate of ``host_ns = device_ns + offset_ns + drift * device_ns``.

    Args:
        bucket_s: length of a device-time bucket whose minimum is kept. Defaults to 0.5 s.
        max_buckets: buckets kept (a sliding window, so slow drift changes are followed). Defaults to 120.
    """

    def __init__(self, bucket_s: float = 0.5, max_buckets: int = 120) -> None:
        self.bucket_ns = int(bucket_s * 1e9)
        self.max_buckets = max_buckets
        self._minima: OrderedDict[int, tuple[int, int]] = OrderedDict()  # bucket -> (device_ns, host - device)
        self._fit: tuple[float, float] | None = None  # (slope, intercept_ns) relative to _t_ref
        self._t_ref = 0
        self.pairs = 0

    def add(self, device_ns: int, host_ns: int) -> None:
        """Add one pair: a device timestamp and the host monotonic time its bytes arrived (both ns)."""
        if host_ns <= 0:
            return
        if not self._minima:
            self._t_ref = device_ns
        self.pairs += 1
        bucket = device_ns // self.bucket_ns
        diff = host_ns - device_ns
        held = self._minima.get(bucket)
        if held is None or diff < held[1]:
            self._minima[bucket] = (device_ns, diff)
            self._fit = None
        while len(self._minima) > self.max_buckets:
            self._minima.popitem(last=False)

    def reset(self) -> None:
        """Forget every pair (a rebooted device starts a new clock); ``pairs`` keeps counting."""
        self._minima.clear()
        self._fit = None
        self._t_ref = 0

    def _solve(self) -> tuple[float, float]:
        if self._fit is None:
            pts = np.array(list(self._minima.values()), dtype=np.float64)  # (k, 2): device_ns, host - device
            if len(pts) == 0:
                self._fit = (0.0, 0.0)
            elif len(pts) == 1:
                self._fit = (0.0, float(pts[0, 1]))
            else:
                # least squares line through the minima, in closed form (np.polyfit's SVD costs ten times more,
                # and the link stats ask for the fit five times a second)
                x = pts[:, 0] - self._t_ref
                y = pts[:, 1]
                dx = x - x.mean()
                var = float(dx @ dx)
                slope = float(dx @ (y - y.mean())) / var if var > 0 else 0.0
                self._fit = (slope, float(y.mean()) - slope * float(x.mean()))
        return self._fit

    @property
    def first_device_ns(self) -> int | None:
        """Device time of the oldest pair the estimate rests on (None without pairs)."""
        return next(iter(self._minima.values()))[0] if self._minima else None

    @property
    def ready(self) -> bool:
        """True once at least two buckets of device time have been seen (drift is then estimable)."""
        return len(self._minima) >= 2

    @property
    def drift_ppm(self) -> float:
        """How much faster the host clock runs than the device clock, in parts per million."""
        return self._solve()[0] * 1e6

    def offset_ns(self, device_ns: int | None = None) -> float:
        """``host - device`` in ns at device time ``device_ns`` (defaults to the newest pair)."""
        slope, intercept = self._solve()
        if device_ns is None:
            device_ns = next(reversed(self._minima.values()))[0] if self._minima else self._t_ref
        return intercept + slope * (device_ns - self._t_ref)

    def device_to_host(self, device_ns: int | np.ndarray) -> np.ndarray:
        """Host monotonic time (ns, int64) of device time(s) ``device_ns``."""
        slope, intercept = self._solve()
        d = np.asarray(device_ns, dtype=np.int64)
        return d + np.round(intercept + slope * (d - self._t_ref).astype(np.float64)).astype(np.int64)

    def host_to_device(self, host_ns: int | np.ndarray) -> np.ndarray:
        """Device time (ns, int64) at host monotonic time(s) ``host_ns``: where to cut windows on the device clock."""
        slope, intercept = self._solve()
        h = np.asarray(host_ns, dtype=np.float64)
        return np.round((h - intercept + slope * self._t_ref) / (1.0 + slope)).astype(np.int64)

    def stats(self) -> dict[str, int]:
        """Integer summary for counters: pairs, offset (ns) and drift (parts per billion)."""
        return {
            "clock_pairs": self.pairs,
            "clock_offset_ns": round(self.offset_ns()) if self._minima else 0,
            "clock_drift_ppb": round(self.drift_ppm * 1000) if self.ready else 0,
        }


def pair_event(clock: ClockEstimator, event: Event) -> bool:
    """Feed ``clock`` the (device time, host arrival) pair an event carries; True when the event is a device reboot,
    which resets the clock (a new device clock segment). The one pairing rule of ``SensorSource`` and RosClock."""
    if isinstance(event, Gap) and event.reason == "device reboot":
        clock.reset()
        return True
    if isinstance(event, ImuBatch) and len(event.t_ns):
        clock.add(int(event.t_ns[-1]), event.host_t_ns)
    elif isinstance(event, ThermalFrame):
        clock.add(event.t_ns, event.host_t_ns)
    return False


def wall_minus_monotonic_ns() -> int:
    """``time.time_ns() - time.monotonic_ns()`` now: adds to a host monotonic time to give wall-clock (ROS) time."""
    return time.time_ns() - time.monotonic_ns()


def device_to_ros_ns(clock: ClockEstimator, device_ns: int | np.ndarray) -> np.ndarray:
    """ROS time (host wall clock, int64 ns since the Unix epoch) of device time(s) ``device_ns``.

    Device -> host monotonic through ``clock``'s current offset/drift estimate (the one ``edgebind record`` reports),
    then monotonic -> wall clock by the hosts' current difference (so an NTP step shows from the next call on).
    Without any pair the estimate is an offset of 0, so feed ``clock`` before mapping (see :class:`RosClock`).
    """
    return clock.device_to_host(device_ns) + np.int64(wall_minus_monotonic_ns())


class RosClock:
    """Device time -> ROS time (host wall clock) through a running :class:`ClockEstimator`, thread-safe.

    :meth:`stamps` pairs a source event's device time with its host arrival (the pairs ``SensorSource`` pairs) and
    maps its samples; an event is paired and mapped once, so several outputs (bag, Foxglove view) share one
    RosClock and write the same stamps. Per stream the stamps only increase: when the estimate's offset drops (a
    smaller latency seen), the stamps catch up at no less than :data:`MIN_RATE` of the device's pace instead of
    stepping back, so no ROS tool sees a sample before the one it follows.

    Args:
        clock: the estimator to use, e.g. a ``SensorSource``'s own ``clock`` (already fed: then use
            :meth:`to_ros_ns`, or :meth:`stamps` with ``pair=False``). Defaults to a new one, fed by :meth:`stamps`.
    """

    MIN_RATE = 0.1  # stamps advance by at least this fraction of the device time between samples

    def __init__(self, clock: ClockEstimator | None = None) -> None:
        self.clock = clock if clock is not None else ClockEstimator()
        self._lock = threading.Lock()
        self._last: Any = None
        self._last_stamps: np.ndarray = np.zeros(0, np.int64)
        self._tail: dict[str, tuple[int, int]] = {}  # stream -> (device ns, ROS ns) of its newest sample

    def observe(self, event: Event) -> None:
        """Pair one source event's device time with its host arrival time (once per event)."""
        self.stamps(event)

    def stamps(self, event: Event, pair: bool = True) -> np.ndarray:
        """ROS times (int64 ns) of an ImuBatch's samples or a ThermalFrame (one); empty for other events."""
        with self._lock:
            if event is self._last:
                return self._last_stamps
            if pair:
                pair_event(self.clock, event)
            if isinstance(event, ImuBatch):
                out = self._monotonic("imu", np.asarray(event.t_ns, np.int64))
            elif isinstance(event, ThermalFrame):
                out = self._monotonic("thermal", np.array([event.t_ns], np.int64))
            else:
                if isinstance(event, Gap) and event.reason == "device reboot":
                    self._tail.clear()  # a new device clock: its times restart
                out = np.zeros(0, np.int64)
            self._last, self._last_stamps = event, out
            return out

    def _monotonic(self, stream: str, device: np.ndarray) -> np.ndarray:
        ros = device_to_ros_ns(self.clock, device)
        if not len(ros):
            return ros
        prev = self._tail.get(stream)
        if prev is not None:
            last_d, last_r = prev
            for i, d in enumerate(device.tolist()):
                if d > last_d:  # a repeated or earlier device time (dropped by the recorder) keeps its mapping
                    ros[i] = max(int(ros[i]), last_r + max(1, round((d - last_d) * self.MIN_RATE)))
                    last_d, last_r = d, int(ros[i])
        self._tail[stream] = (int(device[-1]), int(ros[-1]))
        return ros

    def to_ros_ns(self, device_ns: int | np.ndarray) -> np.ndarray:
        """ROS time (int64 ns) of device time(s), through the estimate as it stands now (no pairing, no floor)."""
        with self._lock:
            return device_to_ros_ns(self.clock, device_ns)
