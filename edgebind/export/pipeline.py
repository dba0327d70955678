"""``export_bundle``: checkpoint -> encoders -> ONNX -> fp16/int8 -> TensorRT engine or recipe -> parity -> Bundle.

An export is finished only once parity is measured (STYLE.md §4): the manifest is written, every artifact is run
through the same Runner the device uses, and a failing export leaves ``manifest.failed.json`` (so the folder is
not a usable bundle) and raises ParityError with the figures.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgebind import __version__
from edgebind.bundle import MANIFEST, Bundle, EncoderEntry
from edgebind.errors import ConfigError, ParityError
from edgebind.export.formats import EXPORTABLE_MODALITIES, check_supported
from edgebind.export.parity import PARITY
from edgebind.export.targets import Target

log = logging.getLogger(__name__)

WEIGHTS = "weights.safetensors"
LABELS = "labels.npz"
PARITY_PROMPTS = ("walking", "running", "standing still", "climbing stairs", "a warm dog sleeping on a couch")
TEXT_PRECISION = "fp16"  # --text-encoder: fp16 ONNX with fp32 islands where the target runs fp16


def default_out_dir(modalities: Sequence[str], target: str, precision: str) -> Path:
    """``out/<modalities>-<target>-<precision>``, e.g. ``out/imu-thermal-jetson-fp16``."""
    return Path("out") / f"{'-'.join(modalities)}-{target}-{precision}"


def parse_modalities(modalities: str | Sequence[str]) -> list[str]:
    """``"imu,thermal"`` -> ``["imu", "thermal"]``, checked.

    Raises:
        ConfigError: empty, duplicated or unknown modality.
    """
    items = [m.strip() for m in (modalities.split(",") if isinstance(modalities, str) else modalities) if m.strip()]
    if not items:
        raise ConfigError("--modalities is empty; pass e.g. --modalities imu,thermal.")
    for m in items:
        if m not in EXPORTABLE_MODALITIES:
            from edgebind.errors import suggest

            raise ConfigError(f"cannot export modality '{m}'.{suggest(m, EXPORTABLE_MODALITIES)} Exportable: "
                              f"{', '.join(EXPORTABLE_MODALITIES)}.")
    if len(set(items)) != len(items):
        raise ConfigError(f"--modalities lists a modality twice: {','.join(items)}.")
    return items


def _as_given(checkpoint: str | Path | None, resolved: Path | None) -> Path | None:
    """The checkpoint as the user named it (relative stays relative), else the one that was found."""
    return Path(checkpoint) if checkpoint is not None else resolved


def _command(target: str, precision: str, fmt: str | None, modalities: Sequence[str], checkpoint: Path | None,
             preset: str | None, overrides: Mapping[str, Any], calibration: Sequence[Path] | None, method: str,
             labels: Path | None, dla_core: int | None, out: Path, dla_batch: int = 1,
             text_encoder: bool = False) -> str:
    """The ``edgebind export`` command that reproduces this export."""
    parts = ["edgebind export", f"--target {target}", f"--modalities {','.join(modalities)}"]
    parts.append(f"--checkpoint {checkpoint}" if checkpoint else "--random-init")
    if preset:
        parts.append(f"--preset {preset}")
    parts += [f"--set {k}={v}" for k, v in overrides.items()]
    if fmt:
        parts.append(f"--format {fmt}")
    if precision != "fp32":
        parts.append(f"--{precision}")
    if calibration:
        parts += [f"--calibration {c}" for c in calibration] + [f"--calibration-method {method}"]
    if labels:
        parts.append(f"--labels {labels}")
    if text_encoder:
        parts.append("--text-encoder")
    if dla_core is not None:
        parts.append(f"--dla-core {dla_core}" + (f" --dla-batch {dla_batch}" if dla_batch != 1 else ""))
    return " ".join([*parts, f"-o {out}"])


def _load_encoders(modalities: Sequence[str], checkpoint: Path | None, preset: str | None,
                   overrides: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """fp32 eval-mode encoders from the checkpoint, or the preset with seeded random weights."""
    import torch

    from edgebind.checkpoint import load_checkpoint, load_encoder
    from edgebind.config import get_config, overrides_for, replace
    from edgebind.models import build_encoder

    if checkpoint is None:
        torch.manual_seed(seed)
        out = {}
        for m in modalities:
            cfg = get_config(preset or "imagebind_huge", m)
            out[m] = build_encoder(replace(cfg, **overrides_for(m, dict(overrides)))).eval()
        return out
    ckpt = load_checkpoint(checkpoint)
    return {m: load_encoder(ckpt, m, preset, overrides).eval() for m in modalities}


def encoder_contract(cfg: Any, imu_fields: Mapping[str, Any] | None = None) -> Any:
    """The input contract stored for an encoder (sized to its config; ``imu_fields`` replace IMU contract fields)."""
    if cfg.modality == "imu":
        from edgebind.preprocess.imu import DEFAULT_IMU_CONTRACT, ImuContract

        sized = {"num_samples": cfg.num_samples, "sample_rate_hz": cfg.num_samples / DEFAULT_IMU_CONTRACT.window_s}
        return ImuContract.from_dict({**DEFAULT_IMU_CONTRACT.to_dict(), **sized, **dict(imu_fields or {})})
    if cfg.modality == "thermal":
        from edgebind.preprocess.thermal import ThermalContract

        return ThermalContract(size=cfg.img_size)
    return None


def _label_bank(labels: Path, encoders: Mapping[str, Any], checkpoint: Path | None, preset: str | None,
                overrides: Mapping[str, Any], seed: int) -> Any:
    """A LabelBank from labels.txt (ImageBind text encoder of the same checkpoint) or a prebuilt labels.npz."""
    from edgebind.errors import InputError
    from edgebind.zeroshot import LabelBank, build_label_bank, imagebind_text_embedder, read_labels

    if labels.suffix == ".npz":
        if not labels.is_file():
            raise InputError(f"label bank {labels} does not exist; pass labels.txt or a labels.npz LabelBank.")
        bank = LabelBank.load(labels)
        bank.meta.setdefault("source", str(labels))
    else:
        specs = read_labels(labels)
        text = encoders.get("text") or _load_encoders(["text"], checkpoint, preset, overrides, seed)["text"]
        dims = {m: e.cfg.out_dim for m, e in encoders.items()}
        if any(d != text.cfg.out_dim for d in dims.values()):
            raise ConfigError(
                f"--labels {labels}: the text encoder's width {text.cfg.out_dim} differs from the encoders' "
                f"{dims}; this student is not in ImageBind's space. Build its label bank with its own text model and "
                "pass that labels.npz as --labels."
            )
        first = next(iter(encoders.values()))
        bank = build_label_bank(specs, imagebind_text_embedder(text), logit_scale=first.cfg.logit_scale,
                                meta={"text_encoder": "imagebind text", "checkpoint": str(checkpoint) if checkpoint
                                      else "random-init", "source": str(labels)})
    for m, enc in encoders.items():
        if m != "text" and bank.dim != enc.cfg.out_dim:
            raise ConfigError(
                f"label bank {labels} has width {bank.dim} but the {m} encoder's out_dim is {enc.cfg.out_dim}; "
                "build the bank with the text model this encoder was aligned to."
            )
    return bank


def _reference(encoder: Any, x: np.ndarray, batch: int = 16) -> np.ndarray:
    """fp32 eager PyTorch outputs (N, out_dim)."""
    import torch

    outs = []
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            outs.append(encoder(torch.from_numpy(x[i : i + batch])).float().numpy())
    return np.concatenate(outs)


def _mixtures(windows: np.ndarray, n: int, seed: int, clip01: bool) -> np.ndarray:
    """``n`` seeded inputs ``l * a + (1 - l) * b + noise`` of random window pairs: new, but in the data's range."""
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(windows), n), rng.integers(0, len(windows), n)
    lam = rng.random(n).reshape((n,) + (1,) * (windows.ndim - 1))
    x = lam * windows[i] + (1 - lam) * windows[j]
    x = x + rng.normal(0.0, 0.02, x.shape) * windows.std()
    return (np.clip(x, 0.0, 1.0) if clip01 else x).astype(np.float32)


