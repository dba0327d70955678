"""Fixtures for training tests: small real BasicMotions recordings and tiny random teachers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from edgebind.bridge.recording import Recording


def _cases(rec: Recording, keep: list[int], samples_per_case: int = 100) -> Recording:
    """The BasicMotions cases ``keep`` (10 s each), laid end to end again on a fresh 10 Hz clock."""
    assert rec.labels is not None
    imu = np.concatenate([rec.imu[k * samples_per_case : (k + 1) * samples_per_case] for k in keep])
    t = np.arange(len(imu), dtype=np.int64) * 100_000_000
    starts = np.arange(len(keep), dtype=np.int64) * samples_per_case * 100_000_000
    return Recording(imu=imu, imu_t_ns=t, labels=rec.labels[keep], label_t_ns=starts, meta=dict(rec.meta))


@pytest.fixture
def basicmotions(data_dir: Path) -> dict[str, Recording]:
    """Full BasicMotions TRAIN/TEST Recordings (40 labelled 10 s cases each), via edgebind convert."""
    from edgebind.bridge.convert import convert

    out = {}
    for split in ("TRAIN", "TEST"):
        p = data_dir / "imu" / f"BasicMotions_{split}.ts"
        out[split] = convert(p)
    return out


@pytest.fixture
def bm_small(basicmotions: dict[str, Recording], tmp_path: Path) -> dict[str, Path]:
    """Small real recordings: 8 TRAIN cases (2 per class) and 4 TEST cases (1 per class), as .npz files."""
    train = _cases(basicmotions["TRAIN"], [0, 5, 10, 15, 20, 25, 30, 35])
    test = _cases(basicmotions["TEST"], [0, 10, 20, 30])
    return {"train": train.save(tmp_path / "bm_train.npz"), "test": test.save(tmp_path / "bm_test.npz")}


@pytest.fixture
def tiny_teacher(tmp_path: Path) -> Path:
    """A random-init tiny teacher checkpoint holding an IMU and a text encoder (both 1024-d)."""
    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config
    from edgebind.models import build_encoder

    torch.manual_seed(123)
    return save_checkpoint([build_encoder(get_config("tiny_imu")), build_encoder(get_config("tiny_text"))],
                           tmp_path / "teacher.safetensors")


@pytest.fixture
def det_student(tmp_path: Path) -> Path:
    """A tiny IMU student config without dropout or drop-path (so runs can be compared bit for bit)."""
    p = tmp_path / "student.json"
    p.write_text(json.dumps({"modality": "imu", "embed_dim": 32, "depth": 2, "num_heads": 2, "drop_path": 0.0,
                             "head_dropout": 0.0}))
    return p
