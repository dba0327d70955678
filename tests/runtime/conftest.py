"""Real bundles for runner and bench tests: a tiny random one, and the official reference weights exported."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from edgebind.export import export_bundle

    d = tmp_path_factory.mktemp("rt") / "b"
    export_bundle(d, target="cpu", precision="fp32", modalities="imu,thermal", random_init=True, preset="tiny",
                  remember=False)
    return d


@pytest.fixture(scope="session")
def reference_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/data/imagebind/reference_tiny.pt's IMU and thermal encoders, exported fp32 for the CPU."""
    from officialref import load_reference

    from edgebind.export import export_bundle

    ref = load_reference("tiny")
    d = tmp_path_factory.mktemp("ref") / "b"
    export_bundle(d, target="cpu", precision="fp32", modalities="imu,thermal", checkpoint=ref.path,
                  overrides=ref.overrides, remember=False)
    return d
