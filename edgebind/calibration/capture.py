"""INT8 calibration sets: representative model inputs collected through exactly the streaming input path.

    SensorSource events -> apply profile -> ImuWindower (resample to 400 Hz, SlidingWindow) -> IMU contract check
                                         -> thermal: C, bad pixels -> map_temperature -> 224x224 -> contract check

The result is written as ``calib.npz`` (docs/calibration.md): ``imu`` (K, 6, 2000) float32, ``imu_t_ns`` (K,),
``thermal`` (J, 1, 224, 224) float32 in [0, 1] and ``thermal_t_ns`` (J,) when a thermal sensor streams, and a JSON
``meta`` string. ``edgebind export --int8`` reads it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bridge.events import DeviceInfo, Event, Gap, ImuBatch, ThermalFrame
from edgebind.calibration.imu import apply_imu_profile
from edgebind.calibration.profiles import CalibrationProfile, as_profile, check_profile_parts
from edgebind.calibration.thermal import apply_thermal_profile, thermal_contract
from edgebind.errors import ConfigError, SensorError
from edgebind.npzfile import read_npz

log = logging.getLogger(__name__)

CALIB_FORMAT = "edgebind-calib-v1"


@dataclass
class CalibrationSet:
    """Model-ready calibration inputs.

    Attributes:
        imu: (K, 6, 2000) float32 windows (IMU contract).
        imu_t_ns: (K,) int64 device time of each window's last sample.
        thermal: (J, 1, 224, 224) float32 in [0, 1] (thermal contract), J may be 0.
        thermal_t_ns: (J,) int64 device time of each frame.
        meta: JSON-able provenance (source, profile, contracts, device, counters).
    """

    imu: np.ndarray
    imu_t_ns: np.ndarray
    thermal: np.ndarray
    thermal_t_ns: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self, path: str | Path) -> Path:
        """Write ``calib.npz`` (no pickles), atomically. Returns the path."""
        from edgebind.atomicfile import atomic_write

        path = Path(path)
        with atomic_write(path) as f:  # never half a file at ``path``
            np.savez(f, imu=self.imu, imu_t_ns=self.imu_t_ns, thermal=self.thermal, thermal_t_ns=self.thermal_t_ns,
                     meta=np.array(json.dumps({"format": CALIB_FORMAT, **self.meta}, sort_keys=True)))
        return path

    @classmethod
    def load(cls, path: str | Path) -> CalibrationSet:
        """Read a ``calib.npz``.

        Raises:
            SensorError: missing file or not a calibration set.
        """
        path = Path(path)
        if not path.is_file():
            raise SensorError(f"calibration set {path} does not exist; collect one with "
                              f"'edgebind calibrate capture PORT -o {path} --windows 64'.")
        z = read_npz(path, SensorError, "an edgebind calibration set",
                     "collect one with 'edgebind calibrate capture'.")
        missing = {"imu", "imu_t_ns", "thermal", "thermal_t_ns", "meta"} - set(z)
        if missing:
            raise SensorError(f"{path} lacks {sorted(missing)}; it is not an edgebind calibration set. "
                              "Collect one with 'edgebind calibrate capture'.")
        return cls(z["imu"], z["imu_t_ns"], z["thermal"], z["thermal_t_ns"], json.loads(str(z["meta"])))


class CapturePipeline:
    """The streaming input path as one object: feed it source events, it collects contract-checked inputs.

    Args:
        windows: windows (and thermal frames) to collect.
        profile: calibration profile applied before windowing; None uses the stream as it is.
        hop_s: seconds between IMU window ends. Defaults to the window length (no overlap).
        thermal_every_s: seconds between kept thermal frames. Defaults to ``hop_s`` or the window length.
    """

    def __init__(self, windows: int, profile: CalibrationProfile | dict[str, Any] | str | None = None,
                 hop_s: float | None = None, thermal_every_s: float | None = None) -> None:
        from edgebind.preprocess.imu import DEFAULT_IMU_CONTRACT
        from edgebind.preprocess.thermal import DEFAULT_THERMAL_CONTRACT
        from edgebind.stream.window import ImuWindower

        if windows < 1:
            raise ConfigError(f"--windows must be at least 1, got {windows}; INT8 calibration wants 64 or more.")
        self.target = windows
        self.profile = as_profile(profile) if profile is not None else None
        self.imu_contract = DEFAULT_IMU_CONTRACT
        self.thermal_contract = (thermal_contract(self.profile) if self.profile and self.profile.thermal
                                 else DEFAULT_THERMAL_CONTRACT)
        self.windower = ImuWindower(self.imu_contract, hop_s=hop_s)
        self.thermal_every_ns = int((thermal_every_s or hop_s or self.imu_contract.window_s) * 1e9)
        self.imu: list[np.ndarray] = []
        self.imu_t_ns: list[int] = []
        self.thermal: list[np.ndarray] = []
        self.thermal_t_ns: list[int] = []
        self.info: DeviceInfo | None = None
        self.seen_imu = self.seen_thermal = False
        self.gaps = 0

    @property
    def done(self) -> bool:
        """True once every stream that has appeared has ``windows`` inputs."""
        if not (self.seen_imu or self.seen_thermal):
            return False
        imu_ok = not self.seen_imu or len(self.imu) >= self.target
        th_ok = not self.seen_thermal or len(self.thermal) >= self.target
        return imu_ok and th_ok

    def feed(self, event: Event) -> None:
        """Process one source event."""
        from edgebind.preprocess.imu import check_imu_input
        from edgebind.preprocess.thermal import check_thermal_input, map_temperature, to_model_input

        if isinstance(event, DeviceInfo):
            self.info = event
            if self.profile is not None:
                check_profile_parts(self.profile, event.imu_sensor, event.thermal_sensor, source="the device")
        elif isinstance(event, ImuBatch) and len(event.t_ns):
            self.seen_imu = True
            imu = event.imu
            if self.profile is not None and self.profile.sensor:
                imu = apply_imu_profile(imu, self.profile)
            for window, end_t in self.windower.push(event.t_ns, imu):
                if len(self.imu) < self.target:
                    self.imu.append(check_imu_input(window, self.imu_contract)[0])
                    self.imu_t_ns.append(end_t)
        elif isinstance(event, ThermalFrame):
            self.seen_thermal = True
            if len(self.thermal) >= self.target or (
                    self.thermal_t_ns and event.t_ns - self.thermal_t_ns[-1] < self.thermal_every_ns):
                return
            temp_c = event.temp_c
            if self.profile is not None and self.profile.thermal is not None:
                temp_c = apply_thermal_profile(temp_c, self.profile)
            x = to_model_input(map_temperature(temp_c, self.thermal_contract), self.thermal_contract.size)
            self.thermal.append(check_thermal_input(x, self.thermal_contract.size)[0])
            self.thermal_t_ns.append(event.t_ns)
        elif isinstance(event, Gap):
            self.gaps += 1

    def result(self, meta: dict[str, Any]) -> CalibrationSet:
        """The collected inputs as a :class:`CalibrationSet`."""
        th = (np.stack(self.thermal).astype(np.float32) if self.thermal
              else np.zeros((0, 1, self.thermal_contract.size, self.thermal_contract.size), np.float32))
        imu = (np.stack(self.imu).astype(np.float32) if self.imu
               else np.zeros((0, 6, self.imu_contract.num_samples), np.float32))
        meta = {
            **meta,
            "imu_contract": self.imu_contract.to_dict(),
            "thermal_contract": self.thermal_contract.to_dict(),
            "profile": self.profile.to_dict() if self.profile else None,
            "device": vars(self.info) if self.info else None,
            "gaps": self.gaps,
            "windows_requested": self.target,
        }
        return CalibrationSet(imu, np.asarray(self.imu_t_ns, np.int64), th, np.asarray(self.thermal_t_ns, np.int64),
                              meta)


def collect(events: Iterable[Event], pipeline: CapturePipeline,
            on_progress: Callable[[int, int], None] | None = None) -> None:
    """Feed events into ``pipeline`` until it is done or the events end."""
    last = (-1, -1)
    for event in events:
        pipeline.feed(event)
        now = (len(pipeline.imu), len(pipeline.thermal))
        if on_progress is not None and now != last:
            on_progress(*now)
            last = now
        if pipeline.done:
            return


def capture(url: str, windows: int, profile: CalibrationProfile | dict[str, Any] | str | None = None, *,
            baud: int = 921600, fmt: str = "auto", rate_hz: float | None = None, hop_s: float | None = None,
            max_duration_s: float | None = None,
            on_progress: Callable[[int, int], None] | None = None, units: Any = None,
            stop: threading.Event | None = None) -> CalibrationSet:
    """Collect an INT8 calibration set from a live sensor link.

    Args:
        url: serial device, simulator pty or pyserial URL.
        windows: IMU windows (and thermal frames, when a thermal sensor streams) to collect.
        profile: calibration profile applied as ``edgebind stream`` applies it. Defaults to None (raw stream).
        baud, fmt, rate_hz: passed to ``SensorSource``.
        hop_s: seconds between windows. Defaults to 5 s (no overlap, so windows are distinct).
        max_duration_s: give up after this long. Defaults to windows x hop + 30 s.
        on_progress: called with (imu windows, thermal frames) whenever a count changes.
        units: unit flags and sensor profile for text lines (``edgebind.bridge.units.UnitOptions``).
        stop: an event that ends the capture early (SIGINT/SIGTERM/SIGHUP through ``edgebind.lifecycle``); the
            inputs collected so far are returned (``meta["stopped_early"]``). Defaults to None.

    Raises:
        SensorError: the stream ended or timed out before enough inputs arrived (the message gives the counts), or
            a stop came before any input.
        ConfigError: the profile was made for another sensor than the device reports.
    """
    from edgebind.bridge.source import SensorSource

    pipeline = CapturePipeline(windows, profile, hop_s=hop_s)
    hop = hop_s or pipeline.imu_contract.window_s
    limit = max_duration_s if max_duration_s is not None else windows * hop + pipeline.imu_contract.window_s + 30.0
    t0 = time.monotonic()
    asked = stop if stop is not None else threading.Event()
    with SensorSource(url, baud=baud, fmt=fmt, rate_hz=rate_hz, units=units) as src:
        finished = threading.Event()

        def close_when_asked() -> None:  # events() waits while the port is open; closing ends it
            deadline = time.monotonic() + limit
            while not finished.wait(0.05):
                if asked.is_set() or time.monotonic() >= deadline:
                    src.close()
                    return

        guard = threading.Thread(target=close_when_asked, name="edgebind-capture-stop", daemon=True)
        guard.start()
        try:
            collect(src.events(timeout_s=0.5), pipeline, on_progress)
        finally:
            finished.set()
            guard.join()
        stats = src.stats
    stopped = asked.is_set() and not pipeline.done
    if not pipeline.done and not stopped:
        raise SensorError(
            f"{url}: collected {len(pipeline.imu)} IMU windows and {len(pipeline.thermal)} thermal frames of "
            f"{windows} in {time.monotonic() - t0:.0f} s (limit {limit:.0f} s, {pipeline.gaps} gaps). Check that the "
            "device streams (edgebind stream PORT), ask for fewer --windows, or allow more time with --max-seconds.")
    meta = {"source": url, "path": "SensorSource -> apply_imu_profile -> ImuWindower -> check_imu_input",
            "created_unix_s": time.time(), "link_stats": stats, "stopped_early": stopped}
    log.info("captured %d IMU windows and %d thermal frames from %s", len(pipeline.imu), len(pipeline.thermal), url)
    return pipeline.result(meta)
