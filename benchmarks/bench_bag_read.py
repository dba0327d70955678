"""Reading a ROS 2 bag of N IMU messages: seconds and peak memory of ``edgebind convert bag.mcap``, for two sizes.

    python benchmarks/bench_bag_read.py                  # 100 000 and 1 000 000 messages (at 400 Hz: 4 min, 42 min)
    python benchmarks/bench_bag_read.py --sizes 20000 200000

The bag is written with ``mcap_ros2.writer`` (zstd chunks, as rosbag2 writes). Each conversion runs in a fresh
process; its peak resident memory (ru_maxrss) is reported with the size of the Recording's arrays (32 B/sample), so
bounded memory shows as a peak that grows by about the arrays (x 2 while they grow), not by the messages.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from edgebind.ros import msgdefs
from edgebind.ros.messages import imu_message


def write_bag(path: Path, n: int) -> None:
    import numpy as np
    from mcap_ros2.writer import Writer

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(1000, 6)).astype(np.float32)
    with path.open("wb") as f:
        w = Writer(f)
        schema = w.register_msgdef(msgdefs.IMU, msgdefs.MSGDEFS[msgdefs.IMU])
        for i in range(n):
            t = i * 2_500_000
            w.write_message("/imu", schema, imu_message(t, rows[i % 1000], "imu_link"), log_time=t)
        w.finish()


def convert_peak(path: Path, out: Path) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one ``edgebind convert`` in a child process."""
    code = "from edgebind.cli import main; main()"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, "convert", str(path), "-o", str(out)], check=True,
                   capture_output=True)
    seconds = time.perf_counter() - t0
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for n in sorted(args.sizes):  # ascending: RUSAGE_CHILDREN keeps the largest child's peak so far
            bag = Path(d) / f"{n}.mcap"
            write_bag(bag, n)
            seconds, peak_mib = convert_peak(bag, Path(d) / f"{n}.npz")
            rows.append({"messages": n, "bag_mib": round(bag.stat().st_size / 2**20, 1), "seconds": round(seconds, 1),
                         "us_per_message": round(seconds / n * 1e6, 1), "peak_rss_mib": round(peak_mib, 1),
                         "arrays_mib": round(n * 32 / 2**20, 1)})
            print(json.dumps(rows[-1]), flush=True)
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        growth = (b["peak_rss_mib"] - a["peak_rss_mib"]) * 2**20 / (b["messages"] - a["messages"])
        print(json.dumps({"peak_rss_growth_bytes_per_message": round(growth, 1)}))


if __name__ == "__main__":
    main()
