"""TensorRT 10.3 (JetPack 6) to 11.x, explicit precision only: build engines where ``tensorrt`` imports and the GPU
is the target's, else write the exact ``trtexec`` recipe into the bundle (``build_engine.sh``) for
``edgebind build-engine`` to run on the device itself.

Every network is built strongly typed (``NetworkDefinitionCreationFlag.STRONGLY_TYPED``, ``trtexec
--stronglyTyped``): the ONNX says each tensor's type. fp16 bundles hold an fp16 ONNX with LayerNorm/Softmax/output
tail in fp32; int8 bundles hold a QDQ ONNX (explicit quantisation). No weak-typing API (precision builder flags,
precision constraints, per-layer precisions, or trtexec's precision flags) is used: TensorRT 10.12 deprecated them
and 11.0 removed them. On 11.x strong typing is always on and the flag is accepted, so one path
serves both majors.

DLA (TensorRT 10.3-10.7, and 11.4.x from 11.4.1 on Jetson AGX Orin under JetPack 7.2.2+; see
``dla_supported``) runs fp16 and int8 with static shapes, so a DLA engine gets a profile with
min = opt = max (batch fixed, default 1), ``GPU_FALLBACK`` set explicitly, and the placement of every engine layer
(DLA or GPU) read back from the engine's layer information (FIELD_NOTES.md §2.2: attention MatMuls with two dynamic
inputs never run on DLA). An engine records the GPU (name, compute capability) and TensorRT version it was built
with, and the runtime refuses it anywhere else.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import BundleError, ConfigError
from edgebind.export.targets import TARGETS, Target

log = logging.getLogger(__name__)

TIMING_CACHE = "timing.cache"
SCRIPT = "build_engine.sh"
MIN_VERSION = (10, 3)
"""Oldest TensorRT supported: JetPack 6.x ships 10.3."""
MAX_MAJOR = 11
"""Newest TensorRT major supported (the ``[trt]`` extra is capped below the next one)."""
# Which TensorRT releases build DLA engines, and on which targets. Source: NVIDIA's TensorRT 11.4.1 release notes
# ("DLA support for NVIDIA JetPack: TensorRT 11.4.1 supports DLA on NVIDIA Jetson AGX Orin when using NVIDIA
# JetPack 7.2.2 or later"), and "Working with DLA" (TensorRT 11.4.1 / 11.5.0 docs): DLA was unavailable in 11.0
# through 11.3, 11.4.0 had it only on Windows on ARM, 11.5.0 does not support JetPack at all, and 10.7 was the
# last 10.x release with DLA. JetPack 6 (Orin NX, Orin Nano, AGX Orin) stays on TensorRT 10.x.
DLA_RELEASES: tuple[tuple[tuple[int, int, int], tuple[int, int, int], tuple[str, ...] | None], ...] = (
    ((10, 0, 0), (10, 7, 99), None),  # every Jetson target with DLA cores
    ((11, 4, 1), (11, 4, 99), ("jetson-agx-orin",)),  # JetPack 7.2.2+ only; Orin NX is not on JetPack 7
)
"""(first, last, targets or None for any DLA target) for each TensorRT range that builds DLA engines."""
DLA_PRECISIONS = ("fp16", "int8")


def trt_version() -> str | None:
    """The installed TensorRT version, or None where ``tensorrt`` does not import or is only its type stubs
    (``tensorrt-stubs`` installs a ``tensorrt`` folder that imports as an empty namespace package)."""
    try:
        import tensorrt as trt
    except ImportError:
        return None
    version = getattr(trt, "__version__", None)
    return str(version) if version else None


def parse_version(version: str) -> tuple[int, int, int]:
    """``"10.3.0.30"`` -> ``(10, 3, 0)``.

    Raises:
        BundleError: not a dotted version.
    """
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if not m:
        raise BundleError(f"cannot read the TensorRT version '{version}'; reinstall TensorRT (JetPack ships it, or "
                          "pip install 'edgebind[trt]').")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def check_version(version: str) -> tuple[int, int, int]:
    """Raise unless ``version`` is a TensorRT edgebind builds and runs with (10.3 to 11.x).

    Returns:
        The parsed ``(major, minor, patch)``.

    Raises:
        BundleError: older than 10.3 or newer than the supported major, with what to install.
    """
    v = parse_version(version)
    if v[:2] < MIN_VERSION:
        raise BundleError(f"TensorRT {version} is too old: edgebind needs {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer "
                          "(JetPack 6.1+ on a Jetson; pip install 'edgebind[trt]' elsewhere).")
    if v[0] > MAX_MAJOR:
        raise BundleError(f"TensorRT {version} is newer than edgebind supports (up to {MAX_MAJOR}.x); install "
                          f"'tensorrt<{MAX_MAJOR + 1}' (pip install 'edgebind[trt]').")
    return v


def supported_range() -> str:
    """The TensorRT versions edgebind builds and runs with, as a requirement: ``>=10.3,<12``."""
    return f">={MIN_VERSION[0]}.{MIN_VERSION[1]},<{MAX_MAJOR + 1}"


def gpu_identity() -> dict[str, str] | None:
    """``{"gpu": name, "compute_capability": "8.7"}`` of this machine's GPU 0, or None without one.

    Tried in order: cuda-python (``cuda-bindings``), ``nvidia-smi``, the Jetson device tree (every Orin is sm_87).
    No PyTorch: a device runs TensorRT without it.
    """
    try:
        from cuda.bindings import runtime as cudart

        err, props = cudart.cudaGetDeviceProperties(0)
        if err == cudart.cudaError_t.cudaSuccess:
            name = props.name
            name = name.split(b"\x00", 1)[0].decode(errors="replace") if isinstance(name, bytes) else str(name)
            return {"gpu": name, "compute_capability": f"{props.major}.{props.minor}"}
    except (ImportError, OSError, RuntimeError):  # a broken CUDA install must not stop the CPU path
        log.debug("cuda-python query failed", exc_info=True)
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
    try:
        check_version(version)
    except BundleError as exc:
        return False, str(exc)
    gpu = gpu_identity()
    if gpu is None:
        return False, "no NVIDIA GPU is visible here"
    if target.compute_capability and gpu["compute_capability"] != target.compute_capability:
        return False, (f"this GPU ({gpu['gpu']}, sm_{gpu['compute_capability'].replace('.', '')}) is not the "
                       f"target's (sm_{target.compute_capability.replace('.', '')})")
    return True, f"TensorRT {version} on {gpu['gpu']}"


def profile_batches(target: Target, dla_core: int | None, dla_batch: int = 1) -> dict[str, int]:
    """The optimisation profile's batch sizes: ``{"min", "opt", "max"}``.

    DLA has no dynamic shapes, so a DLA engine gets min = opt = max = ``dla_batch``; a GPU engine gets
    1 .. ``target.batch_max`` around ``target.batch_opt``.
    """
    if dla_core is not None:
        if dla_batch < 1:
            raise ConfigError(f"--dla-batch must be at least 1, not {dla_batch}.")
        return {"min": dla_batch, "opt": dla_batch, "max": dla_batch}
    return {"min": 1, "opt": target.batch_opt, "max": target.batch_max}


def shape(entry: Any, batch: int) -> list[int]:
    """The input shape with the batch axis set: ``[batch, 6, 2000]``."""
    return [batch if isinstance(d, str) else int(d) for d in entry.input_shape]


def shapes(entry: Any, batch: int) -> str:
    """``input:BxCxT`` for trtexec's shape flags."""
    return f"{entry.input_name}:{'x'.join(map(str, shape(entry, batch)))}"


