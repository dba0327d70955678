"""The pyserial transport: ports opened only through ``serial.serial_for_url``, a reader thread that only moves
bytes into a bounded queue (drop-oldest, counted), reconnect with backoff, and errors that name the fix.

pyserial is imported lazily so ``import edgebind`` stays light (STYLE.md §1).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from edgebind.errors import ConfigError, SensorError

try:  # flush() on a pseudo-terminal whose other side has gone raises termios.error, which is not an OSError
    from termios import error as _termios_error

    _TERMIOS_ERRORS: tuple[type[BaseException], ...] = (_termios_error,)
except ImportError:  # Windows
    _TERMIOS_ERRORS = ()

log = logging.getLogger(__name__)

RECONNECTED = b""  # marker chunk: the link dropped and came back; partial frames must be forgotten
TRANSPORT_COUNTERS = ("bytes_read", "chunks_read", "queue_dropped_bytes", "queue_dropped_chunks", "reconnects",
                      "disconnects", "device_wait_ms")


def describe_open_error(url: str, exc: BaseException) -> str:
    """One line that says why ``url`` could not be opened and how to fix it (pyserial keeps the errno)."""
    code = getattr(exc, "errno", None)
    if code is None and isinstance(exc.__cause__, OSError):
        code = exc.__cause__.errno
    text = str(exc)
    if code == errno.EACCES or "Permission denied" in text:
        return (f"cannot open {url}: permission denied. Add your user to the 'dialout' group "
                "(sudo usermod -aG dialout $USER; log in again), or try 'edgebind demo' (a simulated device) first.")
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "exclusively lock" in text:
        return (f"cannot open {url}: the port is busy (another program holds it: a serial monitor, ModemManager, "
                f"another edgebind). Close it; 'fuser {url}' shows who has it.")
    if code == errno.ENOENT or "No such file" in text:
        return f"cannot open {url}: no such port. {_available_ports_hint()}"
    return f"cannot open {url}: {text}. Check the cable and the port name ({_available_ports_hint()})"


def _available_ports_hint() -> str:
    try:
        from serial.tools import list_ports

        ports = [p.device for p in list_ports.comports()]
    except Exception:  # listing is best-effort; the open error is what matters
        ports = []
    if ports:
        return f"Ports present: {', '.join(ports)}; or try 'edgebind demo' (a simulated device) without hardware."
    return ("No serial ports are present; plug the device in, or try 'edgebind demo' (a simulated device) or "
            "'edgebind simulate REC.npz --link /tmp/imu' without hardware.")


def ftdi_latency_hint(port: str, sysfs: Path = Path("/sys/bus/usb-serial/devices")) -> str | None:
    """A warning when ``port`` is an FTDI adapter whose latency timer is above 1 ms (default 16 ms), else None."""
    name = Path(port).resolve().name if port.startswith("/") else port
    timer = sysfs / name / "latency_timer"
    try:
        ms = int(timer.read_text().strip())
    except (OSError, ValueError):
        return None
    if ms <= 1:
        return None
    return (f"{port}: FTDI latency timer is {ms} ms, so bytes arrive in {ms} ms bursts; set it to 1 ms: "
            f"echo 1 | sudo tee {timer}")


def open_port(url: str, baud: int, timeout_s: float = 0.05) -> Any:
    """Open ``url`` with ``serial.serial_for_url`` (exclusive where the platform supports it).

    Raises:
        SensorError: the port is missing, busy, not permitted, or the URL is malformed; the message says the fix.
    """
    import serial

    kwargs: dict[str, Any] = {"baudrate": baud, "timeout": timeout_s, "write_timeout": 1.0}
    if "://" not in url:
        kwargs["exclusive"] = True
    try:
        return serial.serial_for_url(url, **kwargs)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise SensorError(describe_open_error(url, exc)) from exc


class SerialTransport:
    """A reader thread that moves bytes from the port into a bounded queue; nothing else happens on it.

    Args:
        url: a device path or pyserial URL (``loop://``, ``socket://host:port``, ``/dev/ttyACM0``).
        baud: line rate; ignored by USB-CDC devices. Defaults to 921600.
        queue_bytes: most bytes held; when full the oldest chunks are dropped and counted. Defaults to 1 MiB.
        reconnect: reopen the port with backoff when the device disappears. Defaults to True.
        read_every_s: after each read, let bytes gather this long before the next one: fewer, larger reads (and
            wake-ups of both threads) for up to this much more latency. Defaults to 0 (read as bytes arrive).
    """

    def __init__(self, url: str, baud: int = 921600, queue_bytes: int = 1 << 20, reconnect: bool = True,
                 read_every_s: float = 0.0) -> None:
        if read_every_s < 0:
            raise ConfigError(f"--read-every must be >= 0 seconds, got {read_every_s}; e.g. 0.02.")
        self.url, self.baud, self.queue_bytes, self.reconnect = url, baud, queue_bytes, reconnect
        self.read_every_s = read_every_s
        self.stats: dict[str, int] = dict.fromkeys(TRANSPORT_COUNTERS, 0)
        self._chunks: deque[tuple[int, bytes]] = deque()
        self._held = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._error: BaseException | None = None
        self._ser: Any = None
        self._thread: threading.Thread | None = None
        self.last_data_ns = 0
        self.waited_at_start = False  # start(wait=True) found no port: the reader thread opens it when it appears

    def start(self, wait: bool = False) -> SerialTransport:
        """Open the port (errors raise here, in the caller's thread) and start the reader thread.

        Args:
            wait: when the port cannot be opened yet (not plugged in), log that once and let the reader thread open
                it when it appears instead of raising; its first chunk is then :data:`RECONNECTED`. Needs
                ``reconnect``. Defaults to False.
        """
        try:
            self._ser = open_port(self.url, self.baud)
        except SensorError as exc:
            if not wait or not self.reconnect:
                raise
            log.warning("waiting for %s to appear (%s)", self.url, exc)
            self.waited_at_start = True
        hint = ftdi_latency_hint(self.url) if self._ser is not None else None
        if hint:
            log.warning(hint)
        self._thread = threading.Thread(target=self._run, name=f"edgebind-reader {self.url}", daemon=True)
        self._thread.start()
        return self

    @property
    def connected(self) -> bool:
        """True while the port is open (False while waiting for the device to appear or come back)."""
        return self._ser is not None

    @property
    def closed(self) -> bool:
        """True after :meth:`close` or once the reader thread ended with an error."""
        return self._stop.is_set() or (self._thread is not None and not self._thread.is_alive())

    def close(self) -> None:
        """Stop the thread (Event + ``cancel_read``) and close the port. Safe to call twice."""
        self._stop.set()
        ser = self._ser
        if ser is not None and hasattr(ser, "cancel_read"):
            with contextlib.suppress(Exception):  # the port may already be gone
                ser.cancel_read()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        if ser is not None:
            with contextlib.suppress(Exception):
                ser.close()
        with self._cond:
            self._cond.notify_all()

    def write(self, data: bytes) -> None:
        """Send bytes to the device (thread-safe).

        Raises:
            SensorError: the port is not open (disconnected and not yet back).
        """
        import serial

        with self._write_lock:
            ser = self._ser
            if ser is None:
                raise SensorError(f"cannot write to {self.url}: the device is disconnected; wait for the reconnect.")
            try:
                ser.write(data)
                ser.flush()
            except (serial.SerialException, OSError, *_TERMIOS_ERRORS) as exc:
                raise SensorError(f"cannot write to {self.url}: {exc}. Is the device still connected?") from exc

    def read(self, timeout_s: float) -> list[tuple[int, bytes]]:
        """Take every queued chunk ``(host_t_ns, data)``, waiting up to ``timeout_s`` for the first.

        A chunk equal to :data:`RECONNECTED` marks a reconnect.

        Raises:
            SensorError: the reader thread failed (the device vanished and ``reconnect`` is off, or reopening
                failed for good); re-raised here, in the consumer, once the queue is drained.
        """
        with self._cond:
            if not self._chunks and not self._stop.is_set() and self._error is None:
                self._cond.wait(timeout_s)
            chunks = list(self._chunks)
            self._chunks.clear()
            self._held = 0
            error = self._error
        if not chunks and error is not None:
            self._error = None
            raise SensorError(str(error)) from error
        return chunks

    def _put(self, chunk: bytes) -> None:
        now = time.monotonic_ns()
        with self._cond:
            self._chunks.append((now, chunk))
            self._held += len(chunk)
            while self._held > self.queue_bytes and len(self._chunks) > 1:
                _, old = self._chunks.popleft()
                self._held -= len(old)
                self.stats["queue_dropped_bytes"] += len(old)
                self.stats["queue_dropped_chunks"] += 1
            self.last_data_ns = now
            self._cond.notify_all()

    def _run(self) -> None:
        import serial

        if self._ser is None and not self._open_when_present():  # start(wait=True): the device is not there yet
            return
        while not self._stop.is_set():
            ser = self._ser
            try:
                data = ser.read(max(1, min(ser.in_waiting, 1 << 16)))
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                if self._stop.is_set():
                    return
                self.stats["disconnects"] += 1
                if not self.reconnect or not self._reopen(exc):
                    if self._stop.is_set():  # closed while waiting for the device: not an error
                        return
                    with self._cond:
                        self._error = SensorError(
                            f"lost {self.url}: {exc}. The device disconnected; reconnect it (or pass reconnect=True "
                            "to wait for it)." if not self.reconnect else
                            f"lost {self.url} and could not reopen it: {exc}."
                        )
                        self._cond.notify_all()
                    return
                continue
            if data:
                self.stats["bytes_read"] += len(data)
                self.stats["chunks_read"] += 1
                self._put(bytes(data))
                if self.read_every_s:
                    self._stop.wait(self.read_every_s)

    def _reopen(self, exc: BaseException) -> bool:
        """Close the dead port and reopen it with exponential backoff (50 ms .. 2 s) until stopped."""
        with self._write_lock:
            with contextlib.suppress(Exception):
                self._ser.close()
            self._ser = None
        log.warning("%s disconnected (%s); reconnecting", self.url, exc)
        if not self._open_when_present(count="reconnects"):
            return False
        log.warning("%s reconnected", self.url)
        return True

    def _open_when_present(self, count: str | None = None) -> bool:
        """Try to open the port with exponential backoff (50 ms .. 2 s) until it opens (True) or we are stopped;
        the time without a port adds to ``device_wait_ms``, ``count`` names a counter to increase on success, and a
        :data:`RECONNECTED` chunk marks the opening."""
        delay = 0.05
        t0 = time.monotonic_ns()
        try:
            while not self._stop.wait(delay):
                try:
                    ser = open_port(self.url, self.baud)
                except SensorError as err:
                    log.debug("opening %s failed: %s", self.url, err)
                    delay = min(2.0, delay * 2)
                    continue
                with self._write_lock:
                    self._ser = ser
                if count is not None:
                    self.stats[count] += 1
                self._put(RECONNECTED)
                return True
            return False
        finally:
            self.stats["device_wait_ms"] += (time.monotonic_ns() - t0) // 1_000_000
