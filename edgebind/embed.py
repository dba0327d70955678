"""``edgebind embed``'s Python API: files -> model inputs -> ImageBind embeddings."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import InputError

log = logging.getLogger(__name__)


def load_inputs(modality: str, inputs: Sequence[str], hop_s: float | None = None, rate_hz: float | None = None,
                text_file: str | Path | None = None) -> np.ndarray:
    """Read INPUT arguments into one model-ready batch.

    Args:
        modality: ``imu`` (files -> (N, 6, 2000) float32), ``thermal`` (files -> (N, 1, 224, 224) float32) or
            ``text`` (strings, or the lines of ``text_file`` -> (N, 77) int64 token ids).
        inputs: file paths (imu, thermal) or strings (text).
        hop_s: seconds between IMU windows cut from recordings. Defaults to one window (5 s).
        rate_hz: sample rate of a CSV without a timestamp column.
        text_file: a labels-style file, one text per line (``#`` comments allowed), for text.

    Raises:
        InputError: nothing to embed, or an input that breaks the modality's contract.
    """
    if modality == "text":
        texts = list(inputs)
        if text_file is not None:
            from edgebind.zeroshot import read_labels

            texts += [s.name for s in read_labels(text_file)]
        if not texts:
            raise InputError("no text to embed; pass strings as arguments or --file labels.txt.")
        from edgebind.tokenizer import tokenize

        return tokenize(texts)
    if not inputs:
        raise InputError(f"no {modality} input given; pass one or more files.")
    if modality == "imu":
        from edgebind.preprocess.imu import load_imu_input

        arrays = [load_imu_input(p, hop_s=hop_s, rate_hz=rate_hz) for p in inputs]
    elif modality == "thermal":
        from edgebind.preprocess.thermal import load_thermal_input

        arrays = [load_thermal_input(p) for p in inputs]
    else:
        raise InputError(f"cannot embed modality '{modality}'; choose imu, thermal or text.")
    return np.concatenate(arrays, axis=0)


def embed_with_checkpoint(
    modality: str,
    x: np.ndarray,
    checkpoint: str | Path,
    overrides: Mapping[str, Any] | None = None,
    preset: str | None = None,
    unit: bool = False,
    batch_size: int = 8,
) -> np.ndarray:
    """Run the PyTorch encoder from a checkpoint on a batch.

    Returns:
        (N, out_dim) float32: ImageBind's output (normalised x logit scale), or unit vectors with ``unit``.
    """
    import torch

    from edgebind.checkpoint import load_encoder

    model = load_encoder(checkpoint, modality, preset=preset, overrides=overrides)
    model.unit = unit
    out = []
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            out.append(model(torch.from_numpy(np.ascontiguousarray(x[i : i + batch_size]))).float().numpy())
    return np.concatenate(out).astype(np.float32)


def embed_with_bundle(
    modality: str, x: np.ndarray, bundle: str | Path, backend: str | None = None, unit: bool = False
) -> np.ndarray:
    """Run an exported bundle's artifact (ONNX Runtime, TensorRT or torch) on a batch.

    Returns:
        (N, out_dim) float32, as :func:`embed_with_checkpoint`.
    """
    from edgebind.runtime import open_runner

    with open_runner(bundle, modality, backend=backend) as runner:
        emb = np.asarray(runner.embed(x), dtype=np.float32)
    if unit:
        emb = emb / np.maximum(np.linalg.norm(emb, axis=-1, keepdims=True), 1e-12)
    return emb
