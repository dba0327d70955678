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


@pytest.mark.parametrize(("missing", "blamed"), [("torch.nn", True), ("serial", False), ("torchvision", False)])
def test_only_torch_is_blamed_on_torch(missing: str, blamed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import click

    from edgebind.cli import COMMANDS, cli

    @click.command()
    def boom() -> None:
        raise ModuleNotFoundError(f"No module named '{missing}'", name=missing)

    module = types.ModuleType("edgebind_test_boom")
    module.boom = boom  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "edgebind_test_boom", module)
    monkeypatch.setitem(COMMANDS, "boom", "edgebind_test_boom:boom")
    res = CliRunner().invoke(cli, ["boom"])
    assert res.exit_code == 1
    if blamed:
        assert res.output.startswith("Error: edgebind boom needs PyTorch"), res.output
    else:  # someone else's missing module keeps its own traceback
        assert isinstance(res.exception, ModuleNotFoundError) and res.exception.name == missing, res.output


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


def test_demo_without_onnxruntime_or_torch_names_the_onnx_extra(no_torch: None,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from edgebind.cli import cli

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # 'pip install edgebind' with no extra at all
    res = CliRunner().invoke(cli, ["demo", "--max-windows", "1"])
    assert res.exit_code == 1
    assert res.output.strip().splitlines()[-1] == ("Error: the demo needs ONNX Runtime (or PyTorch) and neither is "
                                                   "installed here; install it with pip install 'edgebind[onnx]'.")
