"""``calibrate capture``, ``labels teach``, ``calibrate imu`` (live) and ``simulate`` under SIGTERM through the real
CLI in a subprocess: each keeps what it collected, says it was stopped and exits 0."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
from simdevice import SimulatorProcess, edgebind_proc

from edgebind.bridge.recording import Recording
from edgebind.calibration.capture import CalibrationSet

from .conftest import wait_for


def test_calibrate_capture_writes_the_windows_collected_so_far(imu_200hz: tuple[Path, Recording],
                                                               tmp_path: Path) -> None:
    out = tmp_path / "calib.npz"
    with SimulatorProcess(imu_200hz[0], tmp_path / "tty", "--speed", "8", "--repeat") as sim:
        proc = edgebind_proc("calibrate", "capture", str(sim.link), "--windows", "64", "--hop-s", "1", "-o", str(out))
        time.sleep(3.0)  # about 15 s of device data at 8x: several 5 s windows at a 1 s hop
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stdout + stderr
    calib = CalibrationSet.load(out)
    k = len(calib.imu)
    assert 0 < k < 64 and calib.meta["stopped_early"] is True
    assert f"Stopped by SIGTERM after {k} IMU windows" in " ".join(stdout.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calib.npz"]  # no temp file left


def test_labels_teach_teaches_the_windows_recorded_so_far(imu_200hz: tuple[Path, Recording], tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    with SimulatorProcess(imu_200hz[0], tmp_path / "tty", "--speed", "8", "--repeat") as sim:
        proc = edgebind_proc("labels", "teach", str(sim.link), "walking", "--seconds", "60", "--labels", str(labels))
        time.sleep(3.0)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stdout + stderr
    assert "stopped by SIGTERM; teaching the windows recorded so far" in stdout
    assert "walking: @examples/walking.npz" in labels.read_text()
    with np.load(tmp_path / "examples" / "walking.npz") as z:
        n = len(z["windows"])
    assert n > 0 and f"taught 'walking': {n} windows added" in stdout


def test_calibrate_imu_waiting_at_its_prompt_stops(imu_200hz: tuple[Path, Recording], tmp_path: Path) -> None:
    out = tmp_path / "robot.json"
    with SimulatorProcess(imu_200hz[0], tmp_path / "tty") as sim:
        proc = edgebind_proc("calibrate", "imu", str(sim.link), "-o", str(out), stdin=subprocess.PIPE)
        seen: list[str] = []
        reader = threading.Thread(target=lambda: seen.extend(iter(lambda: proc.stdout.read(1), "")),  # type: ignore
                                  daemon=True)
        reader.start()
        wait_for(lambda: "press Enter" in "".join(seen), what="the prompt for the first position")
        time.sleep(0.3)  # blocked in the prompt, reading stdin
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        reader.join(5)
        stdout = "".join(seen)
    assert proc.returncode == 0, stdout + proc.stderr.read()  # type: ignore[union-attr]
    assert "Stopped by SIGTERM" in stdout and not out.exists()
