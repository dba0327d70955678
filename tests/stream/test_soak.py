"""The short soak (benchmarks/soak.py): 15 s of a simulated 1 kHz IMU + 8 Hz thermal device through the real
``edgebind simulate`` and ``edgebind stream`` processes; every counter ties up and memory stays flat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MINUTES = 0.25
RSS_GROWTH_MIB = 3.0  # measured +1.5 MiB over the 10 s after warm-up (first label) on the 2-core dev machine


def test_short_soak_counts_every_sample_and_memory_stays_flat(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    res = subprocess.run([sys.executable, str(REPO / "benchmarks" / "soak.py"), "--minutes", str(MINUTES), "--json",
                          str(out)], capture_output=True, text=True, timeout=180, check=False,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stdout + res.stderr  # 1 when a check failed: the printout says which
    got = json.loads(out.read_text())
    assert got["checks"] and all(got["checks"].values()), got["checks"]
    s, sent, link, f = got["summary"], got["sent"], got["summary"]["link"], got["figures"]
    seconds = MINUTES * 60
    imu = s["modalities"]["imu"]
    assert imu["made"] >= seconds - 8 and imu["labelled"] >= imu["made"] - 1  # 1 window a second after the first
    # what the device sent is what the stream decoded, give or take what was in the pty when the stream stopped
    assert 0 <= sent["imu_samples_sent"] - link["imu_samples"] <= 100
    assert 0 <= sent["thermal_frames_sent"] - link["thermal_frames"] <= 1
    assert link["thermal_frames"] >= 8 * (seconds - 2)  # 8 Hz from the start
    assert f["rss_growth_mib"] <= RSS_GROWTH_MIB, got["samples"]
    assert 0 < f["cpu_percent_after_warmup"] < 100
    lat = got["latency_ms"]["imu"]
    assert 0 < lat["p50_ms"] <= lat["p99_ms"] <= lat["max_ms"]
    assert "RSS:" in res.stdout and "p99" in res.stdout and "ok  no IMU samples lost" in res.stdout
