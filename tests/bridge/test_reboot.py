"""A device that reboots mid-stream: new clock segment, gap reported, drift reset, no sample lost."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from edgebind.bridge.binary import BinaryDecoder
from edgebind.bridge.encode import binary_units
from edgebind.bridge.events import Gap, ImuBatch
from edgebind.bridge.record import RecordingBuilder
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.bridge.source import SensorSource

from .conftest import synthetic


def test_simulated_device_restarted_on_the_same_link_loses_no_sample(tmp_path: Path) -> None:
    first, second = synthetic(n=200, rate_hz=200.0, seed=1), synthetic(n=200, rate_hz=200.0, seed=2)
    link = tmp_path / "tty"
    builder, gaps = RecordingBuilder(), []
    sim1 = SimulatedDevice(first, link=link).__enter__()
    try:
        with SensorSource(str(link), fmt="binary") as src:
            deadline = threading.Timer(15.0, src.close)  # a broken reboot path fails instead of waiting forever
            deadline.start()
            events = src.events(timeout_s=0.1)
            for event in events:
                builder.add(event)
                if builder.samples >= 200:
                    break
            sim1.close()  # watchdog reset / replug: the port goes away, the device boots with clock and seq at 0
            with SimulatedDevice(second, link=link):
                for event in events:
                    builder.add(event)
                    gaps += [event] if isinstance(event, Gap) else []
                    if builder.samples >= 400:
                        break
                stats = src.stats
                clock_from = src.clock.first_device_ns
            deadline.cancel()
    finally:
        sim1.close()
    rec = builder.build({})
    assert len(rec.imu) == 400 and rec.meta["counters"]["recorder_non_monotonic"] == 0  # nothing dropped
    np.testing.assert_allclose(rec.imu[200:], second.imu, atol=0.01)
    assert stats["device_reboots"] == 1 and stats["clock_resets"] == 1 and stats["samples_lost"] == 0
    reboot = next(g for g in gaps if g.reason == "device reboot")
    step = rec.imu_t_ns[200] - rec.imu_t_ns[199]
    assert reboot.duration_ns > 0 and step >= reboot.duration_ns  # the new segment starts after the host gap
    assert np.all(np.diff(rec.imu_t_ns[:200]) == 5_000_000) and np.all(np.diff(rec.imu_t_ns[200:]) == 5_000_000)
    # the estimate restarted with the new segment: no trace of the 1.1e9 ppb a mixed-up clock gave (1 s of pty
    # arrivals allow a few thousand ppm of noise, 3142 ppm seen under load)
    assert abs(stats["clock_drift_ppb"]) < 10_000_000
    assert clock_from is not None and clock_from >= rec.imu_t_ns[200]  # offset and drift rest on the new boot only


def test_reboot_seen_from_imu_frames_alone() -> None:
    """INFO lost: the clock going back together with the sequence number restarting still means a reboot."""
    first, second = synthetic(n=300, rate_hz=100.0, seed=3), synthetic(n=300, rate_hz=100.0, seed=4)
    u1, _ = binary_units(first)
    u2, _ = binary_units(second)
    dec = BinaryDecoder()
    stream = b"".join(u.data for u in u1) + b"".join(u.data for u in u2 if u.kind != "info")
    events = dec.feed(stream, host_t_ns=5_000_000_000)
    t = np.concatenate([e.t_ns for e in events if isinstance(e, ImuBatch)])
    assert len(t) == 600 and np.all(np.diff(t) > 0) and dec.stats["device_reboots"] == 1
    assert dec.stats["samples_lost"] == 0
    assert t[300] - t[299] == pytest.approx(1_000_000, abs=1)  # no host time passed: 1 ms later


def test_clock_reset_forgets_the_old_segment() -> None:
    from edgebind.bridge.clock import ClockEstimator

    clock = ClockEstimator()
    device = np.arange(0, 10_000_000_000, 10_000_000, dtype=np.int64)
    for d in device:  # 10 s with the host 200 ppm fast
        clock.add(int(d), int(d + 1_000_000_000 + d * 200e-6))
    assert clock.drift_ppm == pytest.approx(200.0, abs=1.0)
    clock.reset()
    for d in device:  # a new device clock with another offset and no drift
        clock.add(int(d), int(d + 7_000_000_000))
    assert clock.drift_ppm == pytest.approx(0.0, abs=1.0) and clock.offset_ns() == pytest.approx(7e9, abs=1e3)
