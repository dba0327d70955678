"""Helpers for the stream tests: a device that sends garbage, a device the test plugs in and unplugs; recording
helpers re-exported from the bridge."""

from __future__ import annotations

import os
import select
import threading
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bridge.recording import Recording
from edgebind.bridge.remix import mlx_sized, retime, trim, with_thermal
from edgebind.bridge.simulator import SimulatedDevice, open_raw_pty

__all__ = ["GarbageDevice", "PluggableDevice", "mlx_sized", "retime", "trim", "with_thermal"]


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


class PluggableDevice:
    """A device at a fixed ``path`` that the test plugs in and pulls out, as a USB serial adapter would come and go.

    Plugged: ``path`` is a symlink to the pty of a fresh :class:`SimulatedDevice` replaying ``recording`` (its clock
    starts again, as a power-cycled device's does). Unplugged: the pty is closed (the host's reads fail) and
    ``path`` does not exist (reopening fails with "no such port") until the next :meth:`plug`.
    """

    def __init__(self, recording: Recording, path: Path, **sim_kw: Any) -> None:
        self.recording, self.path, self.sim_kw = recording, Path(path), sim_kw
        self.sim: SimulatedDevice | None = None
        self.plugs = 0

    def plug(self) -> SimulatedDevice:
        assert self.sim is None, "already plugged in"
        self.sim = SimulatedDevice(self.recording, **self.sim_kw).__enter__()
        tmp = self.path.with_name(self.path.name + ".new")
        tmp.symlink_to(self.sim.port)
        tmp.replace(self.path)
        self.plugs += 1
        return self.sim

    def unplug(self) -> None:
        if self.path.is_symlink():
            self.path.unlink()
        if self.sim is not None:
            self.sim.close()
            self.sim = None

    def __enter__(self) -> PluggableDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.unplug()
