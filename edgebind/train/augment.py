"""Augmentations that match what real sensors do, applied after the input contract.

IMU (Um et al. 2017's recipe, in SI units): a random rotation of the sensor frame applied jointly to the
accelerometer and gyroscope triads (a watch or board mounted differently turns both alike), per-sensor gain error,
white jitter in m/s² and rad/s, and a smooth monotonic time warp that keeps the window's ends fixed.
Thermal, in °C before the intensity mapping: a scene gain and offset and a slow flat-field gradient (drift between a
Lepton's shutter corrections, lens vignetting), one affine warp of the frame (random resized crop, a small rotation
and a translation, edges replicated: a camera mounted a little differently), a lower-resolution sensor (area
downsampling to a 32x24 MLX90640-like grid, upsampled again by the contract's bicubic resize), white sensor noise in
°C, then the mapping's range (the percentiles of the AGC-like stretch, or the fixed °C range) and flips.

Each view is a pure function of ``(seed, window index, view)``: view 0 is the clean window, so teacher embeddings
of a fixed pool of views can be computed once and cached, and any process or rank rebuilds the same input.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from edgebind.errors import ConfigError
from edgebind.preprocess.thermal import ThermalContract, map_temperature, to_model_input


@dataclass(frozen=True)
class ImuAugment:
    """IMU augmentation strengths. Zero turns a transform off.

    Attributes:
        rotation_deg: largest rotation angle of the sensor frame, about a uniformly random axis. Defaults to 15.
        gain: per-axis gain error; each axis is scaled by U(1 - gain, 1 + gain). Defaults to 0.1.
        jitter_accel_mps2: std of white noise added to accel, m/s². Defaults to 0.05.
        jitter_gyro_rads: std of white noise added to gyro, rad/s. Defaults to 0.01.
        time_warp: std of the speed at the warp's knots (1 = real time). Defaults to 0.1.
        time_warp_knots: knots of the smooth speed curve. Defaults to 4.
    """

    rotation_deg: float = 15.0
    gain: float = 0.1
    jitter_accel_mps2: float = 0.05
    jitter_gyro_rads: float = 0.01
    time_warp: float = 0.1
    time_warp_knots: int = 4

    def __post_init__(self) -> None:
        if not 0 <= self.rotation_deg <= 180 or not 0 <= self.gain < 1 or self.time_warp < 0:
            raise ConfigError(f"IMU augmentation out of range: {self}; need 0<=rotation_deg<=180, 0<=gain<1, "
                              "time_warp>=0.")
        if self.jitter_accel_mps2 < 0 or self.jitter_gyro_rads < 0 or self.time_warp_knots < 1:
            raise ConfigError(f"IMU augmentation needs non-negative jitter and >= 1 knot, got {self}.")


@dataclass(frozen=True)
class ThermalAugment:
    """Thermal augmentation strengths. Zero turns a transform off.

    Attributes:
        hflip: probability of a left-right flip. Defaults to 0.5.
        vflip: probability of an up-down flip. Defaults to 0.0 (scenes have a floor).
        percentile_jitter: the contract's low/high percentiles move by up to this many points. Defaults to 1.0.
        range_jitter_c: with the "fixed" mapping, min/max °C move by up to this much. Defaults to 3.0.
        crop_scale: random resized crop: each side keeps a fraction U(1 - crop_scale, 1) of the frame, at a random
            place, stretched back to the full frame. Defaults to 0.3.
        rotation_deg: largest rotation of the frame about its centre, degrees. Defaults to 8.
        translate: largest shift of the frame, as a fraction of its width and height. Defaults to 0.05.
        gain: the scene's contrast about its median °C is scaled by U(1 - gain, 1 + gain). Only the "fixed"
            mapping sees it (the percentile stretch cancels any gain and offset). Defaults to 0.1.
        offset_c: the whole scene moves by U(-offset_c, offset_c) °C ("fixed" mapping only). Defaults to 2.0.
        gradient_c: a linear flat-field ramp of up to this many °C from one edge to the other, in a random
            direction. Defaults to 1.0.
        noise_c: white sensor noise, std U(0, noise_c) °C per pixel. Defaults to 0.15.
        lowres: probability of seeing the scene through a ``lowres_hw`` sensor. Defaults to 0.2.
        lowres_hw: (height, width) of that sensor. Defaults to (24, 32) (MLX90640).
    """

    hflip: float = 0.5
    vflip: float = 0.0
    percentile_jitter: float = 1.0
    range_jitter_c: float = 3.0
    crop_scale: float = 0.3
    rotation_deg: float = 8.0
    translate: float = 0.05
    gain: float = 0.1
    offset_c: float = 2.0
    gradient_c: float = 1.0
    noise_c: float = 0.15
    lowres: float = 0.2
    lowres_hw: tuple[int, int] = (24, 32)

    def __post_init__(self) -> None:
        if not (0 <= self.hflip <= 1 and 0 <= self.vflip <= 1 and 0 <= self.lowres <= 1):
            raise ConfigError(f"thermal augmentation out of range: {self}; flips and lowres are probabilities in "
                              "[0, 1].")
        if self.percentile_jitter < 0 or self.range_jitter_c < 0 or self.offset_c < 0 or self.gradient_c < 0 \
                or self.noise_c < 0:
            raise ConfigError(f"thermal augmentation needs non-negative jitters, offsets and noise, got {self}.")
        if not (0 <= self.crop_scale < 1 and 0 <= self.gain < 1 and 0 <= self.translate < 0.5):
            raise ConfigError(f"thermal augmentation out of range: crop_scale={self.crop_scale}, gain={self.gain}, "
                              f"translate={self.translate}; need 0<=crop_scale<1, 0<=gain<1, 0<=translate<0.5 "
                              "(e.g. 0.3, 0.1, 0.05).")
        if not 0 <= self.rotation_deg <= 45:
            raise ConfigError(f"thermal rotation_deg={self.rotation_deg} is outside [0, 45]; a camera is mounted "
                              "upright give or take a few degrees (e.g. 8).")
        if len(self.lowres_hw) != 2 or min(self.lowres_hw) < 2:
            raise ConfigError(f"thermal lowres_hw={self.lowres_hw} must be (height, width) of at least 2x2 pixels, "
                              "e.g. (24, 32) for an MLX90640.")


Augment = ImuAugment | ThermalAugment


def augment_to_dict(aug: Augment) -> dict[str, Any]:
    """JSON-able dict with the kind, for cache keys and checkpoint metadata."""
    return {"kind": type(aug).__name__, **asdict(aug)}


def no_augment(aug: Augment) -> Augment:
    """The same kind of augmentation with every transform off."""
    shape: dict[str, Any] = {"time_warp_knots": 1, "lowres_hw": getattr(aug, "lowres_hw", None)}  # not strengths
    zero: dict[str, Any] = {f.name: shape.get(f.name, 0) for f in dataclasses.fields(aug)}
    return type(aug)(**zero)


def view_rng(seed: int, index: int, view: int) -> np.random.Generator:
    """The generator for one (window, view): the same numbers in every process and on every rank."""
    return np.random.default_rng([seed, index, view, 0xEB])


def random_rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    """A (3, 3) rotation about a uniform random axis by an angle uniform in [-max_deg, max_deg] (Rodrigues)."""
    axis = rng.normal(size=3)
    axis /= max(float(np.linalg.norm(axis)), 1e-12)
    theta = np.deg2rad(rng.uniform(-max_deg, max_deg))
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(theta) * k + (1 - np.cos(theta)) * (k @ k)


def time_warp(x: np.ndarray, rng: np.random.Generator, sigma: float, knots: int) -> np.ndarray:
    """Resample ``x`` (C, T) along a smooth monotonic warp with fixed ends (speed ~ N(1, sigma) at knots)."""
    T = x.shape[-1]
    speed_knots = np.clip(rng.normal(1.0, sigma, size=knots + 2), 0.2, None)
    speed = np.interp(np.linspace(0, knots + 1, T), np.arange(knots + 2), speed_knots)  # (T,) smooth
    warped = np.cumsum(speed)
    warped = (warped - warped[0]) / (warped[-1] - warped[0]) * (T - 1)  # monotonic, 0 .. T-1
    grid = np.arange(T, dtype=np.float64)
    return np.stack([np.interp(warped, grid, ch) for ch in x])


def imu_view(window: np.ndarray, aug: ImuAugment, rng: np.random.Generator) -> np.ndarray:
    """One augmented IMU window.

    Args:
        window: (6, T) float32, accel x,y,z (m/s²) then gyro x,y,z (rad/s).
        aug: strengths.
        rng: from :func:`view_rng`.

    Returns:
        (6, T) float32.
    """
    x = window.astype(np.float64, copy=True)
    if aug.rotation_deg > 0:
        r = random_rotation(rng, aug.rotation_deg)
        x[:3] = r @ x[:3]  # the same frame rotation for both triads: (3, 3) @ (3, T)
        x[3:] = r @ x[3:]
    if aug.gain > 0:
        x *= rng.uniform(1 - aug.gain, 1 + aug.gain, size=(6, 1))
    if aug.time_warp > 0:
        x = time_warp(x, rng, aug.time_warp, aug.time_warp_knots)
    if aug.jitter_accel_mps2 > 0:
        x[:3] += rng.normal(0.0, aug.jitter_accel_mps2, size=x[:3].shape)
    if aug.jitter_gyro_rads > 0:
        x[3:] += rng.normal(0.0, aug.jitter_gyro_rads, size=x[3:].shape)
    return x.astype(np.float32)


def warp_frame(frame_c: np.ndarray, aug: ThermalAugment, rng: np.random.Generator) -> np.ndarray:
    """One affine warp of an (H, W) frame: random resized crop, rotation and shift, bilinear, edges replicated.

    The crop keeps the aspect ratio, so a 4:3 sensor stays 4:3 for the contract's resize and centre crop.
    """
    from scipy.ndimage import affine_transform

    h, w = frame_c.shape
    side = rng.uniform(1.0 - aug.crop_scale, 1.0)  # fraction of each side kept by the crop
    theta = np.deg2rad(rng.uniform(-aug.rotation_deg, aug.rotation_deg))
    room = (1.0 - side) / 2  # how far the crop's centre may move and stay inside the frame, per unit side
    shift = np.array([h, w]) * (rng.uniform(-room, room, size=2) + rng.uniform(-aug.translate, aug.translate, 2))
    c, s = np.cos(theta), np.sin(theta)
    # output (row, col) -> input (row, col): about the centre, scaled by `side`, rotated, shifted
    matrix = side * np.array([[c, -s], [s, c]])
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    offset = centre + shift - matrix @ centre
    return affine_transform(frame_c.astype(np.float64), matrix, offset=offset, order=1, mode="nearest")


def downsample_area(frame_c: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """(H, W) -> ``hw`` by averaging the source pixels each target pixel covers (a coarser sensor's pixel)."""
    h, w = frame_c.shape
    rows = np.minimum((np.arange(h) * hw[0]) // h, hw[0] - 1)  # target row of each source row
    cols = np.minimum((np.arange(w) * hw[1]) // w, hw[1] - 1)
    total = np.zeros(hw)
    np.add.at(total, (rows[:, None], cols[None, :]), frame_c)
    count = np.zeros(hw)
    np.add.at(count, (rows[:, None], cols[None, :]), 1.0)
    return total / np.maximum(count, 1.0)


def thermal_scene_view(frame_c: np.ndarray, aug: ThermalAugment, rng: np.random.Generator) -> np.ndarray:
    """The temperature-domain part of a thermal view: (H, W) °C -> (H', W') float64 °C (H', W' = ``lowres_hw``
    when the low-resolution sensor was drawn, else H, W)."""
    x = np.asarray(frame_c, dtype=np.float64)
    if aug.gain > 0 or aug.offset_c > 0:
        med = float(np.median(x))
        x = med + (x - med) * rng.uniform(1 - aug.gain, 1 + aug.gain) + rng.uniform(-aug.offset_c, aug.offset_c)
    if aug.gradient_c > 0:
        h, w = x.shape
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w]
        ramp = np.cos(angle) * (xx / max(w - 1, 1) - 0.5) + np.sin(angle) * (yy / max(h - 1, 1) - 0.5)  # (H, W)
        x = x + rng.uniform(-aug.gradient_c, aug.gradient_c) * ramp
    if aug.crop_scale > 0 or aug.rotation_deg > 0 or aug.translate > 0:
        x = warp_frame(x, aug, rng)
    if aug.lowres > 0 and rng.uniform() < aug.lowres:
        x = downsample_area(x, aug.lowres_hw)
    if aug.noise_c > 0:
        x = x + rng.normal(0.0, rng.uniform(0, aug.noise_c), size=x.shape)
    return x


def thermal_view(frame_c: np.ndarray, contract: ThermalContract, aug: ThermalAugment,
                 rng: np.random.Generator) -> np.ndarray:
    """One augmented thermal input.

    Args:
        frame_c: (H, W) temperatures in °C (or raw counts with the percentile mapping).
        contract: the thermal contract whose mapping range is jittered.
        aug: strengths.
        rng: from :func:`view_rng`.

    Returns:
        (1, size, size) float32 in [0, 1].
    """
    c = contract
    if contract.mapping == "percentile" and aug.percentile_jitter > 0:
        j = aug.percentile_jitter
        low = float(np.clip(c.low_percentile + rng.uniform(-j, j), 0.0, 49.0))
        high = float(np.clip(c.high_percentile + rng.uniform(-j, j), 51.0, 100.0))
        c = dataclasses.replace(contract, low_percentile=low, high_percentile=high)
    elif contract.mapping == "fixed" and aug.range_jitter_c > 0:
        j = aug.range_jitter_c
        lo, hi = c.min_temp_c + rng.uniform(-j, j), c.max_temp_c + rng.uniform(-j, j)
        if hi - lo < 1.0:
            hi = lo + 1.0
        c = dataclasses.replace(contract, min_temp_c=lo, max_temp_c=hi)
    x = map_temperature(thermal_scene_view(frame_c, aug, rng), c)  # (H', W') in [0, 1]
    if rng.uniform() < aug.hflip:
        x = x[:, ::-1]
    if rng.uniform() < aug.vflip:
        x = x[::-1, :]
    return to_model_input(np.ascontiguousarray(x), contract.size)[0]


def make_view(raw: np.ndarray, modality: str, contract: Any, aug: Augment, seed: int, index: int,
              view: int) -> np.ndarray:
    """Model input for window ``index``, view ``view`` (0 = clean): IMU (6, T), thermal (1, S, S) float32."""
    if view == 0:
        aug = no_augment(aug)
    rng = view_rng(seed, index, view)
    if modality == "imu":
        assert isinstance(aug, ImuAugment)
        return imu_view(raw, aug, rng)
    assert isinstance(aug, ThermalAugment)
    return thermal_view(raw, contract, aug, rng)


def make_batch(raw: np.ndarray, modality: str, contract: Any, aug: Augment, seed: int, index: np.ndarray,
               view: np.ndarray) -> np.ndarray:
    """Stacked views: (B, 6, T) or (B, 1, S, S) float32 for windows ``index`` at views ``view`` (both (B,))."""
    return np.stack([make_view(raw[i], modality, contract, aug, seed, int(i), int(v))
                     for i, v in zip(index, view, strict=True)])
