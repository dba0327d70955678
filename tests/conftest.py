"""Shared fixtures: an isolated cache, the real recordings and official reference outputs in tests/data/."""

from __future__ import annotations

from pathlib import Path

import pytest
from officialref import REFERENCES, Reference, load_reference

DATA = Path(__file__).resolve().parent / "data"  # real recordings + the official code's reference outputs (README)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEBIND_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("EDGEBIND_CHECKPOINT", raising=False)
    monkeypatch.delenv("EDGEBIND_BUNDLE", raising=False)


@pytest.fixture
def data_dir() -> Path:
    """tests/data: ``imu/``, ``thermal/`` (real recordings) and ``imagebind/`` (official reference outputs)."""
    return DATA


@pytest.fixture(params=REFERENCES)
def reference(request: pytest.FixtureRequest) -> Reference:
    """Each official reference present: ``tiny`` (tests/data, always) and ``small`` (``$EDGEBIND_SHARED``, optional)."""
    return load_reference(request.param)


@pytest.fixture
def reference_tiny() -> Reference:
    """tests/data/imagebind/reference_tiny.pt: official outputs on fp16-rounded seeded weights (its meta file)."""
    return load_reference("tiny")


@pytest.fixture
def shared_recording():  # type: ignore[no-untyped-def]
    """``shared_recording("imu/BasicMotions_TEST.ts")``: a real file from tests/data as a Recording."""
    from edgebind.bridge.convert import convert

    def load(rel: str):  # type: ignore[no-untyped-def]
        return convert(DATA / rel)

    return load
