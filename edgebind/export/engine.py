"""``build-engine``: turn a bundle's TensorRT recipe into engines on the device, record them, check parity.

Uses the TensorRT Python API where it imports, else the recorded ``trtexec`` commands. Every engine is then run on
the inputs kept in ``parity.npz`` and compared with the fp32 PyTorch outputs recorded at export (through the
TensorRT runner, or through ``trtexec --loadInputs/--exportOutput``), so a Jetson checks its own engine without the
checkpoint or PyTorch. An engine whose parity failed or could not be measured stays in the bundle marked
``usable: false`` with the reason, and the runner refuses it.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bundle import Bundle, EncoderEntry, load_bundle
from edgebind.errors import BundleError, ConfigError, EdgebindError, ParityError
from edgebind.export import tensorrt as trt_export
from edgebind.export.parity import PARITY
from edgebind.export.targets import get_target

log = logging.getLogger(__name__)

VIA = ("runner", "trtexec")


def parity_splits(bundle: Bundle, modality: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The (inputs, fp32 PyTorch outputs) pairs saved at export for ``modality``."""
    path = bundle.file(PARITY)
    if not path.is_file():
        raise BundleError(f"bundle {bundle.path} has no {PARITY}; re-export it: {bundle.command}")
    with np.load(path, allow_pickle=False) as z:
        names = {k.split(".")[1] for k in z.files if k.startswith(modality + ".")}
        return {s: (z[f"{modality}.{s}.input"], z[f"{modality}.{s}.reference"]) for s in sorted(names)}


def engine_verdict(report: Mapping[str, Any] | None, why_unmeasured: str = "") -> tuple[bool, str | None]:
    """Whether an engine may be used, and why not: only a measured, passing parity makes it usable."""
    if report is None:
        return False, f"parity not measured ({why_unmeasured or 'no report'})"
    if not report.get("passed"):
        return False, "failed parity: " + "; ".join(report.get("failures") or ["no figures"])
    return True, None


def trtexec_embed(bundle: Bundle, entry: EncoderEntry, x: np.ndarray) -> np.ndarray:
    """Run ``entry``'s built engine on ``x`` with trtexec alone (``--loadInputs``, ``--exportOutput`` JSON).

    Args:
        bundle: the bundle holding the engine (trtexec runs in its folder).
        entry: the encoder; ``entry.engine`` holds the engine's batch profile and DLA core.
        x: (N, ...) inputs in the modality's contract (checked and cast as a Runner's ``embed`` does).

    Returns:
        (N, out_dim) float32 outputs.
    """
    from edgebind.export.trtexec import read_trtexec_output, run_trtexec, trtexec_infer_command
    from edgebind.runtime.base import prepare_input

    assert entry.engine is not None and bundle.path is not None
    batch = entry.engine["batch"]
    xs = np.ascontiguousarray(prepare_input(entry, x), dtype=np.dtype(entry.input_dtype))
    outs = []
    with tempfile.TemporaryDirectory(prefix="edgebind-trtexec-") as tmp:
        inp, out = Path(tmp) / "input.bin", Path(tmp) / "output.json"
        for i in range(0, len(xs), int(batch["max"])):
            part = xs[i : i + int(batch["max"])]
            chunk = trt_export.pad_batch(part, int(batch["min"]))
            chunk.tofile(inp)
            out.unlink(missing_ok=True)  # never read the previous batch's outputs
            run_trtexec(trtexec_infer_command(entry, len(chunk), str(inp), str(out), entry.engine.get("dla_core")),
                        bundle.path)
            outs.append(read_trtexec_output(out, entry.output_name).reshape(len(chunk), -1)[: len(part)])
    return np.concatenate(outs).astype(np.float32, copy=False)


def check_engine(bundle: Bundle, modality: str, splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
                 bank: Any = None, tolerance: Mapping[str, float] | None = None, via: str = "runner") -> bool:
    """Measure one built engine's parity and record the verdict in its manifest record.

    Args:
        bundle: the bundle (saved, with the engine file listed).
        modality: whose engine.
        splits: name -> (inputs, fp32 PyTorch outputs), as in ``parity.npz``.
        bank: the LabelBank for top-1 agreement, or None.
        tolerance: tolerance fields to replace (the export's own, so the engine meets the same bar).
        via: ``runner`` (TensorRT Python API + cuda-python) or ``trtexec``.

    Returns:
        Whether the engine is usable. ``entry.engine`` gains ``parity`` (the report, or None), ``usable`` and
        ``unusable_reason``.
    """
    from edgebind.export.parity import measure_parity

    if via not in VIA:
        raise ConfigError(f"unknown parity path '{via}'; use one of {', '.join(VIA)}.")
    entry = bundle.encoder(modality)
    assert entry.engine is not None
    report: dict[str, Any] | None = None
    why = ""
    try:
        if via == "trtexec":
            report = measure_parity(lambda x: trtexec_embed(bundle, entry, x), splits, entry.precision, bank,
                                    tolerance, "trtexec")
        else:
            from edgebind.runtime.trt import TensorRTRunner

            with TensorRTRunner(bundle, modality, unchecked=True) as runner:
                report = measure_parity(runner.embed, splits, entry.precision, bank, tolerance, "tensorrt")
    except (EdgebindError, ImportError, OSError) as exc:
        why = str(exc).splitlines()[0]
        log.warning("%s engine parity not measured: %s", modality, why)
    usable, reason = engine_verdict(report, why)
    entry.engine.update({"parity": report, "usable": usable, "unusable_reason": reason})
    return usable


