"""TensorRT 10: build engines where ``tensorrt`` imports and the GPU is the target's, else write the exact
``trtexec`` recipe into the bundle (``build_engine.sh``) for ``edgebind build-engine`` to run on the Jetson itself.

Precision plans (FIELD_NOTES.md §2.2): fp16 bundles hold an fp16 ONNX with LayerNorm/Softmax/output tail in fp32,
built ``--stronglyTyped`` so TensorRT obeys those types; int8 bundles hold a QDQ ONNX (explicit quantisation),
built ``--int8 --fp16`` with LayerNorm and Softmax layers constrained to fp32. DLA is used only on targets that
have it, with ``GPU_FALLBACK``; the layers that cannot run there are listed in the manifest (attention MatMuls with
two dynamic inputs never can, FIELD_NOTES.md §2.2). An engine records the GPU (name, compute capability) and
TensorRT version it was built with, and the runtime refuses it anywhere else.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

from edgebind.errors import BundleError, ConfigError
from edgebind.export.targets import Target

log = logging.getLogger(__name__)

TIMING_CACHE = "timing.cache"
SCRIPT = "build_engine.sh"


def trt_version() -> str | None:
    """The installed TensorRT version, or None where ``tensorrt`` does not import."""
    try:
        import tensorrt as trt
    except ImportError:
        return None
    return str(getattr(trt, "__version__", "unknown"))


def gpu_identity() -> dict[str, str] | None:
    """``{"gpu": name, "compute_capability": "8.7"}`` of this machine's GPU, or None without one.

    Tried in order: PyTorch CUDA, ``nvidia-smi``, the Jetson device tree (every Orin is sm_87).
    """
    try:
        import torch

        if torch.cuda.is_available():
            major, minor = torch.cuda.get_device_capability(0)
            return {"gpu": torch.cuda.get_device_name(0), "compute_capability": f"{major}.{minor}"}
    except Exception:  # a broken CUDA install must not stop the CPU path
        log.debug("torch.cuda query failed", exc_info=True)
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "--query-gpu=name,compute_cap", "--format=csv,noheader"], capture_output=True,
                                 text=True, timeout=10, check=True).stdout.strip().splitlines()
            if out:
                name, cap = (s.strip() for s in out[0].rsplit(",", 1))
                return {"gpu": name, "compute_capability": cap}
        except (subprocess.SubprocessError, OSError, ValueError):
            log.debug("nvidia-smi query failed", exc_info=True)
    model = Path("/proc/device-tree/model")
    if model.is_file() and "orin" in model.read_text(errors="ignore").lower():
        return {"gpu": model.read_text(errors="ignore").strip("\x00 \n"), "compute_capability": "8.7"}
    return None


def can_build_here(target: Target) -> tuple[bool, str]:
    """Whether engines for ``target`` can be built on this machine, and why not."""
    version = trt_version()
    if version is None:
        return False, "the tensorrt Python package does not import here"
    gpu = gpu_identity()
    if gpu is None:
        return False, "no NVIDIA GPU is visible here"
    if target.compute_capability and gpu["compute_capability"] != target.compute_capability:
        return False, (f"this GPU ({gpu['gpu']}, sm_{gpu['compute_capability'].replace('.', '')}) is not the "
                       f"target's (sm_{target.compute_capability.replace('.', '')})")
    return True, f"TensorRT {version} on {gpu['gpu']}"


def shapes(entry: Any, batch: int) -> str:
    """``input:BxCxT`` for trtexec's shape flags."""
    dims = [str(batch) if isinstance(d, str) else str(d) for d in entry.input_shape]
    return f"{entry.input_name}:{'x'.join(dims)}"


def fp32_layer_names(onnx_path: str | Path) -> list[str]:
    """ONNX node names of the LayerNorm and Softmax nodes (TensorRT names its layers after them)."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    return [n.name for n in model.graph.node if n.op_type in ("LayerNormalization", "Softmax")]


def trtexec_command(entry: Any, target: Target, dla_core: int | None, bundle_dir: Path) -> list[str]:
    """The exact trtexec invocation that builds ``entry``'s engine for ``target`` (run from the bundle folder)."""
    engine = Path(entry.file).with_suffix(".engine").name
    cmd = ["trtexec", f"--onnx={entry.file}", f"--saveEngine={engine}",
           f"--timingCacheFile={TIMING_CACHE}", "--skipInference",
           f"--minShapes={shapes(entry, 1)}", f"--optShapes={shapes(entry, target.batch_opt)}",
           f"--maxShapes={shapes(entry, target.batch_max)}",
           f"--exportLayerInfo={Path(entry.file).stem}.layers.json", "--profilingVerbosity=detailed"]
    if target.workspace_mb:
        cmd.append(f"--memPoolSize=workspace:{target.workspace_mb}M")
    if entry.precision == "fp16":
        cmd.append("--stronglyTyped")
    elif entry.precision == "int8":
        keep = fp32_layer_names(bundle_dir / entry.file)
        cmd += ["--int8", "--fp16"]
        if keep:
            cmd += ["--precisionConstraints=obey", "--layerPrecisions=" + ",".join(f"{n}:fp32" for n in keep)]
    if dla_core is not None:
        cmd += [f"--useDLACore={dla_core}", "--allowGPUFallback"]
    return cmd


