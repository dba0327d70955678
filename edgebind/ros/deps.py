"""The ``[ros]`` extra's libraries, imported on demand with an error that names the extra (re-exported by
``edgebind.ros``; the bag and view modules import it from here, so the package and its modules do not import each
other)."""

from __future__ import annotations

import importlib

from edgebind.errors import ConfigError


def require(module: str) -> None:
    """Import ``module`` or raise a ConfigError naming the extra to install."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"{module} is not installed ({exc}); ROS bags and the Foxglove view need the ros extra: "
                          "pip install 'edgebind[ros]'.") from None


__all__ = ["require"]
