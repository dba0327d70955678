"""CUDA path: bf16 autocast distillation reports speed and peak memory (runs only where a GPU is)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from edgebind.train.distill import distill
from edgebind.train.loop import TrainConfig


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_bf16_distill_on_cuda(tiny_teacher: Path, bm_small: dict, tmp_path: Path) -> None:
    r = distill(tiny_teacher, "tiny_imu", [bm_small["train"]], tmp_path / "s.safetensors",
                cfg=TrainConfig(steps=20, batch_size=16, num_views=2, lr=2e-3, device="cuda", bf16=True))
    assert r.train.peak_mem_mib > 0 and r.train.steps_per_s > 0
    assert r.train.history[-1]["cosine"] > r.train.history[0]["cosine"]
