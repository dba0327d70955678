"""PyTorch backend: the fp32 eager encoder, from the weights inside the bundle or the checkpoint it references.

It is parity's reference and the bench's baseline, so it always runs fp32 whatever the bundle's precision.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bundle import Bundle
from edgebind.errors import BundleError
from edgebind.runtime.base import BaseRunner

log = logging.getLogger(__name__)


def _resolve_checkpoint(bundle: Bundle) -> Path:
    """The checkpoint the bundle was exported from, found where it was or via ``$EDGEBIND_CHECKPOINT``."""
    from edgebind.checkpoint import file_sha256

    recorded = bundle.source.get("checkpoint")
    want = bundle.source.get("sha256")
    candidates = [Path(p) for p in (recorded, os.environ.get("EDGEBIND_CHECKPOINT")) if p]
    if recorded and not Path(recorded).is_absolute() and bundle.path is not None:
        candidates[0] = bundle.path / recorded  # recorded relative to the bundle folder
    for p in candidates:
        if p.is_file() and (want is None or file_sha256(p) == want):
            return p
    raise BundleError(
        f"the torch backend needs the checkpoint this bundle was exported from ({recorded}, sha256 "
        f"{str(want)[:12]}...), which is not there or differs; set EDGEBIND_CHECKPOINT to that file, or use "
        "--backend onnxruntime."
    )


def load_bundle_encoder(bundle: Bundle, modality: str) -> Any:
    """The fp32 PyTorch encoder a bundle was exported from, rebuilt from the manifest's config."""
    from edgebind.checkpoint import encoder_from_state_dict, load_checkpoint
    from edgebind.config import config_from_dict

    entry = bundle.encoder(modality)
    weights = bundle.source.get("weights")
    path = bundle.file(weights) if weights else _resolve_checkpoint(bundle)
    ckpt = load_checkpoint(path)
    return encoder_from_state_dict(ckpt.subset(modality), config_from_dict(entry.config)).eval()


class TorchRunner(BaseRunner):
    """Eager fp32 PyTorch on CPU (CUDA when available and the target is a GPU)."""

    backend = "torch"

    def __init__(self, bundle: Bundle, modality: str, threads: int | None = None) -> None:
        super().__init__(bundle, modality, threads)
        self.model: Any = None
        self.device = "cpu"

    def activate(self) -> None:
        import torch

        if self.threads:
            torch.set_num_threads(self.threads)
        self.model = load_bundle_encoder(self.bundle, self.modality)
        if self.bundle.target != "cpu" and torch.cuda.is_available():
            self.device = "cuda"
            self.model = self.model.to(self.device)

    def deactivate(self) -> None:
        self.model = None

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        x = torch.from_numpy(feeds[self.entry.input_name]).to(self.device)
        if self.entry.stream is not None:  # the step model in eager PyTorch
            (state_in,), (state_out,) = self.entry.stream["state_inputs"], self.entry.stream["state_outputs"]
            with torch.inference_mode():
                y, state = self.model.step(x, torch.from_numpy(feeds[state_in]).to(self.device))
            return {self.entry.output_name: y.float().cpu().numpy(), state_out: state.float().cpu().numpy()}
        with torch.inference_mode():
            y = self.model(x)
        return {self.entry.output_name: y.float().cpu().numpy()}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "precision": "fp32", "device": self.device}


__all__ = ["TorchRunner", "load_bundle_encoder"]
