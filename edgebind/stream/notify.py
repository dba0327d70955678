"""systemd's notify protocol (sd_notify(3)), spoken directly on the AF_UNIX datagram socket in ``$NOTIFY_SOCKET``.

    service = ServiceNotify.from_env("/dev/ttyACM0")   # None outside a Type=notify unit
    service.beat("waiting", alive=True)                # STATUS=..., WATCHDOG=1 while waiting for the device
    service.beat("streaming", alive=True)              # READY=1 the first time, then WATCHDOG=1 every interval/4
    service.stopping("SIGTERM")                        # STOPPING=1 on the way out

Each message is one datagram of ``KEY=VALUE`` lines. ``$NOTIFY_SOCKET`` is a filesystem path or, starting with
``@``, a Linux abstract address. ``$WATCHDOG_USEC`` asks for ``WATCHDOG=1`` at least every half of it; when
``$WATCHDOG_PID`` is set and is not this process, the watchdog is someone else's (sd_watchdog_enabled(3)).

The watchdog ping is not a timer thread: :meth:`ServiceNotify.beat` is called by the loop whose progress it vouches
for (the stream's reader loop, with ``alive`` saying that the inference threads are turning too), so a hung stream
stops pinging and systemd restarts it. Nothing here imports anything outside the standard library.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

WAIT_EXTEND_EVERY_S = 10.0  # without a watchdog, how often to extend the start timeout while waiting for a device


def socket_address(address: str) -> str | bytes:
    """The ``sendto`` address for a ``$NOTIFY_SOCKET`` value: a path, or ``@name`` as an abstract address.

    Raises:
        ValueError: the value is empty or not a Unix socket (systemd's ``vsock:`` addresses are not supported).
    """
    if address.startswith("@"):
        return b"\0" + address[1:].encode()
    if address.startswith("/"):
        return address
    raise ValueError(f"NOTIFY_SOCKET={address!r} is not an absolute path or an @abstract address; edgebind speaks "
                     "the notify protocol on AF_UNIX sockets only (unset NOTIFY_SOCKET to run without systemd).")


class Notifier:
    """Sends sd_notify messages to one socket; a failed send is logged once, never raised (the service goes on).

    Args:
        address: the ``$NOTIFY_SOCKET`` value.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        self._addr = socket_address(address)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # not inherited by children (PEP 446)
        self._warned = False
        self.sent = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier | None:
        """A notifier for ``$NOTIFY_SOCKET``, or None when it is unset (not started by systemd)."""
        address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
        return cls(address) if address else None

    def send(self, *fields: str) -> bool:
        """Send ``KEY=VALUE`` fields as one datagram; True when it went out."""
        try:
            self._sock.sendto("\n".join(fields).encode(), self._addr)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("cannot notify systemd on NOTIFY_SOCKET=%s: %s; going on without it", self.address, exc)
            return False
        self.sent += 1
        return True

    def close(self) -> None:
        self._sock.close()


def watchdog_interval_s(environ: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """``$WATCHDOG_USEC`` in seconds when the watchdog is this process's, else None (sd_watchdog_enabled(3)).

    Raises:
        ValueError: ``WATCHDOG_USEC`` or ``WATCHDOG_PID`` is not a positive integer.
    """
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    if not usec:
        return None
    if not usec.isdigit() or int(usec) <= 0:
        raise ValueError(f"WATCHDOG_USEC={usec!r} is not a positive number of microseconds; set WatchdogSec= in "
                         "the unit (systemd sets WATCHDOG_USEC from it).")
    owner = env.get("WATCHDOG_PID", "")
    if owner:
        if not owner.isdigit():
            raise ValueError(f"WATCHDOG_PID={owner!r} is not a process id.")
        if int(owner) != (os.getpid() if pid is None else pid):
            return None
    return int(usec) / 1e6


class ServiceNotify:
    """What systemd hears from a stream: STATUS on each change, READY once streaming, WATCHDOG while alive.

    Args:
        notifier: where the messages go.
        what: the device, named in STATUS lines.
        watchdog_s: ``$WATCHDOG_USEC`` in seconds, or None when no watchdog is asked for.
        clock: monotonic seconds. Defaults to ``time.monotonic``.

    ``WATCHDOG=1`` goes out every ``watchdog_s / 4`` while :meth:`beat` is called with ``alive`` (the requirement is
    every ``watchdog_s / 2``; the margin covers the caller's own period). Before READY, each ping also extends the
    start timeout (``EXTEND_TIMEOUT_USEC``), so waiting for a device that is not plugged in never fails the start.
    """

    def __init__(self, notifier: Notifier, what: str, watchdog_s: float | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.notifier, self.what, self.watchdog_s, self.clock = notifier, what, watchdog_s, clock
        self.ready = False
        self.state = ""
        self.pings = 0
        self._last_ping = self._last_status = float("-inf")
        self._every_s = watchdog_s / 4 if watchdog_s is not None else WAIT_EXTEND_EVERY_S

    @classmethod
    def from_env(cls, what: str, environ: Mapping[str, str] | None = None) -> ServiceNotify | None:
        """The stream's notifier under systemd (``$NOTIFY_SOCKET`` set), else None.

        Raises:
            ConfigError: ``$NOTIFY_SOCKET`` or ``$WATCHDOG_USEC`` holds a value systemd would not set.
        """
        from edgebind.errors import ConfigError

        try:
            notifier = Notifier.from_env(environ)
            if notifier is None:
                return None
            return cls(notifier, what, watchdog_interval_s(environ))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc

    def beat(self, state: str, alive: bool, detail: str = "") -> None:
        """Called by the loop it vouches for, at least every ``watchdog_s / 8``.

        Args:
            state: ``waiting`` (no device yet, or unplugged) or ``streaming`` (data is coming).
            alive: every other thread the service needs is turning; False withholds the watchdog ping.
            detail: appended to the STATUS line, sent on a state change and every ~10 s.
        """
        now = self.clock()
        fields: list[str] = []
        if state == "streaming" and not self.ready:
            self.ready = True
            fields.append("READY=1")
        status_due = state != self.state
        self.state = state
        if alive and now - self._last_ping >= self._every_s:
            if self.watchdog_s is not None:
                fields.append("WATCHDOG=1")
                self.pings += 1
            if not self.ready:
                extend_s = 3 * self._every_s if self.watchdog_s is None else self.watchdog_s
                fields.append(f"EXTEND_TIMEOUT_USEC={int(extend_s * 1e6)}")
            self._last_ping = now
        if status_due or (alive and now - self._last_status >= WAIT_EXTEND_EVERY_S):
            self._last_status = now
            text = f"waiting for {self.what}" if state == "waiting" else f"streaming {self.what}"
            fields.append(f"STATUS={text}" + (f": {detail}" if detail else ""))
        if fields:
            self.notifier.send(*fields)

    def stopping(self, why: str = "") -> None:
        """``STOPPING=1`` with a STATUS line saying why."""
        self.notifier.send("STOPPING=1", f"STATUS=stopping{': ' + why if why else ''}")

    def close(self) -> None:
        self.notifier.close()
