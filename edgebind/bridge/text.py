"""Pure decoder for text lines as the Edge Impulse data forwarder reads them: ``CsvDecoder().feed(bytes)``.

A line holds numbers separated by commas, tabs or spaces. The column count is learnt from the first lines:

* ``3k + 1`` columns whose first column increases: the first column is a timestamp. Its unit comes from a header
  line (``t_us``, ``time_ms``, ``timestamp_s`` ...), else from the numbers: values with a decimal point are
  seconds, integers are microseconds when consecutive lines differ by more than 100, else milliseconds.
* then 3 data columns are accelerometer x, y, z; 6 or more are accelerometer then gyroscope (extra columns
  are ignored and counted). Values are multiplied by ``accel_scale``/``gyro_scale`` to reach m/s^2 and rad/s.
* without a timestamp column, device time is the line index divided by the rate: ``rate_hz`` when given, else
  the line rate measured from host arrival times over the first second.

Lines with another column count, unparsable numbers or a timestamp that does not increase are counted in
``malformed_lines`` / ``non_monotonic`` and skipped. The decoder never raises on bad input.
"""

from __future__ import annotations

import re

import numpy as np

from edgebind.bridge.events import DeviceInfo, Event, ImuBatch

CSV_COUNTERS = (
    "bytes_in",
    "lines_ok",
    "malformed_lines",  # wrong column count or not numbers
    "non_monotonic",  # timestamp did not increase (line skipped)
    "header_lines",
    "bytes_discarded",  # bytes of skipped lines, and of an over-long line
    "extra_columns",  # lines whose columns past the sixth were ignored
    "imu_samples",
)

_SPLIT = re.compile(r"[,\t ]+")
_PROBE_LINES = 8
_MAX_LINE = 4096
_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_HEADER_UNIT = re.compile(r"(?:^|[_\[( ])(ns|us|µs|ms|s)[\])]?$")


