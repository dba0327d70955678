"""Make the installed ``tensorrt-stubs`` usable by mypy: copy its ``.pyi`` files to a folder on ``mypy_path``.

The stubs are generated from the C++ bindings and, as published (10.8 to 10.13), do not parse: a parameter named
``in`` (a keyword), parameters without defaults after ones with defaults, an import of ``tensorrt_libs`` (not a
stub), and no ``py.typed``, so mypy skips the package and every TensorRT call is ``Any``. This copies them with
those three mechanical fixes; pyproject's ``[tool.mypy]`` reads them from ``.trt-stubs``.

    pip install --no-deps 'tensorrt-stubs>=10.0' && python scripts/trt_stubs.py .trt-stubs && mypy
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
from pathlib import Path

PACKAGES = ("tensorrt", "tensorrt_bindings")


def _split_params(params: str) -> list[str]:
    """Split a parameter list at top-level commas (annotations hold brackets)."""
    parts, depth, cur = [], 0, ""
    for ch in params:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur]


def _fix_signature(m: re.Match[str]) -> str:
    """Give ``= ...`` to every parameter that follows one with a default (before any ``*``)."""
    head, params, tail = m.group(1), m.group(2), m.group(3)
    defaulted, out = False, []
    for p in _split_params(params):
        q = p.strip()
        if q.startswith("*"):
            defaulted = False
        elif "=" in q:
            defaulted = True
        elif defaulted and q:
            p += " = ..."
        out.append(p)
    return head + ",".join(out) + tail


def fix_stub(text: str) -> str:
    """The three mechanical fixes that make a generated TensorRT stub parse."""
    text = re.sub(r"([(, ])in: ", r"\1in_: ", text)
    text = re.sub(r"^(\s*def \w+\()(.*)(\)\s*->.*:)\s*$", _fix_signature, text, flags=re.M)
    return text.replace("import tensorrt_libs as tensorrt_libs\n", "")


def write_stubs(out: Path) -> list[Path]:
    """Copy the installed stubs of :data:`PACKAGES` into ``out``, fixed. Returns the files written."""
    written = []
    for pkg in PACKAGES:
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"{pkg} stubs are not installed: pip install --no-deps 'tensorrt-stubs>=10.0'")
        src = Path(next(iter(spec.submodule_search_locations)))
        shutil.rmtree(out / pkg, ignore_errors=True)
        for f in sorted(src.rglob("*.pyi")):
            dst = out / pkg / f.relative_to(src)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(fix_stub(f.read_text()))
            written.append(dst)
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, nargs="?", default=Path(".trt-stubs"))
    files = write_stubs(ap.parse_args().out)
    print(f"{len(files)} TensorRT stub files written")


if __name__ == "__main__":
    main()
