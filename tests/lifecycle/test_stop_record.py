"""``edgebind record`` stopped and killed through the real CLI in a subprocess, on a simulated device in another.

The signal goes well after the start (data has flowed for about 2 s, longer than one journal flush). SIGINT and
SIGTERM must finish the file, print the summary and exit 0; SIGKILL must leave a journal holding every sample up to
about a second before the kill; a second signal must end the run at once, leaving the journal readable.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import numpy as np
import pytest
from simdevice import SimulatorProcess, edgebind_proc

from edgebind.bridge.journal import journal_path, read_journal
from edgebind.bridge.recording import Recording
from edgebind.ros import load_recording

from .conftest import RATE_HZ, wait_for

FLUSH_S = 1.0  # the journal's promise: at most this much of the newest data is only in memory
SLACK_S = 0.3  # scheduling on a loaded 2-core machine, bytes in flight in the pty


def journal_samples(path: Path) -> int:
    try:
        return len(read_journal(path).imu)
    except Exception:  # not there yet
        return 0


def assert_prefix(got: Recording, source: Recording, device_time: bool = True) -> None:
    """``got`` is the device's stream from its first sample on, none missing, values within one count; with
    ``device_time`` False (a bag stamped in host or ROS time) only the values and the order are compared."""
    n = len(got.imu)
    assert n > 0
    if device_time:
        np.testing.assert_array_equal(got.imu_t_ns, source.imu_t_ns[:n])
    assert np.all(np.diff(got.imu_t_ns) > 0)
    np.testing.assert_allclose(got.imu, source.imu[:n], atol=0.01)


def start_record(link: Path, out: Path, imu_200hz: tuple[Path, Recording]):  # type: ignore[no-untyped-def]
    proc = edgebind_proc("record", str(link), "-o", str(out), "--idle", "30")
    wait_for(lambda: journal_samples(journal_path(out)) >= RATE_HZ * 0.5, what="the journal's first samples")
    time.sleep(1.5)  # well after the start: about 2 s of data, two journal flushes
    return proc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_stop_signal_writes_everything_and_exits_0(sig: int, imu_200hz: tuple[Path, Recording],
                                                   tmp_path: Path) -> None:
    out = tmp_path / "walk.npz"
    with SimulatorProcess(imu_200hz[0], tmp_path / "tty") as sim:
        proc = start_record(sim.link, out, imu_200hz)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=15)
        sent = sim.stop()["imu_samples_sent"]
    assert proc.returncode == 0, stdout + stderr
    name = signal.Signals(sig).name
    assert f"stopped by {name}" in stdout and f"wrote {out}:" in stdout
    rec = Recording.load(out)
    assert_prefix(rec, imu_200hz[1])
    assert sent - SLACK_S * RATE_HZ <= len(rec.imu) <= sent
    n = len(rec.imu)
    assert f"decoded {n} IMU samples and 0 thermal frames, wrote {n} and 0; counters: no losses" in stdout, stdout
    assert rec.meta["stopped_by"] == name
    assert not journal_path(out).exists()  # the .npz holds it all; no stray temp file either
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.npz"]


def test_sigkill_leaves_a_journal_with_all_but_the_last_second(imu_200hz: tuple[Path, Recording],
                                                             tmp_path: Path) -> None:
    out = tmp_path / "walk.npz"
    with SimulatorProcess(imu_200hz[0], tmp_path / "tty") as sim:
        proc = start_record(sim.link, out, imu_200hz)
        proc.kill()
        proc.wait(10)
        sent = sim.stop()["imu_samples_sent"]
    assert not out.exists()  # never a half-written .npz
    partial = journal_path(out)
    rec = read_journal(partial)
    assert_prefix(rec, imu_200hz[1])
    assert len(rec.imu) >= sent - (FLUSH_S + SLACK_S) * RATE_HZ, (len(rec.imu), sent)
    # recovery as the docs say: convert OUT.partial back into a Recording
    conv = edgebind_proc("convert", str(partial), "-o", str(tmp_path / "recovered.npz"))
    stdout, stderr = conv.communicate(timeout=30)
    assert conv.returncode == 0, stdout + stderr
    assert_prefix(load_recording(tmp_path / "recovered.npz"), imu_200hz[1])
    assert f"{len(rec.imu)} IMU samples" in stdout


def test_second_signal_quits_at_once_and_the_journal_stays_readable(imu_200hz: tuple[Path, Recording],
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "walk.npz"
    with SimulatorProcess(imu_200hz[0], tmp_path / "tty") as sim:
        proc = start_record(sim.link, out, imu_200hz)
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGINT)  # before the first one's clean stop can finish
        stdout, stderr = proc.communicate(timeout=15)
        sent = sim.stop()["imu_samples_sent"]
    assert proc.returncode in (128 + signal.SIGINT, 128 + signal.SIGTERM), stdout + stderr
    assert "again: exiting now" in stderr
    assert not out.exists()
    rec = read_journal(journal_path(out))
    assert_prefix(rec, imu_200hz[1])
    assert len(rec.imu) >= sent - (FLUSH_S + SLACK_S) * RATE_HZ


def test_a_looping_simulator_records_without_loss(imu_thermal_2s: tuple[Path, Recording], tmp_path: Path) -> None:
    """``simulate --repeat`` runs its clock on across loops: 3.5 s at 4x (seven 2 s loops) keeps every sample."""
    path, source = imu_thermal_2s
    out = tmp_path / "loop.npz"
    with SimulatorProcess(path, tmp_path / "tty", "--repeat", "--speed", "4") as sim:
        proc = edgebind_proc("record", str(sim.link), "-o", str(out), "--duration", "3.5")
        stdout, stderr = proc.communicate(timeout=30)
        sent = sim.stop()
    assert proc.returncode == 0, stdout + stderr
    assert sent["loops"] >= 4
    rec = Recording.load(out)
    n, m = len(rec.imu), len(rec.thermal) if rec.thermal is not None else 0
    assert n > 3 * len(source.imu)
    assert f"decoded {n} IMU samples and {m} thermal frames, wrote {n} and {m}; counters: no losses" in stdout, stdout
    dt = np.diff(rec.imu_t_ns)
    assert dt.min() == dt.max() == round(1e9 / RATE_HZ)  # one clock, no gap, nothing twice
    assert rec.thermal_t_ns is not None and np.all(np.diff(rec.thermal_t_ns) > 0)
    k = len(source.imu)  # the second loop: the same samples again, one sample period after the first loop's last
    np.testing.assert_allclose(rec.imu[k:2 * k], source.imu, atol=0.01)
