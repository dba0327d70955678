"""Students next to the huge encoders, side by side in one run: latency, and distance to the teacher.

For IMU and thermal, on this machine's CPU, batch 1:

* huge encoder, eager PyTorch fp32 (ours, parity-proven against the official code: the baseline of every ratio);
* huge encoder, ONNX Runtime fp32 and int8;
* the distilled student (``imu-small``, ``thermal-small``) in eager PyTorch fp32, ONNX Runtime fp32 and int8.

There is no real ImageBind checkpoint here, so the teacher is a seeded random-init huge-layout model (IMU, thermal,
and a tiny random text encoder for the label banks; latency does not depend on the weights). The students are
distilled by ``edgebind distill`` on the real data we ship (IMU: BasicMotions TRAIN, ``edgebind/data/demo``; thermal:
the Cacophony CPTV clip 20240917-1921337) and exported by ``edgebind export --int8`` calibrated on that same data.
Held-out data (BasicMotions TEST; CPTV clip 20240507-074536) gives each student's cosine, centred cosine (after
removing the teacher's mean unit embedding of the training windows) and top-1 label agreement with the
teacher. Distillation takes minutes of CPU: everything is cached under ``--cache`` and ``--reuse`` skips what is
there. Timing uses ``edgebind.bench`` in blocks (see docs/students.md) repeated ``--repeats`` times; the spread of
the ratios over the repeats is printed.

    python benchmarks/bench_students.py --reuse                       # IMU and thermal
    python benchmarks/bench_students.py --modality imu --reuse --repeats 3
    python benchmarks/bench_students.py --modality imu-stream --reuse  # the streaming IMU student at hop 0.1 s
    python benchmarks/bench_students.py --modality thermal --thermal-views 8   # issue 22's best thermal recipe

The thermal recipe is a set of options: ``--thermal-views`` (teacher views per training frame, view 0 clean, the rest
from ``ThermalAugment``'s defaults), ``--thermal-scenes N`` (N generated frames, ``edgebind.train.thermal_scenes``,
added to the training clip), ``--thermal-student`` (a preset or a CONFIG.json), ``--thermal-batch``,
``--thermal-steps`` and ``--thermal-centred`` (``edgebind distill --centred-weight``); the student's file and bundles
are named after the recipe, and the JSON holds the recipe and the held-out curve (``--thermal-eval-every``).

``--modality imu-stream`` distils the streaming student (``--student imu-stream``, docs/students.md), exports it
(fp32 and int8 step models), embeds every hop of BasicMotions TEST through the runner (state carried from hop to
hop within each recording) against the teacher's full window at the same window end, and times one label at
``--hop`` with ``edgebind.bench`` (``bench --hop``) at 1 and 2 threads beside the huge eager encoder's window.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EDGEBIND_SHARED", REPO.parent / "shared"))
DEMO = REPO / "edgebind" / "data" / "demo"
STUDENTS = {"imu": "imu-small", "thermal": "thermal-small", "imu-stream": "imu-stream"}
TEACHERS = ("imu", "thermal")
THERMAL_LABELS = "a person\nan animal\na bird\na car\nan empty field at night\n"
IMU_LABELS = "Standing\nRunning\nWalking\nBadminton: playing badminton\n"
GOAL_IMU_INT8 = 30.0
GOAL_STREAM_RATIO = 300.0  # one label at hop 0.1 s against the huge eager encoder's full window, 1 thread
GOAL_STREAM_CENTRED = (0.9, 0.8)  # mean and 5th percentile of the centred cosine over every hop
GOAL_THERMAL = (0.9, 20.0)  # held-out centred cosine of the int8 student, and its ratio to the huge eager encoder


def _data_file(rel: str) -> Path:
    """A real recording from ../shared/data, else the copy in tests/data."""
    for root in (SHARED / "data", REPO / "tests" / "data"):
        if (root / rel).is_file():
            return root / rel
    raise SystemExit(f"missing {rel}: set EDGEBIND_SHARED to the shared folder.")


def recordings(cache: Path) -> dict[str, dict[str, Path]]:
    """Training and held-out Recordings per modality (.npz, converted once)."""
    from edgebind.bridge.convert import convert

    out: dict[str, dict[str, Path]] = {"imu": {"train": DEMO / "basicmotions_train.npz",
                                               "held": DEMO / "basicmotions_test.npz"}}
    thermal: dict[str, Path] = {}
    for split, rel in (("train", "thermal/20240917-1921337.cptv"), ("held", "thermal/20240507-074536.cptv")):
        path = cache / f"thermal_{split}.npz"
        if not path.is_file():
            convert(_data_file(rel)).save(path)
        thermal[split] = path
    out["thermal"] = thermal
    return out


def teacher(cache: Path, seed: int, preset: str = "imagebind_huge") -> Path:
    """The random-init teacher (IMU + thermal of ``preset`` + a tiny 1024-d text encoder for label banks)."""
    path = cache / f"{'' if preset == 'imagebind_huge' else preset + '_'}teacher_seed{seed}.safetensors"
    if path.is_file():
        return path
    import torch

    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config
    from edgebind.models import build_encoder

    torch.manual_seed(seed)
    models = [build_encoder(get_config(preset, m)).eval() for m in TEACHERS] + [build_encoder(get_config("tiny_text"))]
    return save_checkpoint(models, path, {"random_init": "true", "seed": str(seed)})


def edgebind(*args: str, cache: Path) -> str:
    """Run an edgebind command in a subprocess (the same CLI a user types); its stdout."""
    env = {**os.environ, "EDGEBIND_CACHE": str(cache / "edgebind-cache"),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-c", "from edgebind.cli import main; main()", *args]
    print("$ edgebind " + " ".join(args), flush=True)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"edgebind {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def distill(m: str, teach: Path, recs: dict[str, Path], cache: Path, steps: int, reuse: bool,
            student: str | None = None, extra: list[str] | None = None, train: list[Path] | None = None,
            tag: str = "", eval_every: int = 0) -> tuple[Path, dict[str, Any]]:
    """``edgebind distill`` the modality's student (cached), on ``train`` (default: the training recording); the
    checkpoint and ``edgebind distill --json``'s summary (held-out curve, data, speed; {} when reused)."""
    student = student or STUDENTS[m]
    out = cache / f"{Path(student).stem}_{steps}steps{tag}.safetensors"
    summary_path = out.with_suffix(".json")
    if reuse and out.is_file():
        return out, json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    labels = cache / f"{m}_labels.txt"
    labels.write_text(IMU_LABELS if m == "imu" else THERMAL_LABELS)
    extra = extra or (["--views", "4", "--batch-size", "32", "--hop", "1.0"] if m == "imu"
                      else ["--views", "2", "--batch-size", "16"])
    t0 = time.perf_counter()
    stdout = edgebind("distill", "--teacher", str(teach), "--student", student, "--modality", m, "--data",
                      *(str(p) for p in train or [recs["train"]]), "--eval-data", str(recs["held"]), "--labels",
                      str(labels), "--steps", str(steps), "--eval-every", str(eval_every or max(steps // 4, 1)),
                      "--seed", "0", *extra, "-o", str(out), "--json", cache=cache)
    summary: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    summary["wall_s"] = time.perf_counter() - t0
    summary_path.write_text(json.dumps(summary, indent=1, default=str))
    print(f"distilled {out.name} in {summary['wall_s']:.0f} s", flush=True)
    return out, summary


def export(m: str, ckpt: Path, name: str, precision: str, recs: dict[str, Path], cache: Path, reuse: bool,
           labels: Path | None = None) -> Path:
    """``edgebind export --target cpu`` of one encoder (int8 calibrated on the training recording), cached.
    ``labels`` defaults to the teacher's labels.txt (embedded by its text encoder)."""
    out = cache / "bundles" / f"{name}-{precision}"
    if reuse and (out / "manifest.json").is_file():
        return out
    args = ["export", "--target", "cpu", "--checkpoint", str(ckpt), "--modalities", m, "--labels",
            str(labels or cache / f"{m}_labels.txt"), "-o", str(out)]
    if precision == "int8":
        args += ["--int8", "--calibration", str(recs["train"])]
    t0 = time.perf_counter()
    edgebind(*args, cache=cache)
    print(f"exported {out.name} in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def inputs(rec: Path, m: str, hop_s: float = 1.0, every: int = 1) -> np.ndarray:
    """Clean model inputs of every window (IMU, ``hop_s`` apart within each labelled piece, in order; of every
    ``every``-th piece) or frame (thermal) of a Recording."""
    from edgebind.train.augment import make_batch, no_augment
    from edgebind.train.common import default_augment
    from edgebind.train.data import load_recordings, windows_from_recordings

    ws = windows_from_recordings(load_recordings([rec]), m, hop_s=hop_s)
    if every > 1:
        keep = np.unique(ws.segments)[::every]
        ws = ws.subset(np.flatnonzero(np.isin(ws.segments, keep)))
    idx = np.arange(len(ws))
    return make_batch(ws.raw, m, ws.contract, no_augment(default_augment(m)), 0, idx, np.zeros(len(ws), np.int64))


def quality(m: str, bundles: dict[str, Path], recs: dict[str, Path]) -> dict[str, dict[str, float]]:
    """Each student's (torch fp32, ORT fp32, ORT int8) distance to the teacher (huge torch fp32) on held-out data,
    and the int8 student's cosine to its fp32 self."""
    from edgebind.bundle import load_bundle
    from edgebind.runtime import open_runner
    from edgebind.train.evaluate import teacher_agreement

    held, train = inputs(recs["held"], m), inputs(recs["train"], m)
    with open_runner(bundles["huge-fp32"], m, backend="torch") as r:
        teacher_held, teacher_train = r.embed(held), r.embed(train)
    bank = load_bundle(bundles["huge-fp32"]).label_bank()
    # the mean of the teacher's *unit* training embeddings, as edgebind distill's evaluation uses
    train_mean = (teacher_train / np.linalg.norm(teacher_train, axis=-1, keepdims=True)).mean(0)
    out: dict[str, dict[str, float]] = {}
    embs: dict[str, np.ndarray] = {}
    for key, bundle, backend in (("student torch fp32", "student-fp32", "torch"),
                                 ("student ORT fp32", "student-fp32", "onnxruntime"),
                                 ("student ORT int8", "student-int8", "onnxruntime")):
        with open_runner(bundles[bundle], m, backend=backend) as r:
            embs[key] = r.embed(held)
        out[key] = teacher_agreement(embs[key], teacher_held, train_mean, bank)
    a, b = embs["student ORT int8"], embs["student ORT fp32"]
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    out["student ORT int8"]["min_cosine_to_fp32"] = float(cos.min())
    out["_meta"] = {"held_out_inputs": float(len(held)), "train_inputs": float(len(train))}
    return out


def timing(m: str, bundles: dict[str, Path], args: argparse.Namespace) -> list[dict[str, Any]]:
    """``edgebind.bench`` of every (bundle, backend) in one call, ``args.repeats`` times; per case the medians of
    p50/p99 and of the ratio to the huge eager encoder, with the ratio's min and max over the repeats."""
    from edgebind.bench import bench_bundles

    order = ["huge-fp32", "huge-int8", "student-fp32", "student-int8"]
    runs: list[list[Any]] = []
    for i in range(args.repeats):
        runs.append(bench_bundles([bundles[k] for k in order], modalities=[m], threads=args.threads, runs=args.runs,
                                  warmup=args.warmup, mode=args.mode, block=args.block))
        print(f"  {m} timing repeat {i + 1}/{args.repeats} done", flush=True)
    names = {str(bundles[k]): k for k in order}
    rows = []
    for j, first in enumerate(runs[0]):
        case = [rep[j] for rep in runs]
        ratios = [c.speedup_vs_torch_fp32 for c in case]
        what = names[first.bundle].replace("-fp32", "").replace("-int8", "")
        rows.append({"case": f"{what} {'eager' if first.backend == 'torch' else 'ORT'} {first.precision}",
                     "p50_ms": float(np.median([c.p50_ms for c in case])),
                     "p99_ms": float(np.median([c.p99_ms for c in case])),
                     "ratio": float(np.median(ratios)), "ratio_min": min(ratios), "ratio_max": max(ratios)})
    return rows


def stream_quality(bundles: dict[str, Path], recs: dict[str, Path], hop_s: float, every: int) -> dict[str, Any]:
    """The streaming student at every hop of the held-out recordings (every ``every``-th labelled case), through its
    runner (state carried from each window to the next), against the teacher's (huge eager fp32) full window ending
    at the same sample. The centring mean is the teacher's over every other TRAIN window (1 s hop)."""
    from edgebind.runtime import open_runner
    from edgebind.train.evaluate import teacher_agreement

    held, train = inputs(recs["held"], "imu", hop_s, every), inputs(recs["train"], "imu", 1.0, 2)
    t0 = time.perf_counter()
    with open_runner(bundles["huge-fp32"], "imu", backend="torch") as r:
        teacher_held, teacher_train = r.embed(held), r.embed(train)
    print(f"  teacher on {len(held)} held-out windows in {time.perf_counter() - t0:.0f} s", flush=True)
    train_mean = (teacher_train / np.linalg.norm(teacher_train, axis=-1, keepdims=True)).mean(0)
    out: dict[str, Any] = {"hop_s": hop_s, "windows": len(held), "every_case": every, "train_windows": len(train)}
    for key, bundle, backend in (("stream torch fp32", "student-fp32", "torch"),
                                 ("stream ORT fp32", "student-fp32", "onnxruntime"),
                                 ("stream ORT int8", "student-int8", "onnxruntime")):
        with open_runner(bundles[bundle], "imu", backend=backend) as r:
            emb = r.embed(held)
            steps, resets = r.step_stream().steps, r.step_stream().resets  # type: ignore[attr-defined]
        out[key] = {**teacher_agreement(emb, teacher_held, train_mean), "steps": steps, "resets": resets}
    return out


def stream_main(args: argparse.Namespace, recs: dict[str, dict[str, Path]], teach: Path,
                report: dict[str, Any]) -> None:
    """``--modality imu-stream``: distil, export, evaluate every hop, time one label at ``--hop``."""
    from edgebind.bench import bench_bundles

    student, _ = distill("imu", teach, recs["imu"], args.cache, args.stream_steps, args.reuse, student="imu-stream",
                         extra=["--views", "4", "--batch-size", "32", "--hop", "0.5"])
    bundles = {f"huge-{p}": export("imu", teach, "huge-imu", p, recs["imu"], args.cache, args.reuse)
               for p in ("fp32",)}
    bank = bundles["huge-fp32"] / "labels.npz"
    for p in ("fp32", "int8"):
        bundles[f"student-{p}"] = export("imu", student, "imu-stream", p, recs["imu"], args.cache, args.reuse,
                                         labels=bank)
    quality = stream_quality(bundles, recs["imu"], args.hop, args.every_case)
    order = ["huge-fp32", "student-fp32", "student-int8"]
    timing: dict[str, list[dict[str, Any]]] = {}
    for threads in (1, 2):
        rows: list[dict[str, Any]] = []
        for i in range(args.repeats):
            res = bench_bundles([bundles[k] for k in order], backends=["torch", "onnxruntime"], modalities=["imu"],
                                threads=threads, runs=args.runs, warmup=args.warmup, mode=args.mode,
                                block=args.block, hop_s=args.hop)
            rows += [{"repeat": i, "bundle": Path(r.bundle).name, "backend": r.backend, "precision": r.precision,
                      "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "ratio": r.speedup_vs_torch_fp32,
                      "steps_per_label": r.steps_per_label} for r in res]
            print(f"  stream timing, {threads} thread(s), repeat {i + 1}/{args.repeats} done", flush=True)
        timing[str(threads)] = rows
    report["imu-stream"] = {"student": "imu-stream", "steps": args.stream_steps, "hop_s": args.hop,
                            "quality": quality, "timing": timing}


def print_stream(r: dict[str, Any]) -> None:
    q = r["quality"]
    print(f"\nimu-stream ({r['steps']} distillation steps), every hop of {q['hop_s']} s of every "
          f"{q['every_case']}. held-out case ({q['windows']} windows), through the runner with state carried, vs the "
          "teacher's full window:")
    print(f"{'student':<20} {'cosine':>7} {'centred':>8} {'centred p5':>10} {'steps':>6} {'resets':>6}")
    for key in ("stream torch fp32", "stream ORT fp32", "stream ORT int8"):
        f = q[key]
        print(f"{key:<20} {f['cosine']:>7.3f} {f['centred_cosine']:>8.3f} {f['centred_cosine_p5']:>10.3f} "
              f"{f['steps']:>6} {f['resets']:>6}")
    print(f"\none label at hop {r['hop_s']} s (edgebind bench --hop); ratio = huge eager p50 / p50, median "
          "[min-max] over repeats:")
    best: dict[str, float] = {}
    for threads, rows in r["timing"].items():
        cases = sorted({(x["bundle"], x["backend"], x["precision"]) for x in rows})
        for case in cases:
            sel = [x for x in rows if (x["bundle"], x["backend"], x["precision"]) == case]
            p50 = float(np.median([x["p50_ms"] for x in sel]))
            ratios = [x["ratio"] for x in sel]
            name = f"{case[0]} {'eager' if case[1] == 'torch' else 'ORT'} {case[2]}"
            best[name] = min(best.get(name, float("inf")), p50)
            print(f"  {threads} thread(s)  {name:<32} p50 {p50:8.3f} ms  x huge eager {np.median(ratios):8.1f} "
                  f"[{min(ratios):.1f}-{max(ratios):.1f}]  steps/label {sel[0]['steps_per_label']}")
    huge = best.get("huge-imu-fp32 eager fp32")
    for name, p50 in best.items():
        if huge and not name.startswith("huge"):
            print(f"  best against best: {name} {huge / p50:.1f}x (huge eager best p50 {huge:.2f} ms, "
                  f"this {p50:.3f} ms)")
    one = [x for x in r["timing"]["1"] if x["bundle"].startswith("imu-stream") and x["backend"] == "onnxruntime"]
    top = max(float(np.median([x["ratio"] for x in one if x["precision"] == p])) for p in ("fp32", "int8"))
    c = q["stream ORT int8"]
    met = c["centred_cosine"] >= GOAL_STREAM_CENTRED[0] and c["centred_cosine_p5"] >= GOAL_STREAM_CENTRED[1]
    print(f"goal: one label >= {GOAL_STREAM_RATIO:g}x at 1 thread: {top:.0f}x "
          f"({'met' if top >= GOAL_STREAM_RATIO else 'NOT met'}); centred cosine mean >= {GOAL_STREAM_CENTRED[0]} and "
          f"p5 >= {GOAL_STREAM_CENTRED[1]} (int8): {c['centred_cosine']:.3f} / {c['centred_cosine_p5']:.3f} "
          f"({'met' if met else 'NOT met'})")


def thermal_recipe(args: argparse.Namespace, recs: dict[str, Path]) -> dict[str, Any]:
    """The thermal student's training data and options from ``--thermal-*``: the training clip plus
    ``--thermal-scenes`` generated frames (written once to the cache), views, batch, augmentation."""
    from dataclasses import asdict

    from edgebind.train.augment import ThermalAugment
    from edgebind.train.thermal_scenes import save_scenes

    train = [recs["train"]]
    if args.thermal_scenes > 0:
        scenes = args.cache / f"thermal_scenes_{args.thermal_scenes}_seed{args.scenes_seed}.npz"
        if not scenes.is_file():
            save_scenes(scenes, args.thermal_scenes, seed=args.scenes_seed)
        train.append(scenes)
    default = (args.thermal_views, args.thermal_batch, args.thermal_scenes, args.thermal_centred) == (2, 16, 0, 0)
    tag = "" if default else f"_{args.thermal_views}v_b{args.thermal_batch}_{args.thermal_scenes}scenes"
    extra = ["--views", str(args.thermal_views), "--batch-size", str(args.thermal_batch)]
    if args.thermal_centred > 0:
        tag += f"_c{args.thermal_centred:g}"
        extra += ["--centred-weight", str(args.thermal_centred)]
    return {"train": train, "views": args.thermal_views, "batch": args.thermal_batch, "scenes": args.thermal_scenes,
            "scenes_seed": args.scenes_seed, "student": args.thermal_student, "augment": asdict(ThermalAugment()),
            "centred_weight": args.thermal_centred, "tag": tag, "extra": extra}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--modality", choices=["imu", "thermal", "both", "imu-stream"], default="both")
    p.add_argument("--stream-steps", type=int, default=600, help="Distillation steps of imu-stream [600].")
    p.add_argument("--hop", type=float, default=0.1, help="imu-stream: seconds between labels [0.1].")
    p.add_argument("--every-case", type=int, default=1, help="imu-stream: evaluate every n-th held-out case (the "
                   "teacher runs its full window at every hop; 4 on a loaded 2-core machine) [1].")
    p.add_argument("--cache", type=Path, default=REPO / "benchmarks" / "results" / "cache")
    p.add_argument("--reuse", action="store_true", help="Reuse the students and bundles already in --cache.")
    p.add_argument("--imu-steps", type=int, default=300, help="Distillation steps of imu-small [300].")
    p.add_argument("--thermal-steps", type=int, default=150, help="Distillation steps of thermal-small [150].")
    p.add_argument("--thermal-student", default="thermal-small", help="Thermal student: preset or CONFIG.json "
                   "[thermal-small].")
    p.add_argument("--thermal-views", type=int, default=2, help="Teacher views per thermal training frame [2].")
    p.add_argument("--thermal-batch", type=int, default=16, help="Thermal distillation batch [16].")
    p.add_argument("--thermal-scenes", type=int, default=0, help="Generated thermal frames added to the training "
                   "clip (edgebind.train.thermal_scenes) [0].")
    p.add_argument("--thermal-centred", type=float, default=0.0, help="edgebind distill --centred-weight of the "
                   "thermal student [0].")
    p.add_argument("--scenes-seed", type=int, default=0, help="Seed of the generated thermal frames [0].")
    p.add_argument("--thermal-eval-every", type=int, default=0, help="Held-out evaluation every n thermal steps "
                   "[a quarter of the steps].")
    p.add_argument("--threads", type=int, default=1, help="Threads of every backend [1: on a loaded shared machine, "
                   "2-thread eager PyTorch spin-waits and reads up to 25x slow, which would flatter every ratio]")
    p.add_argument("--runs", type=int, default=20, help="Timed calls per case and repeat [20].")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--mode", choices=["blocks", "interleaved"], default="blocks")
    p.add_argument("--block", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3, help="Whole timing runs; the ratios' spread is printed [3].")
    p.add_argument("--seed", type=int, default=0, help="Seed of the random-init teacher [0].")
    p.add_argument("--teacher-preset", default="imagebind_huge", help="Teacher layout ['tiny' for a smoke run].")
    p.add_argument("--json", type=Path, help="Also write the figures here.")
    args = p.parse_args()

    args.cache.mkdir(parents=True, exist_ok=True)
    mods = ["imu", "thermal"] if args.modality == "both" else [args.modality]
    recs = recordings(args.cache)
    teach = teacher(args.cache, args.seed, args.teacher_preset)
    report: dict[str, Any] = {"threads": args.threads, "runs": args.runs, "repeats": args.repeats, "mode": args.mode,
                              "batch": 1, "teacher": f"random-init {args.teacher_preset} layout, seed {args.seed}"}
    if args.modality == "imu-stream":
        stream_main(args, recs, teach, report)
        print_stream(report["imu-stream"])
        if args.json:
            args.json.write_text(json.dumps(report, indent=1))
        return 0
    for m in mods:
        steps = args.imu_steps if m == "imu" else args.thermal_steps
        name, recipe, summary = STUDENTS[m], {}, {}
        if m == "imu":
            student, _ = distill(m, teach, recs[m], args.cache, steps, args.reuse)
        else:
            recipe = thermal_recipe(args, recs[m])
            name = Path(args.thermal_student).stem + recipe["tag"]
            student, summary = distill(m, teach, recs[m], args.cache, steps, args.reuse, args.thermal_student,
                                       recipe["extra"], recipe["train"], recipe["tag"], args.thermal_eval_every)
        bundles = {f"huge-{prec}": export(m, teach, f"huge-{m}", prec, recs[m], args.cache, args.reuse)
                   for prec in ("fp32", "int8")}
        teacher_bank = bundles["huge-fp32"] / "labels.npz"  # a student has no text encoder: the teacher's bank
        for prec in ("fp32", "int8"):
            bundles[f"student-{prec}"] = export(m, student, name, prec, recs[m], args.cache, args.reuse,
                                                labels=teacher_bank)
        report[m] = {"student": name, "steps": steps, "quality": quality(m, bundles, recs[m]),
                     "timing": timing(m, bundles, args)}
        if m == "thermal":
            report[m]["recipe"] = {k: v for k, v in recipe.items() if k not in ("extra", "train")}
            report[m]["recipe"]["train"] = [str(p.name) for p in recipe["train"]]
            report[m]["curve"] = summary.get("history", [])
            report[m]["distill"] = {k: summary.get(k) for k in ("steps_per_s", "wall_s", "data", "student_gflops",
                                                                "teacher_gflops")}
    print_report(report, mods)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0



def print_report(report: dict[str, Any], mods: list[str]) -> None:
    print(f"\nbatch 1, CPU, {report['threads']} threads per backend, {report['runs']} timed calls x "
          f"{report['repeats']} repeats ({report['mode']}); teacher: {report['teacher']}")
    for m in mods:
        r = report[m]
        print(f"\n{m}: huge vs {r['student']} ({r['steps']} distillation steps); ratio = huge eager p50 / p50 "
              "(median [min-max] over repeats)")
        print(f"{'case':<24} {'p50 ms':>8} {'p99 ms':>8} {'x huge eager':>22}")
        for row in r["timing"]:
            print(f"{row['case']:<24} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
                  f"{row['ratio']:>8.2f} [{row['ratio_min']:.2f}-{row['ratio_max']:.2f}]")
        q = r["quality"]
        print(f"held out ({int(q['_meta']['held_out_inputs'])} inputs) vs the teacher (huge eager fp32):")
        print(f"{'student':<24} {'cosine':>7} {'centred':>8} {'const. baseline':>15} {'top-1 agree':>11} "
              f"{'teacher top share':>17}")
        for key, f in q.items():
            if key.startswith("_"):
                continue
            print(f"{key:<24} {f['cosine']:>7.3f} {f['centred_cosine']:>8.3f} {f['constant_baseline']:>15.3f} "
                  f"{f.get('top1_agreement', float('nan')):>11.3f} {f.get('teacher_top1_share', float('nan')):>17.3f}")
        if "min_cosine_to_fp32" in q["student ORT int8"]:
            print(f"student ORT int8 min cosine to its fp32 self: {q['student ORT int8']['min_cosine_to_fp32']:.5f}")
        if m == "imu":
            int8 = next(row for row in r["timing"] if row["case"] == "student ORT int8")
            print(f"goal: imu-small int8 >= {GOAL_IMU_INT8:g}x the huge eager encoder: measured "
                  f"{int8['ratio']:.1f}x ({'met' if int8['ratio'] >= GOAL_IMU_INT8 else 'NOT met'})")
        if m == "thermal" and "recipe" in r:
            print_thermal(r)


def print_thermal(r: dict[str, Any]) -> None:
    """The thermal recipe, its held-out curve and issue 22's goal."""
    rc = r["recipe"]
    print(f"recipe: {rc['student']}, {r['steps']} steps, batch {rc['batch']}, {rc['views']} views per frame, "
          f"centred loss weight {rc.get('centred_weight', 0):g}, data {' + '.join(rc['train'])}")
    if r.get("curve"):
        print("held-out curve (fp32, in training): " + ", ".join(
            f"step {int(h['step'])} {h['centred_cosine']:.3f}/{h['centred_cosine_p5']:.3f}" for h in r["curve"])
            + " (centred cosine mean/p5)")
    q, t = r["quality"]["student ORT int8"], next(x for x in r["timing"] if x["case"].endswith("ORT int8")
                                                   and not x["case"].startswith("huge"))
    met = q["centred_cosine"] >= GOAL_THERMAL[0] and t["ratio"] >= GOAL_THERMAL[1]
    print(f"goal: int8 centred cosine >= {GOAL_THERMAL[0]} at >= {GOAL_THERMAL[1]:g}x the huge eager encoder: "
          f"{q['centred_cosine']:.3f} (p5 {q['centred_cosine_p5']:.3f}) at {t['ratio']:.1f}x "
          f"({'met' if met else 'NOT met'})")


if __name__ == "__main__":
    sys.exit(main())
