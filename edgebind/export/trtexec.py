"""trtexec, for devices where TensorRT's Python package is absent: the build command (same settings as
:func:`edgebind.export.tensorrt.build_engine`), one inference on raw inputs with its outputs exported as JSON (the
parity check), the reader of that JSON, and the runner of the command.

Formats are TensorRT's own: ``--loadInputs`` reads a raw array (``ndarray.tofile``) and ``--exportOutput`` writes
``[{"name", "dimensions": "2x1024", "values": [...]}]`` (``samples/common/sampleReporting.cpp``, ``exportJSONOutput``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import BundleError
from edgebind.export.targets import Target
from edgebind.export.tensorrt import (
    SCRIPT,
    TIMING_CACHE,
    engine_file,
    layer_info_file,
    profile_batches,
    shapes,
    supported_range,
)


def trtexec_version(output: str) -> str | None:
    """``[TensorRT v100300]`` in trtexec's log -> ``"10.3.0"``."""
    m = re.search(r"TensorRT v(\d{5,})", output)
    if not m:
        return None
    v = int(m.group(1))
    return f"{v // 10000}.{v // 100 % 100}.{v % 100}"


def trtexec_command(entry: Any, target: Target, dla_core: int | None, dla_batch: int = 1) -> list[str]:
    """The exact trtexec invocation that builds ``entry``'s engine for ``target`` (run from the bundle folder).

    Strongly typed on every TensorRT from 10.3 to 11.x; static shapes, ``--useDLACore`` and ``--allowGPUFallback``
    for DLA.
    """
    batch = profile_batches(target, dla_core, dla_batch)
    cmd = ["trtexec", f"--onnx={entry.file}", f"--saveEngine={engine_file(entry)}", "--stronglyTyped",
           f"--timingCacheFile={TIMING_CACHE}", "--skipInference",
           f"--minShapes={shapes(entry, batch['min'])}", f"--optShapes={shapes(entry, batch['opt'])}",
           f"--maxShapes={shapes(entry, batch['max'])}",
           f"--exportLayerInfo={layer_info_file(entry)}", "--profilingVerbosity=detailed"]
    if target.workspace_mb:
        cmd.append(f"--memPoolSize=workspace:{target.workspace_mb}M")
    if dla_core is not None:
        cmd += [f"--useDLACore={dla_core}", "--allowGPUFallback"]
    return cmd


def trtexec_infer_command(entry: Any, batch: int, input_file: str, output_file: str,
                          dla_core: int | None) -> list[str]:
    """One trtexec inference of the built engine on a raw input file, outputs written as JSON.

    Args:
        entry: the encoder's manifest entry.
        batch: the batch the input file holds (within the engine's profile).
        input_file: raw little-endian array of ``shape(entry, batch)`` in the input dtype (``ndarray.tofile``).
        output_file: where trtexec writes ``[{"name", "dimensions", "values"}]`` (``--exportOutput``).
        dla_core: the DLA core the engine was built for, or None.
    """
    cmd = ["trtexec", f"--loadEngine={engine_file(entry)}", f"--shapes={shapes(entry, batch)}",
           f"--loadInputs={entry.input_name}:{input_file}", f"--exportOutput={output_file}",
           "--iterations=1", "--warmUp=0", "--duration=0", "--avgRuns=1"]
    if dla_core is not None:
        cmd.append(f"--useDLACore={dla_core}")
    return cmd


