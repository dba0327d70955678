"""The single table of what edgebind can export: (format, precision) pairs, narrowed per target (``targets.py``).

An unsupported pair raises an error listing the valid ones; a user's flag is never rewritten. Re-exported by
``edgebind.export``; the export pipeline imports it from here (so the package and its pipeline do not import each
other).
"""

from __future__ import annotations

from edgebind.errors import ConfigError
from edgebind.export.targets import Target, get_target

FORMATS = ("onnx", "tensorrt")
PRECISIONS = ("fp32", "fp16", "int8")

# (format, precision) -> how it is produced. The only table of what edgebind can export.
SUPPORTED: dict[tuple[str, str], str] = {
    ("onnx", "fp32"): "ONNX opset 18, fp32",
    ("onnx", "fp16"): "ONNX fp16 weights/matmuls; LayerNorm, Softmax and the output tail in fp32",
    ("onnx", "int8"): "ONNX QDQ, int8 per-channel weights, calibrated activations (ORT quantize_static)",
    ("tensorrt", "fp32"): "TensorRT engine (or trtexec recipe) from the fp32 ONNX, strongly typed; no DLA",
    ("tensorrt", "fp16"): "TensorRT engine from the fp16 ONNX, strongly typed (keeps its fp32 plan)",
    ("tensorrt", "int8"): "TensorRT engine from the QDQ ONNX, strongly typed (int8 where its Q/DQ pairs say)",
}
EXPORTABLE_MODALITIES = ("imu", "thermal", "text")


def valid_pairs(target: Target) -> list[tuple[str, str]]:
    """The (format, precision) pairs ``target`` accepts, in table order."""
    return [(f, p) for (f, p) in SUPPORTED if f in target.formats and p in target.precisions]


def check_supported(target_name: str, fmt: str | None, precision: str) -> tuple[Target, str]:
    """Validate a target/format/precision choice.

    Returns:
        The Target and the format (the target's default when ``fmt`` is None).

    Raises:
        ConfigError: unknown target, or a pair the target does not support (listing the valid ones).
    """
    target = get_target(target_name)
    fmt = fmt or target.default_format
    if (fmt, precision) not in valid_pairs(target):
        pairs = ", ".join(f"{f}/{p}" for f, p in valid_pairs(target))
        why = f" ({SUPPORTED[(fmt, precision)]})" if (fmt, precision) in SUPPORTED else ""
        raise ConfigError(
            f"target {target.name} does not support {fmt}/{precision}{why}. Valid for {target.name}: {pairs}. "
            f"Pick one of those (e.g. --target {target.name} --{target.precisions[-1]}) or another --target."
        )
    return target, fmt


__all__ = ["EXPORTABLE_MODALITIES", "FORMATS", "PRECISIONS", "SUPPORTED", "check_supported", "valid_pairs"]
