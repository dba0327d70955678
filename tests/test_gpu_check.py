"""benchmarks/gpu_check.sh is ready for a GPU: valid bash, and its Python runs on the CPU with tiny configs."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def test_gpu_check_script_is_valid_bash() -> None:
    script = REPO / "benchmarks" / "gpu_check.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert "timeout 450 python benchmarks/gpu_check.py" in script.read_text()  # under the 8-minute budget


def test_gpu_check_figures_on_cpu_with_tiny_configs() -> None:
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "benchmarks" / "gpu_check.py")
    assert spec is not None and spec.loader is not None
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    cpu = torch.device("cpu")
    rows = gpu_check.encoder_figures("tiny_imu", (1, 2), cpu, 0, 1)
    assert [(r["precision"], r["batch"]) for r in rows] == [(p, b) for p in ("fp32", "fp16", "bf16") for b in (1, 2)]
    cos = {r["precision"]: r["cos_to_fp32"] for r in rows if r["batch"] == 2}
    assert abs(cos["fp32"] - 1.0) < 1e-6  # the reference itself
    assert 0.9999 < cos["fp16"] < 1.0 and 0.999 < cos["bf16"] < cos["fp16"]  # bf16 keeps fewer mantissa bits
    assert all(r["eager_ms"] > 0 and r["graph_ms"] is None for r in rows)  # CUDA graphs only on a GPU
    train = gpu_check.training_figures("tiny_imu", "imu-tiny", 2, cpu, 0, 1)
    assert [t["task"] for t in train] == ["distill", "train"] and all(t["steps_per_s"] > 0 for t in train)