# trtexec prints values with a plain std::ostream: non-finite values come out as C's nan/-nan/inf/-inf, which JSON
# lacks; they become JSON's NaN/Infinity (a NaN output then fails parity instead of the parser).
_NON_FINITE = re.compile(r'(?<![\w".])-?(?:nan|inf)(?![\w"])')
_JSON_NON_FINITE = {"nan": "NaN", "-nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def read_trtexec_output(path: str | Path, name: str) -> np.ndarray:
    """The tensor ``name`` from a ``trtexec --exportOutput`` JSON file.

    The file is a list of ``{"name": str, "dimensions": "2x1024", "values": [float, ...]}`` (TensorRT's
    ``samples/common/sampleReporting.cpp``, ``exportJSONOutput``).

    Raises:
        BundleError: a missing file, no such output, or values that do not fill the dimensions.
    """
    p = Path(path)
    if not p.is_file():
        raise BundleError(f"trtexec wrote no output file {p}; rerun build-engine with 'edgebind -vv' to see its log.")
    tensors = json.loads(_NON_FINITE.sub(lambda m: _JSON_NON_FINITE[m.group(0)], p.read_text()))
    found = next((t for t in tensors if t.get("name") == name), None)
    if found is None:
        raise BundleError(f"{p} has no output '{name}' (outputs: {[t.get('name') for t in tensors]}); re-export "
                          "the bundle.")
    dims = [int(d) for d in str(found["dimensions"]).split("x") if d]
    values = np.asarray(found["values"], dtype=np.float32)
    if values.size != int(np.prod(dims)):
        raise BundleError(f"{p}: output '{name}' has {values.size} values for dimensions {found['dimensions']}; "
                          "trtexec's output is truncated, rerun build-engine.")
    return values.reshape(dims)


def write_recipe(bundle: Any, target: Target, dla_core: int | None, dla_batch: int = 1) -> dict[str, Any]:
    """Write ``build_engine.sh`` (it calls ``edgebind build-engine``, which runs these trtexec commands and checks
    parity); return the manifest's ``tensorrt`` record."""
    assert bundle.path is not None
    commands = {m: trtexec_command(e, target, dla_core, dla_batch) for m, e in bundle.encoders.items()}
    dla = f" --dla-core {dla_core} --dla-batch {dla_batch}" if dla_core is not None else ""
    lines = ["#!/usr/bin/env bash",
             f"# Builds this bundle's TensorRT engines for {target.name} ({target.description}).",
             "# Run it on the device itself: engines are specific to the GPU and the TensorRT version (10.3 to 11.x).",
             "# edgebind build-engine --trtexec runs the trtexec commands below (also in manifest.json,",
             "# tensorrt.commands), then runs every engine on parity.npz and records the result; an engine without",
             "# a passing parity is marked unusable and the runtime refuses it.",
             "set -euo pipefail", 'cd "$(dirname "$0")"',
             "# The builds (then one trtexec --loadEngine ... --exportOutput per parity batch):"]
    lines += [f"#   {shlex.join(c)}" for c in commands.values()]
    lines.append(f'exec "${{EDGEBIND:-edgebind}}" build-engine . --trtexec{dla} "$@"')
    script = bundle.path / SCRIPT
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o755)
    return {"mode": "recipe", "script": SCRIPT, "commands": {m: shlex.join(c) for m, c in commands.items()},
            "strongly_typed": True, "tensorrt_supported": supported_range(),
            "target_compute_capability": target.compute_capability, "dla_core": dla_core,
            "workspace_mb": target.workspace_mb, "batch": profile_batches(target, dla_core, dla_batch)}


def run_trtexec(command: str | list[str], bundle_dir: Path) -> str:
    """Run one trtexec command in the bundle folder (``$TRTEXEC``, ``trtexec`` on PATH, or JetPack's copy).

    Returns:
        trtexec's combined output (its log names the TensorRT version).

    Raises:
        BundleError: trtexec is not found or fails (its last lines are quoted).
    """
    exe = os.environ.get("TRTEXEC") or shutil.which("trtexec") or "/usr/src/tensorrt/bin/trtexec"
    if not Path(exe).is_file():
        raise BundleError("trtexec is not on PATH (JetPack puts it in /usr/src/tensorrt/bin); set TRTEXEC=/path/to/"
                          "trtexec or install the tensorrt Python package.")
    args = shlex.split(command) if isinstance(command, str) else list(command)
    proc = subprocess.run([exe, *args[1:]], cwd=bundle_dir, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
        raise BundleError(f"trtexec failed (exit {proc.returncode}) in {bundle_dir}:\n{tail}")
    return proc.stdout + proc.stderr


__all__ = ["read_trtexec_output", "run_trtexec", "trtexec_command", "trtexec_infer_command", "trtexec_version",
           "write_recipe"]
