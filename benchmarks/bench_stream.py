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

Thread policies (``--policies``): only the binary + thermal link, streamed once per policy, policies taking turns
within each of ``--repeats`` rounds (ABCABC, so load drift hits all alike). The policies are the ``edgebind stream``
options of ``edgebind.bench_pair.live_policies``: ``ort-default`` (onnxruntime's thread count, one per core, and
its spinning; not pinned apart), ``previous`` (the same threads, no spinning: edgebind's runner before),
``pinned`` (one thread per runner, no spinning, pinned to halves of the CPUs: the stream's default until the live
comparison) and ``edgebind`` (no option: the stream's own default, whatever ``run_stream`` makes of it). Printed per
policy and repeat: IMU and thermal sensor-to-label p50/p99 next to the runner's, windows labelled/skipped/lost and
the 1-minute load average before and after; then the median over repeats and the p99 of all repeats' labels pooled.

The models for ``--policies`` (unless ``--bundle``): one int8 ONNX Runtime bundle holding imu-small and
thermal-small, the sizes of the students in docs/students.md, exported by ``edgebind.export.export_bundle`` exactly
as those students are (``--target cpu --int8``, calibrated on BasicMotions TRAIN and the CPTV clip
20240917-1921337). Their weights are seeded random rather than distilled: the students' bundles hold one encoder
each and ``stream`` takes one bundle, latency does not depend on the weights, and the int8 graph is the same one
(about 20 s to export here, each run).

    python benchmarks/bench_stream.py --policies ort-default,previous,edgebind --repeats 3 --seconds 20 \\
        --json benchmarks/results/bench_stream_threads.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"  # the real recordings the test suite uses (tests/data/README.md)
LABELS = "Standing\nRunning\nWalking\nBadminton: playing badminton\n"
IMU_CALIBRATION = REPO / "edgebind" / "data" / "demo" / "basicmotions_train.npz"  # BasicMotions TRAIN
THERMAL_CALIBRATION = DATA / "thermal" / "20240917-1921337.cptv"  # the thermal students' training clip
MODALITIES = ("imu", "thermal")


def run_link(name: str, rec: Any, fmt: str, args: argparse.Namespace, model: dict[str, Any], labels: Path | None,
             **stream_kw: Any) -> dict[str, Any]:
    """Replay ``rec`` on a pty as ``fmt`` and stream it for ``args.seconds``; the summary dict, and under
    ``latencies_ms`` every label's sensor-to-label and runner ms per modality."""
    from edgebind.bridge.simulator import SimulatedDevice
    from edgebind.stream.pipeline import LabelResult, StreamOptions
    from edgebind.stream.session import run_stream

    lat: dict[str, dict[str, list[float]]] = {}

    def collect(r: LabelResult) -> None:
        got = lat.setdefault(r.modality, {"sensor_to_label": [], "runner": []})
        got["sensor_to_label"].append(r.latency_ms)
        got["runner"].append(r.runner_ms)

    options = StreamOptions(hop_s=args.hop, thermal_every_s=args.thermal_every)
    with SimulatedDevice(rec, fmt=fmt, speed=args.speed) as sim:
        summary = run_stream(str(sim.link), labels=labels, options=options, fmt=fmt, duration_s=args.seconds,
                             allow_random_init=True, on_result=collect, **model, **stream_kw)
    out = summary.to_dict()
    out["name"] = name
    out["latencies_ms"] = lat
    return out


def student_sized_bundle(tmp: Path) -> Path:
    """One int8 ONNX Runtime bundle with seeded random imu-small and thermal-small (see the module docstring)."""
    import torch

    from edgebind.bridge.convert import convert
    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config
    from edgebind.export import export_bundle
    from edgebind.models import build_encoder

    torch.manual_seed(0)
    ckpt = save_checkpoint([build_encoder(get_config(n)).eval() for n in ("imu-small", "thermal-small", "tiny_text")],
                           tmp / "student-sized.safetensors")
    thermal = convert(THERMAL_CALIBRATION).save(tmp / "thermal_train.npz")
    (tmp / "labels.txt").write_text(LABELS)
    bundle = export_bundle(tmp / "student-sized-int8", target="cpu", precision="int8", checkpoint=ckpt,
                           calibration=[IMU_CALIBRATION, thermal], labels=tmp / "labels.txt", remember=False)
    assert bundle.path is not None
    return bundle.path


def _pct(values: list[float], q: float) -> float | None:
    import numpy as np

    return float(np.percentile(values, q)) if values else None


def _ms(v: float | None) -> str:
    return f"{v:6.1f}ms" if v is not None else f"{'-':>8}"


def policy_rows(run: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per modality of a policy run: counts and p50/p99 (ms) of sensor-to-label and runner."""
    rows = []
    for m in MODALITIES:
        c = run["modalities"].get(m)
        if c is None:
            continue
        lost = run["samples_lost"] if m == "imu" else run["thermal_frames_lost"]
        rows.append({"policy": run["policy"], "repeat": run["repeat"], "modality": m, "labelled": c["labelled"],
                     "skipped": c["skipped"], "lost": lost, "s2l_p50_ms": c["latency"]["p50_ms"],
                     "s2l_p99_ms": c["latency"]["p99_ms"], "run_p50_ms": c["runner"]["p50_ms"],
                     "run_p99_ms": c["runner"]["p99_ms"]})
    return rows


def summarise(runs: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """Per policy and modality: medians over repeats, totals, and the p99 of all repeats' labels pooled."""
    out = []
    for name in names:
        mine = [r for r in runs if r["policy"] == name]
        for m in MODALITIES:
            rows = [row for r in mine for row in policy_rows(r) if row["modality"] == m]
            if not rows:
                continue
            med = {k: statistics.median(v) if (v := [row[k] for row in rows if row[k] is not None]) else None
                   for k in ("s2l_p50_ms", "s2l_p99_ms", "run_p50_ms", "run_p99_ms")}
            pooled = [x for r in mine for x in r["latencies_ms"].get(m, {}).get("sensor_to_label", [])]
            out.append({"policy": name, "modality": m, "repeats": len(rows),
                        **{k: sum(row[k] for row in rows) for k in ("labelled", "skipped", "lost")},
                        **{f"median_{k}": v for k, v in med.items()}, "pooled_s2l_p99_ms": _pct(pooled, 99)})
    return out


def compare_policies(args: argparse.Namespace, rec: Any, bundle: Path) -> dict[str, Any]:
    """Stream ``rec`` once per policy in each repeat (ABCABC); prints as it goes; the figures for ``--json``."""
    from edgebind.bench_pair import live_policies
    from edgebind.runtime.policy import available_cpus

    choices = live_policies(sorted(available_cpus()))
    names = [n.strip() for n in args.policies.split(",") if n.strip()]
    unknown = [n for n in names if n not in choices]
    if unknown or not names:
        raise SystemExit(f"--policies {args.policies}: unknown {unknown}; pick from {', '.join(choices)}.")
    print(f"edgebind stream through a pty: binary 400 Hz + 32x24 ~9 Hz thermal, {args.seconds:g} s per run at "
          f"{args.speed:g}x, hop {args.hop:g} s, thermal every {args.thermal_every:g} s, bundle {bundle}")
    for n in names:
        print(f"  {n}: edgebind stream {choices[n][0]}")
    print(f"{'policy':<12} {'rep':>3} {'stream':<8} {'labelled':>8} {'skipped':>7} {'lost':>5} {'s2l p50':>8} "
          f"{'s2l p99':>8} {'run p50':>8} {'run p99':>8}  load 1-min before/after", flush=True)
    runs = []
    for rep in range(1, args.repeats + 1):
        for n in names:
            load_before = os.getloadavg()[0]
            run = run_link("binary 400 Hz + 32x24 ~9 Hz", rec, "binary", args, {"bundle": str(bundle)}, None,
                           policies=choices[n][1])
            run.update(policy=n, flags=choices[n][0], repeat=rep, load_1min=[load_before, os.getloadavg()[0]])
            runs.append(run)
            for row in policy_rows(run):
                print(f"{n:<12} {rep:>3} {row['modality']:<8} {row['labelled']:>8} {row['skipped']:>7} "
                      f"{row['lost']:>5} {_ms(row['s2l_p50_ms'])} {_ms(row['s2l_p99_ms'])} {_ms(row['run_p50_ms'])} "
                      f"{_ms(row['run_p99_ms'])}  {run['load_1min'][0]:.2f}/{run['load_1min'][1]:.2f}", flush=True)
    summary = summarise(runs, names)
    print(f"median over {args.repeats} repeat(s); pooled = p99 of every repeat's labels together")
    print(f"{'policy':<12} {'stream':<8} {'labelled':>8} {'skipped':>7} {'lost':>5} {'s2l p50':>8} {'s2l p99':>8} "
          f"{'run p50':>8} {'run p99':>8} {'pooled p99':>10}")
    for s in summary:
        print(f"{s['policy']:<12} {s['modality']:<8} {s['labelled']:>8} {s['skipped']:>7} {s['lost']:>5} "
              f"{_ms(s['median_s2l_p50_ms'])} {_ms(s['median_s2l_p99_ms'])} {_ms(s['median_run_p50_ms'])} "
              f"{_ms(s['median_run_p99_ms'])} {_ms(s['pooled_s2l_p99_ms']):>10}")
    return {"command": [Path(sys.argv[0]).name, *sys.argv[1:]], "bundle": str(bundle),
            "policies": {n: choices[n][0] for n in names},
            "runs": runs, "summary": summary}


def print_links(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """The one-policy table: per link and stream, counts, and sensor-to-label against runner p50/p99."""
    what = str(args.bundle) if args.bundle else f"random {args.imu_preset} + {args.thermal_preset}"
    print(f"edgebind stream through a pty, {args.seconds:g} s per link at {args.speed:g}x, hop {args.hop:g} s, "
          f"{what}, {args.threads or 1} runner thread(s)")
    print(f"{'link':<28} {'stream':<8} {'labelled':>8} {'skipped':>7} {'lost':>5} {'errors':>6} "
          f"{'s2l p50':>8} {'s2l p99':>8} {'run p50':>8} {'run p99':>8} {'p99 ratio':>9}")
    for r in results:
        for m, c in r["modalities"].items():
            lat, run = c["latency"], c["runner"]
            if lat["p99_ms"] is None:
                continue
            ratio = lat["p99_ms"] / run["p99_ms"]
            print(f"{r['name']:<28} {m:<8} {c['labelled']:>8} {c['skipped']:>7} {r['samples_lost']:>5} "
                  f"{r['decode_errors']:>6} {lat['p50_ms']:>6.1f}ms {lat['p99_ms']:>6.1f}ms "
                  f"{run['p50_ms']:>6.1f}ms {run['p99_ms']:>6.1f}ms {ratio:>8.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="Wall seconds per link (or per run) [20].")
    parser.add_argument("--speed", type=float, default=1.0, help="Replay speed, x real time [1].")
    parser.add_argument("--hop", type=float, default=0.5, help="Seconds between IMU windows [0.5].")
    parser.add_argument("--thermal-every", type=float, default=0.5, help="Seconds between thermal frames [0.5].")
    parser.add_argument("--threads", type=int, help="Runner CPU threads [1]; not with --policies.")
    parser.add_argument("--imu-preset", default="imu-tiny", help="Random-weight IMU preset [imu-tiny].")
    parser.add_argument("--thermal-preset", default="thermal-small", help="Random-weight thermal preset.")
    parser.add_argument("--bundle", type=Path, help="Use this bundle instead of random presets.")
    parser.add_argument("--no-thermal", action="store_true", help="Binary link without the thermal stream.")
    parser.add_argument("--policies", help="Compare these thread policies on the binary + thermal link, e.g. "
                        "ort-default,previous,edgebind (see above).")
    parser.add_argument("--repeats", type=int, default=1, help="Rounds of all --policies, alternating [1].")
    parser.add_argument("--json", type=Path, metavar="FILE", help="Also write the figures to FILE as JSON.")
    args = parser.parse_args()
    if args.policies and (args.threads is not None or args.no_thermal):
        parser.error("--policies sets the runner threads and needs the thermal stream; drop --threads/--no-thermal.")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}.")

    from edgebind.bridge.convert import convert
    from edgebind.bridge.remix import mlx_sized, retime, trim, with_thermal

    bm, cptv = DATA / "imu/BasicMotions_TEST.ts", DATA / "thermal/20240507-074536.cptv"
    for p in (bm, cptv, IMU_CALIBRATION, THERMAL_CALIBRATION):
        if not p.is_file():
            print(f"missing {p}; run from a full clone of the repository.", file=sys.stderr)
            return 1
    motion, clip = convert(bm), mlx_sized(convert(cptv))
    device_s = args.seconds * args.speed + 10.0
    binary = trim(retime(motion, 400.0), device_s)
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
        if args.policies:
            bundle = args.bundle or student_sized_bundle(Path(tmp))
            out: Any = compare_policies(args, with_thermal(binary, clip), bundle)
        else:
            labels = Path(tmp) / "labels.txt"
            labels.write_text(LABELS)
            if args.bundle is not None:
                model: dict[str, Any] = {"bundle": str(args.bundle)}
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
            threads = args.threads or 1
            out = [
                run_link("csv 50 Hz", trim(retime(motion, 50.0), device_s), "csv", args, model, labels,
                         threads=threads),
                run_link("binary 400 Hz" + ("" if args.no_thermal else " + 32x24 ~9 Hz"),
                         binary if args.no_thermal else with_thermal(binary, clip), "binary", args, model, labels,
                         threads=threads),
            ]
            print_links(out, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
