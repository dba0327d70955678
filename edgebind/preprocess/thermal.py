"""The thermal contract: temperatures -> 8-bit-like intensity -> (1, 224, 224) float32 in [0, 1].

ImageBind's thermal encoder takes ``[B, 1, 224, 224]`` and nothing else (SPEC.md §4); the official repo has no
thermal loader (SPEC.md §9). LLVIP, its training set, holds 8-bit AGC images, so a sensor's °C (or raw counts)
are first mapped to [0, 1] by a percentile stretch that imitates the camera's AGC, or by a fixed °C range. Then
community practice (ImageBind issue #37, PR #73): 8-bit grayscale, bicubic resize of the short side to 224,
centre crop 224, /255, and no mean/std Normalize (62.4 % vs 55.2 % LLVIP accuracy).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import ConfigError, InputError, check_known, suggest

logger = logging.getLogger(__name__)

MAPPINGS = ("percentile", "fixed")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class ThermalContract:
    """How a temperature frame becomes the thermal encoder's input. Bundles store it.

    Attributes:
        size: output height and width in pixels. Defaults to 224 (the only size ImageBind accepts).
        mapping: "percentile" (per-frame stretch between two percentiles, like an 8-bit AGC) or "fixed"
            (a constant °C range). Defaults to "percentile".
        low_percentile: percentile mapped to 0 with "percentile". Defaults to 1.0.
        high_percentile: percentile mapped to 1 with "percentile". Defaults to 99.0.
        min_temp_c: temperature mapped to 0 with "fixed". Defaults to 0.0 °C.
        max_temp_c: temperature mapped to 1 with "fixed". Defaults to 40.0 °C.
    """

    size: int = 224
    mapping: str = "percentile"
    low_percentile: float = 1.0
    high_percentile: float = 99.0
    min_temp_c: float = 0.0
    max_temp_c: float = 40.0

    def __post_init__(self) -> None:
        if self.mapping not in MAPPINGS:
            raise ConfigError(f"unknown thermal mapping '{self.mapping}'.{suggest(self.mapping, MAPPINGS)}")
        if not 0.0 <= self.low_percentile < self.high_percentile <= 100.0:
            raise ConfigError(
                f"thermal percentiles must satisfy 0 <= low < high <= 100, got {self.low_percentile} and "
                f"{self.high_percentile}; the default is 1 and 99."
            )
        if self.min_temp_c >= self.max_temp_c:
            raise ConfigError(
                f"thermal fixed range needs min_temp_c < max_temp_c, got {self.min_temp_c} and "
                f"{self.max_temp_c} °C; e.g. 0 and 40 for people and animals indoors."
            )
        if self.size < 16:
            raise ConfigError(f"thermal size {self.size} is below one 16-pixel patch; ImageBind needs 224.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ThermalContract:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            ConfigError: an unknown key (with a did-you-mean) or an invalid value.
        """
        check_known("thermal contract field", d, (f.name for f in fields(cls)))
        return cls(**d)


DEFAULT_THERMAL_CONTRACT = ThermalContract()


