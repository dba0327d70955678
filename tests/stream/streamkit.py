"""Helpers for the stream tests: a device that sends garbage; recording helpers re-exported from the bridge."""

from __future__ import annotations

import os
import select
import threading

import numpy as np

from edgebind.bridge.remix import mlx_sized, retime, trim, with_thermal
from edgebind.bridge.simulator import open_raw_pty

__all__ = ["GarbageDevice", "mlx_sized", "retime", "trim", "with_thermal"]


class GarbageDevice:
    """A pty that, once the host opens it, sends what a device at another baud rate looks like: random bytes."""

    def __init__(self) -> None:
        self._master, self.port = open_raw_pty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        rng = np.random.default_rng(7)
        poller = select.poll()
        poller.register(self._master, select.POLLOUT | select.POLLIN)
        while not self._stop.is_set():
            events = poller.poll(20)
            if not events or events[0][1] & select.POLLHUP:  # host not there yet: wait for it
                self._stop.wait(0.005)
                continue
            try:
                os.write(self._master, rng.integers(0, 256, 512, dtype=np.uint8).tobytes())
            except OSError:
                self._stop.wait(0.005)

    def __enter__(self) -> GarbageDevice:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5.0)
        os.close(self._master)
