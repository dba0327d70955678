"""``edgebind stream --mcap`` stopped and killed through the real CLI in a subprocess (the shipped ONNX demo bundle,
no torch), on a simulated device in another. SIGINT/SIGTERM finish the bag and print the JSON summary with exit 0;
SIGKILL leaves a bag (no summary section) that ``edgebind convert`` reads up to about a second before the kill."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from simdevice import SimulatorProcess, edgebind_proc

from edgebind.bridge.recording import Recording
from edgebind.ros import load_recording

from .conftest import RATE_HZ, wait_for
from .test_stop_record import FLUSH_S, SLACK_S, assert_prefix


def start_stream(link: Path, bag: Path):  # type: ignore[no-untyped-def]
    from edgebind.demo import demo_dir

    proc = edgebind_proc("stream", str(link), "--bundle", str(demo_dir() / "bundle"), "--json", "--mcap", str(bag))
    wait_for(lambda: bag.is_file() and bag.stat().st_size > 4000, what="the bag's first flushed chunk")
    time.sleep(1.5)  # well after the start: about 2.5 s of data, two flushes
    return proc


def has_summary(bag: Path) -> bool:
    from mcap.reader import make_reader

    with bag.open("rb") as f:
        try:
            return make_reader(f).get_summary() is not None
        except Exception:
            return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: signal.Signals(s).name)
def test_stop_signal_finishes_the_bag_and_prints_the_summary(sig: int, imu_200hz: tuple[Path, Recording],
                                                             tmp_path: Path) -> None:
    bag = tmp_path / "session.mcap"
    with SimulatorProcess(imu_200hz[0], tmp_path / "tty") as sim:
        proc = start_stream(sim.link, bag)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=20)
        sent = sim.stop()["imu_samples_sent"]
    assert proc.returncode == 0, stdout + stderr
    summary = json.loads(stdout.strip().splitlines()[-1])["summary"]
    assert "windows" in summary and summary["samples_lost"] == 0  # (a 5 s window may not have filled yet)
    assert f"stopped by {signal.Signals(sig).name}" in stderr
    assert has_summary(bag)  # finished: indexed, readable by any MCAP tool
    rec = load_recording(bag)
    assert_prefix(rec, imu_200hz[1], device_time=False)
    assert sent - SLACK_S * RATE_HZ <= len(rec.imu) <= sent
    assert f"mcap: wrote {bag} ({len(rec.imu)} IMU samples" in stderr


def test_sigkill_leaves_a_bag_convert_reads(imu_200hz: tuple[Path, Recording], tmp_path: Path) -> None:
    bag = tmp_path / "session.mcap"
    with SimulatorProcess(imu_200hz[0], tmp_path / "tty") as sim:
        proc = start_stream(sim.link, bag)
        proc.kill()
        proc.wait(10)
        sent = sim.stop()["imu_samples_sent"]
    assert not has_summary(bag)  # cut off, as after a power cut
    conv = edgebind_proc("convert", str(bag), "-o", str(tmp_path / "session.npz"))
    stdout, stderr = conv.communicate(timeout=30)
    assert conv.returncode == 0, stdout + stderr
    rec = Recording.load(tmp_path / "session.npz")
    assert_prefix(rec, imu_200hz[1], device_time=False)
    assert len(rec.imu) >= sent - (FLUSH_S + SLACK_S) * RATE_HZ, (len(rec.imu), sent)


def test_second_signal_quits_at_once_and_the_bag_stays_readable(imu_200hz: tuple[Path, Recording],
                                                                tmp_path: Path) -> None:
    bag = tmp_path / "session.mcap"
    with SimulatorProcess(imu_200hz[0], tmp_path / "tty") as sim:
        proc = start_stream(sim.link, bag)
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGINT)  # before the first one's clean stop can finish
        stdout, stderr = proc.communicate(timeout=20)
        sent = sim.stop()["imu_samples_sent"]
    assert proc.returncode in (128 + signal.SIGINT, 128 + signal.SIGTERM), stdout + stderr
    assert "again: exiting now" in stderr
    rec = load_recording(bag)
    assert_prefix(rec, imu_200hz[1], device_time=False)
    assert len(rec.imu) >= sent - (FLUSH_S + SLACK_S) * RATE_HZ, (len(rec.imu), sent)
