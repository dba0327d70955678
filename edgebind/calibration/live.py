"""Guided calibration on a live sensor link: ``edgebind calibrate imu PORT`` and ``calibrate thermal PORT``.

The person is asked to rest the sensor in each position in turn; for each, edgebind discards what arrived before
the person confirmed, waits ``settle_s``, records ``hold_s`` seconds, and checks that the sensor stayed still
(re-asking up to ``retries`` times). The recorded poses then go through :func:`edgebind.calibration.imu.calibrate_imu`
as declared stationary segments. The session is also returned as a Recording so it can be saved and refitted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgebind.bridge.events import DeviceInfo, Event, ImuBatch, ThermalFrame
from edgebind.calibration.imu import ImuCalibrationResult, calibrate_imu
from edgebind.calibration.profiles import normalize_sensor_name, sensor_names
from edgebind.calibration.stationary import StationarySegment, check_still
from edgebind.errors import SensorError

log = logging.getLogger(__name__)

SIX_POSITIONS = (
    ("+z", "flat on the table, top face (+Z) up"),
    ("-z", "upside down, top face (+Z) down"),
    ("+x", "on its edge with +X pointing up"),
    ("-x", "on its edge with +X pointing down"),
    ("+y", "on its edge with +Y pointing up"),
    ("-y", "on its edge with +Y pointing down"),
)
TILTED_POSITIONS = (
    ("+x+y", "tilted 45 degrees between +X up and +Y up"),
    ("-x+z", "tilted 45 degrees between -X up and +Z up"),
    ("+y-z", "tilted 45 degrees between +Y up and -Z up"),
    ("+x-z", "tilted 45 degrees between +X up and -Z up"),
    ("-x-y", "tilted 45 degrees between -X up and -Y up"),
    ("-y+z", "tilted 45 degrees between -Y up and +Z up"),
)


@dataclass
class PoseCapture:
    """One recorded position: (n, 6) samples and their device times."""

    name: str
    imu: np.ndarray
    t_ns: np.ndarray


class _Stream:
    """Pull events from a SensorSource one at a time, with a deadline (``events()`` itself waits forever)."""

    def __init__(self, src: Any) -> None:
        self.src = src
        self.it: Iterator[Event] = src.events(timeout_s=0.2)
        self.info: DeviceInfo | None = None

    def until(self, deadline_s: float) -> Iterator[Event]:
        timer = threading.Timer(max(deadline_s - time.monotonic(), 0.0) + 5.0, self.src.close)
        timer.daemon = True
        timer.start()
        try:
            for ev in self.it:
                if isinstance(ev, DeviceInfo):
                    self.info = ev
                yield ev
                if time.monotonic() > deadline_s:
                    return
        finally:
            timer.cancel()


def record_pose(stream: _Stream, name: str, hold_s: float, settle_s: float, rate_hz_hint: float | None,
                on_progress: Callable[[float], None] | None = None, timeout_s: float = 10.0) -> PoseCapture:
    """Record ``hold_s`` seconds of IMU samples that arrived after now + ``settle_s``."""
    start_host_ns = time.monotonic_ns() + int(settle_s * 1e9)
    chunks: list[np.ndarray] = []
    times: list[np.ndarray] = []
    t_first: int | None = None
    deadline = time.monotonic() + settle_s + hold_s + timeout_s
    for ev in stream.until(deadline):
        if not isinstance(ev, ImuBatch) or ev.host_t_ns < start_host_ns or not len(ev.t_ns):
            continue
        if t_first is None:
            t_first = int(ev.t_ns[0])
        chunks.append(ev.imu)
        times.append(ev.t_ns)
        got_s = (int(ev.t_ns[-1]) - t_first) / 1e9
        if on_progress is not None:
            on_progress(min(got_s / hold_s, 1.0))
        if got_s >= hold_s:
            break
    if not chunks or (int(times[-1][-1]) - int(times[0][0])) / 1e9 < 0.9 * hold_s:
        raise SensorError(f"no IMU data for position {name} within {hold_s + timeout_s:.0f} s; check that the "
                          "device streams ('edgebind stream PORT') and that the cable is seated.")
    return PoseCapture(name, np.concatenate(chunks), np.concatenate(times))


def guided_imu_session(url: str, *, positions: tuple[tuple[str, str], ...] = SIX_POSITIONS,
                       ask: Callable[[int, str, str], None], on_progress: Callable[[float], None] | None = None,
                       on_retry: Callable[[str, str], None] | None = None, sensor: str | None = None,
                       hold_s: float = 3.0, settle_s: float = 0.5, retries: int = 2, baud: int = 921600,
                       fmt: str = "auto", rate_hz: float | None = None, units: Any = None,
                       fit_kwargs: dict[str, Any] | None = None,
                       stop: threading.Event | None = None) -> tuple[ImuCalibrationResult, Any]:
    """Walk a person through the positions on a live link and fit the IMU profile.

    Args:
        url: serial device, simulator pty or pyserial URL.
        positions: (name, instruction) pairs. Defaults to the six faces.
        ask: called before each position with (index, name, instruction); it returns once the sensor rests.
        on_progress: called with the fraction of the current position recorded.
        on_retry: called with (position, reason) when a position is repeated because the sensor moved.
        sensor: IMU spec name; defaults to the name the device reports (binary INFO), if known.
        hold_s: seconds recorded per position. Defaults to 3.0. settle_s: seconds ignored after ``ask`` returns.
        retries: repeats allowed per position when the sensor moved. Defaults to 2.
        baud, fmt, rate_hz, units: passed to ``SensorSource`` (units: ``UnitOptions`` of text lines).
        fit_kwargs: extra arguments for :func:`calibrate_imu` (accel_range, axis_map, model, ...).
        stop: an event that ends the session (SIGINT/SIGTERM/SIGHUP through ``edgebind.lifecycle``): the port is
            closed and :class:`edgebind.lifecycle.StopRequested` raised; no profile is fitted. Defaults to None.

    Returns:
        (the fit result, the session as a ``Recording`` with "pose:NAME" labels).

    Raises:
        SensorError: no data, the sensor kept moving, or the fit failed (too few poses, saturation, ...).
    """
    from edgebind.bridge.recording import Recording
    from edgebind.bridge.source import SensorSource
    from edgebind.lifecycle import StopRequested, closing_on

    captures: list[PoseCapture] = []
    with SensorSource(url, baud=baud, fmt=fmt, rate_hz=rate_hz, units=units) as src, closing_on(stop, src.close):
        stream = _Stream(src)
        for k, (name, instruction) in enumerate(positions):
            for attempt in range(retries + 1):
                ask(k, name, instruction)
                try:
                    cap = record_pose(stream, name, hold_s, settle_s, rate_hz, on_progress)
                finally:
                    if stop is not None and stop.is_set():
                        raise StopRequested(f"stopped at position {k + 1} of {len(positions)} ({name})")
                rate = (len(cap.t_ns) - 1) / ((cap.t_ns[-1] - cap.t_ns[0]) / 1e9)
                seg = StationarySegment(0, len(cap.imu), cap.imu[:, :3].mean(0), cap.imu[:, :3].std(0),
                                        cap.imu[:, 3:].mean(0), cap.imu[:, 3:].std(0), f"pose:{name}")
                try:
                    check_still([seg], rate)
                except SensorError as exc:
                    if attempt == retries:
                        raise
                    if on_retry is not None:
                        on_retry(name, str(exc))
                    continue
                captures.append(cap)
                break
        info = stream.info
    if sensor is None and info is not None and info.imu_sensor:
        key = normalize_sensor_name(info.imu_sensor)
        sensor = key if key in sensor_names("imu") else ""
    imu = np.concatenate([c.imu for c in captures]).astype(np.float64)
    bounds = np.cumsum([0] + [len(c.imu) for c in captures])
    segments = [StationarySegment(int(a), int(b), imu[a:b, :3].mean(0), imu[a:b, :3].std(0), imu[a:b, 3:].mean(0),
                                  imu[a:b, 3:].std(0), f"pose:{c.name}")
                for a, b, c in zip(bounds[:-1], bounds[1:], captures, strict=True)]
    t_all = np.concatenate([c.t_ns for c in captures])
    rate_hz_measured = float(np.median([(len(c.t_ns) - 1) / ((c.t_ns[-1] - c.t_ns[0]) / 1e9) for c in captures]))
    result = calibrate_imu(imu, rate_hz_measured, sensor=sensor or "", segments=segments, **(fit_kwargs or {}))
    # Poses were recorded at different times; keep device time increasing for the Recording.
    t_rec = np.concatenate([[0], np.cumsum(np.maximum(np.diff(t_all), 1))]).astype(np.int64)
    rec = Recording(imu=imu.astype(np.float32), imu_t_ns=t_rec,
                    labels=np.array([s.label for s in segments]), label_t_ns=t_rec[bounds[:-1]],
                    meta={"source": url, "imu_sensor": sensor or "", "kind": "imu-calibration-session",
                          "rate_hz": rate_hz_measured})
    return result, rec


def collect_thermal_frames(url: str, frames: int, *, baud: int = 921600, fmt: str = "auto",
                           max_duration_s: float = 60.0,
                           on_progress: Callable[[float], None] | None = None) -> tuple[np.ndarray, DeviceInfo | None]:
    """Collect ``frames`` thermal frames (C) from a live link for :func:`calibrate_thermal`.

    Returns:
        ((M, H, W) float32 C, the device's DeviceInfo or None).

    Raises:
        SensorError: fewer frames than asked arrived within ``max_duration_s``.
    """
    from edgebind.bridge.source import SensorSource

    out: list[np.ndarray] = []
    with SensorSource(url, baud=baud, fmt=fmt) as src:
        stream = _Stream(src)
        for ev in stream.until(time.monotonic() + max_duration_s):
            if isinstance(ev, ThermalFrame):
                out.append(ev.temp_c)
                if on_progress is not None:
                    on_progress(len(out) / frames)
                if len(out) >= frames:
                    break
        info = stream.info
    if len(out) < frames:
        raise SensorError(f"{url}: got {len(out)} thermal frames of {frames} in {max_duration_s:.0f} s; check that "
                          "a thermal sensor is attached and streaming ('edgebind stream PORT'), or ask for fewer.")
    return np.stack(out).astype(np.float32), info
