"""Run a bundle's encoders: one Runner protocol (STYLE.md §5), torch, onnxruntime and tensorrt backends.

``open_runner(bundle, modality)`` is the entry point ``embed`` and ``stream`` call. Backends load lazily, so
importing this package pulls in neither onnxruntime nor tensorrt.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from edgebind.bundle import Bundle, load_bundle
from edgebind.errors import ConfigError, suggest
from edgebind.runtime.base import BaseRunner, Runner, check_feeds
from edgebind.runtime.policy import ThreadPolicy

log = logging.getLogger(__name__)

# backend name -> "module:class". A plain dict until a third-party backend exists (STYLE.md §5).
BACKENDS: dict[str, str] = {
    "onnxruntime": "edgebind.runtime.onnxrt:OnnxRuntimeRunner",
    "tensorrt": "edgebind.runtime.trt:TensorRTRunner",
    "torch": "edgebind.runtime.torch:TorchRunner",
}


def default_backend(bundle: Bundle, modality: str) -> str:
    """tensorrt where the bundle holds a usable engine for ``modality`` (its parity passed where it was built) and
    tensorrt imports, else onnxruntime."""
    engine = bundle.encoder(modality).engine
    if engine:
        if engine.get("usable") is not True:
            log.warning("the %s engine is unusable (%s); running the ONNX model with onnxruntime", modality,
                        engine.get("unusable_reason") or "no parity verdict")
            return "onnxruntime"
        from edgebind.export.tensorrt import trt_version

        if trt_version() is not None:
            return "tensorrt"
    return "onnxruntime"


def runner_class(backend: str) -> type[BaseRunner]:
    """The Runner class registered for ``backend``.

    Raises:
        ConfigError: unknown backend, with the closest name.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend '{backend}'.{suggest(backend, BACKENDS)} Backends: {', '.join(BACKENDS)}.")
    module, cls = BACKENDS[backend].split(":")
    runner: type[BaseRunner] = getattr(importlib.import_module(module), cls)
    return runner


def open_runner(bundle: Bundle | str | Path, modality: str, backend: str | None = None,
                threads: int | None = None, policy: ThreadPolicy | None = None) -> Runner:
    """A Runner for one encoder of a bundle.

    Args:
        bundle: a Bundle, or its folder (loaded and hash-verified).
        modality: ``imu``, ``thermal`` or ``text``.
        backend: ``onnxruntime``, ``tensorrt`` or ``torch``. Defaults to tensorrt where an engine exists and
            TensorRT imports, else onnxruntime.
        threads: CPU threads for onnxruntime/torch. Defaults to the backend's choice.
        policy: onnxruntime's thread policy (threads, spinning, CPU pinning); its ``threads`` wins over ``threads``.
            Defaults to ``threads`` threads, no spinning, no pinning.

    Returns:
        A context manager with ``infer(feeds) -> outputs`` and ``embed(x) -> (N, out_dim) float32``, equal to
        the PyTorch encoder's output (normalised x logit scale).

    Raises:
        BundleError: not a bundle, edited after export, no such encoder, or an engine built elsewhere.
        ConfigError: unknown backend, or spinning/pinning asked of a backend other than onnxruntime.
    """
    b = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    b.encoder(modality)
    name = backend or default_backend(b, modality)
    cls = runner_class(name)
    if name == "onnxruntime":
        runner: Runner = cls(b, modality, threads, policy=policy)  # type: ignore[call-arg]
        return runner
    if policy is not None and (policy.spin or policy.cpus is not None):
        raise ConfigError(f"spinning and CPU pinning are onnxruntime settings, but the {modality} runner is {name}; "
                          "drop --spin/--pin or use --backend onnxruntime.")
    runner = cls(b, modality, policy.threads if policy is not None and policy.threads else threads)
    return runner


__all__ = ["BACKENDS", "BaseRunner", "Runner", "ThreadPolicy", "check_feeds", "default_backend", "open_runner",
           "runner_class"]
