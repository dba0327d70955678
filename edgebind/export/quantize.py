"""Reduced precision: fp16 with an fp32 plan for the overflow-prone ops, and int8 static QDQ quantisation.

fp16 (FIELD_NOTES.md §2.2, TensorRT#2564/#4355): LayerNormalization and Softmax run in fp32 (their inputs are cast
up), as does the output tail (L2 norm, clip, divide, logit scale); weights, matmuls and GELU are fp16. The graph
keeps float32 inputs and outputs, so the feed contract is unchanged. TensorRT builds it with ``--stronglyTyped``,
which obeys exactly these types.

int8: ONNX Runtime's ``quantize_static`` in QDQ format with per-channel symmetric int8 weights (7-bit range for
CPU bundles, which x86 CPUs without VNNI need; see ``quantize_int8``) on every MatMul/Gemm/
Conv whose second input is a constant (the attention QKᵀ and AV matmuls stay float, as TensorRT and HF Optimum
do; so does the patch stem, see :func:`stem_nodes`), and float MatMul outputs (no requantisation between layers).
Activation ranges come from real windows that passed through the same input contract the stream uses
(``edgebind.preprocess``); the ranges are cached as JSON inside the bundle.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import ConfigError, InputError, suggest

log = logging.getLogger(__name__)

FP16_FP32_OPS = ("LayerNormalization", "Softmax", "ReduceL2", "ReduceMean", "Pow", "Sqrt")
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
MIN_CALIBRATION_WINDOWS = 16
"""Windows used for calibration must be at least this many (NVIDIA advises hundreds for TensorRT)."""
MIN_HELDOUT_WINDOWS = 4
HOLDOUT_EVERY = 5
"""Every 5th window is held out of calibration and used for parity instead (20 %, spread over the recording)."""
CALIBRATION_HOP_S = 1.0
"""Seconds between IMU calibration windows cut from a Recording (overlapping 5 s windows, like the stream's)."""


# -- fp16 -----------------------------------------------------------------------------------------------------


def _output_tail(model: Any) -> list[str]:
    """Names of the nodes between the last MatMul/Gemm and the graph output (the normalise-and-scale tail)."""
    producers = {out: n for n in model.graph.node for out in n.output}
    tail: list[str] = []
    stack = [o.name for o in model.graph.output]
    seen: set[str] = set()
    while stack:
        node = producers.get(stack.pop())
        if node is None or node.name in seen or node.op_type in ("MatMul", "Gemm"):
            continue
        seen.add(node.name)
        tail.append(node.name)
        stack.extend(node.input)
    return tail


def convert_fp16(src: str | Path, dst: str | Path) -> dict[str, Any]:
    """Convert an fp32 ONNX model to fp16 with the fp32 precision plan described in the module docstring.

    Args:
        src: fp32 ``.onnx``.
        dst: where to write the fp16 model (float32 inputs/outputs kept).

    Returns:
        The precision plan: op types and node names kept in fp32, and counts, for the manifest.
    """
    from onnxruntime.transformers.float16 import convert_float_to_float16

    from edgebind.export.onnx import load_model, save_model

    model = load_model(src)
    tail = _output_tail(model)
    fp16 = convert_float_to_float16(
        model, keep_io_types=True, op_block_list=list(FP16_FP32_OPS), node_block_list=tail,
        disable_shape_infer=model.ByteSize() > 2**30,
    )
    save_model(fp16, dst)
    kept = sum(1 for n in model.graph.node if n.op_type in FP16_FP32_OPS or n.name in tail)
    plan = {"fp32_op_types": list(FP16_FP32_OPS), "fp32_tail_nodes": tail, "fp32_nodes": kept,
            "fp16_nodes": len(model.graph.node) - kept, "io": "float32"}
    log.info("fp16: %d nodes in fp16, %d kept in fp32", plan["fp16_nodes"], kept)
    return plan


# -- calibration data -----------------------------------------------------------------------------------------


@dataclass
class CalibrationSet:
    """Model-ready windows for one modality, split into calibration and held-out parts.

    Attributes:
        modality: ``imu`` or ``thermal``.
        calibration: (K, ...) float32 windows the activation ranges are computed from.
        heldout: (H, ...) float32 windows kept out of calibration, used for parity.
        source: the file they came from.
    """

    modality: str
    calibration: np.ndarray
    heldout: np.ndarray
    source: str

    def summary(self) -> dict[str, Any]:
        return {"source": self.source, "calibration_windows": len(self.calibration),
                "heldout_windows": len(self.heldout)}


def _expected_shape(cfg: Any) -> tuple[int, ...]:
    if cfg.modality == "imu":
        return (cfg.in_channels, cfg.num_samples)
    return (cfg.in_channels, cfg.img_size, cfg.img_size)


def _windows_from_file(path: Path, cfg: Any, contract: Any) -> np.ndarray | None:
    """Windows for ``cfg.modality`` from a calib.npz (``imu``/``thermal`` arrays) or a Recording; None if absent."""
    from edgebind.bridge.recording import Recording
    from edgebind.npzfile import read_npz

    if not path.is_file():
        raise InputError(f"calibration file {path} does not exist; pass --calibration REC.npz (a Recording) or a "
                         "calib.npz from 'edgebind calibrate capture'.")
    z = read_npz(path, InputError, "a calibration file", "pass a Recording .npz or a calib.npz written by "
                 "'edgebind calibrate capture'.")
    arrays = {k: z[k] for k in ("imu", "thermal") if k in z}
    modality = cfg.modality
    is_recording = "imu" in arrays and arrays["imu"].ndim == 2  # a Recording holds (N, 6) samples, calib.npz windows
    if is_recording:  # cut and map it exactly as the stream does
        rec = Recording.load(path)
        if modality == "imu":
            if len(rec.imu) < 2:
                return None
            from edgebind.preprocess.imu import windows_from_recording

            return windows_from_recording(rec, hop_s=CALIBRATION_HOP_S, contract=contract)[0]
        if rec.thermal is None or len(rec.thermal) == 0:
            return None
        from edgebind.preprocess.thermal import map_temperature, to_model_input

        return to_model_input(map_temperature(rec.thermal, contract), contract.size)
    if modality not in arrays:
        return None
    return np.asarray(arrays[modality], dtype=np.float32)


def load_calibration(
    paths: str | Path | Sequence[str | Path],
    cfg: Any,
    contract: Any,
    min_windows: int = MIN_CALIBRATION_WINDOWS,
) -> CalibrationSet:
    """Read calibration windows for one encoder and split off every 5th window for parity.

    Args:
        paths: one or more files, each a Recording ``.npz`` (IMU windows cut every 1 s through
            ``windows_from_recording``; thermal frames through ``map_temperature`` + ``to_model_input``) or a
            calib.npz with ``imu`` (K, 6, 2000) and/or ``thermal`` (K, 1, 224, 224) arrays already in model input
            form. Windows of this modality from every file are used; files without it are skipped.
        cfg: the encoder's config (its input shape is checked).
        contract: the ImuContract or ThermalContract stored in the bundle.
        min_windows: fewest windows left for calibration after the hold-out. Defaults to 16.

    Returns:
        The CalibrationSet.

    Raises:
        InputError: missing file, no file with this modality, wrong shape, non-finite or out-of-range values, too
            few windows.
    """
    files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    where = ", ".join(map(str, files))
    want = _expected_shape(cfg)
    parts = []
    for path in files:
        x = _windows_from_file(path, cfg, contract)
        if x is None:
            continue
        if x.ndim != 1 + len(want) or tuple(x.shape[1:]) != want:
            raise InputError(
                f"calibration {cfg.modality} windows in {path} have shape {x.shape}; the encoder needs "
                f"(K, {', '.join(map(str, want))}). Capture them with 'edgebind calibrate capture' (which applies "
                "the bundle's input contract), or pass a Recording .npz."
            )
        if not np.isfinite(x).all():
            raise InputError(f"calibration {cfg.modality} windows in {path} contain NaN/inf; re-capture them.")
        if cfg.modality == "thermal" and len(x) and (x.min() < -1e-6 or x.max() > 1 + 1e-6):
            raise InputError(
                f"calibration thermal frames in {path} span [{x.min():.4g}, {x.max():.4g}], outside [0, 1]; they "
                "look like temperatures. Pass a Recording (frames in °C are mapped by the contract) instead."
            )
        parts.append(x)
    if not parts:
        how = ("record with the thermal sensor attached" if cfg.modality == "thermal"
               else "pass a Recording with IMU samples")
        raise InputError(
            f"no {cfg.modality} data in calibration file(s) {where}; int8 {cfg.modality} needs "
            f"(K, {', '.join(map(str, want))}) windows: {how}, or a calib.npz from 'edgebind calibrate capture' "
            "(--calibration may be given once per modality)."
        )
    x = np.concatenate(parts)
    mask = np.arange(len(x)) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
    calib, held = x[~mask], x[mask]
    need = min_windows + MIN_HELDOUT_WINDOWS
    if len(calib) < min_windows or len(held) < MIN_HELDOUT_WINDOWS:
        more = (f"{(need - 1) * CALIBRATION_HOP_S + 5:.0f} s of IMU" if cfg.modality == "imu"
                else f"{need} thermal frames")
        raise InputError(
            f"calibration file(s) {where} yield {len(x)} {cfg.modality} windows; int8 needs at least {need} "
            f"({min_windows} to calibrate + {MIN_HELDOUT_WINDOWS} held out for parity; NVIDIA advises hundreds). "
            f"Record more (at least {more}) or pass a longer recording."
        )
    log.info("calibration %s: %d windows (+%d held out) from %s", cfg.modality, len(calib), len(held), where)
    return CalibrationSet(cfg.modality, np.ascontiguousarray(calib), np.ascontiguousarray(held), where)


# -- int8 -----------------------------------------------------------------------------------------------------


def _consumers(model: Any) -> dict[str, list[Any]]:
    """Tensor name -> the graph nodes that read it."""
    consumers: dict[str, list[Any]] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    return consumers


SHAPE_OPS = ("Shape", "Size")
"""Ops whose output is a tensor's shape, not its data: walks from an input through the graph's data stop there."""


def stem_nodes(model: Any, inputs: Sequence[str] | None = None) -> list[str]:
    """The first MatMul/Gemm/Conv nodes reached from the graph input (the patch stem).

    The IMU stem multiplies raw sensor values (m/s², rad/s, heavy-tailed); quantising them per tensor to 8 bits
    costs most of the int8 error (tiny IMU on BasicMotions: worst cosine 0.86 with it, 0.999 without), for
    0.1 % of the FLOPs. So the stem stays float.
    """
    consumers = _consumers(model)
    found: list[str] = []
    seen: set[str] = set()
    frontier = [i.name for i in model.graph.input if inputs is None or i.name in inputs]
    while frontier:
        for node in consumers.get(frontier.pop(), []):
            if node.name in seen:
                continue
            seen.add(node.name)
            if node.op_type in ("MatMul", "Gemm", "Conv"):
                found.append(node.name)
            elif node.op_type not in SHAPE_OPS:  # the batch size is not data: do not follow it
                frontier.extend(node.output)
    return found


def downstream_matmuls(model: Any, inputs: Sequence[str]) -> list[str]:
    """Every MatMul/Gemm node that depends on any of ``inputs``.

    A streaming step model's pooling head reads the state; quantising its few-row activations (the attention
    output of 4 queries) per tensor cost the random-init imu-stream up to 0.036 of cosine per layer (worst 0.9645),
    against <= 0.0001 for each per-token layer, and the head is 0.1 % of a window's FLOPs. So it stays float.
    """
    consumers = _consumers(model)
    found: list[str] = []
    seen: set[str] = set()
    frontier = list(inputs)
    while frontier:
        for node in consumers.get(frontier.pop(), []):
            if node.name in seen:
                continue
            seen.add(node.name)
            if node.op_type in ("MatMul", "Gemm"):
                found.append(node.name)
            if node.op_type not in SHAPE_OPS:  # a step model reads its batch size and hop count from the shapes
                frontier.extend(node.output)
    return found


def activation_matmuls(model: Any) -> list[str]:
    """MatMuls whose second input is not a weight (attention QKᵀ and AV).

    ORT's QDQ quantizer ignores ``MatMulConstBOnly`` (only its QOperator path reads it), so these are excluded by
    name; quantising them made huge IMU 12 % slower (extra Q/DQ around Softmax) and less accurate.
    """
    weights = {i.name for i in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and n.input[1] not in weights]


def _reader(windows: np.ndarray | Mapping[str, np.ndarray], input_name: str, batch: int) -> Any:
    from onnxruntime.quantization import CalibrationDataReader

    feeds = dict(windows) if isinstance(windows, Mapping) else {input_name: windows}
    count = len(next(iter(feeds.values())))

    class WindowReader(CalibrationDataReader):
        """Feeds ``{input_name: (b, ...)}`` batches of calibration windows to ORT's calibrator."""

        def __init__(self) -> None:
            self.i = 0

        def get_next(self) -> dict[str, np.ndarray] | None:
            if self.i >= count:
                return None
            chunk = {name: a[self.i : self.i + batch] for name, a in feeds.items()}
            self.i += batch
            return chunk

        def rewind(self) -> None:
            self.i = 0

        def __len__(self) -> int:
            return (count + batch - 1) // batch

    return WindowReader()


def calibration_method(name: str) -> Any:
    """``minmax|entropy|percentile`` -> ``onnxruntime.quantization.CalibrationMethod``.

    Raises:
        ConfigError: unknown name, with the valid ones.
    """
    from onnxruntime.quantization import CalibrationMethod

    table = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
             "percentile": CalibrationMethod.Percentile}
    if name not in table:
        raise ConfigError(f"unknown calibration method '{name}'.{suggest(name, table)} Choose one of "
                          f"{', '.join(CALIBRATION_METHODS)}.")
    return table[name]