def pad_batch(x: np.ndarray, batch: int) -> np.ndarray:
    """``x`` with zero rows appended up to ``batch`` (a static-shape DLA profile takes exactly its batch)."""
    if len(x) >= batch:
        return x
    return np.concatenate([x, np.zeros((batch - len(x), *x.shape[1:]), dtype=x.dtype)])


def engine_file(entry: Any) -> str:
    """``imu.onnx`` -> ``imu.engine``."""
    return Path(entry.file).with_suffix(".engine").name


def layer_info_file(entry: Any) -> str:
    """``imu.onnx`` -> ``imu.layers.json`` (the engine's layer information, DLA/GPU placement included)."""
    return f"{Path(entry.file).stem}.layers.json"


def dla_placement(layer_info: dict[str, Any]) -> dict[str, Any]:
    """Which engine layers run on DLA and which fell back to the GPU, from the engine's layer information.

    Args:
        layer_info: ``IEngineInspector.get_engine_information(JSON)`` or ``trtexec --exportLayerInfo`` content
            (``{"Layers": [...]}``; each layer a dict with ``Name`` and ``LayerType``, or a bare name).

    Returns:
        ``{"dla_layers": [names], "gpu_fallback_layers": [names]}``; a layer is on DLA when its ``LayerType``
        names DLA (TensorRT reports each DLA loadable as one such layer).
    """
    dla: list[str] = []
    gpu: list[str] = []
    for layer in layer_info.get("Layers", []):
        if isinstance(layer, str):
            gpu.append(layer)
            continue
        name = str(layer.get("Name", "?"))
        (dla if "dla" in str(layer.get("LayerType", "")).lower() else gpu).append(name)
    return {"dla_layers": dla, "gpu_fallback_layers": gpu}


