"""Without torch: a command that needs it says which extra to install; bench drops its torch baseline."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a device install: ``import torch`` fails and torch's metadata is absent."""
    import edgebind.deps

    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setattr(edgebind.deps, "torch_installed", lambda: False)


def test_export_without_torch_names_the_extra(no_torch: None, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from edgebind.cli import cli

    res = CliRunner().invoke(cli, ["export", "--target", "cpu", "--random-init", "--preset", "tiny", "--modalities",
                                   "imu", "-o", str(tmp_path / "b")])
    assert res.exit_code == 1, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: edgebind export needs PyTorch"), res.output
    assert "pip install 'edgebind[torch]'" in lines[0] and "--backend onnxruntime" in lines[0]


def test_other_missing_modules_are_not_blamed_on_torch(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from edgebind.cli import cli

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    from edgebind.demo import demo_bundle

    res = CliRunner().invoke(cli, ["bench", str(demo_bundle()), "--backend", "onnxruntime", "--runs", "1"])
    assert res.output.startswith("Error: onnxruntime is not installed") and "PyTorch" not in res.output


def test_bench_without_torch_measures_onnxruntime_only(no_torch: None) -> None:
    from edgebind.bench import bench_bundles
    from edgebind.demo import demo_bundle

    results = bench_bundles([demo_bundle()], runs=2, warmup=1)
    assert [(r.backend, r.speedup_vs_torch_fp32) for r in results] == [("onnxruntime", None)]


def test_bench_with_torch_keeps_its_baseline() -> None:
    from edgebind.bench import bench_bundles
    from edgebind.demo import demo_bundle

    results = bench_bundles([demo_bundle()], runs=2, warmup=1)
    assert [r.backend for r in results] == ["torch", "onnxruntime"]
