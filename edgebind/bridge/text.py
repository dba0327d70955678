"""Pure decoder for the text lines hobby boards print: ``TextDecoder(fmt).feed(bytes) -> list[Event]``.

One decoder reads every text format of :mod:`edgebind.bridge.lines` (CSV, Serial Plotter, Teleplot, SparkFun,
i2cdevlib raw counts) and Adafruit ``MLX90640_simpletest`` thermal frames, alone or between IMU lines. With
``fmt="auto"`` the first IMU line decides the format; a named format only accepts its own lines.

The first lines (at least 8, covering 1 s of device time by their timestamps or ``rate_hz``, else 1-2 s of
arrival times) are held to learn:

* the CSV layout: ``3k + 1`` columns whose first column increases hold a timestamp, then accelerometer x, y, z and
  optionally gyroscope x, y, z (extra columns are ignored and counted);
* the timestamp unit: from a header (``t_us``, ``time_ms`` ...), else from the step and, where it is ambiguous,
  the line rate on the host clock (:func:`edgebind.bridge.rate.timestamp_unit`);
* the units (:mod:`edgebind.bridge.units`): named in the line, ``--accel-unit``/``--gyro-unit``, or the resting
  gravity magnitude; raw counts (i2cdevlib) through the sensor profile (``--sensor``);
* without timestamps, the line rate (:class:`edgebind.bridge.rate.LineClock`, regression on arrival times).

Every line is counted: ``lines_ok`` (IMU samples), ``header_lines`` (text before the first sample),
``other_lines`` (text afterwards: "Waiting for data", "Failed"), ``error_lines`` (``ERR ...``, also emitted as a
LogMessage), ``malformed_lines`` (a line of the format with the wrong column count or broken numbers),
``non_monotonic`` (timestamp went back a little: skipped), ``device_reboots`` (timestamp restarted: a new clock
segment), ``pauses`` (silence much longer than the period), ``thermal_frames`` and ``thermal_bad_frames``
(separator followed by the wrong number of 32-value rows). The decoder never raises on bad input; a wrong unit flag,
raw counts without a sensor, or frames that are all the wrong size are reported by :meth:`TextDecoder.problem`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

from edgebind.bridge import lines as ln
from edgebind.bridge.events import DeviceInfo, Event, Gap, ImuBatch, LogMessage, ThermalFrame
from edgebind.bridge.mlx_text import SimpletestFrames
from edgebind.bridge.rate import UNIT_NS, LineClock, timestamp_unit
from edgebind.bridge.units import (
    ACCEL_UNITS,
    GYRO_UNITS,
    UnitOptions,
    choose_accel_unit,
    choose_gyro_unit,
    header_units,
    raw_count_scale,
)
from edgebind.errors import SensorError

log = logging.getLogger(__name__)

TEXT_FORMATS = ln.IMU_FORMATS
TEXT_COUNTERS = (
    "bytes_in",
    "lines_ok",
    "malformed_lines",
    "non_monotonic",
    "header_lines",
    "other_lines",
    "error_lines",
    "bytes_discarded",
    "extra_columns",
    "imu_samples",
    "thermal_frames",
    "thermal_bad_frames",
    "pauses",
    "device_reboots",
)

_PROBE_LINES = 8
_MAX_LINE = 8192
_HEADER_UNIT = re.compile(r"(?:^|[_\[( ])(ns|us|µs|ms|s)[\])]?$")
_REBOOT_BACK_NS = 1_000_000_000  # a timestamp this far back is a restarted device clock, not a stray line


@dataclass
class _Sample:
    values: dict[str, float]
    host_t_ns: int
    t_ns: int = 0
    index: int = 0  # line index in the LineClock (lines without timestamps)


class TextDecoder:
    """Decode text lines into :class:`ImuBatch` and :class:`ThermalFrame` events in SI units.

    Args:
        fmt: ``auto`` or one of :data:`TEXT_FORMATS`. Defaults to auto.
        rate_hz: sample rate when lines carry no timestamp. Defaults to the regression estimate.
        units: unit flags and sensor profile. Defaults to all auto.
        ts_unit: ``s``, ``ms``, ``us``, ``ns`` or ``auto`` for the timestamp column. Defaults to auto.
    """

    def __init__(self, fmt: str = "auto", rate_hz: float | None = None, units: UnitOptions | None = None,
                 ts_unit: str = "auto") -> None:
        self.fmt = fmt
        self.requested = fmt
        self.units = units or UnitOptions()
        self.ts_unit = ts_unit
        self.stats: dict[str, int] = dict.fromkeys(TEXT_COUNTERS, 0)
        self.info: DeviceInfo | None = None
        self.clock = LineClock(rate_hz)
        self._given_rate = rate_hz
        self._buf = bytearray()
        self._line_fmt: str | None = None if fmt == "auto" else fmt
        self._probe: list[_Sample] = []
        self._held_frames: list[tuple[np.ndarray, int, int]] = []  # (temp_c, imu samples before, host ns)
        self._settled = False
        self._error: str | None = None
        self._columns = 0
        self._has_ts = False
        self._unit_ns = 0
        self._header_unit: str | None = None
        self._scale = np.ones(6, np.float64)
        self._has_gyro = True
        self._last_t = -(1 << 62)
        self._offset_ns = 0
        self._last_host = 0
        self._group: dict[str, float] = {}
        self._named_units: dict[str, str] = {}
        self._frames = SimpletestFrames()
        self._first_host: int | None = None
        self._unit_info: dict[str, str] = {}
        self._seen_data = False
        self._csv_sep: bytes | None = None  # separator of the first CSV line
        self._sep: bytes | None = None  # set once the CSV layout is known: enables the fast path
        self._nonprintable = 0
        self._zeros = 0

    # ------------------------------------------------------------------ public
    @property
    def rate_hz(self) -> float | None:
        """The IMU rate in use (given, from timestamps, or estimated); None until known."""
        if self._has_ts and self.info is not None:
            return self.info.imu_rate_hz
        return self.clock.rate_hz or self._given_rate

    def reset(self) -> None:
        """Forget a partial line and a partial thermal frame (after a reconnect); keeps layout and counters."""
        self.stats["bytes_discarded"] += len(self._buf)
        self._buf.clear()
        self._frames.rows = None
        self._group.clear()

    def problem(self) -> str | None:
        """A one-line diagnosis when the input cannot be decoded as intended (else None)."""
        if self._error:
            return self._error
        thermal = self._frames.problem(self.stats["thermal_frames"])
        if thermal:
            return thermal
        if self.stats["lines_ok"] or self.stats["thermal_frames"] or self.stats["bytes_in"] < 256 or self._probe:
            return None
        if self._zeros:
            return (f"{self.stats['bytes_in']} bytes arrived without one usable text line and with {self._zeros} "
                    "0x00 bytes: this looks like the binary edgebind protocol read as text; use --format binary "
                    "(or auto).")
        if self._nonprintable * 10 > self.stats["bytes_in"]:
            return (f"{self.stats['bytes_in']} bytes arrived without one usable text line and {self._nonprintable} "
                    "of them are not printable: the baud rate is probably wrong; try --baud 115200 (Arduino "
                    "sketches) or the rate in your firmware's Serial.begin().")
        return None

    def flush(self, host_t_ns: int = 0) -> list[Event]:
        """Emit what is still held while the layout was being learnt (call at end of stream)."""
        events: list[Event] = []
        if self._line_fmt == "teleplot" and self._group:
            self._complete_group(host_t_ns or self._last_host, events)
        if not self._settled and self._probe:
            self._settle(events)
        for temp_c, _, host in self._held_frames:  # thermal only: host clock from the first byte
            events.append(ThermalFrame(t_ns=self._frame_time(0, host), temp_c=temp_c, host_t_ns=host))
        self._held_frames = []
        return events

    def feed(self, data: bytes, host_t_ns: int = 0) -> list[Event]:
        """Decode ``data`` and return the events of every complete line.

        Args:
            data: any number of bytes from the link.
            host_t_ns: host monotonic time (ns) at which ``data`` arrived.

        Returns:
            DeviceInfo once the layout is known, LogMessages (unit choices, ``ERR`` lines), ImuBatch (one per call
            with samples), ThermalFrame and Gap events.
        """
        self.stats["bytes_in"] += len(data)
        if not (self.stats["lines_ok"] or self._probe):
            self._zeros += data.count(0)
            self._nonprintable += sum(1 for b in data if b > 126 or (b < 32 and b not in (9, 10, 13)))
        if self._first_host is None and host_t_ns:
            self._first_host = host_t_ns
        self._buf += data
        events: list[Event] = []
        if b"\n" not in data:
            if len(self._buf) > _MAX_LINE:
                self.stats["bytes_discarded"] += len(self._buf)
                self.stats["malformed_lines"] += 1
                self._buf.clear()
            return events
        *raw_lines, rest = bytes(self._buf).split(b"\n")
        self._buf = bytearray(rest)
        samples: list[_Sample] = []
        for raw in raw_lines:
            self._line(raw, host_t_ns, samples, events)
        if samples:
            self._take(samples, events)
        return events

    # ------------------------------------------------------------------ lines
    def _line(self, raw: bytes, host_t_ns: int, samples: list[_Sample], events: list[Event]) -> None:
        if self._sep and not self._frames.open:  # fast path for CSV once the layout is known: float() takes bytes
            try:
                cols = list(map(float, raw.split(self._sep)))
            except ValueError:
                cols = []
            if len(cols) == self._columns:
                samples.append(_Sample(self._csv_dict(cols), host_t_ns))
                return
        text = raw.strip(b"\r \t\x00").decode("utf-8", errors="replace")
        if not text:
            return
        if self._thermal_line(text, host_t_ns, samples, events):
            return
        parse = ln.PARSERS[self._line_fmt] if self._line_fmt else ln.parse_any
        parsed = parse(text)
        if parsed is None or (parsed.fmt == "teleplot" and not parsed.values and self._line_fmt != "teleplot"):
            self._unusable(text, raw, events)
            return
        if self._line_fmt is None:
            self._line_fmt = self.fmt = parsed.fmt
            if parsed.units.get("accel") == "counts" and not self.units.sensor:
                try:
                    raw_count_scale(self.units, parsed.fmt)
                except SensorError as exc:  # no unit without a sensor profile: say so at once
                    self._error = str(exc)
        self._seen_data = True
        if parsed.fmt == "teleplot":
            self._teleplot(parsed, host_t_ns, samples, events)
            return
        if parsed.columns is not None:  # csv: columns become values once the layout is known
            if self._columns and len(parsed.columns) != self._columns:
                self._malformed(raw)
                if not self._has_ts:
                    self.clock.add(host_t_ns)  # a sample slot all the same: keeps the line rate unbiased
                return
            values = {"_dotted": float(parsed.dotted), **{f"c{i}": v for i, v in enumerate(parsed.columns)}}
            if self._csv_sep is None:
                self._csv_sep = b"," if "," in text else (b"\t" if "\t" in text else b" ")
            samples.append(_Sample(values, host_t_ns))
        else:
            samples.append(_Sample(dict(parsed.values), host_t_ns))
        for key, unit in parsed.units.items():
            self._named_units.setdefault(key, unit)

    def _unusable(self, text: str, raw: bytes, events: list[Event]) -> None:
        if text.startswith("ERR"):
            self.stats["error_lines"] += 1
            events.append(LogMessage(t_ns=max(self._last_t, 0), level="error", text=text))
        elif self._line_fmt == "csv" and ln.numbers(text) is not None:
            self._malformed(raw)
            return
        elif not self._seen_data:
            self.stats["header_lines"] += 1
            tokens = [t for t in re.split(r"[,\t ]+", text) if t]
            m = _HEADER_UNIT.search(tokens[0].lower()) if tokens else None
            self._header_unit = m.group(1).replace("µ", "u") if m else self._header_unit
            for key, unit in header_units(tokens if "," not in text else [t for t in text.split(",") if t]).items():
                self._named_units.setdefault(key, unit)  # 'ax_g,...,gx_dps' or 'ax (g),...': the header names units
        else:
            self.stats["other_lines"] += 1
        self.stats["bytes_discarded"] += len(raw) + 1

    def _malformed(self, raw: bytes) -> None:
        self.stats["malformed_lines"] += 1
        self.stats["bytes_discarded"] += len(raw) + 1

    def _teleplot(self, parsed: ln.ParsedLine, host_t_ns: int, samples: list[_Sample], events: list[Event]) -> None:
        """Teleplot sends one variable per line: a sample is complete when a variable repeats."""
        axis = next((k for k in parsed.values if k != "t"), None)
        if axis is None:  # a Teleplot variable that is no IMU axis (>temp:25)
            self.stats["other_lines"] += 1
            return
        if axis in self._group:
            self._complete_group(host_t_ns, events, samples)
        self._group.update(parsed.values)
        for key, unit in parsed.units.items():
            self._named_units.setdefault(key, unit)

    def _complete_group(self, host_t_ns: int, events: list[Event], samples: list[_Sample] | None = None) -> None:
        group, self._group = self._group, {}
        if not all(k in group for k in ln.AXES[:3]):
            self.stats["malformed_lines"] += 1
            return
        sample = _Sample(group, host_t_ns)
        if samples is None:
            self._take([sample], events)
        else:
            samples.append(sample)

    def _thermal_line(self, text: str, host_t_ns: int, samples: list[_Sample], events: list[Event]) -> bool:
        """MLX90640_simpletest frame lines (separator, rows). True if the line was one."""
        used, frame = self._frames.line(text)
        self.stats["thermal_bad_frames"] = self._frames.bad_frames
        if frame is not None:
            if samples:  # IMU lines of this chunk come before the frame
                self._take(samples, events)
                samples.clear()
            self._frame(frame, host_t_ns, events)
        return used

    def _frame(self, temp_c: np.ndarray, host_t_ns: int, events: list[Event]) -> None:
        self.stats["thermal_frames"] += 1
        if not self._settled and (self._probe or len(self._held_frames) < 1):
            self._held_frames.append((temp_c, len(self._probe), host_t_ns))  # placed once the IMU clock is known
            return
        for held, _, host in self._held_frames:  # thermal only so far: no IMU lines to wait for
            events.append(ThermalFrame(t_ns=self._frame_time(0, host), temp_c=held, host_t_ns=host))
        self._held_frames = []
        events.append(ThermalFrame(t_ns=self._frame_time(self.stats["imu_samples"], host_t_ns), temp_c=temp_c,
                                   host_t_ns=host_t_ns))

    def _frame_time(self, imu_before: int, host_t_ns: int, probe: list[_Sample] | None = None) -> int:
        """Device time of a thermal frame printed after ``imu_before`` IMU lines."""
        if not self._settled or (not self.stats["imu_samples"] and not probe):
            return max(0, host_t_ns - (self._first_host or host_t_ns))  # thermal only: host clock from first byte
        if self._has_ts:
            return max(probe[max(imu_before - 1, 0)].t_ns if probe else self._last_t, 0)
        return self.clock.time_of(imu_before)

    # ------------------------------------------------------------------ samples
    def _take(self, samples: list[_Sample], events: list[Event]) -> None:
        if self._settled:
            self._emit(samples, events)
            return
        self._probe.extend(samples)
        for s in samples:
            s.index = self.clock.index
            self.clock.add(s.host_t_ns)
        # units come from the first second of data (a few lines of a slow wobble, or of data with gravity removed,
        # can look like a steady 1 g); the line rate needs 1-2 s of arrival times
        host_s, n = self.clock.span_s(), len(self._probe)
        if n >= _PROBE_LINES and (host_s >= 2.0 or (host_s >= 1.0 and n >= 20) or self._probe_device_s() >= 1.0):
            self._settle(events)

    def _probe_device_s(self) -> float:
        """Device seconds the held lines span, where their timestamps or ``--rate`` tell it (else 0)."""
        first = self._probe[0].values
        if "t" in first or ("c0" in first and _csv_layout(self._probe)[1]):
            key = "t" if "t" in first else "c0"
            ts = np.array([s.values.get(key, np.nan) for s in self._probe], dtype=np.float64)
            hosts = np.array([s.host_t_ns for s in self._probe], dtype=np.float64)
            unit = self.ts_unit if self.ts_unit != "auto" else self._header_unit
            unit = unit or ("ms" if self.fmt == "teleplot" else
                            timestamp_unit(ts, hosts, any(s.values.get("_dotted") for s in self._probe)))
            return float(np.nanmax(ts) - np.nanmin(ts)) * UNIT_NS[unit] / 1e9
        return (n - 1) / self._given_rate if (n := len(self._probe)) and self._given_rate else 0.0

    def _settle(self, events: list[Event]) -> None:
        """Learn layout, timestamp unit, units and rate from the held lines, then emit them."""
        probe, self._probe = self._probe, []
        if probe and "c0" in probe[0].values:
            columns, has_ts = _csv_layout(probe)
            if columns - int(has_ts) < 3:
                self.stats["malformed_lines"] += len(probe)
                return
            self._columns, self._has_ts = columns, has_ts
            self._sep = self._csv_sep
            kept = [s for s in probe if len(s.values) - 1 == columns]
            self.stats["malformed_lines"] += len(probe) - len(kept)
            probe = [self._csv_values(s) for s in kept]
        else:
            self._has_ts = bool(probe) and "t" in probe[0].values
        self._settled = True
        try:
            self._choose_units(probe, events)
        except SensorError as exc:
            self._error = str(exc)
            return
        if self._has_ts:
            self._unit_ns = self._timestamp_unit(probe)
            rate = self._ts_rate(probe)
        else:
            if not self.clock.fixed:
                self.clock.refit()
                if not self.clock.period_ns:
                    self.clock.period_ns = 1e7
                    log.warning("no arrival times to measure the line rate; assuming 100 Hz (pass --rate)")
            rate = self.clock.rate_hz
        self.info = DeviceInfo(imu_rate_hz=rate, extra=self._info_extra())
        events.append(self.info)
        held, self._held_frames = self._held_frames, []
        if probe:
            if not self._has_ts:
                for s in probe:
                    s.t_ns = self.clock.time_of(s.index)
            self._emit(probe, events, timed=not self._has_ts)
        for temp_c, before, host in held:
            t_ns = self._frame_time(min(before, len(probe)), host, probe)
            events.append(ThermalFrame(t_ns=t_ns, temp_c=temp_c, host_t_ns=host))

    def _csv_values(self, s: _Sample) -> _Sample:
        return _Sample(self._csv_dict([s.values[f"c{i}"] for i in range(self._columns)]), s.host_t_ns, s.t_ns,
                       s.index)

    def _csv_dict(self, cols: list[float]) -> dict[str, float]:
        """Columns of a CSV line with the learnt layout -> ``t``, ``ax`` .. ``gz``."""
        values = dict(zip(ln.AXES, cols[int(self._has_ts):][:6], strict=False))
        if self._has_ts:
            values["t"] = cols[0]
        if len(cols) - int(self._has_ts) > 6:
            self.stats["extra_columns"] += 1
        return values

    def _choose_units(self, probe: list[_Sample], events: list[Event]) -> None:
        if not probe:
            return
        named_acc, named_gyr = self._named_units.get("accel"), self._named_units.get("gyro")
        self._has_gyro = bool(probe) and "gx" in probe[0].values
        if named_acc == "counts":
            if (self.units.accel_unit, self.units.gyro_unit) != ("auto", "auto"):
                raise SensorError(f"the lines are raw counts ({self.fmt}), scaled by the sensor profile; drop "
                                  "--accel-unit/--gyro-unit and give --sensor (with --accel-range/--gyro-range).")
            acc_lsb, gyr_lsb, how = raw_count_scale(self.units, self.fmt)
            self._scale = np.array([acc_lsb] * 3 + [gyr_lsb] * 3)
            self._unit_info = {"accel_unit": "counts", "gyro_unit": "counts", "unit_source": how}
            events.append(LogMessage(0, "info", f"units: raw {how}"))
            return
        acc = np.array([[s.values.get(k, np.nan) for k in ln.AXES[:3]] for s in probe], dtype=np.float64)
        mags = np.linalg.norm(acc, axis=1) if len(acc) else np.zeros(0)
        acc_unit, acc_how, warning = choose_accel_unit(self.units, named_acc, mags)
        gyr_unit, gyr_how, note = choose_gyro_unit(self.units, named_gyr)
        self._scale = np.array([ACCEL_UNITS[acc_unit]] * 3 + [GYRO_UNITS[gyr_unit]] * 3)
        self._unit_info = {"accel_unit": acc_unit, "accel_unit_source": acc_how, "gyro_unit": gyr_unit,
                           "gyro_unit_source": gyr_how}
        events.append(LogMessage(0, "info", f"units: accelerometer {acc_unit} ({acc_how}), gyroscope {gyr_unit} "
                                             f"({gyr_how})"))
        for text in (warning, note if self._has_gyro else None):
            if text:
                log.warning(text)
                events.append(LogMessage(0, "warning", text))

    def _timestamp_unit(self, probe: list[_Sample]) -> int:
        unit = self.ts_unit if self.ts_unit != "auto" else self._header_unit
        if unit is None and self.fmt == "teleplot":
            unit = "ms"  # Teleplot timestamps are milliseconds
        ts = np.array([s.values["t"] for s in probe], dtype=np.float64)
        hosts = np.array([s.host_t_ns for s in probe], dtype=np.float64)
        dotted = any(s.values.get("_dotted") for s in probe)
        return UNIT_NS[unit or timestamp_unit(ts, hosts, dotted)]

    def _ts_rate(self, probe: list[_Sample]) -> float:
        ts = np.array([s.values["t"] for s in probe], dtype=np.float64)
        d = np.diff(ts)
        d = d[d > 0]
        return float(1e9 / (np.median(d) * self._unit_ns)) if len(d) else 0.0

    def _info_extra(self) -> dict[str, object]:
        extra: dict[str, object] = {"format": self.fmt, "timestamp_column": self._has_ts,
                                    "timestamp_unit_ns": self._unit_ns, "has_gyro": self._has_gyro,
                                    **self._unit_info}
        if self._columns:
            extra["columns"] = self._columns
        return extra

    def _emit(self, samples: list[_Sample], events: list[Event], timed: bool = False) -> None:
        if self._error:
            return
        if self._columns:
            samples = [self._csv_values(s) if "c0" in s.values else s for s in samples]
        keep: list[_Sample] = []
        for s in samples:
            if not all(k in s.values for k in ln.AXES[:3]) or (self._has_gyro and "gx" not in s.values):
                self.stats["malformed_lines"] += 1
                continue
            if self._has_ts:
                if not self._stamp(s, events):
                    continue
            elif not timed:
                s.t_ns, gap = self.clock.add(s.host_t_ns)
                if gap:
                    self._gap(gap, "pause", s.t_ns, events)
            keep.append(s)
            self._last_t, self._last_host = s.t_ns, s.host_t_ns
        if not keep:
            return
        cols = ln.AXES if self._has_gyro else ln.AXES[:3]
        arr = np.array([[s.values[k] for k in cols] for s in keep], dtype=np.float64) * self._scale[: len(cols)]
        accel = arr[:, :3].astype(np.float32)
        gyro = arr[:, 3:6].astype(np.float32) if self._has_gyro else np.zeros((len(arr), 3), np.float32)
        self.stats["lines_ok"] += len(arr)
        self.stats["imu_samples"] += len(arr)
        t_ns = np.array([s.t_ns for s in keep], dtype=np.int64)
        events.append(ImuBatch(t_ns=t_ns, accel_mps2=accel, gyro_rads=gyro, host_t_ns=keep[-1].host_t_ns,
                               has_gyro=self._has_gyro))

    def _stamp(self, s: _Sample, events: list[Event]) -> bool:
        """Device time from the timestamp column; a clock that restarted opens a new segment. False: skip."""
        raw = round(s.values["t"] * self._unit_ns)
        t = raw + self._offset_ns
        if t <= self._last_t:
            if self._last_t - t < _REBOOT_BACK_NS or self._last_t < 0:
                self.stats["non_monotonic"] += 1
                return False
            # the device clock restarted (reboot, watchdog): resume after the host time that passed
            period = int(1e9 / self.info.imu_rate_hz) if self.info and self.info.imu_rate_hz else 1
            elapsed = s.host_t_ns - self._last_host if s.host_t_ns and self._last_host else 0
            self._offset_ns = self._last_t + max(period, elapsed) - raw
            t = raw + self._offset_ns
            self.stats["device_reboots"] += 1
            self._gap(max(period, elapsed), "device reboot", t, events)
        s.t_ns = t
        return True

    def _gap(self, gap_ns: int, reason: str, t_ns: int, events: list[Event]) -> None:
        rate = self.rate_hz or 0.0
        missing = max(0, round(gap_ns * rate / 1e9) - 1) if reason == "pause" else 0
        self.stats["pauses"] += reason == "pause"
        events.append(Gap(stream="imu", missing=missing, reason=reason, t_ns=t_ns, duration_ns=int(gap_ns)))


def _csv_layout(probe: list[_Sample]) -> tuple[int, bool]:
    """(column count, first column is a timestamp) of CSV lines: the commonest count; ``3k + 1`` columns whose
    first column increases (on 90 % of lines) carry a timestamp."""
    counts = [sum(1 for k in s.values if k.startswith("c")) for s in probe]
    columns = max(set(counts), key=counts.count)
    first = [s.values["c0"] for s in probe if len(s.values) - 1 == columns]
    increasing = len(first) < 2 or float(np.mean(np.diff(first) > 0)) >= 0.9
    return columns, columns % 3 == 1 and columns >= 4 and increasing


class CsvDecoder(TextDecoder):
    """:class:`TextDecoder` for numeric lines only (Edge Impulse data forwarder style)."""

    def __init__(self, rate_hz: float | None = None, units: UnitOptions | None = None, ts_unit: str = "auto") -> None:
        super().__init__("csv", rate_hz=rate_hz, units=units, ts_unit=ts_unit)
