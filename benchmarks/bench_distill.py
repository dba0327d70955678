"""Student vs teacher: parameters, analytic FLOPs, and batch-1 latency in PyTorch and ONNX Runtime, in one run.

    python benchmarks/bench_distill.py                       # IMU: huge teacher vs imu-small, imu-tiny
    python benchmarks/bench_distill.py --modality thermal    # thermal: huge vs thermal-small
    python benchmarks/bench_distill.py --student my.safetensors --json

Weights are random (latency does not depend on them). Latency is the median of --repeats timed calls after
--warmup calls, timed round-robin over every model and backend, on the same inputs, with the same thread count for
both backends; compare ratios measured in one run (SPEC.md §11: a shared VM's CPU steal moves absolute numbers).
The ONNX export here is the minimal one (``torch.onnx.export(..., dynamo=True)`` of an eval-mode encoder); the real
export path is ``edgebind export``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgebind.checkpoint import load_encoder
from edgebind.config import get_config
from edgebind.models import Encoder, build_encoder

TEACHERS = {"imu": "imagebind_huge_imu", "thermal": "imagebind_huge_thermal"}
STUDENTS = {"imu": ["imu-small", "imu-tiny"], "thermal": ["thermal-small"]}


def example_input(model: Encoder) -> torch.Tensor:
    """A batch-1 input of the encoder's contract: IMU (1, 6, T) randn, thermal (1, 1, S, S) in [0, 1)."""
    g = torch.Generator().manual_seed(0)
    cfg: Any = model.cfg
    if model.modality == "imu":
        return torch.randn(1, cfg.in_channels, cfg.num_samples, generator=g)
    return torch.rand(1, cfg.in_channels, cfg.img_size, cfg.img_size, generator=g)


def prepare(name: str, model: Encoder, threads: int, workdir: Path) -> dict[str, Any]:
    """Export ``model`` to ONNX and return its params, FLOPs, callables for both backends and the ORT max diff."""
    import onnxruntime as ort

    model = model.eval()
    x = example_input(model)
    with torch.inference_mode():
        ref = model(x).numpy()
    path = workdir / f"{name.replace(' ', '_')}.onnx"
    torch.onnx.export(model, (x,), str(path), dynamo=True, input_names=["input"], output_names=["embedding"],
                      verbose=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: x.numpy()}
    out = sess.run(None, feed)[0]

    def run_torch() -> None:
        with torch.inference_mode():
            model(x)

    return {"name": name, "params": sum(p.numel() for p in model.parameters()),
            "gflops": model.cfg.flops() / 1e9,  # type: ignore[attr-defined]
            "ort_max_abs_diff": float(np.abs(out - ref).max()),
            "_fns": {"torch_ms": run_torch, "ort_ms": lambda: sess.run(None, feed)}}


def time_round_robin(rows: list[dict[str, Any]], warmup: int, repeats: int) -> None:
    """Median ms per (model, backend), timing one call of each in turn per round, so that CPU steal on a shared
    machine hits every configuration alike."""
    for r in rows:
        for fn in r["_fns"].values():
            for _ in range(warmup):
                fn()
    times: dict[tuple[int, str], list[float]] = {}
    for _ in range(repeats):
        for i, r in enumerate(rows):
            for key, fn in r["_fns"].items():
                t0 = time.perf_counter()
                fn()
                times.setdefault((i, key), []).append((time.perf_counter() - t0) * 1e3)
    for (i, key), ts in times.items():
        rows[i][key] = statistics.median(ts)
    for r in rows:
        del r["_fns"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--modality", choices=["imu", "thermal"], default="imu")
    p.add_argument("--student", action="append", help="Preset or checkpoint (repeatable) [the modality's presets].")
    p.add_argument("--threads", type=int, default=1, help="Threads for both backends [1: on a loaded shared "
                   "machine, multi-threaded OpenMP spin-waits distort eager PyTorch latency by 10x]")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models: list[tuple[str, Encoder]] = [("teacher " + TEACHERS[args.modality],
                                          build_encoder(get_config(TEACHERS[args.modality])))]
    for spec in args.student or STUDENTS[args.modality]:
        if Path(spec).is_file():
            models.append((Path(spec).stem, load_encoder(spec, args.modality)))
        else:
            models.append((spec, build_encoder(get_config(spec, args.modality))))
    with tempfile.TemporaryDirectory() as tmp:
        rows = [prepare(name, model, args.threads, Path(tmp)) for name, model in models]
        time_round_robin(rows, args.warmup, args.repeats)
    teacher = rows[0]
    for r in rows:
        r["flops_vs_teacher"] = r["gflops"] / teacher["gflops"]
        r["torch_speedup"] = teacher["torch_ms"] / r["torch_ms"]
        r["ort_speedup"] = teacher["ort_ms"] / r["ort_ms"]
    meta = {"threads": args.threads, "repeats": args.repeats, "torch": torch.__version__,
            "device": "cpu", "batch": 1}
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=1))
        return 0
    print(f"batch 1, CPU, {args.threads} threads, median of {args.repeats} round-robin calls after {args.warmup} "
          "warm-ups")
    head = f"{'model':32} {'params':>11} {'GFLOPs':>8} {'of teacher':>10} {'torch ms':>9} {'ORT ms':>8} " \
           f"{'x torch':>8} {'x ORT':>7} {'ORT diff':>9}"
    print(head)
    for r in rows:
        print(f"{r['name']:32} {r['params']:>11,} {r['gflops']:>8.3f} {r['flops_vs_teacher']:>10.1%} "
              f"{r['torch_ms']:>9.2f} {r['ort_ms']:>8.2f} {r['torch_speedup']:>8.1f} {r['ort_speedup']:>7.1f} "
              f"{r['ort_max_abs_diff']:>9.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
