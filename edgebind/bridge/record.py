"""Record a sensor link into a Recording: decoded samples in SI units, device timestamps, every counter in meta."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bridge.clock import RosClock
from edgebind.bridge.events import DeviceInfo, Event, Gap, ImuBatch, LogMessage, ThermalFrame
from edgebind.bridge.journal import Journal
from edgebind.bridge.recording import Recording
from edgebind.bridge.source import SensorSource
from edgebind.bridge.units import UnitOptions

log = logging.getLogger(__name__)

MAX_META_ITEMS = 200  # gaps / log lines kept verbatim in meta (all are counted)


class RecordingBuilder:
    """Collects events into a Recording; drops (and counts) samples whose device time does not increase.

    Args:
        ros_time: also keep each kept sample's and frame's ROS time (host wall clock), mapped at arrival through
            ``ros_clock`` (set by :func:`record` to the source's own clock estimate); see :meth:`ros_t_ns`.
            Defaults to False.
        journal: where each kept sample and frame also goes as it arrives (``record``'s ``OUT.partial``; set by
            :func:`record` when it is given ``journal``). Defaults to None.
    """

    def __init__(self, ros_time: bool = False, journal: Journal | None = None) -> None:
        self.ros_time = ros_time
        self.ros_clock: RosClock | None = None
        self.imu_ros: list[np.ndarray] = []
        self.thermal_ros: list[int] = []
        self.journal = journal
        self.imu: list[np.ndarray] = []
        self.imu_t: list[np.ndarray] = []
        self.thermal: list[np.ndarray] = []
        self.thermal_t: list[int] = []
        self.info: DeviceInfo | None = None
        self.gaps: list[dict[str, Any]] = []
        self.logs: list[dict[str, Any]] = []
        self.stats = {"recorder_non_monotonic": 0, "recorder_thermal_shape_changes": 0, "gap_events": 0,
                      "log_events": 0, "imu_decoded": 0, "imu_written": 0, "thermal_decoded": 0,
                      "thermal_written": 0}
        self.has_gyro = True
        self._last_t = -1

    @property
    def samples(self) -> int:
        """IMU samples collected so far."""
        return sum(len(t) for t in self.imu_t)

    def add(self, event: Event) -> None:
        """Take one event from a decoder or SensorSource."""
        if isinstance(event, ImuBatch):
            keep = event.t_ns > self._last_t
            keep &= np.concatenate([[True], np.diff(event.t_ns) > 0])
            self.stats["recorder_non_monotonic"] += int((~keep).sum())
            self.stats["imu_decoded"] += len(event.t_ns)
            if keep.any():
                imu, t = event.imu[keep], event.t_ns[keep]
                self.imu.append(imu)
                self.imu_t.append(t)
                self._last_t = int(t[-1])
                self.stats["imu_written"] += len(t)
                if self.ros_clock is not None:
                    self.imu_ros.append(self.ros_clock.stamps(event, pair=False)[keep])
                if self.journal is not None:
                    self.journal.add_imu(t, imu, event.has_gyro)
            self.has_gyro &= event.has_gyro
        elif isinstance(event, ThermalFrame):
            self.stats["thermal_decoded"] += 1
            if self.thermal and event.temp_c.shape != self.thermal[0].shape:
                self.stats["recorder_thermal_shape_changes"] += 1
                return
            self.thermal.append(event.temp_c)
            self.thermal_t.append(event.t_ns)
            self.stats["thermal_written"] += 1
            if self.ros_clock is not None:
                self.thermal_ros.append(int(self.ros_clock.stamps(event, pair=False)[0]))
            if self.journal is not None:
                self.journal.add_thermal(event.t_ns, event.temp_c)
        elif isinstance(event, DeviceInfo):
            self.info = event
        elif isinstance(event, Gap):
            self.stats["gap_events"] += 1
            if len(self.gaps) < MAX_META_ITEMS:
                self.gaps.append(asdict(event))
        elif isinstance(event, LogMessage):
            self.stats["log_events"] += 1
            if len(self.logs) < MAX_META_ITEMS:
                self.logs.append(asdict(event))

    def ros_t_ns(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(IMU, thermal or None) ROS times, one per sample and frame of the built Recording (``ros_time`` only)."""
        imu = np.concatenate(self.imu_ros) if self.imu_ros else np.zeros((0,), np.int64)
        return imu, (np.array(self.thermal_ros, np.int64) if self.thermal else None)

    def build(self, meta: dict[str, Any]) -> Recording:
        """The Recording, with ``meta`` plus device info, gaps, logs and the builder's own counters."""
        imu = np.concatenate(self.imu) if self.imu else np.zeros((0, 6), np.float32)
        imu_t = np.concatenate(self.imu_t) if self.imu_t else np.zeros((0,), np.int64)
        meta = dict(meta)
        meta["counters"] = {**meta.get("counters", {}), **self.stats}
        meta["has_gyro"] = bool(self.has_gyro)
        meta["gaps"], meta["logs"] = self.gaps, self.logs
        if self.info is not None:
            meta["device"] = {k: v for k, v in asdict(self.info).items() if k != "extra"} | {
                k: v for k, v in self.info.extra.items() if isinstance(v, (int, float, str, bool))}
            meta["imu_sensor"] = self.info.imu_sensor
        if len(imu_t) > 1:
            meta["imu_rate_hz"] = float(1e9 / np.median(np.diff(imu_t)))
        thermal = np.stack(self.thermal) if self.thermal else None
        thermal_t = np.array(self.thermal_t, np.int64) if self.thermal else None
        return Recording(imu=imu, imu_t_ns=imu_t, thermal=thermal, thermal_t_ns=thermal_t, meta=meta)


def record(url: str, *, duration_s: float | None = None, fmt: str = "auto", baud: int = 921600,
           rate_hz: float | None = None, idle_s: float | None = None, max_samples: int | None = None,
           reconnect: bool = True, units: UnitOptions | None = None,
           builder: RecordingBuilder | None = None, stop: threading.Event | None = None,
           journal: str | Path | None = None) -> Recording:
    """Record from ``url`` until ``duration_s`` passed, ``max_samples`` IMU samples arrived, the link was
    silent for ``idle_s`` after data, or ``stop`` was set (whichever comes first).

    Args:
        url: port or pyserial URL (see :class:`SensorSource`).
        duration_s: wall-clock seconds to record.
        fmt: ``auto``, ``binary`` or ``csv``. Defaults to auto.
        baud: line rate. Defaults to 921600.
        rate_hz: IMU rate for CSV without timestamps. Defaults to the measured line rate.
        idle_s: stop once no byte arrived for this long (after the first). Defaults to no idle stop.
        max_samples: stop after this many IMU samples.
        reconnect: reopen the port when the device disappears. Defaults to True.
        units: unit flags and sensor profile for text lines. Defaults to auto units.
        builder: the builder to fill, e.g. ``RecordingBuilder(ros_time=True)`` to get each sample's ROS time from
            its ``ros_t_ns()`` afterwards (mapped through this link's clock estimate). Defaults to a new one.
        stop: an event that ends the recording cleanly when set (``edgebind.lifecycle.StopSignals.event``: the
            first SIGINT/SIGTERM/SIGHUP). Defaults to None.
        journal: a file to journal every kept sample into as it arrives, fsynced every second
            (:mod:`edgebind.bridge.journal`); kept (after an error too) when it holds a sample, for the caller to
            remove once the Recording is saved. Defaults to None.

    Returns:
        A Recording whose ``meta["counters"]`` holds every counter of the transport, decoder, clock and recorder.

    Raises:
        SensorError: the port cannot be opened or the stream is not the expected format.
    """
    builder = builder if builder is not None else RecordingBuilder()
    started = time.time()
    asked = stop if stop is not None else threading.Event()
    with SensorSource(url, baud=baud, fmt=fmt, rate_hz=rate_hz, reconnect=reconnect, units=units) as src:
        if builder.ros_time:
            builder.ros_clock = RosClock(src.clock)  # the estimate the link's counters report, as it runs
        sink = Journal(journal, {"source": f"edgebind record {url}", "url": url, "baud": baud,
                                 "host_start_unix_s": started}) if journal is not None else None
        builder.journal = sink
        done = threading.Event()

        def watchdog() -> None:
            deadline = time.monotonic() + duration_s if duration_s else None
            while not done.wait(0.02):
                late = deadline is not None and time.monotonic() >= deadline
                idle = idle_s is not None and src.transport.last_data_ns and src.idle_s >= idle_s
                if late or idle or asked.is_set():
                    src.close()
                    return

        guard = threading.Thread(target=watchdog, name="edgebind-record-watchdog", daemon=True)
        guard.start()
        last_counters = time.monotonic()
        try:
            try:
                for event in src.events(timeout_s=0.1):
                    builder.add(event)
                    if max_samples is not None and builder.samples >= max_samples:
                        break
                    if sink is not None and time.monotonic() - last_counters >= 1.0:
                        sink.add_counters(src.stats | builder.stats)
                        last_counters = time.monotonic()
            finally:
                done.set()
                src.close()
                guard.join()
            for event in src.events(timeout_s=0.0):  # what was queued when we stopped
                builder.add(event)
        finally:
            if sink is not None:
                sink.add_counters(src.stats | builder.stats)
                sink.close(remove=not (builder.stats["imu_written"] or builder.stats["thermal_written"]))
    counters = src.stats
    meta = {
        "source": f"edgebind record {url}", "url": url, "format": src.detected_format, "baud": baud,
        "host_start_unix_s": started, "wall_s": round(time.time() - started, 3), "counters": counters,
        "clock": {"offset_ns": counters["clock_offset_ns"], "drift_ppm": counters["clock_drift_ppb"] / 1000},
    }
    extra = src.info.extra if src.info is not None else {}
    meta["units"] = {k: extra[k] for k in ("accel_unit", "accel_unit_source", "gyro_unit", "gyro_unit_source",
                                           "unit_source") if k in extra} or {"accel_unit": "mps2", "gyro_unit": "rads"}
    rec = builder.build(meta)
    if stop is not None and stop.is_set():
        rec.meta["stopped_by"] = "signal"
    return rec
