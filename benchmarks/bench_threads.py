"""Thread policies for the stream's two runners (IMU + thermal on the same cores): p50/p99 per policy, side by side.

Each round releases one IMU and one thermal call together (as ``stream`` does when a window and a frame are ready at
once), then idles ``--gap`` seconds; policies take turns round by round (``edgebind.bench_pair``). ``--repeats``
runs the whole comparison again and prints each repeat, so the spread is visible on a shared machine.

    python benchmarks/bench_threads.py IMU_BUNDLE THERMAL_BUNDLE [--rounds 40] [--gap 0.02] [--repeats 2]
    python benchmarks/bench_threads.py                 # random-init imu-small + thermal-small, exported here
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundles", nargs="*", type=Path, help="IMU bundle and thermal bundle (or one with both).")
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--gap", type=float, default=0.02, help="Idle seconds after each round [0.02].")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--json", type=Path, help="Also write the figures here.")
    args = p.parse_args()

    from edgebind.bench_pair import bench_pair, format_pairs, standard_policies
    from edgebind.runtime.policy import available_cpus

    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp:
        if args.bundles:
            imu, thermal = args.bundles[0], args.bundles[-1]
        else:
            from edgebind.export import export_bundle

            imu = export_bundle(Path(tmp) / "imu", target="cpu", modalities="imu", random_init=True,
                                preset="imu-small", remember=False).path
            thermal = export_bundle(Path(tmp) / "thermal", target="cpu", modalities="thermal", random_init=True,
                                    preset="thermal-small", remember=False).path
        assert imu is not None and thermal is not None
        policies = standard_policies(sorted(available_cpus()))
        out = []
        for i in range(args.repeats):
            res = bench_pair(imu, thermal, policies, rounds=args.rounds, gap_s=args.gap)
            print(f"repeat {i + 1}/{args.repeats}: {imu} + {thermal}, {args.rounds} rounds, gap {args.gap:g} s "
                  "(ms; 'both' = until both labels are out)")
            print(format_pairs(res), flush=True)
            out.append([asdict(r) for r in res])
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