class CsvDecoder:
    """Decode numeric text lines into :class:`ImuBatch` events.

    Args:
        rate_hz: sample rate when lines carry no timestamp. Defaults to measuring the line rate.
        accel_scale: factor from the printed accelerometer unit to m/s^2. Defaults to 1.0 (already m/s^2).
        gyro_scale: factor from the printed gyroscope unit to rad/s. Defaults to 1.0.
        ts_unit: ``s``, ``ms``, ``us``, ``ns`` or ``auto`` for the timestamp column. Defaults to auto.
    """

    fmt = "csv"

    def __init__(
        self, rate_hz: float | None = None, accel_scale: float = 1.0, gyro_scale: float = 1.0, ts_unit: str = "auto"
    ) -> None:
        self.stats: dict[str, int] = dict.fromkeys(CSV_COUNTERS, 0)
        self.rate_hz = rate_hz
        self.accel_scale, self.gyro_scale = accel_scale, gyro_scale
        self.ts_unit = ts_unit
        self.info: DeviceInfo | None = None
        self._buf = bytearray()
        self._columns = 0
        self._has_ts = False
        self._unit_ns = 0
        self._header_unit: str | None = None
        self._probe: list[tuple[list[float], int, bool]] = []  # values, host_t_ns, had decimal point
        self._last_t = -np.inf
        self._index = 0
        self._first_host_ns: int | None = None
        self._nonprintable = 0
        self._numeric_seen = 0
        self._sep: bytes | None = None
        self._zeros = 0

    def reset(self) -> None:
        """Forget a partial line (after a reconnect); keeps the learnt layout and counters."""
        self.stats["bytes_discarded"] += len(self._buf)
        self._buf.clear()

    def problem(self) -> str | None:
        """A diagnosis when the input is not text lines (else None)."""
        if self.stats["lines_ok"] or self.stats["bytes_in"] < 256:
            return None
        if self._zeros:
            return (
                f"{self.stats['bytes_in']} bytes arrived without one numeric text line and with {self._zeros} "
                "0x00 bytes: this looks like the binary edgebind protocol read as CSV; use --format binary "
                "(or auto)."
            )
        if self._nonprintable * 10 > self.stats["bytes_in"]:
            return (
                f"{self.stats['bytes_in']} bytes arrived without one numeric text line and "
                f"{self._nonprintable} of them are not printable: the baud rate is probably wrong; try --baud "
                "115200 (Edge Impulse default) or the rate in your firmware's Serial.begin()."
            )
        return None

    def flush(self, host_t_ns: int = 0) -> list[Event]:
        """Emit lines still held while the layout was being learnt (call at end of stream)."""
        events: list[Event] = []
        if self._probe:
            self._settle(host_t_ns, force=True, events=events)
        return events

    def feed(self, data: bytes, host_t_ns: int = 0) -> list[Event]:
        """Decode ``data`` and return the events for every complete line.

        Args:
            data: any number of bytes from the link.
            host_t_ns: host monotonic time (ns) at which ``data`` arrived.

        Returns:
            A DeviceInfo once the layout is known, then ImuBatch events (one per call with lines).
        """
        self.stats["bytes_in"] += len(data)
        if not self.stats["lines_ok"]:
            self._zeros += data.count(0)
            self._nonprintable += sum(1 for b in data if b > 126 or (b < 32 and b not in (9, 10, 13)))
        self._buf += data
        events: list[Event] = []
        if b"\n" not in data:
            if len(self._buf) > _MAX_LINE:
                self.stats["bytes_discarded"] += len(self._buf)
                self.stats["malformed_lines"] += 1
                self._buf.clear()
            return events
        *lines, rest = bytes(self._buf).split(b"\n")
        self._buf = bytearray(rest)
        rows: list[tuple[list[float], bool]] = []
        for raw in lines:
            parsed = self._parse(raw)
            if parsed is not None:
                rows.append(parsed)
        if self._columns == 0:
            self._probe.extend((v, host_t_ns, dot) for v, dot in rows)
            self._settle(host_t_ns, force=False, events=events)
        elif rows:
            self._emit(rows, host_t_ns, events)
        return events

    def _parse(self, raw: bytes) -> tuple[list[float], bool] | None:
        if self._columns and self._sep:  # fast path once the layout is known: float() takes bytes
            try:
                values = list(map(float, raw.split(self._sep)))
            except ValueError:
                pass  # empty, header-like or irregular separators: the general path below decides
            else:
                if len(values) == self._columns:
                    self._numeric_seen += 1
                    return values, False
        text = raw.strip(b"\r \t\x00").decode("ascii", errors="replace")
        if not text:
            return None
        tokens = _SPLIT.split(text)
        try:
            values = [float(t) for t in tokens]
        except ValueError:
            if not self._numeric_seen and all(t and t[0].isalpha() for t in tokens):
                self.stats["header_lines"] += 1
                m = _HEADER_UNIT.search(tokens[0].lower())
                self._header_unit = m.group(1).replace("µ", "u") if m else None
                return None
            self.stats["malformed_lines"] += 1
            self.stats["bytes_discarded"] += len(raw) + 1
            return None
        if self._columns and len(values) != self._columns:
            self.stats["malformed_lines"] += 1
            self.stats["bytes_discarded"] += len(raw) + 1
            return None
        self._numeric_seen += 1
        if self._sep is None:
            self._sep = b"," if "," in text else (b"\t" if "\t" in text else b" ")
        return values, "." in tokens[0]

    def _settle(self, host_t_ns: int, force: bool, events: list[Event]) -> None:
        """Learn column count, timestamp column and unit (and the line rate) from the probe lines."""
        if not self._probe or (len(self._probe) < _PROBE_LINES and not force):
            return
        counts = [len(v) for v, _, _ in self._probe]
        columns = max(set(counts), key=counts.count)
        first = np.array([v[0] for v, _, _ in self._probe if len(v) == columns])
        # a timestamp column increases (allow a few bad lines among the probe lines)
        has_ts = columns % 3 == 1 and (len(first) < 2 or float(np.mean(np.diff(first) > 0)) >= 0.9)
        if columns - int(has_ts) < 3:
            if force or len(self._probe) > 4 * _PROBE_LINES:
                self.stats["malformed_lines"] += len(self._probe)
                self._probe.clear()
            return
        if not has_ts and self.rate_hz is None:
            hosts = [t for _, t, _ in self._probe]
            if self._first_host_ns is None:
                self._first_host_ns = hosts[0]
            span_s = (hosts[-1] - self._first_host_ns) / 1e9
            if span_s < 1.0 and not force:
                return
            self.rate_hz = round(len(self._probe) / span_s, 1) if span_s > 0 else 100.0
        self._columns, self._has_ts = columns, has_ts
        if has_ts:
            self._unit_ns = self._timestamp_unit(first, any(d for _, _, d in self._probe))
        self.info = DeviceInfo(
            imu_rate_hz=self._rate_from(first) if has_ts else float(self.rate_hz or 0.0),
            extra={"format": "csv", "columns": columns, "timestamp_column": has_ts,
                   "timestamp_unit_ns": self._unit_ns, "has_gyro": columns - int(has_ts) >= 6},
        )
        events.append(self.info)
        probe, self._probe = self._probe, []
        rows = []
        for values, _, dot in probe:
            if len(values) == columns:
                rows.append((values, dot))
            else:
                self.stats["malformed_lines"] += 1
        if rows:
            self._emit(rows, host_t_ns, events)

    def _timestamp_unit(self, first: np.ndarray, dotted: bool) -> int:
        unit = self.ts_unit if self.ts_unit != "auto" else self._header_unit
        if unit is None:
            step = float(np.median(np.diff(first))) if len(first) > 1 else 0.0
            unit = "s" if dotted else ("us" if step > 100 else "ms")
        return _UNIT_NS[unit]

    def _rate_from(self, first: np.ndarray) -> float:
        if len(first) < 2:
            return 0.0
        return float(1e9 / (np.median(np.diff(first)) * self._unit_ns))

    def _emit(self, rows: list[tuple[list[float], bool]], host_t_ns: int, events: list[Event]) -> None:
        arr = np.array([v for v, _ in rows], dtype=np.float64)  # (n, columns)
        if self._has_ts:
            t_ns = np.round(arr[:, 0] * self._unit_ns).astype(np.int64)
            keep = np.ones(len(t_ns), bool)
            last = self._last_t
            for i, t in enumerate(t_ns):  # keep only strictly increasing timestamps
                if t <= last:
                    keep[i] = False
                else:
                    last = t
            self.stats["non_monotonic"] += int((~keep).sum())
            self._last_t = last
            arr, t_ns = arr[keep], t_ns[keep]
            data = arr[:, 1:]
        else:
            period_ns = 1e9 / float(self.rate_hz or 1.0)
            idx = self._index + np.arange(len(arr), dtype=np.int64)
            t_ns = np.round(idx * period_ns).astype(np.int64)
            self._index += len(arr)
            data = arr
        if len(data) == 0:
            return
        if data.shape[1] > 6:
            self.stats["extra_columns"] += len(data)
        has_gyro = data.shape[1] >= 6
        accel = (data[:, :3] * self.accel_scale).astype(np.float32)
        gyro = (data[:, 3:6] * self.gyro_scale).astype(np.float32) if has_gyro else np.zeros((len(data), 3), np.float32)
        self.stats["lines_ok"] += len(data)
        self.stats["imu_samples"] += len(data)
        events.append(ImuBatch(t_ns=t_ns, accel_mps2=accel, gyro_rads=gyro, host_t_ns=host_t_ns, has_gyro=has_gyro))
