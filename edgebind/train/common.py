"""Pieces both recipes share: student configs, seeding, windows from paths, label banks for evaluation."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgebind.config import CONFIGS, EncoderConfig, config_from_dict, get_config
from edgebind.errors import ConfigError
from edgebind.models import Encoder, build_encoder
from edgebind.train.augment import Augment, ImuAugment, ThermalAugment
from edgebind.train.data import WindowSet, load_recordings, split_holdout, windows_from_recordings

logger = logging.getLogger(__name__)


def resolve_student_config(spec: str, modality: str) -> EncoderConfig:
    """A student config from a preset name (``imu-small``) or a JSON file of config fields.

    Raises:
        ConfigError: unknown preset (with a suggestion), unreadable JSON, or a config of another modality.
    """
    path = Path(spec)
    if spec.endswith(".json") or (path.is_file() and spec not in CONFIGS):
        if not path.is_file():
            raise ConfigError(f"student config {spec} does not exist; pass a preset name or a JSON config file.")
        try:
            d: dict[str, Any] = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(f"student config {spec} is not valid JSON ({exc}).") from exc
        d.setdefault("modality", modality)
        cfg = config_from_dict(d)
    else:
        cfg = get_config(spec, modality)
    if cfg.modality != modality:
        raise ConfigError(f"student '{spec}' is a {cfg.modality} config but --modality is {modality}.")
    return cfg


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def build_student(cfg: EncoderConfig, seed: int, rank: int = 0) -> Encoder:
    """A student with ImageBind's init, identical on every rank; dropout streams then differ per rank."""
    torch.manual_seed(seed)
    model = build_encoder(cfg)
    torch.manual_seed(seed * 1009 + rank + 1)
    return model


def default_augment(modality: str) -> Augment:
    """The default augmentation for a modality."""
    return ImuAugment() if modality == "imu" else ThermalAugment()


def load_windows(
    data: list[str | Path],
    modality: str,
    eval_data: list[str | Path] | None,
    holdout: float,
    seed: int,
    hop_s: float,
    frame_stride: int = 1,
) -> tuple[WindowSet, WindowSet]:
    """Training and held-out windows: ``eval_data`` when given, else a segment-wise ``holdout`` split.

    Raises:
        InputError: the data holds no full window (the message gives the duration found and needed).
    """
    if not data:
        raise ConfigError("no training data: pass one or more Recording files with --data REC.npz.")
    train = windows_from_recordings(load_recordings(list(data)), modality, hop_s, frame_stride=frame_stride)
    if eval_data:
        held = windows_from_recordings(load_recordings(list(eval_data)), modality, hop_s, frame_stride=frame_stride)
        return train, held
    return split_holdout(train, holdout, seed)


def check_contract(student: EncoderConfig, frozen: EncoderConfig, what: str) -> None:
    """The student must take the same input as the frozen model it learns from.

    Raises:
        ConfigError: window length or image size differs, naming the field to set.
    """
    for name in ("num_samples", "in_channels", "img_size"):
        a, b = getattr(student, name, None), getattr(frozen, name, None)
        if a is not None and b is not None and a != b:
            raise ConfigError(
                f"student {name}={a} but the {what} takes {name}={b}; both must read the same input. Set "
                f"\"{name}\": {b} in the student config."
            )
