"""TensorRT backend: runs the bundle's ``.engine`` after checking it was built for this GPU and TensorRT version and
passed parity when it was built.

Device memory and the stream are NVIDIA's cuda-python (``runtime/cuda.py``), so a device needs neither PyTorch nor
pycuda. The runner owns a non-blocking stream, allocates its buffers once for the engine's largest batch, and
checks ``set_input_shape`` and ``execute_async_v3``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from edgebind.bundle import Bundle
from edgebind.errors import BundleError, InputError
from edgebind.runtime.base import BaseRunner

if TYPE_CHECKING:  # checked against tensorrt-stubs (scripts/trt_stubs.py); imported lazily at run time
    import tensorrt as trt

    from edgebind.runtime.cuda import CudaStream, DeviceBuffer

log = logging.getLogger(__name__)
B = TypeVar("B", bound="_Buffer")


class _Buffer(Protocol):
    @property
    def ptr(self) -> int: ...

    def close(self) -> None: ...


class _Context(Protocol):
    def set_tensor_address(self, name: str, ptr: int) -> bool: ...


def bind_buffers(context: _Context, sizes: list[tuple[str, int]], allocate: Callable[[int], B],
                 where: str) -> list[B]:
    """Allocate one device buffer per ``(tensor name, nbytes)`` and give TensorRT its address.

    Returns:
        The buffers, in ``sizes`` order.

    Raises:
        BundleError: TensorRT refused an address (``where`` names the engine and the fix). On this or any other
            failure (an allocation that fails), every buffer allocated so far is freed first.
    """
    buffers: list[B] = []
    try:
        for name, nbytes in sizes:
            buffers.append(buf := allocate(nbytes))
            if not context.set_tensor_address(name, buf.ptr):
                raise BundleError(f"TensorRT refused the device address of '{name}' in {where}")
    except BaseException:
        for buf in buffers:
            buf.close()
        raise
    return buffers


class TensorRTRunner(BaseRunner):
    """Runs ``entry.engine["file"]`` with the TensorRT 10.3-11.x runtime (``execute_async_v3``).

    Args:
        bundle: the bundle.
        modality: whose engine.
        threads: unused (the GPU runs it).
        unchecked: open an engine whose parity is not yet measured (``build-engine`` measures it this way).
            Defaults to False: only an engine marked ``usable`` opens.
    """

    backend = "tensorrt"

    def __init__(self, bundle: Bundle, modality: str, threads: int | None = None, unchecked: bool = False) -> None:
        super().__init__(bundle, modality, threads)
        record = self.entry.engine
        if not record:
            raise BundleError(
                f"bundle {bundle.path} has no TensorRT engine for {modality} (only its recipe); build it on the "
                f"device with 'edgebind build-engine {bundle.path}', or use --backend onnxruntime."
            )
        if not unchecked and record.get("usable") is not True:
            why = record.get("unusable_reason") or "it has no parity verdict"
            raise BundleError(
                f"the {modality} engine in {bundle.path} is unusable: {why}. Rebuild and check it on this device "
                f"(edgebind build-engine {bundle.path}), or use --backend onnxruntime."
            )
        self.record: dict[str, Any] = record
        batch = record.get("batch") or {}
        self.min_batch = int(batch.get("min", 1))
        self.profile_max = int(batch.get("max", 1))
        self.max_batch = self.profile_max
        self.engine: trt.ICudaEngine | None = None
        self.context: trt.IExecutionContext | None = None
        self._trt_runtime: trt.Runtime | None = None
        self._stream: CudaStream | None = None
        self._buffers: list[DeviceBuffer] = []
        self._out_dtype: np.dtype[Any] = np.dtype(np.float32)

    def activate(self) -> None:
        from edgebind.export.tensorrt import check_engine_compat, gpu_identity, trt_version

        check_engine_compat(self.record, gpu_identity(), trt_version(), self.bundle.path or "BUNDLE")
        import tensorrt as trt

        from edgebind.runtime.cuda import CudaStream, DeviceBuffer

        rebuild = f"rebuild it: edgebind build-engine {self.bundle.path}"
        try:  # whatever fails below, nothing stays allocated: the stream, buffers and engine are released
            self._trt_runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
            engine = self._trt_runtime.deserialize_cuda_engine(self.bundle.file(self.record["file"]).read_bytes())
            if engine is None:
                raise BundleError(f"TensorRT could not load {self.record['file']}; {rebuild}")
            self.engine = engine
            self.context = context = engine.create_execution_context()
            e = self.entry
            in_dtype = np.dtype(trt.nptype(engine.get_tensor_dtype(e.input_name)))
            if in_dtype != np.dtype(e.input_dtype):
                raise BundleError(f"{self.record['file']} takes {in_dtype} input but the manifest says "
                                  f"{e.input_dtype}; {rebuild}")
            self._out_dtype = np.dtype(trt.nptype(engine.get_tensor_dtype(e.output_name)))
            per_sample = int(np.prod([int(d) for d in e.input_shape[1:]]))
            self._stream = CudaStream()
            self._buffers = bind_buffers(context, [
                (e.input_name, self.profile_max * per_sample * in_dtype.itemsize),
                (e.output_name, self.profile_max * e.out_dim * self._out_dtype.itemsize),
            ], DeviceBuffer, f"{self.record['file']}; {rebuild}")
        except BaseException:
            self.deactivate()
            raise

    def deactivate(self) -> None:
        for buf in self._buffers:
            buf.close()
        self._buffers = []
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self.context = None
        self.engine = None
        self._trt_runtime = None

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from edgebind.export.tensorrt import pad_batch

        e = self.entry
        assert self.context is not None and self._stream is not None, "activate() first"
        context, stream = self.context, self._stream
        x = feeds[e.input_name]
        n = len(x)
        xb = np.ascontiguousarray(pad_batch(x, self.min_batch))
        if not context.set_input_shape(e.input_name, tuple(xb.shape)):
            raise InputError(f"TensorRT rejected input shape {tuple(xb.shape)} for {self.record['file']}: its profile "
                             f"takes batch {self.min_batch}..{self.max_batch}. Use runner.embed(x), which splits "
                             "batches.")
        dims = context.get_tensor_shape(e.output_name)
        out = np.empty([dims[i] for i in range(len(dims))], dtype=self._out_dtype)
        d_in, d_out = self._buffers
        d_in.upload(xb, stream)
        if not context.execute_async_v3(stream.handle):
            raise BundleError(f"TensorRT execution of {self.record['file']} failed; rerun with 'edgebind -vv'.")
        d_out.download(out, stream)
        stream.synchronize()
        return {e.output_name: out[:n].astype(np.float32, copy=False)}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "gpu": self.record.get("gpu"), "tensorrt": self.record.get("tensorrt")}


__all__ = ["TensorRTRunner", "bind_buffers"]
