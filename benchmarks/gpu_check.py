"""The GPU figures of issue 12, with PyTorch alone (no TensorRT): run by ``benchmarks/gpu_check.sh``.

Prints, for the huge IMU and thermal encoders (random weights: latency does not depend on them):
  * batch-1 and batch-32 latency in fp32 (TF32 off), fp16 and bf16, eager and as a CUDA graph;
  * the worst per-sample cosine of each precision's output to fp32 on the same batch-32 input;
and for huge IMU teacher -> ``imu-small`` student with bf16 autocast:
  * ``distill`` steps/s and peak memory (teacher forward without grad + student step, edgebind's distill loss);
  * ``train`` steps/s and peak memory (student step against precomputed frozen anchors, edgebind's symmetric
    InfoNCE; the anchors here are the teacher's embeddings of the batch, standing in for text/vision anchors).

    python benchmarks/gpu_check.py                      # on a CUDA GPU, a few minutes
    python benchmarks/gpu_check.py --tiny --device cpu  # tiny configs on the CPU: checks the script runs
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from edgebind.config import get_config
from edgebind.models import Encoder, build_encoder
from edgebind.train.losses import DistillLoss, distill_loss, symmetric_infonce

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_ms(fn: Callable[[], Any], device: torch.device, warmup: int, repeats: int) -> float:
    """Median wall time of ``fn`` in ms, synchronised, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def example_input(model: Encoder, batch: int, device: torch.device) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    cfg: Any = model.cfg
    if model.modality == "imu":
        x = torch.randn(batch, cfg.in_channels, cfg.num_samples, generator=g)
    else:
        x = torch.rand(batch, 1, cfg.img_size, cfg.img_size, generator=g)
    return x.to(device)


def graphed(model: torch.nn.Module, x: torch.Tensor) -> Callable[[], torch.Tensor]:
    """``model(x)`` captured as a CUDA graph (static input and output), replayed per call."""
    static_x = x.clone()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream), torch.inference_mode():
        for _ in range(3):
            model(static_x)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.inference_mode():
        static_y = model(static_x)

    def replay() -> torch.Tensor:
        graph.replay()
        return static_y

    return replay


def worst_cosine(y: torch.Tensor, ref: torch.Tensor) -> float:
    return float(F.cosine_similarity(y.float(), ref.float(), dim=-1).min())


def encoder_figures(preset: str, batches: tuple[int, ...], device: torch.device, warmup: int,
                    repeats: int) -> list[dict[str, Any]]:
    """Latency per (precision, batch), eager and CUDA graph, and cosine to fp32 at the largest batch."""
    torch.manual_seed(0)
    base = build_encoder(get_config(preset)).eval().to(device)
    rows: list[dict[str, Any]] = []
    ref: torch.Tensor | None = None
    for name, dtype in DTYPES.items():
        model = copy.deepcopy(base).to(dtype)  # each precision from the fp32 weights, not from the previous cast
        for batch in batches:
            x = example_input(base, batch, device).to(dtype)
            with torch.inference_mode():
                y = model(x)
                eager = median_ms(lambda m=model, x=x: m(x), device, warmup, repeats)
            row: dict[str, Any] = {"encoder": preset, "precision": name, "batch": batch, "eager_ms": eager,
                                   "graph_ms": None, "cos_to_fp32": None}
            if device.type == "cuda":
                row["graph_ms"] = median_ms(graphed(model, x), device, warmup, repeats)
            if batch == max(batches):
                if name == "fp32":
                    ref = y.float()
                assert ref is not None
                row["cos_to_fp32"] = worst_cosine(y, ref)
            rows.append(row)
        del model
    return rows


def training_figures(teacher_preset: str, student_preset: str, batch: int, device: torch.device, warmup: int,
                     steps: int) -> list[dict[str, Any]]:
    """``distill`` and ``train`` steps/s and peak memory with bf16 autocast."""
    torch.manual_seed(0)
    teacher = build_encoder(get_config(teacher_preset)).eval().to(device).requires_grad_(False)
    student = build_encoder(get_config(student_preset)).train().to(device)
    opt = torch.optim.AdamW(student.parameters(), lr=1e-4)
    x = example_input(teacher, batch, device)
    weights = DistillLoss()
    scale = float(teacher.logit_scale())
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16):
        anchors = F.normalize(teacher(x).float(), dim=-1)

    def unit(model: Encoder, inp: torch.Tensor) -> torch.Tensor:
        return F.normalize(model(inp).float(), dim=-1)

    def distill_step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16):
            with torch.no_grad():
                t = unit(teacher, x)
            loss, _ = distill_loss(unit(student, x), t, scale, weights)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def train_step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss, _ = symmetric_infonce(unit(student, x), anchors, 0.07)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    rows = []
    for name, step in (("distill", distill_step), ("train", train_step)):
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        ms = median_ms(step, device, warmup, steps)
        peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
        rows.append({"task": name, "teacher": teacher_preset, "student": student_preset, "batch": batch,
                     "steps_per_s": 1e3 / ms, "peak_mib": peak})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--tiny", action="store_true", help="tiny configs and batches (checks the script, not a GPU)")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20, help="timed training steps per task")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("no CUDA GPU visible to PyTorch; run with --tiny --device cpu to check the script.")
        torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32, so cos_to_fp32 compares real precisions
        torch.backends.cudnn.allow_tf32 = False
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    if args.tiny:
        encoders, batches, pair, train_batch = ("tiny_imu", "tiny_thermal"), (1, 4), ("tiny_imu", "imu-tiny"), 4
    else:
        encoders, batches = ("imagebind_huge_imu", "imagebind_huge_thermal"), (1, 32)
        pair, train_batch = ("imagebind_huge_imu", "imu-small"), 32
    rows = [r for e in encoders for r in encoder_figures(e, batches, device, args.warmup, args.repeats)]
    train = training_figures(*pair, train_batch, device, args.warmup, args.steps)
    head = {"gpu": gpu, "torch": torch.__version__, "cuda": torch.version.cuda, "tf32": False}
    if args.json:
        print(json.dumps({**head, "encoders": rows, "training": train}, indent=1))
        return
    print(f"# {gpu}, torch {torch.__version__}, CUDA {torch.version.cuda}; fp32 with TF32 off; random weights")
    print(f"{'encoder':24s} {'prec':5s} {'batch':>5s} {'eager ms':>9s} {'graph ms':>9s} {'cos vs fp32':>11s}")
    for r in rows:
        graph = "-" if r["graph_ms"] is None else f"{r['graph_ms']:.3f}"
        cos = "" if r["cos_to_fp32"] is None else f"{r['cos_to_fp32']:.6f}"
        print(f"{r['encoder']:24s} {r['precision']:5s} {r['batch']:5d} {r['eager_ms']:9.3f} {graph:>9s} {cos:>11s}")
    for t in train:
        peak = "-" if t["peak_mib"] is None else f"{t['peak_mib']:.0f} MiB"
        print(f"{t['task']:8s} {t['teacher']} -> {t['student']}, batch {t['batch']}, bf16 autocast: "
              f"{t['steps_per_s']:.2f} steps/s, peak {peak}")


if __name__ == "__main__":
    main()