def build_bundle_engines(directory: str | Path, dla_core: int | None = None, use_trtexec: bool = False,
                         dla_batch: int | None = None, on_stage: Callable[[str], None] | None = None) -> Bundle:
    """Build, record and parity-check every engine of a TensorRT bundle, on this machine.

    Args:
        directory: the bundle folder.
        dla_core: DLA core to build for. Defaults to the recipe's.
        use_trtexec: build and check with trtexec even where the Python API imports. Defaults to False.
        dla_batch: the static batch of a DLA engine. Defaults to the recipe's, else 1.
        on_stage: called with each stage's description as it starts (the CLI's progress). Defaults to None.

    Returns:
        The updated Bundle (manifest rewritten with engine records, verdicts and hashes).

    Raises:
        BundleError: an ONNX-only bundle, no GPU, the wrong GPU for the target, an unsupported TensorRT,
            trtexec/TensorRT failures, or a parity that could not be measured (the engine is kept, marked unusable).
        ParityError: an engine misses its precision's tolerance (kept, marked unusable, report in the manifest).
    """
    from edgebind.export.trtexec import run_trtexec, trtexec_command, trtexec_version

    bundle = load_bundle(directory)
    assert bundle.path is not None
    if bundle.format != "tensorrt" or not bundle.tensorrt:
        raise BundleError(f"bundle {bundle.path} was exported as {bundle.format}; re-export it with "
                          "--format tensorrt (a jetson or x86-cuda target) to build engines.")
    target = get_target(bundle.target)
    dla = bundle.tensorrt.get("dla_core") if dla_core is None else dla_core
    recipe_batch = bundle.tensorrt.get("batch") or {}
    if dla_batch is None:
        dla_batch = int(recipe_batch.get("max", 1)) if bundle.tensorrt.get("dla_core") is not None else 1
    trt_export.check_dla(target, dla, bundle.precision)
    batch = trt_export.profile_batches(target, dla, dla_batch)
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
    python_api = trt_export.trt_version() is not None and not use_trtexec
    for entry in bundle.encoders.values():
        if on_stage is not None:
            on_stage(f"{entry.modality}: building the TensorRT engine" + ("" if python_api else " (trtexec)"))
        if python_api:
            entry.engine = trt_export.build_engine(entry, target, bundle.path, dla, dla_batch)
        else:
            out = run_trtexec(trtexec_command(entry, target, dla, dla_batch), bundle.path)
            version = trtexec_version(out)
            if version is None:
                raise BundleError("trtexec's log names no TensorRT version ('TensorRT vNNNNNN'); use JetPack's "
                                  "/usr/src/tensorrt/bin/trtexec or set TRTEXEC.")
            trt_export.check_dla_version(dla, trt_export.check_version(version), target.name)
            info_path = bundle.file(trt_export.layer_info_file(entry))
            info = json.loads(info_path.read_text()) if info_path.is_file() else None
            entry.engine = trt_export.engine_record(entry, gpu, version, dla, batch, "trtexec", info)
        bundle.add_file(entry.engine["file"])
        if bundle.file(entry.engine["layer_info"]).is_file():
            bundle.add_file(entry.engine["layer_info"])
    bundle.add_file(trt_export.TIMING_CACHE)
    bundle.tensorrt.update({"mode": "built", "built_here": True, "dla_core": dla, "batch": batch})
    bundle.save(bundle.path)
    via = "runner" if python_api else "trtexec"
    for m, entry in bundle.encoders.items():
        if on_stage is not None:
            on_stage(f"{m}: checking the engine's parity")
        check_engine(bundle, m, parity_splits(bundle, m), bundle.label_bank(m) if m != "text" else None,
                     (entry.parity or {}).get("tolerance"), via)
    bundle.save(bundle.path)
    raise_if_unusable(bundle)
    return bundle


def raise_if_unusable(bundle: Bundle) -> None:
    """Raise for the first engine of ``bundle`` that is not usable, saying why and that the runtime refuses it.

    Raises:
        ParityError: a measured parity failed (figures and the tolerance that would have passed).
        BundleError: parity could not be measured (the reason, and how to measure it).
    """
    from edgebind.export.parity import check_parity

    for m, entry in bundle.encoders.items():
        rec = entry.engine or {}
        if rec.get("usable"):
            continue
        kept = f"The engine stays in {bundle.path} marked unusable; the runtime refuses it."
        if rec.get("parity") is not None:
            try:
                check_parity(rec["parity"], m)
            except ParityError as exc:
                raise ParityError(f"{exc} {kept}") from None
        raise BundleError(f"{m} engine {rec.get('file')}: {rec.get('unusable_reason')}. {kept} Install "
                          "cuda-python (pip install 'edgebind[trt]') or rerun with --trtexec to measure it.")


__all__ = ["build_bundle_engines", "check_engine", "engine_verdict", "parity_splits", "raise_if_unusable",
           "trtexec_embed"]
