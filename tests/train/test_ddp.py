"""torchrun --nproc_per_node 2 on CPU (gloo) gives the same student as one process with the same global batch.

Tolerance: every weight within 1e-4 absolute of the one-process run after the steps below, and held-out metrics
within 1e-3. The two runs differ only in floating-point summation order (two half-batch gradients averaged by
all-reduce vs one full-batch gradient); Adam's normalisation lets those ~1e-7 differences grow a little per step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

WORKER = Path(__file__).with_name("_ddp_worker.py")
ATOL_WEIGHTS = 1e-4
ATOL_METRICS = 1e-3


def _run(args: list[str], nproc: int, tmp_path: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EDGEBIND_CACHE": str(tmp_path / f"cache{nproc}")}
    prefix = [sys.executable, str(WORKER)]
    if nproc > 1:
        prefix = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
                  str(WORKER)]
    proc = subprocess.run([*prefix, *args, "--json", "--device", "cpu"], capture_output=True, text=True,
                          timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(line) == 1, proc.stdout  # only rank 0 reports
    return json.loads(line[0])


def _compare(a: dict, b: dict) -> float:
    assert (a["world_size"], b["world_size"]) == (1, 2)
    wa, wb = load_file(a["output"]), load_file(b["output"])
    worst = max(float((wa[k] - wb[k]).abs().max()) for k in wa)
    assert worst <= ATOL_WEIGHTS, worst
    for ha, hb in zip(a["history"], b["history"], strict=True):
        for k, v in ha.items():
            assert abs(v - hb[k]) <= ATOL_METRICS, (k, v, hb[k])
    return worst


def _changed(a: dict) -> None:
    first, last = a["history"][0], a["history"][-1]
    assert first != last  # training moved the student


@pytest.mark.skipif(not torch.distributed.is_gloo_available(), reason="torch built without gloo")
def test_torchrun_distill_matches_one_process(tiny_teacher: Path, bm_small: dict, det_student: Path,
                                              tmp_path: Path) -> None:
    common = ["distill", "--teacher", str(tiny_teacher), "--student", str(det_student), "--data",
              str(bm_small["train"]), "--eval-data", str(bm_small["test"]), "--steps", "4", "--batch-size", "8",
              "--views", "2", "--lr", "1e-3"]
    one = _run([*common, "-o", str(tmp_path / "one.safetensors")], 1, tmp_path)
    two = _run([*common, "-o", str(tmp_path / "two.safetensors")], 2, tmp_path)
    _changed(one)
    print(f"max weight difference one process vs 2 ranks: {_compare(one, two):.2e}")


@pytest.mark.skipif(not torch.distributed.is_gloo_available(), reason="torch built without gloo")
def test_torchrun_infonce_with_accumulation_matches_one_process(tiny_teacher: Path, bm_small: dict,
                                                                 det_student: Path, tmp_path: Path) -> None:
    common = ["train", "--anchors", "text", "--text-model", str(tiny_teacher), "--student", str(det_student),
              "--data", str(bm_small["train"]), "--eval-data", str(bm_small["test"]), "--steps", "3",
              "--batch-size", "8", "--grad-accum", "2", "--views", "2", "--lr", "1e-3"]
    one = _run([*common, "-o", str(tmp_path / "one.safetensors")], 1, tmp_path)
    two = _run([*common, "-o", str(tmp_path / "two.safetensors")], 2, tmp_path)
    _changed(one)
    print(f"max weight difference one process vs 2 ranks: {_compare(one, two):.2e}")
