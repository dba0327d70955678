"""PyTorch is optional: a device runs bundles on ONNX Runtime or TensorRT (docs/device.md). This module says whether
torch is installed without importing it, and words the error for a command that needs it."""

from __future__ import annotations

import importlib.metadata
import importlib.util

from edgebind.errors import ConfigError

TORCH_INSTALL = "pip install 'edgebind[torch]'"


def torch_installed() -> bool:
    """Whether a ``torch`` distribution is installed (read from its metadata; torch itself is not imported)."""
    try:
        importlib.metadata.distribution("torch")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def torch_missing(what: str) -> ConfigError:
    """The one-line error for ``what`` (e.g. ``edgebind export``) run where torch is not installed."""
    return ConfigError(
        f"{what} needs PyTorch, which is not installed here. Install it with {TORCH_INSTALL} (on a Jetson, "
        "NVIDIA's torch wheel for your JetPack), or run an exported bundle on ONNX Runtime or TensorRT, which needs no "
        "torch (e.g. 'edgebind embed imu walk.npz --bundle DIR --backend onnxruntime -o e.npy')."
    )


def require_extra(module: str, extra: str, what: str) -> None:
    """Raise before any work when ``module`` (from the ``[extra]`` extra) is not importable for ``what``.

    Raises:
        ConfigError: one line naming the extra to install, or how to do without it.
    """
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent that fails to import, or a module blocked in sys.modules
        found = False
    if not found:
        raise ConfigError(f"{what} needs {module}, which is not installed here; pip install 'edgebind[{extra}]', or "
                          "leave the option out.")


__all__ = ["TORCH_INSTALL", "require_extra", "torch_installed", "torch_missing"]