def build_engine(entry: Any, target: Target, bundle_dir: Path, dla_core: int | None = None,
                 dla_batch: int = 1) -> dict[str, Any]:
    """Build one engine with the TensorRT Python API, as :func:`trtexec_command` would.

    Returns:
        The engine record (see :func:`engine_record`), not yet usable: parity is measured next.

    Raises:
        BundleError: tensorrt missing or unsupported, an ONNX parse error, or a failed build.
    """
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise BundleError(f"tensorrt does not import here; run {bundle_dir / SCRIPT} on the device, or "
                          "'edgebind build-engine BUNDLE --trtexec' where trtexec is installed.") from exc
    version = check_version(trt_version() or "")
    check_dla_version(dla_core, version, target.name)
    gpu = gpu_identity()
    if gpu is None:
        raise BundleError("no NVIDIA GPU is visible; build the engine on the device: edgebind build-engine BUNDLE.")
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
    parser = trt.OnnxParser(network, logger)
    onnx_path = bundle_dir / entry.file
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i).desc()) for i in range(parser.num_errors))
        raise BundleError(f"TensorRT cannot parse {onnx_path}: {errors}. Re-export with a newer opset (--opset 18).")
    config = builder.create_builder_config()
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED
    if target.workspace_mb:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, target.workspace_mb << 20)
    batch = profile_batches(target, dla_core, dla_batch)
    profile = builder.create_optimization_profile()
    profile.set_shape(entry.input_name, trt.Dims(shape(entry, batch["min"])), trt.Dims(shape(entry, batch["opt"])),
                      trt.Dims(shape(entry, batch["max"])))
    config.add_optimization_profile(profile)
    if dla_core is not None:
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = dla_core
        config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    cache_path = bundle_dir / TIMING_CACHE
    cache = config.create_timing_cache(cache_path.read_bytes() if cache_path.is_file() else b"")
    config.set_timing_cache(cache, ignore_mismatch=False)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise BundleError(f"TensorRT failed to build {entry.modality} ({entry.precision}); rerun with "
                          "'edgebind -vv build-engine' to see the builder log.")
    (bundle_dir / engine_file(entry)).write_bytes(bytes(serialized))
    cache_path.write_bytes(bytes(cache.serialize()))
    engine = trt.Runtime(logger).deserialize_cuda_engine(bytes(serialized))
    if engine is None:
        raise BundleError(f"TensorRT built {engine_file(entry)} but cannot load it; rebuild: edgebind build-engine "
                          f"{bundle_dir}")
    info = engine.create_engine_inspector().get_engine_information(trt.LayerInformationFormat.JSON)
    (bundle_dir / layer_info_file(entry)).write_text(info)
    return engine_record(entry, gpu, str(trt_version()), dla_core, batch, "tensorrt-python",
                         json.loads(info) if dla_core is not None else None)


