"""Export encoders to a Bundle: ONNX (fp32/fp16/int8), a TensorRT engine or its recipe, a parity report.

:data:`SUPPORTED` (``formats.py``) is the single table of (format, precision) pairs; each target (``targets.py``)
narrows it.
An unsupported pair raises an error listing the valid ones; a user's flag is never rewritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edgebind.export.formats import (
    EXPORTABLE_MODALITIES,
    FORMATS,
    PRECISIONS,
    SUPPORTED,
    check_supported,
    valid_pairs,
)
from edgebind.export.targets import TARGETS

if TYPE_CHECKING:
    from edgebind.export.pipeline import export_bundle


def __getattr__(name: str) -> object:
    # export_bundle pulls in torch and onnx; load it on first use so `import edgebind.export` stays light
    if name == "export_bundle":
        from edgebind.export import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)


__all__ = ["EXPORTABLE_MODALITIES", "FORMATS", "PRECISIONS", "SUPPORTED", "TARGETS",
           "check_supported", "export_bundle", "valid_pairs"]
