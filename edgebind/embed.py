"""``edgebind embed``'s Python API: files -> model inputs -> ImageBind embeddings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import InputError

log = logging.getLogger(__name__)


def load_inputs(modality: str, inputs: Sequence[str], hop_s: float | None = None, rate_hz: float | None = None,
                text_file: str | Path | None = None, calibration: str | Path | None = None,
                bag: Any = None, units: Any = None) -> np.ndarray:
    """Read INPUT arguments into one model-ready batch.

    Args:
        modality: ``imu`` (files -> (N, 6, 2000) float32), ``thermal`` (files -> (N, 1, 224, 224) float32) or
            ``text`` (strings, or the lines of ``text_file`` -> (N, 77) int64 token ids).
        inputs: file paths (imu, thermal) or strings (text).
        hop_s: seconds between IMU windows cut from recordings. Defaults to one window (5 s).
        rate_hz: sample rate of a CSV without a timestamp column.
        text_file: a labels-style file, one text per line (``#`` comments allowed), for text.
        calibration: a profile from ``edgebind calibrate``, applied to recordings, CSV and temperature data
            before the input contract.
        bag: ``edgebind.ros.BagOptions`` (topics, thermal unit) for ``.mcap`` inputs, which are read as Recordings.
            Defaults to topics found by message type.
        units: ``edgebind.bridge.units.UnitOptions`` for CSV inputs (``--accel-unit``/``--gyro-unit``); default auto,
            as ``edgebind convert`` chooses a serial log's units.

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
        arrays = [_imu_input(Path(p), hop_s, rate_hz, calibration, bag, units) for p in inputs]
    elif modality == "thermal":
        arrays = [_thermal_input(Path(p), calibration, bag) for p in inputs]
    else:
        raise InputError(f"cannot embed modality '{modality}'; choose imu, thermal or text.")
    return np.concatenate(arrays, axis=0)


def _imu_input(path: Path, hop_s: float | None, rate_hz: float | None, calibration: str | Path | None,
               bag: Any = None, units: Any = None) -> np.ndarray:
    from edgebind.preprocess.imu import DEFAULT_IMU_CONTRACT, load_imu_csv, load_imu_input, windows_from_recording
    from edgebind.ros import is_bag, load_recording

    if calibration is None and not is_bag(path):
        return load_imu_input(path, hop_s=hop_s, rate_hz=rate_hz, units=units)
    from edgebind.bridge.recording import Recording
    from edgebind.calibration.apply import calibrate_recording
    from edgebind.calibration.imu import apply_imu_profile

    suffix = path.suffix.lower()
    if suffix == ".npy":  # model-shaped windows: correct each (6, T) window's samples
        x = load_imu_input(path)
        flat = apply_imu_profile(x.transpose(0, 2, 1).reshape(-1, 6), str(calibration))  # (N*T, 6)
        return np.ascontiguousarray(flat.reshape(x.shape[0], x.shape[2], 6).transpose(0, 2, 1))
    if is_bag(path):  # a ROS 2 bag is read as the Recording it holds, then windowed like a .npz
        rec = load_recording(path, bag, ("imu",))
    else:
        rec = Recording.load(path) if suffix == ".npz" else load_imu_csv(path, rate_hz=rate_hz, units=units)
    if calibration is not None:
        rec = calibrate_recording(rec, calibration)
    return windows_from_recording(rec, DEFAULT_IMU_CONTRACT.window_s if hop_s is None else hop_s)[0]


def _thermal_input(path: Path, calibration: str | Path | None, bag: Any = None) -> np.ndarray:
    from edgebind.preprocess.thermal import load_cptv, load_thermal_input, map_temperature, to_model_input
    from edgebind.ros import is_bag, load_recording

    if calibration is None and not is_bag(path):
        return load_thermal_input(path)
    from edgebind.calibration.thermal import apply_thermal_profile, thermal_contract

    suffix = path.suffix.lower()
    if is_bag(path):  # a ROS 2 bag is read as the Recording it holds
        raw = load_recording(path, bag, ("thermal",)).thermal
        if raw is None:
            raise InputError(f"bag {path} has a thermal topic without frames; pick another with --thermal-topic.")
        if calibration is None:  # the default contract, as load_thermal_input applies to a Recording .npz
            return to_model_input(map_temperature(raw))
    elif suffix == ".cptv":
        raw = load_cptv(path)[0]
    elif suffix == ".npy":
        raw = np.load(path, allow_pickle=False)
    elif suffix == ".npz":
        from edgebind.bridge.recording import Recording

        rec = Recording.load(path)
        if rec.thermal is None:
            raise InputError(f"recording {path} has no thermal frames; record with a thermal sensor attached.")
        raw = rec.thermal
    else:
        raise InputError(f"--calibration applies to temperatures or raw counts (.cptv, .npy, Recording .npz), not "
                         f"to {path.name}; drop --calibration for 8-bit images.")
    contract = thermal_contract(str(calibration))
    return to_model_input(map_temperature(apply_thermal_profile(raw, str(calibration)), contract), contract.size)


def embed_with_checkpoint(
    modality: str,
    x: np.ndarray,
    checkpoint: str | Path,
    overrides: Mapping[str, Any] | None = None,
    preset: str | None = None,
    unit: bool = False,
    batch_size: int = 8,
    on_batch: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Run the PyTorch encoder from a checkpoint on a batch, ``batch_size`` inputs per call.

    ``on_batch(done, total)``: called after each call with the inputs embedded so far (the CLI's progress).

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
            if on_batch is not None:
                on_batch(min(i + batch_size, len(x)), len(x))
    return np.concatenate(out).astype(np.float32)


def embed_with_bundle(
    modality: str, x: np.ndarray, bundle: str | Path, backend: str | None = None, unit: bool = False,
    batch_size: int = 8, on_batch: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Run an exported bundle's artifact (ONNX Runtime, TensorRT or torch) on a batch, ``batch_size`` inputs per
    call (``on_batch`` as :func:`embed_with_checkpoint`'s).

    Returns:
        (N, out_dim) float32, as :func:`embed_with_checkpoint`.
    """
    from edgebind.runtime import open_runner

    parts = []
    with open_runner(bundle, modality, backend=backend) as runner:
        for i in range(0, len(x), batch_size):
            parts.append(np.asarray(runner.embed(x[i : i + batch_size]), dtype=np.float32))
            if on_batch is not None:
                on_batch(min(i + batch_size, len(x)), len(x))
    emb = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
    if unit:
        emb = emb / np.maximum(np.linalg.norm(emb, axis=-1, keepdims=True), 1e-12)
    return emb