def write_recipe(bundle: Any, target: Target, dla_core: int | None) -> dict[str, Any]:
    """Write ``build_engine.sh`` with one trtexec command per encoder; return the manifest's ``tensorrt`` record."""
    assert bundle.path is not None
    commands = {m: trtexec_command(e, target, dla_core, bundle.path) for m, e in bundle.encoders.items()}
    lines = ["#!/usr/bin/env bash",
             f"# Builds this bundle's TensorRT engines for {target.name} ({target.description}).",
             "# Run it on the device itself: engines are specific to the GPU and the TensorRT version.",
             "# Prefer 'edgebind build-engine BUNDLE' there: it runs the same builds, records each engine's GPU and",
             "# TensorRT version in manifest.json and checks its parity; engines built by this script alone are not",
             "# in the manifest, so edgebind's runtime will not use them.",
             "set -euo pipefail", 'cd "$(dirname "$0")"', 'TRTEXEC="${TRTEXEC:-trtexec}"']
    for m, cmd in commands.items():
        lines.append(f"# {m}")
        lines.append('"$TRTEXEC" ' + " ".join(shlex.quote(c) for c in cmd[1:]))
    script = bundle.path / SCRIPT
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o755)
    return {"mode": "recipe", "script": SCRIPT, "commands": {m: shlex.join(c) for m, c in commands.items()},
            "target_compute_capability": target.compute_capability, "dla_core": dla_core,
            "workspace_mb": target.workspace_mb, "batch": {"min": 1, "opt": target.batch_opt,
                                                            "max": target.batch_max}}


def build_engine(entry: Any, target: Target, bundle_dir: Path, dla_core: int | None = None) -> dict[str, Any]:
    """Build one engine with the TensorRT Python API, as :func:`trtexec_command` would.

    Returns:
        The engine record: file, GPU, compute capability, TensorRT version, precision, DLA core and the layers
        that fell back from DLA to the GPU.

    Raises:
        BundleError: tensorrt missing, an ONNX parse error, or a failed build (with TensorRT's messages).
    """
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise BundleError(f"tensorrt does not import here; run {bundle_dir / SCRIPT} on the device, or "
                          "'edgebind build-engine BUNDLE' where TensorRT is installed.") from exc
    gpu = gpu_identity()
    if gpu is None:
        raise BundleError("no NVIDIA GPU is visible; build the engine on the device: edgebind build-engine BUNDLE.")
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED) if entry.precision == "fp16" else 0
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    onnx_path = bundle_dir / entry.file
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i).desc()) for i in range(parser.num_errors))
        raise BundleError(f"TensorRT cannot parse {onnx_path}: {errors}. Re-export with a newer opset (--opset 18).")
    config = builder.create_builder_config()
    if target.workspace_mb:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, target.workspace_mb << 20)
    if entry.precision == "int8":
        config.set_flag(trt.BuilderFlag.INT8)
        config.set_flag(trt.BuilderFlag.FP16)
        config.set_flag(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS)
        for i in range(network.num_layers):
            layer = network.get_layer(i)
            if layer.type in (trt.LayerType.NORMALIZATION, trt.LayerType.SOFTMAX):
                layer.precision = trt.DataType.FLOAT
                for j in range(layer.num_outputs):
                    layer.set_output_type(j, trt.DataType.FLOAT)
    profile = builder.create_optimization_profile()
    dims = [list(map(int, shapes(entry, b).split(":")[1].split("x"))) for b in (1, target.batch_opt,
                                                                                   target.batch_max)]
    profile.set_shape(entry.input_name, trt.Dims(dims[0]), trt.Dims(dims[1]), trt.Dims(dims[2]))
    config.add_optimization_profile(profile)
    fallback: list[str] = []
    if dla_core is not None:
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = dla_core
        config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
        fallback = [network.get_layer(i).name for i in range(network.num_layers)
                    if not config.can_run_on_DLA(network.get_layer(i))]
    cache_path = bundle_dir / TIMING_CACHE
    cache = config.create_timing_cache(cache_path.read_bytes() if cache_path.is_file() else b"")
    config.set_timing_cache(cache, ignore_mismatch=False)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise BundleError(f"TensorRT failed to build {entry.modality} ({entry.precision}); rerun with "
                          "'edgebind -vv build-engine' to see the builder log.")
    engine_file = Path(entry.file).with_suffix(".engine").name
    (bundle_dir / engine_file).write_bytes(bytes(serialized))
    cache_path.write_bytes(bytes(cache.serialize()))
    version = trt_version() or "unknown"
    log.info("built %s (%s) on %s, %d DLA fallback layers", engine_file, entry.precision, gpu["gpu"], len(fallback))
    return {"file": engine_file, "gpu": gpu["gpu"], "compute_capability": gpu["compute_capability"],
            "tensorrt": version, "precision": entry.precision, "dla_core": dla_core,
            "dla_fallback_layers": fallback, "built_with": "tensorrt-python",
            "batch": {"min": 1, "opt": target.batch_opt, "max": target.batch_max}}


