"""``SensorSource(wait_for_device=True)``: a port that is not there yet is waited for (said once), then streamed."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from edgebind.bridge.events import ImuBatch
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.bridge.source import SensorSource
from edgebind.errors import ConfigError, SensorError

from .conftest import synthetic


def test_a_missing_port_is_waited_for_then_streamed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    port = tmp_path / "ttyLATE"
    with pytest.raises(SensorError, match="no such port"):  # without the flag: the error, at once
        SensorSource(str(port)).__enter__()
    caplog.set_level(logging.DEBUG, logger="edgebind.bridge")
    ticks = 0
    deadline = time.monotonic() + 15.0

    def tick() -> None:  # the reader loop turns with or without a device; it also ends a run that gets nothing
        nonlocal ticks
        ticks += 1
        if time.monotonic() > deadline:
            src.close()

    with SensorSource(str(port), wait_for_device=True) as src:
        events = src.events(timeout_s=0.05, on_tick=tick)
        assert not src.connected
        with SimulatedDevice(synthetic(2000, 400.0), speed=4.0) as sim:
            time.sleep(1.0)  # plugged in a second after the stream began
            port.symlink_to(sim.port)
            got = 0
            for event in events:
                if isinstance(event, ImuBatch):
                    got += len(event.t_ns)
                if got >= 400:
                    break
        stats = src.stats
    assert got >= 400 and ticks >= 2
    waiting = [r for r in caplog.records if r.levelno >= logging.WARNING and "waiting for" in r.getMessage()]
    assert len(waiting) == 1 and str(port) in waiting[0].getMessage()
    assert stats["device_wait_ms"] >= 1000 and stats["reconnects"] == 0 and stats["disconnect_gaps"] == 0
    assert stats["samples_lost"] == 0


def test_waiting_needs_reconnect() -> None:
    with pytest.raises(ConfigError, match="reconnect"):
        SensorSource("/dev/ttyNOPE", wait_for_device=True, reconnect=False)
