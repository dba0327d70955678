"""Frozen embeddings computed once and cached: teacher outputs on a fixed pool of views, and anchors.

Training then touches only the small encoder. Files live under ``cache_dir()/embeddings/<key>.npy`` where the key
is a sha256 of everything that determines the numbers: the frozen model's file hash (and overrides), the data's
content hash, the augmentation settings, the number of views and the seed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from edgebind.paths import cache_dir
from edgebind.train.augment import Augment, make_batch
from edgebind.train.data import WindowSet
from edgebind.train.dist import DistEnv, barrier, gather_strided_rows

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]


def cache_key(parts: dict[str, Any]) -> str:
    """sha256 of the JSON of ``parts`` (sorted keys)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def cache_path(key: str) -> Path:
    """Where the embeddings for ``key`` are stored."""
    return cache_dir() / "embeddings" / f"{key[:40]}.npy"


def _save_atomic(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, array)
    tmp.replace(path)


@torch.inference_mode()
def encode_unit(encoder: torch.nn.Module, x: np.ndarray, device: torch.device, autocast: bool = False
                ) -> torch.Tensor:
    """Unit embeddings (B, D) float32 of a frozen encoder (eval mode) for inputs ``x``."""
    xt = torch.from_numpy(np.ascontiguousarray(x)).to(device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast and device.type == "cuda"):
        out = encoder(xt)
    return F.normalize(out.float(), dim=-1)


def view_embeddings(
    encoder: torch.nn.Module,
    windows: WindowSet,
    aug: Augment,
    seed: int,
    num_views: int,
    key_parts: dict[str, Any],
    env: DistEnv,
    batch_size: int = 16,
    autocast: bool = False,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """Unit embeddings of every (window, view), from the cache or computed once (sharded across ranks).

    Args:
        encoder: the frozen encoder; put in eval mode here (ImageBind's IMU head dropout must be off).
        windows: the windows.
        aug: augmentation; view 0 is always the clean window.
        seed: the view seed.
        num_views: views per window (>= 1).
        key_parts: identity of the encoder (file hash, modality, overrides) for the cache key.
        env: distributed env; rank r computes rows r::world_size and all ranks receive all rows.
        batch_size: encoder batch. Defaults to 16.
        autocast: bf16 on CUDA. Defaults to False (fp32 targets).
        progress: called with (done, total) rows.

    Returns:
        (K, num_views, D) float32 unit vectors.
    """
    from edgebind.train.augment import augment_to_dict

    key = cache_key({**key_parts, "data": windows.content_hash(), "aug": augment_to_dict(aug), "views": num_views,
                     "seed": seed, "autocast_bf16": autocast and env.device.type == "cuda"})
    path = cache_path(key)
    if path.is_file():
        logger.info("frozen embeddings from cache %s", path)
        return np.load(path)
    encoder.eval()
    pairs = np.array([(i, v) for i in range(len(windows)) for v in range(num_views)], dtype=np.int64)
    mine = pairs[env.rank :: env.world_size]
    rows: list[torch.Tensor] = []
    for start in range(0, len(mine), batch_size):
        chunk = mine[start : start + batch_size]
        x = make_batch(windows.raw, windows.modality, windows.contract, aug, seed, chunk[:, 0], chunk[:, 1])
        rows.append(encode_unit(encoder, x, env.device, autocast))
        if progress is not None:
            progress(min(len(pairs), (start + len(chunk)) * env.world_size), len(pairs))
    out_dim = int(getattr(getattr(encoder, "cfg", None), "out_dim", 0)) or (int(rows[0].shape[1]) if rows else 1)
    local = torch.cat(rows) if rows else torch.zeros((0, out_dim), device=env.device)
    emb = gather_strided_rows(local, len(pairs), env).cpu().numpy().astype(np.float32)
    emb = emb.reshape(len(windows), num_views, -1)
    if env.is_main:
        _save_atomic(path, emb)
        logger.info("cached %s frozen embeddings at %s", emb.shape, path)
    barrier(env)
    return emb


def cached_array(key_parts: dict[str, Any], compute: Callable[[], np.ndarray], env: DistEnv) -> np.ndarray:
    """A float32 array from the cache, else ``compute()`` on rank 0, saved, and read by every rank."""
    path = cache_path(cache_key(key_parts))
    if not path.is_file():
        if env.is_main:
            _save_atomic(path, np.asarray(compute(), dtype=np.float32))
        barrier(env)
    return np.load(path)
