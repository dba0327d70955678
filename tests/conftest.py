"""Shared fixtures: an isolated cache, the real recordings and official reference outputs in tests/data/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"  # real recordings + the official code's reference outputs (tests/data/README.md)


def shared_dir() -> Path:
    """``$EDGEBIND_SHARED``, else ``../shared`` beside the repository (where CI lays it)."""
    return Path(os.environ.get("EDGEBIND_SHARED", REPO.parent / "shared"))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEBIND_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("EDGEBIND_CHECKPOINT", raising=False)
    monkeypatch.delenv("EDGEBIND_BUNDLE", raising=False)


@pytest.fixture
def data_dir() -> Path:
    """tests/data: ``imu/``, ``thermal/`` (real recordings) and ``imagebind/`` (official reference outputs)."""
    return DATA


@pytest.fixture
def shared() -> Path:
    """The optional shared/ folder (``$EDGEBIND_SHARED``) for extra checks on larger files; skips where absent."""
    d = shared_dir()
    if not d.is_dir():
        pytest.skip(f"optional extra check: shared data folder {d} is absent (set EDGEBIND_SHARED)")
    return d


@pytest.fixture
def reference_small(shared: Path) -> dict:
    """The official code's outputs on random weights (shared/imagebind/reference_small.pt)."""
    import torch

    p = shared / "imagebind" / "reference_small.pt"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    return torch.load(p, weights_only=True)


@pytest.fixture
def shared_recording():  # type: ignore[no-untyped-def]
    """``shared_recording("imu/BasicMotions_TEST.ts")``: a real file from tests/data as a Recording."""
    from edgebind.bridge.convert import convert

    def load(rel: str):  # type: ignore[no-untyped-def]
        return convert(DATA / rel)

    return load
