"""scripts/trt_stubs.py turns the published tensorrt-stubs into stubs that parse, so mypy checks TensorRT calls."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _load() -> object:
    spec = importlib.util.spec_from_file_location("trt_stubs", REPO / "scripts" / "trt_stubs.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fix_stub_repairs_the_three_defects() -> None:
    fix = _load().fix_stub  # type: ignore[attr-defined]
    broken = ("import tensorrt_libs as tensorrt_libs\n"
              "class P:\n"
              "    def on_shape_change(self: P, in: list[int], out: list[int]) -> None:\n"
              "        ...\n"
              "    def add(self, x: int, shift: dict[str, int] = None, scale: int = None, axis: int) -> int:\n"
              "        ...\n"
              "    def f(self, a: int = 1, *, b: int) -> int:\n"
              "        ...\n")
    with pytest.raises(SyntaxError):
        ast.parse(broken)
    fixed = fix(broken)
    ast.parse(fixed)
    assert "in_: list[int], out: list[int]" in fixed and "tensorrt_libs" not in fixed
    assert "scale: int = None, axis: int = ...)" in fixed
    assert "*, b: int)" in fixed  # keyword-only parameters need no default


def test_installed_stubs_parse_after_fixing(tmp_path: Path) -> None:
    if importlib.util.find_spec("tensorrt_bindings") is None:
        pytest.skip("tensorrt-stubs is not installed (pip install --no-deps 'tensorrt-stubs>=10.0')")
    files = _load().write_stubs(tmp_path)  # type: ignore[attr-defined]
    assert any(f.name == "tensorrt.pyi" for f in files)
    for f in files:
        ast.parse(f.read_text(), filename=str(f))
