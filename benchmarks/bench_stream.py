"""Sensor-to-label latency of ``edgebind stream`` through a pseudo-terminal, against the runner's own latency.

Two links, both replaying real recordings from tests/data through the bridge's simulator in real time:

* CSV text lines at 50 Hz (hobby firmware, Edge Impulse style);
* the binary protocol at 400 Hz with a thermal stream beside it: a FLIR Lepton 3.5 clip (~9 Hz) box-averaged to
  MLX90640 size (32x24), so both fit the 921600 baud link budget (a full 160x120 stream needs ~3 Mbit/s).

The IMU motion is UEA BasicMotions (10 Hz smartwatch) re-timed to the link rate by linear interpolation; the thermal
frames are a Cacophony Project CPTV clip, looped. Models: random-weight presets (latency does not depend on the
weights) or a bundle. Prints, per stream: windows labelled, skipped, lost, decode errors, and p50/p99 of the
sensor-to-label latency (bytes of the window's last sample arrive -> label known) next to the runner's p50/p99.

    python benchmarks/bench_stream.py                  # 20 s per link, imu-tiny + thermal-small, real time
    python benchmarks/bench_stream.py --seconds 8      # quicker
    python benchmarks/bench_stream.py --bundle edgebind/data/demo/bundle --no-thermal
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"  # the real recordings the test suite uses (tests/data/README.md)
LABELS = "Standing\nRunning\nWalking\nBadminton: playing badminton\n"


def run_link(name: str, rec, fmt: str, args: argparse.Namespace, model: dict[str, str], labels: Path
             ) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Replay ``rec`` on a pty as ``fmt`` and stream it for ``args.seconds``; returns the summary dict."""
    from edgebind.bridge.simulator import SimulatedDevice
    from edgebind.stream.pipeline import StreamOptions
    from edgebind.stream.session import run_stream

    options = StreamOptions(hop_s=args.hop, thermal_every_s=args.thermal_every)
    with SimulatedDevice(rec, fmt=fmt, speed=args.speed) as sim:
        summary = run_stream(str(sim.link), labels=labels, options=options, fmt=fmt, threads=args.threads,
                             duration_s=args.seconds, allow_random_init=True, **model)  # type: ignore[arg-type]
    out = summary.to_dict()
    out["name"] = name
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="Wall seconds per link [20].")
    parser.add_argument("--speed", type=float, default=1.0, help="Replay speed, x real time [1].")
    parser.add_argument("--hop", type=float, default=0.5, help="Seconds between IMU windows [0.5].")
    parser.add_argument("--thermal-every", type=float, default=0.5, help="Seconds between thermal frames [0.5].")
    parser.add_argument("--threads", type=int, default=1, help="Runner CPU threads [1].")
    parser.add_argument("--imu-preset", default="imu-tiny", help="Random-weight IMU preset [imu-tiny].")
    parser.add_argument("--thermal-preset", default="thermal-small", help="Random-weight thermal preset.")
    parser.add_argument("--bundle", type=Path, help="Use this bundle instead of random presets.")
    parser.add_argument("--no-thermal", action="store_true", help="Binary link without the thermal stream.")
    parser.add_argument("--json", action="store_true", help="Print the summaries as JSON.")
    args = parser.parse_args()

    from edgebind.bridge.convert import convert
    from edgebind.bridge.remix import mlx_sized, retime, trim, with_thermal

    bm, cptv = DATA / "imu/BasicMotions_TEST.ts", DATA / "thermal/20240507-074536.cptv"
    for p in (bm, cptv):
        if not p.is_file():
            print(f"missing {p}; run from a full clone of the repository.", file=sys.stderr)
            return 1
    motion, clip = convert(bm), mlx_sized(convert(cptv))
    device_s = args.seconds * args.speed + 10.0
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
        labels = Path(tmp) / "labels.txt"
        labels.write_text(LABELS)
        if args.bundle is not None:
            model = {"bundle": str(args.bundle)}
        else:
            import torch

            from edgebind.checkpoint import save_checkpoint
            from edgebind.config import get_config
            from edgebind.models import build_encoder

            torch.manual_seed(0)
            ckpt = Path(tmp) / "random.safetensors"
            save_checkpoint([build_encoder(get_config(n)).eval()
                             for n in (args.imu_preset, args.thermal_preset, "tiny_text")], ckpt)
            model = {"checkpoint": str(ckpt)}
        binary = trim(retime(motion, 400.0), device_s)
        results = [
            run_link("csv 50 Hz", trim(retime(motion, 50.0), device_s), "csv", args, model, labels),
            run_link("binary 400 Hz" + ("" if args.no_thermal else " + 32x24 ~9 Hz"),
                     binary if args.no_thermal else with_thermal(binary, clip), "binary", args, model, labels),
        ]
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    what = str(args.bundle) if args.bundle else f"random {args.imu_preset} + {args.thermal_preset}"
    print(f"edgebind stream through a pty, {args.seconds:g} s per link at {args.speed:g}x, hop {args.hop:g} s, "
          f"{what}, {args.threads} runner thread(s)")
    print(f"{'link':<28} {'stream':<8} {'labelled':>8} {'skipped':>7} {'lost':>5} {'errors':>6} "
          f"{'s2l p50':>8} {'s2l p99':>8} {'run p50':>8} {'run p99':>8} {'p99 ratio':>9}")
    for r in results:
        mods: dict[str, dict[str, object]] = r["modalities"]  # type: ignore[assignment]
        for m, c in mods.items():
            lat, run = c["latency"], c["runner"]  # type: ignore[index]
            if lat["p99_ms"] is None:  # type: ignore[index]
                continue
            ratio = lat["p99_ms"] / run["p99_ms"]  # type: ignore[index,operator]
            print(f"{r['name']:<28} {m:<8} {c['labelled']:>8} {c['skipped']:>7} {r['samples_lost']:>5} "
                  f"{r['decode_errors']:>6} {lat['p50_ms']:>6.1f}ms {lat['p99_ms']:>6.1f}ms "  # type: ignore[index]
                  f"{run['p50_ms']:>6.1f}ms {run['p99_ms']:>6.1f}ms {ratio:>8.2f}x")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
