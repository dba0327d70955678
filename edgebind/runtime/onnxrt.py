"""ONNX Runtime backend: runs the bundle's ``.onnx`` at its precision (CUDA where available, else CPU).

One session per runner, reused for every call. An IO binding with a pre-allocated output buffer was measured
against plain ``session.run`` for imu-small int8 at batch 1 on CPU and saved nothing (within 0.03 ms of 4.2 ms,
benchmarks/bench_overhead.py), so calls stay on ``session.run``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from edgebind.bundle import Bundle
from edgebind.errors import BundleError
from edgebind.runtime.base import BaseRunner
from edgebind.runtime.policy import ThreadPolicy, pin_current_thread, pinned

log = logging.getLogger(__name__)


def exact_qdq_on_cpu(bundle: Bundle, providers: list[str]) -> bool:
    """Whether a session should run the bundle's QDQ graph unfused: TensorRT-targeted int8 (symmetric int8
    activations, S8S8) on ONNX Runtime's CPU provider.

    ONNX Runtime fuses DQ -> MatMul -> Q into integer kernels; on x86-64 CPUs without VNNI its S8S8 kernels
    saturate the intermediate sums (onnxruntime's quantization guide, "reduce_range" and the S8S8 note), which
    TensorRT never does. Measured on an AVX2-only AMD EPYC: a tiny jetson-agx-orin int8 export fell to min cosine
    0.85 against PyTorch fused, and passes unfused. At the basic level ONNX Runtime keeps DQ -> float op -> Q, the
    exact arithmetic of explicit quantisation. CPU bundles (uint8 activations, U8S8) stay fused: they do not
    saturate and are what ``--target cpu`` is for.
    """
    from edgebind.export.targets import TARGETS

    target = TARGETS.get(bundle.target)
    return (bundle.precision == "int8" and target is not None and target.int8_activations == "int8"
            and providers[0] == "CPUExecutionProvider")


class OnnxRuntimeRunner(BaseRunner):
    """Runs ``entry.file`` with onnxruntime.

    Args:
        bundle: a loaded (verified) Bundle.
        modality: which encoder.
        threads: intra-op threads. Defaults to onnxruntime's choice (all physical cores).
        providers: execution providers. Defaults to CUDA (if onnxruntime-gpu is installed and the target is a GPU)
            then CPU.
        policy: thread policy (threads, spinning, CPU pinning); its ``threads`` wins over ``threads``. Defaults to
            ``threads`` threads, no spinning, no pinning.
    """

    backend = "onnxruntime"

    def __init__(self, bundle: Bundle, modality: str, threads: int | None = None,
                 providers: list[str] | None = None, policy: ThreadPolicy | None = None) -> None:
        self.policy = policy or ThreadPolicy(threads=threads)
        super().__init__(bundle, modality, self.policy.threads)
        self.providers = providers
        self.session: Any = None
        self._pinned_threads: set[int] = set()

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
        available = ort.get_available_providers()
        wanted = self.providers or (["CUDAExecutionProvider", "CPUExecutionProvider"]
                                    if self.bundle.target != "cpu" else ["CPUExecutionProvider"])
        providers = [p for p in wanted if p in available] or ["CPUExecutionProvider"]
        opts.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
                                         if exact_qdq_on_cpu(self.bundle, providers)
                                         else ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
        # off by default: a pool that busy-waits after a call steals the core from the other runner of a stream
        # and from other backends measured side by side (docs/students.md has the figures)
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if self.policy.spin else "0")
        path = self.bundle.file(self.entry.file)
        with pinned(self.policy.cpus):  # the intra-op pool starts here and inherits the pinning
            self.session = ort.InferenceSession(str(path), opts, providers=providers)
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("edgebind.bundle_id") != self.bundle.bundle_id:
            raise BundleError(
                f"{path} belongs to bundle {meta.get('edgebind.bundle_id', 'none')[:12]}, not to this manifest's "
                f"{self.bundle.bundle_id[:12]}; files from two exports were mixed. Re-export: {self.bundle.command}"
            )
        log.debug("onnxruntime session for %s on %s (%s)", path, self.session.get_providers(),
                  self.policy.describe())

    def deactivate(self) -> None:
        self.session = None

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ident = threading.get_ident()
        if self.policy.cpus is not None and ident not in self._pinned_threads:
            pin_current_thread(self.policy.cpus)  # the calling thread is one of the runner's threads
            self._pinned_threads.add(ident)
        if self.entry.stream is not None:  # the step model: the embedding and the next state
            names = [self.entry.output_name, *self.entry.stream["state_outputs"]]
            return dict(zip(names, self.session.run(names, feeds), strict=True))
        (out,) = self.session.run([self.entry.output_name], feeds)
        return {self.entry.output_name: np.asarray(out, dtype=np.float32)}

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["providers"] = self.session.get_providers() if self.session is not None else None
        d["policy"] = self.policy.describe()
        return d


__all__ = ["OnnxRuntimeRunner", "exact_qdq_on_cpu"]
