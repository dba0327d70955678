"""The shipped demo model: small, loadable, in the label bank's space, and as accurate as its README says."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from edgebind.bridge.recording import Recording
from edgebind.checkpoint import load_encoder
from edgebind.train.data import windows_from_recordings
from edgebind.train.evaluate import embed_unit, label_accuracy
from edgebind.zeroshot import LabelBank

DEMO = Path(__file__).resolve().parents[2] / "edgebind" / "data" / "demo"


@pytest.fixture
def demo() -> Path:
    return DEMO


def test_demo_model_is_small_and_fits_its_label_bank(demo: Path) -> None:
    assert (demo / "imu_demo.safetensors").stat().st_size < 5e6
    model = load_encoder(demo / "imu_demo.safetensors", "imu")
    bank = LabelBank.load(demo / "labels.npz")
    assert model.cfg.out_dim == bank.dim == 384
    assert bank.names == ["Standing", "Running", "Walking", "Badminton"]
    assert "all-MiniLM-L6-v2" in str(bank.meta)


def test_demo_readme_states_the_measured_test_accuracy(demo: Path) -> None:
    model = load_encoder(demo / "imu_demo.safetensors", "imu")
    bank = LabelBank.load(demo / "labels.npz")
    test = windows_from_recordings([Recording.load(demo / "basicmotions_test.npz")], "imu", hop_s=1.0)
    acc = label_accuracy(embed_unit(model, test.raw, torch.device("cpu")), bank, test.labels)["accuracy"]
    readme = (demo / "README.md").read_text()
    stated_re = r"TEST top-1 accuracy: ([\d.]+)%\*\*, closed-set accuracy on held-out recordings of the\s+training"
    stated = float(re.search(stated_re, readme).group(1)) / 100  # type: ignore[union-attr]
    print(f"\ndemo model, BasicMotions TEST closed-set top-1 accuracy {acc:.1%} (README says {stated:.1%})")
    assert acc >= 0.90  # the demo's promise; the README's figure must also be what this measures
    assert acc == pytest.approx(stated, abs=0.001)
    assert "not ImageBind" in readme and "BSD-3" in readme
    assert np.isin(test.labels, bank.names).all()
