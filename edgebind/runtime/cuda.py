"""A CUDA stream and device buffers through NVIDIA's cuda-python (``cuda-bindings``), for the TensorRT runner.

No PyTorch: JetPack's TensorRT plus ``pip install 'edgebind[trt]'`` is enough to run an engine. Every call's
``cudaError_t`` is checked and turned into one line that names the call, the error and the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgebind.errors import BundleError


def cudart() -> Any:
    """The ``cuda.bindings.runtime`` module.

    Raises:
        BundleError: cuda-python is not installed, with the install line.
    """
    try:
        from cuda.bindings import runtime
    except ImportError as exc:
        raise BundleError("the TensorRT runner needs NVIDIA's cuda-python (cuda-bindings), which does not import "
                          "here; pip install 'edgebind[trt]' (or cuda-bindings matching your CUDA), or use "
                          "--backend onnxruntime.") from exc
    return runtime


def check(result: tuple[Any, ...], call: str) -> Any:
    """Unpack a cuda-python result ``(cudaError_t, *values)``.

    Returns:
        None, the single value, or a tuple of values.

    Raises:
        BundleError: the error is not ``cudaSuccess`` (its name, the call, and what to check).
    """
    rt = cudart()
    err, *values = result
    if err != rt.cudaError_t.cudaSuccess:
        name = rt.cudaGetErrorName(err)[1]
        name = name.decode() if isinstance(name, bytes) else str(name)
        raise BundleError(f"CUDA {call} failed: {name}. Check that the NVIDIA driver is loaded and the GPU visible "
                          "(nvidia-smi, or tegrastats on a Jetson), or use --backend onnxruntime.")
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(values)


class CudaStream:
    """A non-blocking CUDA stream of this runner's own (not the legacy default stream)."""

    def __init__(self) -> None:
        rt = cudart()
        self._stream = check(rt.cudaStreamCreateWithFlags(rt.cudaStreamNonBlocking), "cudaStreamCreateWithFlags")

    @property
    def handle(self) -> int:
        """The ``cudaStream_t`` as an integer, for ``execute_async_v3``."""
        return int(self._stream)

    def synchronize(self) -> None:
        check(cudart().cudaStreamSynchronize(self._stream), "cudaStreamSynchronize")

    def close(self) -> None:
        if self._stream is not None:
            check(cudart().cudaStreamDestroy(self._stream), "cudaStreamDestroy")
            self._stream = None


class DeviceBuffer:
    """``nbytes`` of device memory, copied to and from host arrays on a stream."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = int(nbytes)
        self._ptr: Any = check(cudart().cudaMalloc(self.nbytes), "cudaMalloc")

    @property
    def ptr(self) -> int:
        return int(self._ptr)

    def upload(self, host: np.ndarray, stream: CudaStream) -> None:
        """Copy a C-contiguous host array into the start of the buffer (asynchronous on ``stream``)."""
        self._fits(host)
        rt = cudart()
        check(rt.cudaMemcpyAsync(self.ptr, host.ctypes.data, host.nbytes, rt.cudaMemcpyKind.cudaMemcpyHostToDevice,
                                 stream.handle), "cudaMemcpyAsync (host to device)")

    def download(self, host: np.ndarray, stream: CudaStream) -> None:
        """Copy the start of the buffer into a C-contiguous host array (complete after ``stream.synchronize()``)."""
        self._fits(host)
        rt = cudart()
        check(rt.cudaMemcpyAsync(host.ctypes.data, self.ptr, host.nbytes, rt.cudaMemcpyKind.cudaMemcpyDeviceToHost,
                                 stream.handle), "cudaMemcpyAsync (device to host)")

    def close(self) -> None:
        if self._ptr is not None:
            check(cudart().cudaFree(self._ptr), "cudaFree")
            self._ptr = None

    def _fits(self, host: np.ndarray) -> None:
        if not host.flags.c_contiguous or host.nbytes > self.nbytes:
            raise BundleError(f"internal: a {host.shape} {host.dtype} array does not fit a {self.nbytes}-byte device "
                              "buffer contiguously; report it with the bundle's manifest.json.")


__all__ = ["CudaStream", "DeviceBuffer", "check", "cudart"]
