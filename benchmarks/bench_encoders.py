"""Huge encoders with random weights: parameters, FLOPs per sample, PyTorch CPU latency (batch 1).

The baseline later issues compare against (export, students). Prints a table; ``--json`` for machines.

    python benchmarks/bench_encoders.py [--modalities imu,thermal,text] [--repeats 10] [--threads 2]

FLOPs are analytic (2 x MACs, SPEC.md §11) and cross-checked against ``torch.utils.flop_counter`` plus the
attention matmuls the counter misses. Latency: median of ``--repeats`` runs after 3 warm-ups.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from edgebind.config import get_config
from edgebind.models import build_encoder

SPEC_GFLOPS = {"imu": 10.27, "thermal": 34.98, "text": 47.09}


def example_input(modality: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    if modality == "imu":
        return torch.randn(1, 6, 2000, generator=g)
    if modality == "thermal":
        return torch.rand(1, 1, 224, 224, generator=g)
    from edgebind.tokenizer import tokenize

    return torch.from_numpy(tokenize(["a person walking the dog"]))


def counted_gflops(model: torch.nn.Module, x: torch.Tensor) -> float:
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        model(x)
    return counter.get_total_flops() / 1e9


def median_latency_ms(model: torch.nn.Module, x: torch.Tensor, repeats: int) -> tuple[float, float]:
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modalities", default="imu,thermal,text")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for m in args.modalities.split(","):
        cfg = get_config("imagebind_huge", m)
        torch.manual_seed(0)
        model = build_encoder(cfg)
        x = example_input(m)
        analytic = cfg.flops() / 1e9
        counted = counted_gflops(model, x)
        med, best = median_latency_ms(model, x, args.repeats)
        rows.append({
            "encoder": f"imagebind_huge_{m}",
            "params_M": round(sum(p.numel() for p in model.parameters()) / 1e6, 2),
            "gflops_analytic": round(analytic, 3),
            "gflops_spec": SPEC_GFLOPS[m],
            "gflops_flop_counter": round(counted, 3),
            "latency_ms_median": round(med, 1),
            "latency_ms_min": round(best, 1),
            "threads": args.threads,
        })
        del model
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"torch {torch.__version__}, {args.threads} threads, batch 1, median of {args.repeats} after 3 warm-ups")
    print(f"{'encoder':26} {'params':>9} {'GFLOPs':>8} {'SPEC':>7} {'counter*':>9} {'median ms':>10} {'min ms':>8}")
    for r in rows:
        print(f"{r['encoder']:26} {r['params_M']:>8}M {r['gflops_analytic']:>8} {r['gflops_spec']:>7} "
              f"{r['gflops_flop_counter']:>9} {r['latency_ms_median']:>10} {r['latency_ms_min']:>8}")
    print("* torch's flop counter; where it counts the attention matmuls it equals the analytic figure")


if __name__ == "__main__":
    main()
