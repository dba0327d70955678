"""ONNX Runtime backend: runs the bundle's ``.onnx`` at its precision (CUDA where available, else CPU)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from edgebind.bundle import Bundle
from edgebind.errors import BundleError
from edgebind.runtime.base import BaseRunner

log = logging.getLogger(__name__)


class OnnxRuntimeRunner(BaseRunner):
    """Runs ``entry.file`` with onnxruntime.

    Args:
        bundle: a loaded (verified) Bundle.
        modality: which encoder.
        threads: intra-op threads. Defaults to onnxruntime's choice (all physical cores).
        providers: execution providers. Defaults to CUDA (if onnxruntime-gpu is installed and the target is a GPU)
            then CPU.
    """

    backend = "onnxruntime"

    def __init__(self, bundle: Bundle, modality: str, threads: int | None = None,
                 providers: list[str] | None = None) -> None:
        super().__init__(bundle, modality, threads)
        self.providers = providers
        self.session: Any = None

    def activate(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise BundleError("onnxruntime is not installed; pip install 'edgebind[onnx]' or pick --backend "
                              "torch.") from exc
        opts = ort.SessionOptions()
        if self.threads:
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # no busy-waiting between calls: it would steal the cores from the sensor I/O and from other backends
        # measured side by side (bench), for a latency gain well under 1 % at these model sizes
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        available = ort.get_available_providers()
        wanted = self.providers or (["CUDAExecutionProvider", "CPUExecutionProvider"]
                                    if self.bundle.target != "cpu" else ["CPUExecutionProvider"])
        providers = [p for p in wanted if p in available] or ["CPUExecutionProvider"]
        path = self.bundle.file(self.entry.file)
        self.session = ort.InferenceSession(str(path), opts, providers=providers)
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("edgebind.bundle_id") != self.bundle.bundle_id:
            raise BundleError(
                f"{path} belongs to bundle {meta.get('edgebind.bundle_id', 'none')[:12]}, not to this manifest's "
                f"{self.bundle.bundle_id[:12]}; files from two exports were mixed. Re-export: {self.bundle.command}"
            )
        log.debug("onnxruntime session for %s on %s", path, self.session.get_providers())

    def deactivate(self) -> None:
        self.session = None

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        (out,) = self.session.run([self.entry.output_name], feeds)
        return {self.entry.output_name: np.asarray(out, dtype=np.float32)}

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["providers"] = self.session.get_providers() if self.session is not None else None
        return d


__all__ = ["OnnxRuntimeRunner"]
