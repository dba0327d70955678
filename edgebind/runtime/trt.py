"""TensorRT backend: runs the bundle's ``.engine`` after checking it was built for this GPU and TensorRT version.

Device buffers are PyTorch CUDA tensors (JetPack's PyTorch wheels have CUDA), so no pycuda is needed.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from edgebind.bundle import Bundle
from edgebind.errors import BundleError
from edgebind.runtime.base import BaseRunner

log = logging.getLogger(__name__)


class TensorRTRunner(BaseRunner):
    """Runs ``entry.engine["file"]`` with the TensorRT 10 runtime (``execute_async_v3``)."""

    backend = "tensorrt"

    def __init__(self, bundle: Bundle, modality: str, threads: int | None = None) -> None:
        super().__init__(bundle, modality, threads)
        record = self.entry.engine
        if not record:
            raise BundleError(
                f"bundle {bundle.path} has no TensorRT engine for {modality} (only its recipe); build it on the "
                f"device with 'edgebind build-engine {bundle.path}', or use --backend onnxruntime."
            )
        if (record.get("parity") or {}).get("passed") is False:
            raise BundleError(
                f"the {modality} engine in {bundle.path} failed parity when it was built "
                f"({'; '.join(record['parity']['failures'])}); use --backend onnxruntime, or rebuild it with another "
                f"precision: edgebind export ... then edgebind build-engine."
            )
        self.record: dict[str, Any] = record
        self.max_batch = int(record.get("batch", {}).get("max", 1))
        self.engine: Any = None
        self.context: Any = None

    def activate(self) -> None:
        from edgebind.export.tensorrt import check_engine_compat, gpu_identity, trt_version

        check_engine_compat(self.record, gpu_identity(), trt_version(), self.bundle.path or "BUNDLE")
        import tensorrt as trt

        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = runtime.deserialize_cuda_engine(self.bundle.file(self.record["file"]).read_bytes())
        if self.engine is None:
            raise BundleError(f"TensorRT could not load {self.record['file']}; rebuild it: edgebind build-engine "
                              f"{self.bundle.path}")
        self.context = self.engine.create_execution_context()

    def deactivate(self) -> None:
        self.context = None
        self.engine = None

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        x = torch.from_numpy(feeds[self.entry.input_name]).cuda().contiguous()
        self.context.set_input_shape(self.entry.input_name, tuple(x.shape))
        out = torch.empty((x.shape[0], self.entry.out_dim), dtype=torch.float32, device="cuda")
        self.context.set_tensor_address(self.entry.input_name, int(x.data_ptr()))
        self.context.set_tensor_address(self.entry.output_name, int(out.data_ptr()))
        stream = torch.cuda.current_stream()
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise BundleError(f"TensorRT execution of {self.record['file']} failed; rerun with 'edgebind -vv'.")
        stream.synchronize()
        return {self.entry.output_name: out.cpu().numpy()}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "gpu": self.record.get("gpu"), "tensorrt": self.record.get("tensorrt")}


__all__ = ["TensorRTRunner"]