def engine_record(entry: Any, gpu: dict[str, str], version: str, dla_core: int | None, batch: dict[str, int],
                  built_with: str, layer_info: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest record of a freshly built engine: unusable until :mod:`edgebind.export.engine` measures parity.

    Returns:
        ``{"file", "gpu", "compute_capability", "tensorrt", "precision", "strongly_typed", "dla_core", "batch",
        "built_with", "layer_info", "usable": False, "unusable_reason"}`` plus, for DLA, ``dla_layers`` and
        ``gpu_fallback_layers`` (per engine layer).
    """
    record: dict[str, Any] = {
        "file": engine_file(entry), "gpu": gpu["gpu"], "compute_capability": gpu["compute_capability"],
        "tensorrt": version, "precision": entry.precision, "strongly_typed": True, "dla_core": dla_core,
        "batch": batch, "built_with": built_with, "layer_info": layer_info_file(entry),
        "usable": False, "unusable_reason": "parity not measured yet"}
    if dla_core is not None and layer_info is not None:
        record.update(dla_placement(layer_info))
        log.info("%s: %d layers on DLA %d, %d fall back to the GPU: %s", record["file"], len(record["dla_layers"]),
                 dla_core, len(record["gpu_fallback_layers"]), ", ".join(record["gpu_fallback_layers"]))
    return record


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
    if parse_version(str(record.get("tensorrt"))) != parse_version(version):  # "10.3.0" (trtexec) is "10.3.0.30"
        raise BundleError(f"engine {record['file']} was built with TensorRT {record.get('tensorrt')}, this is "
                          f"TensorRT {version}; engines do not carry over between versions. {rebuild}")


def check_dla(target: Target, dla_core: int | None, precision: str | None = None) -> None:
    """Raise unless ``dla_core`` is None, or a core the target has and ``precision`` one DLA runs.

    Raises:
        ConfigError: a target without DLA, a core it lacks, or fp32 (DLA runs fp16 and int8 only).
    """
    if dla_core is None:
        return
    if target.dla_cores == 0:
        with_dla = ", ".join(t.name for t in TARGETS.values() if t.dla_cores)
        raise ConfigError(f"target {target.name} has no DLA; drop --dla-core or pick a target with one ({with_dla}).")
    if not 0 <= dla_core < target.dla_cores:
        raise ConfigError(f"target {target.name} has DLA cores 0..{target.dla_cores - 1}, not {dla_core}.")
    if precision is not None and precision not in DLA_PRECISIONS:
        raise ConfigError(f"DLA runs fp16 and int8 only, and this bundle is {precision}; add --fp16 or --int8, or "
                          "drop --dla-core.")


def dla_supported(version: tuple[int, int, int], target: str | None = None) -> bool:
    """Whether TensorRT ``version`` builds DLA engines for ``target`` (any DLA target when None); see
    ``DLA_RELEASES`` for the source."""
    return any(lo <= version <= hi and (targets is None or target is None or target in targets)
               for lo, hi, targets in DLA_RELEASES)


def check_dla_version(dla_core: int | None, version: tuple[int, int, int], target: str | None = None) -> None:
    """Raise when a DLA build is asked of a TensorRT release that has no DLA for ``target``.

    Raises:
        BundleError: naming the version, where DLA is available, and the fix.
    """
    if dla_core is None or dla_supported(version, target):
        return
    where = f" for {target}" if target else ""
    raise BundleError(f"TensorRT {'.'.join(map(str, version))} has no DLA support{where}: DLA builds need TensorRT "
                      "10.3-10.7 (JetPack 6), or 11.4.1+ in 11.4 on jetson-agx-orin with JetPack 7.2.2 or later. "
                      "Build without --dla-core, or with a TensorRT that has DLA.")


__all__ = ["MAX_MAJOR", "MIN_VERSION", "build_engine", "can_build_here", "check_dla", "check_dla_version",
           "check_engine_compat", "check_version", "dla_placement", "dla_supported", "engine_file", "engine_record",
           "gpu_identity", "layer_info_file", "pad_batch", "parse_version", "profile_batches", "shape", "shapes",
           "supported_range", "trt_version"]
