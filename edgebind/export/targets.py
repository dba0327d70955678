"""Deployment targets: one table that says what each implies (FIELD_NOTES.md §4).

Each row fixes the formats and precisions the target accepts, whether it has DLA cores, the TensorRT batch
profile and workspace, the GPU architecture an engine is built for, and the int8 scheme (TensorRT wants symmetric
int8 activations; ONNX Runtime on x86 CPUs is fastest with uint8 activations and int8 weights).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from edgebind.errors import ConfigError, suggest


@dataclass(frozen=True)
class Target:
    """What exporting for one device implies.

    Attributes:
        name: the ``--target`` value.
        description: one line for ``--help`` and docs.
        formats: deployable formats; the first is the default. ``tensorrt`` bundles also hold their ONNX.
        precisions: precisions the target runs well.
        dla_cores: NVDLA cores present (0 = none; which TensorRT releases use them: tensorrt.DLA_RELEASES).
        compute_capability: the GPU's CUDA compute capability ("8.7" for Orin); None = whatever GPU builds it.
        batch_opt: TensorRT optimisation-profile batch (the batch the stream runs). Defaults to 1.
        batch_max: largest batch the profile (or ONNX Runtime test) accepts; ONNX keeps a dynamic batch axis.
        workspace_mb: TensorRT builder workspace (memory-pool) limit in MiB.
        int8_activations: ``int8`` (symmetric, TensorRT explicit quantisation) or ``uint8`` (ORT on x86).
    """

    name: str
    description: str
    formats: tuple[str, ...]
    precisions: tuple[str, ...]
    dla_cores: int
    compute_capability: str | None
    batch_opt: int
    batch_max: int
    workspace_mb: int
    int8_activations: str

    @property
    def default_format(self) -> str:
        return self.formats[0]

    @property
    def onnxruntime_fusions(self) -> bool:
        """Whether the ONNX files may hold ONNX Runtime's ``com.microsoft`` fused ops (not for TensorRT's parser)."""
        return "tensorrt" not in self.formats

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_ORIN = "8.7"  # every Jetson Orin module is sm_87
TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("jetson", "any Jetson Orin (Nano, NX, AGX); no DLA assumed", ("tensorrt", "onnx"),
               ("fp32", "fp16", "int8"), 0, _ORIN, 1, 4, 1024, "int8"),
        Target("jetson-orin-nano", "Jetson Orin Nano 4/8 GB (DLA fused off)", ("tensorrt", "onnx"),
               ("fp32", "fp16", "int8"), 0, _ORIN, 1, 4, 1024, "int8"),
        Target("jetson-orin-nx", "Jetson Orin NX 8 GB (1 NVDLA v2 core)", ("tensorrt", "onnx"),
               ("fp32", "fp16", "int8"), 1, _ORIN, 1, 8, 2048, "int8"),
        Target("jetson-orin-nx-16gb", "Jetson Orin NX 16 GB (2 NVDLA v2 cores)", ("tensorrt", "onnx"),
               ("fp32", "fp16", "int8"), 2, _ORIN, 1, 8, 2048, "int8"),
        Target("jetson-agx-orin", "Jetson AGX Orin 32/64 GB (2 NVDLA v2 cores)", ("tensorrt", "onnx"),
               ("fp32", "fp16", "int8"), 2, _ORIN, 1, 16, 4096, "int8"),
        Target("x86-cuda", "a desktop/server NVIDIA GPU, engine built on that GPU", ("tensorrt", "onnx"),
               ("fp32", "fp16", "int8"), 0, None, 8, 64, 8192, "int8"),
        # ORT's CPU kernels have no fast fp16 path (it inserts casts), so fp16 is not offered for CPUs.
        Target("cpu", "ONNX Runtime on an x86-64 or ARM CPU", ("onnx",), ("fp32", "int8"), 0, None, 1, 64, 0,
               "uint8"),
    )
}


def get_target(name: str) -> Target:
    """Look up a target.

    Raises:
        ConfigError: unknown name, with the closest one and the full list.
    """
    if name not in TARGETS:
        raise ConfigError(f"unknown target '{name}'.{suggest(name, TARGETS)} Targets: {', '.join(TARGETS)}.")
    return TARGETS[name]


__all__ = ["TARGETS", "Target", "get_target"]