def quantize_int8(
    src: str | Path,
    dst: str | Path,
    windows: np.ndarray | Mapping[str, np.ndarray],
    method: str = "minmax",
    activations: str = "uint8",
    cache_path: str | Path | None = None,
    input_name: str = "input",
    batch: int = 8,
    exclude_nodes: Sequence[str] = (),
    extra_options: Mapping[str, Any] | None = None,
    stem_inputs: Sequence[str] | None = None,
    float_inputs: Sequence[str] = (),
) -> dict[str, Any]:
    """Static int8 QDQ quantisation calibrated on ``windows``.

    Args:
        src: fp32 ``.onnx``.
        dst: where to write the QDQ model.
        windows: (K, ...) float32 model-ready calibration windows, or name -> (K, ...) feeds for a model with
            several inputs (a streaming step model: new samples and state).
        method: ``minmax``, ``entropy`` or ``percentile`` (99.999th). Defaults to ``minmax``.
        activations: ``uint8`` (asymmetric, fastest in ORT on x86) or ``int8`` (symmetric, as TensorRT needs).
        cache_path: JSON cache of the computed tensor ranges (kept in the bundle; reused if it exists).
        input_name: the model's input. Defaults to ``input``.
        batch: calibration batch size. Defaults to 8.
        exclude_nodes: node names to keep in float besides the patch stem (:func:`stem_nodes`).
        extra_options: more ``quantize_static`` ``extra_options`` (they override edgebind's).
        stem_inputs: the inputs whose first MatMul/Gemm/Conv stays float. Defaults to all graph inputs.
        float_inputs: inputs every MatMul/Gemm downstream of which stays float (a step model's state: the
            pooling head, :func:`downstream_matmuls`). Defaults to none.

    Returns:
        The quantisation record for the manifest (method, scheme, windows, quantised node counts, cache file).
    """
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if activations not in ("uint8", "int8"):
        raise ConfigError(f"int8 activations must be 'uint8' or 'int8', got '{activations}'.")
    src, dst = Path(src), Path(dst)
    # ORT's histogram calibrators stack per-batch outputs, so every batch must have the same size
    count = len(next(iter(windows.values()))) if isinstance(windows, Mapping) else len(windows)
    batch = max(1, min(batch, count))
    keep = count // batch * batch
    windows = ({k: v[:keep] for k, v in windows.items()} if isinstance(windows, Mapping) else windows[:keep])
    prepared = dst.with_name(dst.stem + ".prep.onnx")
    graph = onnx.load(str(src), load_external_data=False)
    stem = stem_nodes(graph, stem_inputs)
    head = [n for n in downstream_matmuls(graph, float_inputs) if n not in stem] if float_inputs else []
    exclude_nodes = [*exclude_nodes, *head]
    attention = activation_matmuls(graph)
    # symbolic shape inference trips over the expanded bias_k (Expand with an unknown shape); ONNX inference suffices
    quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)
    # MatMul outputs stay float: ORT then fuses DQ -> MatMul into MatMulIntegerToFloat (no Q/DQ pair per layer;
    # huge IMU on 2 cores: 7 % faster and cosine 0.99952 -> 0.99971); TensorRT only needs Q/DQ on the inputs.
    extra: dict[str, Any] = {"MatMulConstBOnly": True, "WeightSymmetric": True,
                             "ActivationSymmetric": activations == "int8",
                             "OpTypesToExcludeOutputQuantization": ["MatMul", "Gemm"]}
    if method == "percentile":
        extra["CalibPercentile"] = 99.999
    extra.update(extra_options or {})
    kwargs: dict[str, Any] = {}
    if cache_path is not None and "calibration_cache_path" in inspect.signature(quantize_static).parameters:
        kwargs["calibration_cache_path"] = str(cache_path)
    chatter = io.StringIO()  # ORT's histogram calibrators print progress; library code only logs
    try:
        with contextlib.redirect_stdout(chatter):
            quantize_static(
                str(prepared), str(dst), _reader(windows, input_name, batch),
                quant_format=QuantFormat.QDQ,
                op_types_to_quantize=["MatMul", "Gemm", "Conv"],
                per_channel=True,
                # U8S8 on x86 without VNNI (AVX2's vpmaddubsw) sums u8*s8 pairs in int16 and saturates; 7-bit
                # weights cannot (onnxruntime's quantization guide). Measured on an AVX2-only EPYC: a random-init
                # imu-small cpu bundle went from min cosine 0.887 to 0.9989 against PyTorch. ARM and VNNI CPUs
                # give the same answer either way; TensorRT's S8S8 QDQ (activations int8) never saturates.
                reduce_range=activations == "uint8",
                activation_type=QuantType.QUInt8 if activations == "uint8" else QuantType.QInt8,
                weight_type=QuantType.QInt8,
                nodes_to_exclude=[*stem, *attention, *exclude_nodes],
                calibrate_method=calibration_method(method),
                extra_options=extra,
                **kwargs,
            )
    finally:
        if chatter.getvalue().strip():
            log.debug("onnxruntime quantizer: %s", chatter.getvalue().strip())
        prepared.unlink(missing_ok=True)
        for stray in dst.parent.glob(prepared.name + "*"):
            stray.unlink()
    q = onnx.load(str(dst), load_external_data=False)
    counts: dict[str, int] = {}
    for n in q.graph.node:
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            counts[n.op_type] = counts.get(n.op_type, 0) + 1
    weights = "int8 symmetric per-channel" + (", 7-bit range (reduce_range)" if activations == "uint8" else "")
    record = {"method": method, "activations": activations, "weights": weights,
              "format": "QDQ", "ops": ["MatMul (constant B)", "Gemm", "Conv"], "windows": keep,
              "float_nodes": [*stem, *exclude_nodes], "float_attention_matmuls": len(attention), "qdq_nodes": counts}
    if kwargs:
        record["cache"] = Path(cache_path).name if cache_path else None
    log.info("int8: %s calibration on %d windows, %s", method, keep, counts)
    return record


__all__ = [
    "CALIBRATION_METHODS",
    "MIN_CALIBRATION_WINDOWS",
    "CalibrationSet",
    "calibration_method",
    "convert_fp16",
    "load_calibration",
    "quantize_int8",
]
