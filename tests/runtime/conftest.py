"""A real tiny bundle (imu + thermal, fp32 ONNX, weights inside) for runner and bench tests."""

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
