"""Huge ImageBind IMU and thermal encoders (random init) on this CPU: ONNX Runtime fp32 and int8 vs PyTorch eager fp32.

Exports two bundles of the same seeded weights (``--target cpu``, fp32 and ``--int8`` calibrated on real data:
BasicMotions IMU and Cacophony CPTV thermal clips from tests/data, through the stream's input contracts), then
measures all backends side by side in one run with ``edgebind.bench`` (the code behind ``edgebind bench``), and
profiles the int8 graphs with onnxruntime's profiler. Not a test: it takes minutes and ~2 GB of RAM.

    python benchmarks/bench_export.py [--data tests/data] [--out out/bench] [--runs 20] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SPEEDUP = 2.5


def calibration_recordings(data: Path, work: Path) -> list[Path]:
    """Real Recordings: BasicMotions (IMU, 10 Hz) and both CPTV clips (thermal)."""
    from edgebind.bridge.convert import convert

    out = []
    for src in ("imu/BasicMotions_TRAIN.ts", "thermal/20240917-1921337.cptv", "thermal/20240507-074536.cptv"):
        path = data / src
        out.append(convert(path).save(work / (path.stem + ".npz")))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "tests" / "data", help="real recordings [tests/data]")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "bench")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--method", default="minmax", help="int8 calibration method")
    parser.add_argument("--modalities", default="imu,thermal")
    parser.add_argument("--preset", default="imagebind_huge", help="config preset ('tiny' for a smoke run)")
    parser.add_argument("--reuse", action="store_true", help="reuse bundles already in --out")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "bench_export.json")
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args()

    from edgebind.bench import bench_bundles, format_table, plot, profile_onnxruntime, to_json
    from edgebind.export import export_bundle

    args.out.mkdir(parents=True, exist_ok=True)
    fp32_dir, int8_dir = args.out / "huge-cpu-fp32", args.out / "huge-cpu-int8"
    timings = {}
    if not (args.reuse and (fp32_dir / "manifest.json").is_file()):
        t0 = time.perf_counter()
        export_bundle(fp32_dir, target="cpu", precision="fp32", modalities=args.modalities, random_init=True,
                      preset=args.preset, remember=False)
        timings["export_fp32_s"] = time.perf_counter() - t0
        print(f"exported {fp32_dir} in {timings['export_fp32_s']:.0f} s", flush=True)
    if not (args.reuse and (int8_dir / "manifest.json").is_file()):
        recs = calibration_recordings(args.data, args.out)
        t0 = time.perf_counter()
        export_bundle(int8_dir, target="cpu", precision="int8", modalities=args.modalities, random_init=True,
                      preset=args.preset, calibration=recs, calibration_method=args.method, remember=False)
        timings["export_int8_s"] = time.perf_counter() - t0
        print(f"exported {int8_dir} in {timings['export_int8_s']:.0f} s", flush=True)

    results = bench_bundles([fp32_dir, int8_dir], backends=["torch", "onnxruntime"], threads=args.threads,
                            runs=args.runs)
    print(format_table(results))
    report: dict = {"results": json.loads(to_json(results)), "timings": timings, "threads": args.threads,
                    "cpu": os.cpu_count(), "profile": {}}
    for r in results:
        if r.backend == "onnxruntime" and r.precision == "int8":
            ok = (r.speedup_vs_torch_fp32 or 0) >= TARGET_SPEEDUP and (r.min_cosine or 0) >= 0.98
            print(f"{r.modality} int8: {r.speedup_vs_torch_fp32:.2f}x vs eager fp32 at min cosine {r.min_cosine:.5f} "
                  f"-> target {TARGET_SPEEDUP}x at >= 0.98: {'met' if ok else 'NOT met'}")
    for d in (fp32_dir, int8_dir):
        for m in args.modalities.split(","):
            prof = profile_onnxruntime(d, m, runs=5, threads=args.threads)
            key = f"{m}/{d.name}"
            report["profile"][key] = prof[:10]
            print(f"profile {key}: " + ", ".join(f"{op} {share:.0%}" for op, share in prof[:6]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    if args.plot:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