def _tools() -> dict[str, str]:
    import importlib.metadata as md

    out = {"edgebind": __version__}
    for pkg in ("torch", "onnx", "onnxruntime", "onnxslim", "tensorrt"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            continue
    return out


def distillation_report(ckpt_path: Path | None) -> dict[str, Any] | None:
    """What ``edgebind distill`` recorded in a student checkpoint: teacher, data, step and held-out figures
    (cosine, centred cosine, top-1 agreement with the teacher); None for any other checkpoint."""
    if ckpt_path is None or ckpt_path.suffix != ".safetensors":
        return None
    import json

    from safetensors import safe_open

    with safe_open(str(ckpt_path), "np") as f:
        meta = f.metadata() or {}
    recipe = json.loads(meta.get("edgebind_recipe", "null"))
    if not isinstance(recipe, dict) or recipe.get("recipe") != "distill":
        return None
    from edgebind.config import preset_name

    teacher = recipe.get("teacher_config") or {}
    return {"teacher_sha256": (recipe.get("teacher") or {}).get("file"),
            "teacher": preset_name(teacher) or teacher.get("modality"), "step": recipe.get("step"),
            "data": recipe.get("data"), "held_out": recipe.get("held"), "held_out_eval": recipe.get("eval") or {}}


def _prepare_out(out: Path) -> None:
    """Create ``out``; refuse to write into a non-empty folder that is not a bundle."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"-o {out} is a file; pass a folder for the bundle.")
    if out.is_dir() and any(out.iterdir()):
        if not ((out / MANIFEST).is_file() or (out / "manifest.failed.json").is_file()):
            raise ConfigError(f"-o {out} exists and is not a bundle; pass an empty or new folder.")
        shutil.rmtree(out)  # replacing an earlier bundle: stale artifacts must not survive
    out.mkdir(parents=True, exist_ok=True)


def export_bundle(
    out: str | Path | None = None,
    target: str = "jetson",
    precision: str = "fp32",
    modalities: str | Sequence[str] = ("imu", "thermal"),
    checkpoint: str | Path | None = None,
    random_init: bool = False,
    preset: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    calibration: str | Path | Sequence[str | Path] | None = None,
    calibration_method: str = "minmax",
    labels: str | Path | None = None,
    fmt: str | None = None,
    dla_core: int | None = None,
    dla_batch: int = 1,
    tolerance: Mapping[str, float] | None = None,
    opset: int = 18,
    seed: int = 0,
    min_calibration_windows: int | None = None,
    remember: bool = True,
    text_encoder: bool = False,
    imu_contract: Mapping[str, Any] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Bundle:
    """Export encoders to a bundle folder and measure parity.

    Args:
        out: bundle folder. Defaults to ``out/<modalities>-<target>-<precision>``.
        target: a name from ``edgebind.export.targets.TARGETS``. Defaults to ``jetson``.
        precision: ``fp32``, ``fp16`` or ``int8``. Defaults to ``fp32``.
        modalities: ``"imu,thermal"`` or a list; ``text`` adds the text encoder (tokenizer included).
        checkpoint: ImageBind ``.pth``, an extracted or student ``.safetensors``. Defaults to ``find_checkpoint()``
            unless ``random_init``.
        random_init: export the preset with seeded random weights (latency tests); recorded in the manifest and
            the weights saved in the bundle.
        preset: config preset (``imagebind_huge``, ``tiny``, ``imu-small`` ...) for random init or files without
            configs. Defaults to ``imagebind_huge``.
        overrides: parsed ``--set`` values.
        calibration: int8 only: Recording ``.npz`` or calib.npz file(s); each modality uses the files holding it.
        calibration_method: ``minmax``, ``entropy`` or ``percentile``. Defaults to ``minmax``.
        labels: labels.txt (embedded with the same checkpoint's text encoder) or a prebuilt ``labels.npz``.
        fmt: ``onnx`` or ``tensorrt``. Defaults to the target's.
        dla_core: TensorRT DLA core (targets with DLA only; fp16 and int8 only).
        dla_batch: the static batch of a DLA engine (DLA has no dynamic shapes). Defaults to 1.
        tolerance: parity tolerance fields to replace (``{"min_cosine": 0.97}``).
        opset: ONNX opset (>= 17). Defaults to 18.
        seed: seed for random init and parity inputs. Defaults to 0.
        min_calibration_windows: fewest int8 calibration windows. Defaults to ``quantize.MIN_CALIBRATION_WINDOWS``.
        remember: record the bundle for commands run without ``--bundle``. Defaults to True.
        text_encoder: also ship ImageBind's text encoder (ONNX, fp16 where the target runs fp16, else fp32, whatever
            ``precision`` is) and its tokenizer, so new labels are embedded on the device. Defaults to False.
        imu_contract: ImuContract fields to declare what the IMU model was trained on, e.g.
            ``{"gravity_included": False, "source_rate_hz": 10.0}``. Defaults to None (the default contract).
        on_stage: called with each stage's description as it starts (the CLI's progress). Defaults to None.

    Returns:
        The saved, verified Bundle.

    Raises:
        ConfigError: bad target/format/precision pair, flags that do not go together, unknown names.
        CheckpointError: no checkpoint found (the message says what to pass) or an unreadable one.
        InputError: calibration data of the wrong shape or too few windows.
        ParityError: an artifact misses its precision's tolerance (figures and passing tolerance included).
    """
    from edgebind.checkpoint import file_sha256
    from edgebind.paths import find_checkpoint, remember_bundle

    stage = on_stage or (lambda _: None)
    mods = parse_modalities(modalities)
    tgt, fmt_ = check_supported(target, fmt, precision)
    if text_encoder and "text" in mods:
        raise ConfigError("--text-encoder adds the text encoder, and --modalities already lists text; drop one.")
    from edgebind.export.tensorrt import check_dla

    check_dla(tgt, dla_core, precision)
    if dla_core is not None and fmt_ != "tensorrt":
        raise ConfigError("--dla-core applies to TensorRT engines; use --format tensorrt or drop --dla-core.")
    if precision == "int8" and calibration is None and any(m != "text" for m in mods):
        raise ConfigError("--int8 needs calibration data: add --calibration REC.npz (a Recording) or a calib.npz "
                          "from 'edgebind calibrate capture'.")
    if precision != "int8" and calibration is not None:
        raise ConfigError(f"--calibration is only used with --int8, but the precision is {precision}; add --int8 or "
                          "drop --calibration.")
    if precision == "int8" and "text" in mods:
        raise ConfigError("the text encoder has no int8 calibration data (prompts, not sensor windows); drop text "
                          "from --modalities and add --text-encoder (it ships the text encoder in fp16), or "
                          "precompute --labels.")
    if checkpoint is not None and random_init:
        raise ConfigError("pass either --checkpoint or --random-init, not both.")
    ckpt_path = None if random_init else find_checkpoint(checkpoint, random_init_flag=True).resolve()
    overrides = dict(overrides or {})
    out_dir = Path(out) if out is not None else default_out_dir(mods, tgt.name, precision)
    labels_path = Path(labels) if labels is not None else None
    calib_paths: list[Path] | None = None
    if calibration is not None:
        calib_paths = ([Path(calibration)] if isinstance(calibration, (str, Path))
                       else [Path(c) for c in calibration])
    precisions = {m: precision for m in mods}
    asked = list(mods)
    if text_encoder:
        mods = [*mods, "text"]
        precisions["text"] = TEXT_PRECISION if TEXT_PRECISION in tgt.precisions else "fp32"
    stage("loading the encoders" + (f" from {ckpt_path.name}" if ckpt_path else " (random init)"))
    encoders = _load_encoders(mods, ckpt_path, preset, overrides, seed)
    if labels_path:
        stage(f"embedding the labels of {labels_path.name}")
    bank = _label_bank(labels_path, encoders, ckpt_path, preset, overrides, seed) if labels_path else None
    _prepare_out(out_dir)

    from edgebind.export import onnx as onnx_export
    from edgebind.export import ortfuse, quantize

    calib_sets: dict[str, quantize.CalibrationSet] = {}
    contracts = {m: encoder_contract(e.cfg, imu_contract) for m, e in encoders.items()}
    if precision == "int8":
        assert calib_paths is not None
        for m in (m for m in mods if precisions[m] == "int8"):
            calib_sets[m] = quantize.load_calibration(
                calib_paths, encoders[m].cfg, contracts[m],
                min_calibration_windows or quantize.MIN_CALIBRATION_WINDOWS)

    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    entries: dict[str, EncoderEntry] = {}
    for m, enc in encoders.items():
        shape, dtype = onnx_export.input_spec(enc.cfg)
        entries[m] = EncoderEntry(
            modality=m, config=enc.cfg.to_dict(), file=f"{m}.onnx", format="onnx", precision=precisions[m],
            input_shape=shape, input_dtype=dtype, output_shape=["batch", enc.cfg.out_dim],
            logit_scale=float(enc.logit_scale().detach()), input_name=onnx_export.INPUT_NAME,
            output_name=onnx_export.OUTPUT_NAME,
            contract=None if contracts[m] is None else contracts[m].to_dict(),
            stream=onnx_export.stream_spec(enc.cfg) if onnx_export.is_streaming(enc.cfg) else None)
        if entries[m].stream is not None:
            entries[m].input_name = onnx_export.SAMPLES_NAME
    bundle = Bundle(
        target=tgt.name, precision=precision, format=fmt_, encoders=entries,
        # relative to the bundle, so a bundle moved together with its checkpoint still finds it
        source={"checkpoint": os.path.relpath(ckpt_path, out_dir.resolve()) if ckpt_path else None,
                "sha256": file_sha256(ckpt_path) if ckpt_path else None,
                "weights": WEIGHTS if random_init else None, "preset": preset,
                "seed": seed if random_init else None, "distillation": distillation_report(ckpt_path)},
        random_init=random_init, tools=_tools(),
        command=_command(tgt.name, precision, fmt, asked, _as_given(checkpoint, ckpt_path), preset, overrides,
                         calib_paths, calibration_method, labels_path, dla_core, out_dir, dla_batch, text_encoder),
        created=created, path=out_dir)
    bundle_id = bundle.compute_id()
    stamp = {"edgebind.bundle_id": bundle_id, "edgebind.precision": precision, "edgebind.target": tgt.name,
             "edgebind.version": __version__}

    work = out_dir / ".work"
    work.mkdir()
    try:
        for m, enc in encoders.items():
            entry = entries[m]
            fp32 = out_dir / entry.file if entry.precision == "fp32" else work / f"{m}.fp32.onnx"
            stage(f"{m}: exporting to ONNX")
            onnx_export.export_onnx(enc, fp32, opset=opset, batch_max=max(tgt.batch_max, 2))
            streaming = entry.stream is not None
            if streaming and fmt_ == "tensorrt":
                raise ConfigError(f"the {m} encoder is a streaming step model, which edgebind exports for ONNX "
                                  "Runtime only; use --target cpu (or --format onnx).")
            if tgt.onnxruntime_fusions and not streaming:  # the fusions match the ViT trunk's graph
                fused_ops = ortfuse.fuse_gelu(fp32, fp32, enc.cfg.num_heads, enc.cfg.embed_dim,
                                              approximate=entry.precision == "int8")
                entry.graph = {"fused": fused_ops}
            if entry.precision != "fp32":
                stage(f"{m}: converting to {entry.precision}")
            if entry.precision == "fp16":
                entry.precision_plan = quantize.convert_fp16(fp32, out_dir / entry.file)
            elif entry.precision == "int8":
                cache = f"{m}.calib.json"
                feeds = (_step_feeds(enc, calib_sets[m].calibration) if streaming
                         else calib_sets[m].calibration)
                entry.calibration = {**calib_sets[m].summary(), **quantize.quantize_int8(
                    fp32, out_dir / entry.file, feeds, method=calibration_method,
                    activations=tgt.int8_activations if fmt_ == "tensorrt" else "uint8",
                    cache_path=out_dir / cache, input_name=entry.input_name,
                    stem_inputs=[entry.input_name] if streaming else None,
                    float_inputs=entry.stream["state_inputs"] if entry.stream else ())}
                if (out_dir / cache).is_file():
                    bundle.add_file(cache)
                if tgt.onnxruntime_fusions and not streaming:
                    fused_ops["MatMulIntegerToFloat+bias"] = ortfuse.fuse_matmul_bias(out_dir / entry.file)
            onnx_export.stamp(out_dir / entry.file, {**stamp, "edgebind.precision": entry.precision})
            bundle.add_file(entry.file)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if random_init:
        from edgebind.checkpoint import save_checkpoint

        save_checkpoint(list(encoders.values()), out_dir / WEIGHTS, {"random_init": "true", "seed": str(seed)})
        bundle.add_file(WEIGHTS)
    if bank is not None:
        bank.save(out_dir / LABELS)
        scales = {m: float(e.logit_scale().detach()) for m, e in encoders.items() if m != "text"}
        bundle.labels = {"file": LABELS, "names": list(bank.names), "dim": bank.dim,
                         "templates": list(bank.templates), "source": bank.meta.get("source"), "logit_scale": scales}
        bundle.add_file(LABELS)
    if "text" in mods:
        _copy_tokenizer(out_dir, bundle)
    if fmt_ == "tensorrt":
        bundle.save(out_dir)  # the recipe reads the final ONNX files
        stage("TensorRT engines")
        _tensorrt(bundle, tgt, dla_core, dla_batch)

    stage("checking parity against PyTorch fp32")
    _parity(bundle, encoders, calib_sets, bank, tolerance, seed)
    if remember:
        remember_bundle(out_dir)
    return bundle


def _step_feeds(encoder: Any, windows: np.ndarray, per_window: int = 4, most: int = 1024) -> dict[str, np.ndarray]:
    """Calibration feeds of a streaming step model: patches from every part of the windows as new samples.

    The step runs every patch of a window once, so the calibrated ranges must cover patches from anywhere in the
    windows (the last patch alone clipped the rest: tiny stream student, parity cosine 0.81). The quantised layers
    are the per-token ones (the head reading the state stays float, ``quantize.downstream_matmuls``), so the state
    feed is zeros, a state the runner starts from.
    """
    hop, n = encoder.cfg.patch_size, encoder.cfg.num_patches
    k = np.arange(len(windows))
    picks = [(int(w), int((w * 7 + j * (n // per_window)) % n)) for w in k for j in range(per_window)][:most]
    samples = np.stack([windows[w, :, p * hop : (p + 1) * hop] for w, p in picks]).astype(np.float32)
    state = np.zeros((len(picks), n, encoder.cfg.state_features), np.float32)
    from edgebind.export.onnx import SAMPLES_NAME, STATE_NAME

    return {SAMPLES_NAME: samples, STATE_NAME: state}


def _copy_tokenizer(out_dir: Path, bundle: Bundle) -> None:
    """Ship the CLIP BPE vocabulary (and its licence) for text prompts given on the device."""
    from importlib import resources

    data = resources.files("edgebind") / "data"
    (out_dir / "tokenizer").mkdir(exist_ok=True)
    for name in ("bpe_simple_vocab_16e6.txt.gz", "LICENSE.bpe_simple_vocab_16e6.txt"):
        (out_dir / "tokenizer" / name).write_bytes((data / name).read_bytes())
        bundle.add_file(f"tokenizer/{name}")


def _prompt_ids(bank: Any, context_length: int, most: int = 16) -> np.ndarray:
    """Token ids of real prompts for text parity: each bank label bare and in one of its templates (else a few
    activities), at most ``most`` rows."""
    from edgebind.tokenizer import tokenize
    from edgebind.zeroshot import DEFAULT_TEMPLATES

    names = list(bank.names) if bank is not None else list(PARITY_PROMPTS)
    templates = tuple(bank.templates) if bank is not None else DEFAULT_TEMPLATES
    texts = [p for i, n in enumerate(names) for p in (n, templates[(i + 1) % len(templates)].format(n))]
    return tokenize(texts[:most], context_length)


def _tensorrt(bundle: Bundle, target: Target, dla_core: int | None, dla_batch: int) -> None:
    """Build engines here where possible; always write the recipe."""
    from edgebind.export import tensorrt as trt_export
    from edgebind.export.trtexec import write_recipe

    assert bundle.path is not None
    bundle.tensorrt = write_recipe(bundle, target, dla_core, dla_batch)
    bundle.add_file(trt_export.SCRIPT)
    ok, why = trt_export.can_build_here(target)
    if not ok:
        bundle.tensorrt["built_here"] = False
        bundle.tensorrt["why_not"] = why
        log.info("TensorRT engines not built (%s); recipe in %s", why, trt_export.SCRIPT)
        return
    for entry in bundle.encoders.values():
        entry.engine = trt_export.build_engine(entry, target, bundle.path, dla_core, dla_batch)
        bundle.add_file(entry.engine["file"])
        bundle.add_file(entry.engine["layer_info"])
    bundle.tensorrt["built_here"] = True
    bundle.add_file(trt_export.TIMING_CACHE)


def _parity(bundle: Bundle, encoders: Mapping[str, Any], calib_sets: Mapping[str, Any], bank: Any,
            tolerance: Mapping[str, float] | None, seed: int) -> None:
    """Measure every artifact against fp32 PyTorch, keep the inputs in parity.npz, fail loudly."""
    from edgebind.export.engine import check_engine
    from edgebind.export.onnx import example_input
    from edgebind.export.parity import MAX_HELDOUT, SEEDED_SAMPLES, check_parity, measure_parity
    from edgebind.runtime import open_runner

    assert bundle.path is not None
    saved: dict[str, np.ndarray] = {}
    splits_by_mod: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for m, enc in encoders.items():
        if m in calib_sets:
            # int8 ranges hold for the data they were calibrated on; seeded inputs outside it would measure
            # clipping, not the export. So int8 seeds are new mixtures of calibration windows.
            seeded = _mixtures(calib_sets[m].calibration, SEEDED_SAMPLES, seed + 1, clip01=m == "thermal")
            splits = {"seeded": seeded, "heldout": calib_sets[m].heldout[:MAX_HELDOUT]}
        else:
            splits = {"seeded": example_input(enc.cfg, SEEDED_SAMPLES, seed=seed + 1)}
            if m == "text":  # random ids exercise every token; real prompts are what the device will embed
                splits["prompts"] = _prompt_ids(bank, enc.cfg.context_length)
        splits_by_mod[m] = {k: (x, _reference(enc, x)) for k, x in splits.items()}
        for k, (x, ref) in splits_by_mod[m].items():
            saved[f"{m}.{k}.input"], saved[f"{m}.{k}.reference"] = x, ref
    with (bundle.path / PARITY).open("wb") as f:
        np.savez_compressed(f, allow_pickle=False, **saved)
    bundle.add_file(PARITY)
    bundle.save(bundle.path)
    failed: list[tuple[str, dict[str, Any]]] = []
    for m, splits_m in splits_by_mod.items():
        entry = bundle.encoders[m]
        mbank = bank if (bank is not None and m != "text") else None
        with open_runner(bundle, m, backend="onnxruntime") as runner:
            entry.parity = measure_parity(runner.embed, splits_m, entry.precision, mbank, tolerance, "onnxruntime")
        if entry.engine and not check_engine(bundle, m, splits_m, mbank, tolerance, "runner"):
            log.warning("%s engine unusable (%s); the ONNX Runtime path is unaffected", m,
                        entry.engine["unusable_reason"])
        for report in (entry.parity, (entry.engine or {}).get("parity")):
            if report and not report["passed"]:
                failed.append((m, report))
    bundle.save(bundle.path)
    if failed:
        (bundle.path / MANIFEST).rename(bundle.path / "manifest.failed.json")
        try:
            check_parity(failed[0][1], failed[0][0])
        except ParityError as exc:
            raise ParityError(f"{exc} The failed bundle's report is in {bundle.path}/manifest.failed.json.") from None


__all__ = ["default_out_dir", "encoder_contract", "export_bundle", "parse_modalities"]
