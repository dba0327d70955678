"""``build-engine``: turn a bundle's TensorRT recipe into engines on the device, record them, check parity.

Uses the TensorRT Python API where it imports, else the recorded ``trtexec`` commands. The engines are then run on
the inputs kept in ``parity.npz`` and compared with the fp32 PyTorch outputs recorded at export, so a Jetson checks
its own engine without the checkpoint.
"""

from __future__ import annotations

import logging
import re
import shlex
from pathlib import Path

import numpy as np

from edgebind.bundle import Bundle, load_bundle
from edgebind.errors import BundleError, ParityError
from edgebind.export import tensorrt as trt_export
from edgebind.export.targets import get_target

log = logging.getLogger(__name__)


def trtexec_version(output: str) -> str | None:
    """``[TensorRT v100300]`` in trtexec's log -> ``"10.3.0"``."""
    m = re.search(r"TensorRT v(\d{5,})", output)
    if not m:
        return None
    v = int(m.group(1))
    return f"{v // 10000}.{v // 100 % 100}.{v % 100}"


def parity_splits(bundle: Bundle, modality: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The (inputs, fp32 PyTorch outputs) pairs saved at export for ``modality``."""
    from edgebind.export.pipeline import PARITY

    path = bundle.file(PARITY)
    if not path.is_file():
        raise BundleError(f"bundle {bundle.path} has no {PARITY}; re-export it: {bundle.command}")
    with np.load(path, allow_pickle=False) as z:
        names = {k.split(".")[1] for k in z.files if k.startswith(modality + ".")}
        return {s: (z[f"{modality}.{s}.input"], z[f"{modality}.{s}.reference"]) for s in sorted(names)}


def build_bundle_engines(directory: str | Path, dla_core: int | None = None, use_trtexec: bool = False) -> Bundle:
    """Build, record and parity-check every engine of a TensorRT bundle, on this machine.

    Args:
        directory: the bundle folder.
        dla_core: DLA core to build for. Defaults to the recipe's.
        use_trtexec: use the recorded trtexec commands even where the Python API imports. Defaults to False.

    Returns:
        The updated Bundle (manifest rewritten with engine records and hashes).

    Raises:
        BundleError: an ONNX-only bundle, no GPU, the wrong GPU for the target, trtexec/TensorRT failures.
        ParityError: an engine misses its precision's tolerance (the report is kept in the manifest).
    """
    from edgebind.export.parity import check_parity, measure_parity

    bundle = load_bundle(directory)
    assert bundle.path is not None
    if bundle.format != "tensorrt" or not bundle.tensorrt:
        raise BundleError(f"bundle {bundle.path} was exported as {bundle.format}; re-export it with "
                          "--format tensorrt (a jetson or x86-cuda target) to build engines.")
    target = get_target(bundle.target)
    dla = bundle.tensorrt.get("dla_core") if dla_core is None else dla_core
    trt_export.check_dla(target, dla)
    gpu = trt_export.gpu_identity()
    if gpu is None:
        raise BundleError("no NVIDIA GPU is visible here; run build-engine on the device the bundle is for "
                          f"({target.description}).")
    if target.compute_capability and gpu["compute_capability"] != target.compute_capability:
        raise BundleError(
            f"bundle {bundle.path} targets {target.name} (sm_{target.compute_capability.replace('.', '')}), but this "
            f"GPU is {gpu['gpu']} (sm_{gpu['compute_capability'].replace('.', '')}); run build-engine on the device, "
            "or re-export with --target x86-cuda for this GPU."
        )
    version = trt_export.trt_version()
    for entry in bundle.encoders.values():
        if version is not None and not use_trtexec:
            entry.engine = trt_export.build_engine(entry, target, bundle.path, dla)
        else:
            cmd = trt_export.trtexec_command(entry, target, dla, bundle.path)
            out = trt_export.run_trtexec(shlex.join(cmd), bundle.path)
            engine_file = Path(entry.file).with_suffix(".engine").name
            entry.engine = {"file": engine_file, "gpu": gpu["gpu"], "compute_capability": gpu["compute_capability"],
                            "tensorrt": version or trtexec_version(out) or "unknown", "precision": entry.precision,
                            "dla_core": dla, "layer_info": f"{Path(entry.file).stem}.layers.json",
                            "built_with": "trtexec", "batch": {"min": 1, "opt": target.batch_opt,
                                                               "max": target.batch_max}}
        bundle.add_file(entry.engine["file"])
    bundle.add_file(trt_export.TIMING_CACHE)
    bundle.tensorrt.update({"mode": "built", "built_here": True, "dla_core": dla})
    bundle.save(bundle.path)
    failed = []
    if version is not None and _torch_cuda():
        from edgebind.runtime import open_runner

        for m, entry in bundle.encoders.items():
            assert entry.engine is not None
            with open_runner(bundle, m, backend="tensorrt") as runner:
                report = measure_parity(runner.embed, parity_splits(bundle, m), entry.precision,
                                        bundle.label_bank(m) if m != "text" else None, artifact="tensorrt")
            entry.engine["parity"] = report
            if not report["passed"]:
                failed.append((m, report))
        bundle.save(bundle.path)
    else:
        log.warning("engine parity not measured: needs the tensorrt Python package and PyTorch with CUDA")
    if failed:
        try:
            check_parity(failed[0][1], failed[0][0])
        except ParityError as exc:
            raise ParityError(f"{exc} The engine stays in {bundle.path} but the runtime refuses it.") from None
    return bundle


def _torch_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


__all__ = ["build_bundle_engines", "parity_splits", "trtexec_version"]