def run_trtexec(command: str, bundle_dir: Path) -> str:
    """Run one recorded trtexec command in the bundle folder (``$TRTEXEC`` or ``trtexec`` on PATH).

    Returns:
        trtexec's combined output (its log names the TensorRT version).

    Raises:
        BundleError: trtexec is not found or fails (its last lines are quoted).
    """
    exe = os.environ.get("TRTEXEC") or shutil.which("trtexec") or "/usr/src/tensorrt/bin/trtexec"
    if not Path(exe).is_file():
        raise BundleError("trtexec is not on PATH (JetPack puts it in /usr/src/tensorrt/bin); set TRTEXEC=/path/to/"
                          "trtexec or install the tensorrt Python package.")
    args = shlex.split(command)
    proc = subprocess.run([exe, *args[1:]], cwd=bundle_dir, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
        raise BundleError(f"trtexec failed (exit {proc.returncode}) in {bundle_dir}:\n{tail}")
    return proc.stdout + proc.stderr


def check_engine_compat(record: dict[str, Any], gpu: dict[str, str] | None, version: str | None,
                        bundle_dir: Path | str) -> None:
    """Refuse an engine built for another GPU or TensorRT version.

    Raises:
        BundleError: saying what it was built for, what is here, and how to rebuild.
    """
    rebuild = f"Rebuild it here: edgebind build-engine {bundle_dir}"
    if gpu is None:
        raise BundleError(f"{record['file']} is a TensorRT engine but no NVIDIA GPU is visible here; use "
                          "--backend onnxruntime, or run on the device it was built for.")
    if record.get("compute_capability") != gpu["compute_capability"]:
        built = str(record.get("compute_capability", "?")).replace(".", "")
        here = gpu["compute_capability"].replace(".", "")
        raise BundleError(f"engine {record['file']} was built for sm_{built} ({record.get('gpu')}), this GPU is "
                          f"sm_{here} ({gpu['gpu']}). {rebuild}")
    if version is None:
        raise BundleError(f"{record['file']} needs TensorRT {record.get('tensorrt')}, which does not import here; "
                          "install it (JetPack ships it) or use --backend onnxruntime.")
    if record.get("tensorrt") != version:
        raise BundleError(f"engine {record['file']} was built with TensorRT {record.get('tensorrt')}, this is "
                          f"TensorRT {version}; engines do not carry over between versions. {rebuild}")


def check_dla(target: Target, dla_core: int | None) -> None:
    """Raise unless ``dla_core`` is None or a core the target has."""
    if dla_core is None:
        return
    if target.dla_cores == 0:
        with_dla = "jetson-orin-nx, jetson-agx-orin"
        raise ConfigError(f"target {target.name} has no DLA; drop --dla-core or pick a target with one ({with_dla}).")
    if not 0 <= dla_core < target.dla_cores:
        raise ConfigError(f"target {target.name} has DLA cores 0..{target.dla_cores - 1}, not {dla_core}.")


__all__ = ["build_engine", "can_build_here", "check_dla", "check_engine_compat", "gpu_identity", "trt_version",
           "trtexec_command", "write_recipe"]
