"""Encoders re-implemented from shared/imagebind/SPEC.md. ``build_encoder(cfg)`` makes any of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgebind.config import EncoderConfig, ImuStreamConfig
from edgebind.models.imu import ImuEncoder
from edgebind.models.imu_stream import StreamImuEncoder
from edgebind.models.layers import Encoder
from edgebind.models.text import TextEncoder
from edgebind.models.thermal import ThermalEncoder
from edgebind.models.vision import VisionEncoder

ENCODERS: dict[str, Callable[[Any], Encoder]] = {
    "imu": ImuEncoder,
    "thermal": ThermalEncoder,
    "text": TextEncoder,
    "vision": VisionEncoder,
}


def build_encoder(cfg: EncoderConfig) -> Encoder:
    """A randomly initialised encoder for ``cfg`` (ImageBind's init), in eval mode."""
    model = StreamImuEncoder(cfg) if isinstance(cfg, ImuStreamConfig) else ENCODERS[cfg.modality](cfg)
    return model.eval()


__all__ = ["ENCODERS", "Encoder", "ImuEncoder", "StreamImuEncoder", "TextEncoder", "ThermalEncoder", "VisionEncoder",
           "build_encoder"]