def map_temperature(temp_c: np.ndarray, contract: ThermalContract = DEFAULT_THERMAL_CONTRACT) -> np.ndarray:
    """Map temperatures (or raw sensor counts) to intensity in [0, 1], each frame on its own.

    The percentile mapping is invariant to a positive scale and an offset, so raw counts of a linear sensor
    (e.g. FLIR Lepton) give the same result as °C.

    Args:
        temp_c: (H, W) or (M, H, W) temperatures in °C (raw counts are fine with "percentile").
        contract: the thermal contract. Defaults to a 1-99 percentile stretch.

    Returns:
        float32 array of the same shape, clipped to [0, 1]. A perfectly flat frame maps to 0.

    Raises:
        InputError: wrong number of dimensions or non-finite values.
    """
    x = np.asarray(temp_c, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise InputError(
            f"temperature array has shape {x.shape}; expected (H, W) or (M, H, W) in °C. "
            "Model-ready input is (N, 1, 224, 224) instead."
        )
    if not np.isfinite(x).all():
        raise InputError("temperature array contains NaN/inf pixels; replace them (e.g. with the frame median).")
    frames = x[None] if x.ndim == 2 else x
    if contract.mapping == "percentile":
        pct = np.percentile(frames, [contract.low_percentile, contract.high_percentile], axis=(1, 2))
        low, high = pct[0][:, None, None], pct[1][:, None, None]  # (M, 1, 1) each
    else:
        low = np.full((len(frames), 1, 1), contract.min_temp_c)
        high = np.full((len(frames), 1, 1), contract.max_temp_c)
    span = high - low
    flat = span <= 0
    if flat.any():
        logger.debug("%d thermal frame(s) are flat; mapped to 0", int(flat.sum()))
    out = np.where(flat, 0.0, (frames - low) / np.where(flat, 1.0, span))
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
    return out[0] if x.ndim == 2 else out


def to_model_input(intensity: np.ndarray, size: int = 224) -> np.ndarray:
    """Community-practice thermal transform: 8-bit, bicubic short side to ``size``, centre crop, /255.

    Args:
        intensity: (H, W) or (M, H, W) in [0, 1] (values outside are clipped).
        size: output side in pixels. Defaults to 224.

    Returns:
        (M, 1, size, size) float32 in [0, 1], no mean/std normalisation.

    Raises:
        InputError: wrong number of dimensions.
    """
    from PIL import Image

    x = np.asarray(intensity, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise InputError(f"thermal intensity has shape {x.shape}; expected (H, W) or (M, H, W) in [0, 1].")
    frames = x[None] if x.ndim == 2 else x
    # LLVIP images are 8-bit, so quantise first, as loading a PNG with convert("L") would.
    frames_u8 = np.round(np.clip(frames, 0.0, 1.0) * 255.0).astype(np.uint8)
    h, w = frames_u8.shape[1:]
    # torchvision Resize(int): the short side becomes `size`, the long side keeps the aspect ratio (truncated).
    new_w, new_h = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
    top, left = round((new_h - size) / 2.0), round((new_w - size) / 2.0)
    out = np.empty((len(frames_u8), 1, size, size), dtype=np.float32)
    for i, frame in enumerate(frames_u8):
        img = Image.fromarray(frame)  # (H, W) uint8 -> mode "L"
        if (new_w, new_h) != (w, h):
            img = img.resize((new_w, new_h), Image.Resampling.BICUBIC)
        img = img.crop((left, top, left + size, top + size))
        out[i, 0] = np.asarray(img, dtype=np.float32) / 255.0
    return out


def check_thermal_input(array: np.ndarray, size: int = 224) -> np.ndarray:
    """Validate an array that is already at the model's input shape.

    Args:
        array: (N, 1, size, size) or (1, size, size) intensity in [0, 1].
        size: the side the encoder needs. Defaults to 224.

    Returns:
        (N, 1, size, size) float32 with the values unchanged.

    Raises:
        InputError: any other shape, or values outside [0, 1] (likely °C that skipped the mapping).
    """
    x = np.asarray(array)
    want = f"(N, 1, {size}, {size})"
    if x.ndim == 3 and x.shape == (1, size, size):
        x = x[None]
    if x.ndim != 4 or x.shape[1:] != (1, size, size):
        raise InputError(
            f"thermal input has shape {x.shape}; the encoder needs exactly {want} float in [0, 1]. Pass a "
            f"temperature array (.npy (H, W) or (M, H, W) in °C) or an image file so it is mapped and "
            f"resized, or resize and centre-crop to {size}x{size} yourself."
        )
    if not np.isfinite(x).all():
        raise InputError("thermal input contains NaN/inf values; replace them before embedding.")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1e-6 or hi > 1.0 + 1e-6:
        raise InputError(
            f"thermal input values span [{lo:.4g}, {hi:.4g}], outside [0, 1]; it looks like temperatures. "
            "Pass it as an (M, H, W) temperature array so the thermal mapping applies."
        )
    return x.astype(np.float32, copy=False)


def load_thermal_image(path: str | Path, contract: ThermalContract = DEFAULT_THERMAL_CONTRACT) -> np.ndarray:
    """Read a thermal image as intensity.

    8-bit images (already AGC'd by the camera) are converted to grayscale ("L") and divided by 255; 16-bit and
    float images (radiometric counts or °C) go through ``contract``'s mapping.

    Args:
        path: a PNG/JPG/BMP/TIFF file.
        contract: mapping for 16-bit and float images. Defaults to a 1-99 percentile stretch.

    Returns:
        (H, W) float32 in [0, 1].

    Raises:
        InputError: the file is missing or not an image.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"thermal image {path} does not exist; check the path.")
    try:
        with Image.open(path) as img:
            if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
                return map_temperature(np.asarray(img, dtype=np.float64), contract)
            return np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"cannot read {path} as an image ({exc}); pass a PNG or JPG thermal image.") from exc


def load_cptv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a Cacophony Project CPTV clip (FLIR Lepton raw counts).

    Args:
        path: a ``.cptv`` file.

    Returns:
        frames: (M, H, W) float32 raw counts (linear in scene radiance; use the "percentile" mapping).
        t_ns: (M,) int64 frame times in ns since the clip's first frame.

    Raises:
        InputError: the file is missing or cannot be decoded.
    """
    from cptv import CPTVReader

    path = Path(path)
    if not path.is_file():
        raise InputError(f"CPTV clip {path} does not exist; check the path.")
    frames, times = [], []
    try:
        with path.open("rb") as f:
            for frame in CPTVReader(f):
                frames.append(np.asarray(frame.pix, dtype=np.float32))
                times.append(int(frame.time_on.total_seconds() * 1e9))
    except Exception as exc:  # the cptv decoder raises assorted errors on corrupt input
        raise InputError(f"cannot decode CPTV clip {path} ({type(exc).__name__}: {exc}).") from exc
    if not frames:
        raise InputError(f"CPTV clip {path} holds no frames.")
    t_ns = np.asarray(times, dtype=np.int64)
    return np.stack(frames), t_ns - t_ns[0]


def load_thermal_input(path: str | Path, contract: ThermalContract = DEFAULT_THERMAL_CONTRACT) -> np.ndarray:
    """Model-ready thermal input from a file, as ``edgebind embed thermal`` reads it.

    Args:
        path: ``.npy`` of shape (N, 1, 224, 224) (passed unchanged) or (H, W)/(M, H, W) °C (mapped); an image;
            a ``.cptv`` clip; or a Recording ``.npz`` with ``thermal`` frames.
        contract: the thermal contract. Defaults to percentile mapping at 224.

    Returns:
        (N, 1, size, size) float32 in [0, 1].

    Raises:
        InputError: unknown extension, missing file or an input that breaks the contract.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return to_model_input(load_thermal_image(path, contract), contract.size)
    if suffix == ".cptv":
        return to_model_input(map_temperature(load_cptv(path)[0], contract), contract.size)
    if suffix == ".npz":
        from edgebind.bridge.recording import Recording

        rec = Recording.load(path)
        if rec.thermal is None:
            raise InputError(f"recording {path} has no thermal frames; record with a thermal sensor attached.")
        return to_model_input(map_temperature(rec.thermal, contract), contract.size)
    if suffix == ".npy":
        if not path.is_file():
            raise InputError(f"thermal input {path} does not exist; check the path.")
        x = np.load(path, allow_pickle=False)
        if x.ndim == 4 or (x.ndim == 3 and x.shape == (1, contract.size, contract.size)):
            return check_thermal_input(x, contract.size)
        return to_model_input(map_temperature(x, contract), contract.size)
    raise InputError(
        f"cannot read thermal input {path}: unknown extension '{suffix}'; pass a .npy, an image "
        f"({', '.join(IMAGE_SUFFIXES)}), a .cptv clip or a Recording .npz."
    )
