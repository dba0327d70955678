"""Fixtures for eval and example-based labels: the shipped demo bundle and real BasicMotions recordings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from edgebind.bridge.recording import Recording


@pytest.fixture(scope="session")
def demo_bundle() -> Path:
    """The shipped demo bundle (ONNX imu-tiny student trained on BasicMotions TRAIN, MiniLM label bank)."""
    from edgebind.demo import demo_dir

    d = demo_dir() / "bundle"
    if not (d / "manifest.json").is_file():
        pytest.skip("demo bundle absent (python scripts/make_demo_bundle.py)")
    return d


@pytest.fixture
def bm_test(shared_recording: Callable[[str], Recording], tmp_path: Path) -> Path:
    """UEA BasicMotions TEST (tests/data) as a Recording .npz: 40 cases of 10 s, one label-track entry each."""
    return shared_recording("imu/BasicMotions_TEST.ts").save(tmp_path / "bm_test.npz")


@pytest.fixture
def bm_train(shared_recording: Callable[[str], Recording], tmp_path: Path) -> Path:
    """UEA BasicMotions TRAIN (tests/data), the split the demo model was trained on."""
    return shared_recording("imu/BasicMotions_TRAIN.ts").save(tmp_path / "bm_train.npz")


@pytest.fixture
def demo_labels(tmp_path: Path) -> Path:
    """The demo's four labels as plain names (all in the bundle's bank: no text model needed)."""
    p = tmp_path / "labels.txt"
    p.write_text("Standing\nRunning\nWalking\nBadminton\n")
    return p
