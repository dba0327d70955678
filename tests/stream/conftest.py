"""Fixtures for the live pipeline: tiny random encoders saved as a real checkpoint, real recordings re-timed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from edgebind.bridge.recording import Recording

LABELS = "# BasicMotions classes\nStanding\nRunning\nWalking\nBadminton: playing badminton | a badminton match\n"


def save_tiny(path: Path, names: tuple[str, ...]) -> Path:
    """Seeded tiny encoders (STYLE.md §10) written with edgebind's own checkpoint writer."""
    import torch

    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config
    from edgebind.models import build_encoder

    torch.manual_seed(0)
    return save_checkpoint([build_encoder(get_config(n)).eval() for n in names], path)


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """IMU + thermal + text tiny encoders (random weights, 1024-d joint space)."""
    return save_tiny(tmp_path_factory.mktemp("ckpt") / "tiny.safetensors", ("tiny_imu", "tiny_thermal", "tiny_text"))


@pytest.fixture(scope="session")
def thermal_only_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint without IMU weights."""
    return save_tiny(tmp_path_factory.mktemp("ckpt") / "thermal.safetensors", ("tiny_thermal", "tiny_text"))


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    p = tmp_path / "labels.txt"
    p.write_text(LABELS)
    return p


@pytest.fixture
def basicmotions(shared_recording: Callable[[str], Recording]) -> Recording:
    """UEA BasicMotions TEST (10 Hz smartwatch, 4 classes) from tests/data."""
    return shared_recording("imu/BasicMotions_TEST.ts")


@pytest.fixture
def cptv_clip(shared_recording: Callable[[str], Recording]) -> Recording:
    """A FLIR Lepton 3.5 clip (160x120, ~9 Hz) from tests/data."""
    return shared_recording("thermal/20240507-074536.cptv")
