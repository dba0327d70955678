"""Issue 19's stop/kill figure: SIGINT, SIGTERM and SIGKILL sent N s into ``edgebind record`` and into ``edgebind
stream --mcap`` (the shipped ONNX demo bundle), each on its own ``edgebind simulate`` device (BasicMotions TEST from
tests/data re-timed to 200 Hz). Prints, per run, the exit status, the IMU samples the device sent and how many the
file holds (the record journal ``OUT.partial`` after SIGKILL, the cut-off bag read by ``edgebind convert``'s reader).

    python benchmarks/bench_stop_kill.py              # 8 s into each run (about 2 minutes)
    python benchmarks/bench_stop_kill.py --after 3
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EDGEBIND = [sys.executable, "-c", "from edgebind.cli import main; main()"]
RATE_HZ = 200.0


def run_once(source: Path, cmd: str, sig: int, after_s: float) -> str:
    from edgebind.bridge.journal import journal_path, read_journal
    from edgebind.demo import demo_dir
    from edgebind.ros import load_recording

    d = Path(tempfile.mkdtemp(prefix="edgebind-stopkill-"))
    out = d / ("walk.npz" if cmd == "record" else "session.mcap")
    sim = subprocess.Popen([*EDGEBIND, "simulate", str(source), "--link", str(d / "tty")], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        sim.stdout.readline()  # type: ignore[union-attr]
        args = (["record", str(d / "tty"), "-o", str(out)] if cmd == "record" else
                ["stream", str(d / "tty"), "--bundle", str(demo_dir() / "bundle"), "--json", "--mcap", str(out)])
        proc = subprocess.Popen([*EDGEBIND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(after_s)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
        sim.send_signal(signal.SIGTERM)
        text, _ = sim.communicate(timeout=30)
    finally:
        sim.kill()
    sent = json.loads(next(x for x in text.splitlines() if x.startswith("sent: "))[6:])["imu_samples_sent"]
    got = read_journal(journal_path(out)) if cmd == "record" and sig == signal.SIGKILL else load_recording(out)
    n = len(got.imu)
    where = "OUT.partial" if cmd == "record" and sig == signal.SIGKILL else out.name
    return (f"{cmd:6s} {signal.Signals(sig).name:7s} exit {proc.returncode:4d}  sent {sent:5d}  in {where:12s} {n:5d}"
            f"  missing {sent - n:4d} ({(sent - n) / RATE_HZ:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--after", type=float, default=8.0, help="seconds between the start and the signal [8]")
    opts = parser.parse_args()
    logging.disable(logging.WARNING)
    from edgebind.bridge.convert import convert
    from edgebind.bridge.remix import retime, trim

    source = Path(tempfile.mkdtemp(prefix="edgebind-stopkill-")) / "bm200.npz"
    trim(retime(convert(REPO / "tests" / "data" / "imu" / "BasicMotions_TEST.ts"), RATE_HZ), 20.0).save(source)
    print(f"signal {opts.after:g} s after the start; {RATE_HZ:g} Hz IMU on edgebind simulate")
    for cmd in ("record", "stream"):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            print(run_once(source, cmd, sig, opts.after), flush=True)


if __name__ == "__main__":
    main()
