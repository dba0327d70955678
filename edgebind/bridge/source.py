"""``SensorSource``: the one entry point other rooms use to read a sensor link (device, simulator or URL).

    with SensorSource("/dev/ttyACM0") as src:
        for event in src.events():
            ...

It owns a :class:`SerialTransport` (thread that only moves bytes), a pure decoder (binary, CSV or auto) and a
:class:`ClockEstimator`; decoding happens in the consumer's thread, inside :meth:`SensorSource.events`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from edgebind.bridge import protocol as p
from edgebind.bridge.clock import ClockEstimator, pair_event
from edgebind.bridge.detect import FORMATS, AutoDecoder, make_decoder
from edgebind.bridge.events import Event, Gap, LogMessage
from edgebind.bridge.text import TEXT_FORMATS
from edgebind.bridge.transport import RECONNECTED, SerialTransport
from edgebind.bridge.units import UnitOptions, raw_count_scale
from edgebind.errors import ConfigError, SensorError, suggest

log = logging.getLogger(__name__)


class SensorSource:
    """Decoded sensor events in device time from a serial port or pyserial URL.

    Args:
        url: device path (``/dev/ttyACM0``), simulator pty, or pyserial URL (``loop://``, ``socket://h:p``).
        baud: line rate; USB-CDC devices ignore it. Defaults to 921600.
        fmt: ``auto``, ``binary`` or a text format (``csv``, ``plotter``, ``teleplot``, ``sparkfun``,
            ``i2cdevlib``). Defaults to auto (sniffed from the first bytes).
        rate_hz: IMU rate for text lines without timestamps; for binary devices it is sent as ``set_rate``.
            Defaults to None (measured line rate / the device's own rate).
        units: unit flags and sensor profile for text lines. Defaults to auto units.
        queue_bytes: bytes the reader thread may hold before dropping the oldest. Defaults to 1 MiB.
        reconnect: reopen the port with backoff when the device disappears. Defaults to True.
        read_every_s: let bytes gather this long between reads (fewer wake-ups, up to this much more latency).
            Defaults to 0 (read as bytes arrive).
        wait_for_device: a port that is not there yet is waited for (logged once) instead of an error; streaming
            starts when it appears. Needs ``reconnect``. Defaults to False.

    On enter (and after each reconnect) a binary or auto source sends ``start`` (and ``set_rate`` when
    ``rate_hz`` is given): the reference firmware and the simulator stream only after ``start``.
    """

    def __init__(self, url: str, *, baud: int = 921600, fmt: str = "auto", rate_hz: float | None = None,
                 queue_bytes: int = 1 << 20, reconnect: bool = True, units: UnitOptions | None = None,
                 read_every_s: float = 0.0, wait_for_device: bool = False) -> None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown stream format '{fmt}'.{suggest(fmt, FORMATS)} Use {', '.join(FORMATS)}.")
        if baud <= 0 or queue_bytes <= 0:
            raise ConfigError(f"baud ({baud}) and queue_bytes ({queue_bytes}) must be positive.")
        if wait_for_device and not reconnect:
            raise ConfigError("wait_for_device needs reconnect=True (a device that appears late may also go away).")
        self.url, self.baud, self.fmt, self.rate_hz = url, baud, fmt, rate_hz
        self.wait_for_device = wait_for_device
        self.units = units or UnitOptions()
        if self.units.sensor:
            raw_count_scale(self.units, fmt)  # an unknown sensor or range fails here, before the port opens
        self.decoder = make_decoder(fmt, rate_hz, self.units)
        self.clock = ClockEstimator()
        self.transport = SerialTransport(url, baud=baud, queue_bytes=queue_bytes, reconnect=reconnect,
                                         read_every_s=read_every_s)
        self._closed = threading.Event()
        self._cmd_seq = 0
        self._gap_disconnects = 0
        self._info_waiting = 0
        self._info_asked = 0.0
        self._appeared = False
        self.reboots = 0

    def __enter__(self) -> SensorSource:
        self.transport.start(wait=self.wait_for_device)
        try:
            if not self.transport.waited_at_start:  # else the device is started when it appears (_on_reconnect)
                self._start_device()
        except BaseException:
            self.transport.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the reader and close the port; :meth:`events` then drains what is queued and ends. Thread-safe."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self.fmt not in TEXT_FORMATS and self.transport._ser is not None:
            with contextlib.suppress(SensorError):
                self.send_command("stop")
        self.transport.close()

    @property
    def connected(self) -> bool:
        """True while the port is open; False while waiting for the device to appear or to come back."""
        return self.transport.connected

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed.is_set()

    @property
    def info(self) -> Any:
        """The DeviceInfo the device sent (binary) or the decoder inferred (CSV); None until known."""
        return self.decoder.info

    def _start_device(self) -> None:
        if self.fmt in TEXT_FORMATS:
            return
        self.send_command("start")
        if self.rate_hz is not None:
            self.send_command("set_rate", stream="imu", rate_hz=self.rate_hz)

    def send_command(self, cmd: str, **kwargs: Any) -> None:
        """Send a binary-protocol command: ``start``, ``stop``, ``set_rate`` (stream=, rate_hz=) or ``get_info``.

        Raises:
            ConfigError: unknown command or arguments.
            SensorError: the port cannot be written.
        """
        if cmd not in p.COMMANDS:
            raise ConfigError(f"unknown device command '{cmd}'.{suggest(cmd, p.COMMANDS)}")
        try:
            frame = p.encode_command(cmd, self._cmd_seq, **kwargs)
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"bad arguments for '{cmd}': {exc}. See firmware_bridge/PROTOCOL.md.") from exc
        self._cmd_seq += 1
        self.transport.write(p.DELIMITER + frame)

    def events(self, timeout_s: float = 1.0, on_tick: Callable[[], None] | None = None) -> Iterator[Event]:
        """Yield decoded events (device time, SI units) until the source is closed.

        Args:
            timeout_s: how long one wait for bytes lasts. The iterator ends only when the source is closed and
                no data arrived for this long; while open it keeps waiting. Defaults to 1.0.
            on_tick: called in this (the consumer's) thread before each wait for bytes, so at least every
                ``timeout_s`` even while no device is there: a watchdog fed by the loop it watches. Defaults to None.

        Raises:
            SensorError: the link failed for good, or the bytes are not the expected format (wrong baud rate,
                binary read as CSV); the message names the fix.
        """
        while True:
            if on_tick is not None:
                on_tick()
            chunks = self.transport.read(timeout_s)
            if not chunks:
                if self._closed.is_set() or self.transport.closed:
                    for event in self._flush():
                        yield event
                    problem = self.decoder.problem()
                    if problem:
                        raise SensorError(f"{self.url}: {problem}")
                    if self.transport.closed and not self._closed.is_set():
                        self.transport.read(0)  # re-raises the reader's error, if any
                    return
                continue
            for host_ns, data in chunks:
                if data == RECONNECTED:
                    yield from self._on_reconnect(host_ns)
                    continue
                for event in self.decoder.feed(data, host_ns):
                    self._pair_clock(event)
                    yield event
            self._request_info_if_missing()
            problem = self.decoder.problem()
            if problem:
                raise SensorError(f"{self.url}: {problem}")

    def _request_info_if_missing(self) -> None:
        """IMU frames without scale factors (INFO lost or sent before we listened): ask again, at most 2/s."""
        waiting = self.decoder.stats.get("imu_before_info", 0)
        now = time.monotonic()
        if waiting > self._info_waiting and now - self._info_asked > 0.5 and not self.transport.closed:
            self._info_asked = now
            try:
                self.send_command("get_info")
            except SensorError as exc:
                log.debug("get_info failed: %s", exc)
        self._info_waiting = waiting

    def _flush(self) -> list[Event]:
        flush = getattr(self.decoder, "flush", None)
        return list(flush()) if flush is not None else []

    def _on_reconnect(self, host_ns: int) -> Iterator[Event]:
        if self.transport.waited_at_start and not self._appeared:  # the awaited device is here: nothing to forget
            self._appeared = True
            log.info("%s appeared; streaming", self.url)
            self._start_after_open()
            return
        self.decoder.reset()
        self._gap_disconnects += 1
        yield LogMessage(t_ns=0, level="warning", text=f"{self.url} reconnected; partial frames dropped")
        yield Gap(stream="imu", missing=0, reason="disconnect", t_ns=0)
        self._start_after_open()

    def _start_after_open(self) -> None:
        if self.fmt not in TEXT_FORMATS:
            try:
                self._start_device()
            except SensorError as exc:
                log.warning("could not start the device after it (re)appeared: %s", exc)

    def _pair_clock(self, event: Event) -> None:
        if pair_event(self.clock, event):  # a device reboot: a new clock segment, the old pairs no longer apply
            self.reboots += 1

    @property
    def idle_s(self) -> float:
        """Seconds since bytes last arrived (since start when none have)."""
        last = self.transport.last_data_ns
        return (time.monotonic_ns() - last) / 1e9 if last else float("inf")

    @property
    def detected_format(self) -> str:
        """``binary`` or ``csv`` once known, else ``auto``."""
        dec = self.decoder
        if isinstance(dec, AutoDecoder):
            return dec.inner.fmt if dec.inner is not None else "auto"
        return dec.fmt

    @property
    def stats(self) -> dict[str, int]:
        """Every counter: transport (bytes, queue drops, reconnects), decoder (CRC, resyncs, gaps, ...), clock."""
        out = dict(self.transport.stats)
        out.update(self.decoder.stats)
        out.update(self.clock.stats())
        out["disconnect_gaps"] = self._gap_disconnects
        out["clock_resets"] = self.reboots
        return out
