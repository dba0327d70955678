"""What systemd does with ``$NOTIFY_SOCKET``, for the tests: bind a datagram socket and keep every message."""

from __future__ import annotations

import os
import socket
import threading
import time


class NotifyListener:
    """A real AF_UNIX datagram socket bound at ``address`` (a path, or ``@name`` for an abstract address), with a
    thread that keeps each datagram as ``(monotonic seconds, [KEY=VALUE, ...])``."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(b"\0" + address[1:].encode() if address.startswith("@") else address)
        self._sock.settimeout(0.1)
        self.messages: list[tuple[float, list[str]]] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._cond:
                self.messages.append((time.monotonic(), data.decode().split("\n")))
                self._cond.notify_all()

    def times(self, field: str) -> list[float]:
        """When each message carrying exactly ``field`` (``WATCHDOG=1``) arrived."""
        with self._cond:
            return [t for t, fields in self.messages if field in fields]

    def values(self, key: str) -> list[str]:
        """Every value sent for ``key`` (``STATUS``), in order."""
        with self._cond:
            return [f.split("=", 1)[1] for _, fields in self.messages for f in fields if f.startswith(key + "=")]

    def wait_for(self, field: str, timeout_s: float, after: float = 0.0) -> float | None:
        """The arrival time of the first ``field`` message after ``after``; None if none came in ``timeout_s``."""
        def found() -> float | None:
            return next((t for t, fields in self.messages if t >= after and field in fields), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None, timeout_s)
            return found()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self._sock.close()
        if not self.address.startswith("@") and os.path.exists(self.address):
            os.unlink(self.address)
