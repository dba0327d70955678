"""Thermal calibration: raw counts -> degrees C, dead/stuck pixel detection and repair, intensity mapping fit.

The mapping from degrees C into the model's intensity domain is the thermal contract of
``edgebind.preprocess.thermal`` (a per-frame percentile stretch like a camera's 8-bit AGC, or a fixed range); the
profile stores its parameters as a ``ThermalContract`` dict. ImageBind's thermal tokens ignore a global intensity
scale but not an offset (SPEC.md §4), which is why the range is fitted and stored rather than guessed per run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgebind.calibration.profiles import (
    CalibrationProfile,
    ThermalCalibration,
    as_profile,
    check_profile_sensor,
    load_sensor_spec,
)
from edgebind.errors import ConfigError, InputError, SensorError, suggest

log = logging.getLogger(__name__)

PLAUSIBLE_SCENE_C = (-60.0, 200.0)  # a median scene temperature outside this means the units are wrong
_RING = np.ones((3, 3), dtype=bool)
_RING[1, 1] = False  # the 8 neighbours, not the pixel itself


def _units_table(sensor: str) -> dict[str, dict[str, Any]]:
    return dict(load_sensor_spec(sensor, "thermal")["raw_units"])


def resolve_raw_units(raw: np.ndarray, sensor: str, raw_units: str = "auto") -> str:
    """Pick the raw unit of a sensor's frames; "auto" tries each unit and keeps the one whose median is plausible.

    Raises:
        ConfigError: an unknown unit for this sensor.
        SensorError: "auto" finds no unit that gives a plausible scene temperature (e.g. Lepton with TLinear off).
    """
    spec = load_sensor_spec(sensor, "thermal")
    table = _units_table(sensor)
    if raw_units == "auto":
        raw_units = spec["default_raw_units"]
    if raw_units != "auto":
        if raw_units not in table:
            raise ConfigError(f"{spec['sensor']} has no raw unit '{raw_units}'.{suggest(raw_units, table)}")
        return raw_units
    med = float(np.nanmedian(np.asarray(raw, dtype=np.float64)))
    for name, entry in table.items():
        if name != "celsius" and PLAUSIBLE_SCENE_C[0] < med * entry["scale"] + entry["offset"] < PLAUSIBLE_SCENE_C[1]:
            log.info("%s: raw median %.1f reads as %s", spec["sensor"], med, name)
            return name
    if PLAUSIBLE_SCENE_C[0] < med < PLAUSIBLE_SCENE_C[1]:
        return "celsius"
    raise SensorError(
        f"{spec['sensor']} frames have median {med:.1f}, which is no plausible temperature in any known unit "
        f"({', '.join(table)}). For a Lepton, 14-bit counts under 16384 mean radiometry (TLinear) is off: enable "
        "RAD TLinear on the camera (PureThermal: Y16 radiometric mode), or pass --raw-units.")


def counts_to_celsius(raw: np.ndarray, sensor: str, raw_units: str = "auto") -> np.ndarray:
    """Convert a sensor's raw frame values to degrees C.

    Args:
        raw: (H, W) or (M, H, W) raw values: Lepton TLinear counts (kelvin x100 or x10), AMG8833 12-bit
            two's-complement counts (0.25 C/LSB), MLX90640 centi-C, or C already ("celsius").
        sensor: thermal sensor spec name.
        raw_units: a key of the spec's ``raw_units``, or "auto". Defaults to "auto".

    Returns:
        float32 array of the same shape in degrees C.
    """
    units = resolve_raw_units(raw, sensor, raw_units)
    entry = _units_table(sensor)[units]
    x = np.asarray(raw)
    if entry.get("signed") == "twos_complement":
        bits = int(entry["bits"])
        v = np.asarray(x, dtype=np.int64) & ((1 << bits) - 1)
        x = np.where(v >= 1 << (bits - 1), v - (1 << bits), v)  # sign-extend the 12-bit register value
    return (np.asarray(x, dtype=np.float64) * entry["scale"] + entry["offset"]).astype(np.float32)


def _as_stack(frames: np.ndarray) -> np.ndarray:
    x = np.asarray(frames, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or min(x.shape[1:]) < 3:
        raise InputError(f"thermal frames must be (H, W) or (M, H, W) with H, W >= 3, got shape {x.shape}.")
    return x


def detect_bad_pixels(frames_c: np.ndarray, k_sigma: float = 8.0, min_delta_c: float = 3.0,
                      min_fraction: float = 0.5, max_frames: int = 32) -> np.ndarray:
    """Find dead, stuck, hot and cold pixels.

    A pixel is bad when it is non-finite in any frame; when it never changes while the image's typical pixel does
    (stuck or dead, needs 2+ frames); or when it differs from the median of its 8 neighbours by more than
    ``max(k_sigma * robust_sigma, min_delta_c)`` in at least ``min_fraction`` of the frames (hot or cold; a warm
    animal passes through a pixel, a defect stays).

    Args:
        frames_c: (M, H, W) or (H, W) temperatures in C. More frames separate defects from scene detail.
        k_sigma: outlier threshold in robust standard deviations of the neighbour residual. Defaults to 8.
        min_delta_c: smallest residual that counts as an outlier, in C. Defaults to 3.0.
        min_fraction: fraction of frames a pixel must be an outlier in. Defaults to 0.5.
        max_frames: the spike test looks at this many evenly spaced frames (it costs three 3x3 filters per
            frame); the stuck test uses all. Defaults to 32.

    Returns:
        (K, 2) int array of (row, col), sorted.
    """
    from scipy.ndimage import median_filter, rank_filter

    x = _as_stack(frames_c)
    bad = ~np.all(np.isfinite(x), axis=0)
    x = np.where(np.isfinite(x), x, np.nanmedian(x))
    if len(x) >= 2:
        tstd = x.std(axis=0)
        typical = float(np.median(tstd))
        if typical > 0:
            bad |= tstd <= 0.02 * typical
    x = x[np.unique(np.linspace(0, len(x) - 1, min(len(x), max_frames)).round().astype(int))]
    ring = _RING[None]  # (1, 3, 3): the 8 neighbours within each frame, never across frames
    resid = x - median_filter(x, footprint=ring, mode="nearest")
    sigma = 1.4826 * np.median(np.abs(resid), axis=(1, 2), keepdims=True)  # (M, 1, 1) robust noise per frame
    # Beyond the second-highest (or below the second-lowest) neighbour: a spike, not an edge or a 1-px line,
    # which always has a neighbour on each side at its own level. Pairs of adjacent defects still count.
    excess = np.maximum(x - rank_filter(x, rank=-2, footprint=ring, mode="nearest"),
                        rank_filter(x, rank=1, footprint=ring, mode="nearest") - x)
    thresh = np.maximum(k_sigma * sigma, min_delta_c)
    bad |= np.mean(excess > thresh, axis=0) >= min_fraction
    return np.argwhere(bad).astype(np.int64)


def _repair_plan(bad: np.ndarray, shape: tuple[int, int], radius: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of bad pixels (K,) and of their neighbours (K, n), -1 where a neighbour is off-frame or bad."""
    h, w = shape
    bad_mask = np.zeros(shape, dtype=bool)
    bad_mask[bad[:, 0], bad[:, 1]] = True
    offs = [(dr, dc) for dr in range(-radius, radius + 1) for dc in range(-radius, radius + 1) if dr or dc]
    rows = bad[:, :1] + np.array([o[0] for o in offs])
    cols = bad[:, 1:] + np.array([o[1] for o in offs])
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    rr, cc = np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)
    ok = inside & ~bad_mask[rr, cc]
    return bad[:, 0] * w + bad[:, 1], np.where(ok, rr * w + cc, -1)


def repair_bad_pixels(frames: np.ndarray, bad_pixels: np.ndarray | list[list[int]]) -> np.ndarray:
    """Replace each bad pixel by the median of its good 3x3 neighbours (5x5 where all 8 are bad).

    Args:
        frames: (H, W) or (M, H, W) values (C or counts).
        bad_pixels: (K, 2) (row, col) list, as from :func:`detect_bad_pixels`.

    Returns:
        float32 copy of ``frames`` with the bad pixels repaired.
    """
    x = np.array(frames, dtype=np.float32)
    bad = np.asarray(bad_pixels, dtype=np.int64).reshape(-1, 2)
    if len(bad) == 0:
        return x
    stack = x[None] if x.ndim == 2 else x
    h, w = stack.shape[1:]
    if np.any(bad < 0) or np.any(bad[:, 0] >= h) or np.any(bad[:, 1] >= w):
        raise ConfigError(f"bad-pixel list has entries outside the {h}x{w} frame; the profile was made for "
                          "another frame size. Re-run 'edgebind calibrate thermal' for this sensor.")
    flat = stack.reshape(len(stack), -1)
    idx, nbr = _repair_plan(bad, (h, w), 1)
    lonely = np.all(nbr < 0, axis=1)
    if lonely.any():
        _, nbr5 = _repair_plan(bad, (h, w), 2)
        nbr = np.concatenate([nbr, np.full((len(nbr), nbr5.shape[1] - nbr.shape[1]), -1)], axis=1)
        nbr[lonely] = nbr5[lonely]
    vals = np.sort(np.where(nbr >= 0, flat[:, np.clip(nbr, 0, None)], np.nan), axis=2)  # (M, K, n), NaNs last
    count = (nbr >= 0).sum(axis=1)  # (K,) good neighbours
    lo = np.take_along_axis(vals, np.maximum((count - 1) // 2, 0)[None, :, None], axis=2)[..., 0]
    hi = np.take_along_axis(vals, np.maximum(count // 2, 0)[None, :, None], axis=2)[..., 0]
    fix = (lo + hi) / 2  # median of the good neighbours (np.nanmedian costs ~0.5 ms per call)
    fix = np.where((count > 0)[None, :], fix, np.median(flat, axis=1, keepdims=True))
    flat[:, idx] = fix
    return x


def fit_thermal_mapping(frames_c: np.ndarray, mode: str = "percentile", low_pct: float = 1.0,
                        high_pct: float = 99.0, margin_c: float = 1.0) -> tuple[dict[str, Any], dict[str, float]]:
    """Fit the degrees C -> intensity mapping (a ``ThermalContract`` dict) on calibration frames.

    Args:
        frames_c: (M, H, W) temperatures in C, bad pixels already repaired.
        mode: "percentile" (per-frame AGC-like stretch between ``low_pct`` and ``high_pct``) or "fixed" (one range
            for every frame: the pooled percentiles widened by ``margin_c`` and rounded out to 0.5 C).
        low_pct, high_pct: percentiles. Defaults to 1 and 99.
        margin_c: widening of the fixed range, in C. Defaults to 1.0.

    Returns:
        (contract dict for ``edgebind.preprocess.thermal.ThermalContract.from_dict``, measured statistics).
    """
    from edgebind.preprocess.thermal import ThermalContract

    x = _as_stack(frames_c)
    per_frame = np.percentile(x, [low_pct, high_pct], axis=(1, 2))  # (2, M)
    pooled_lo, pooled_hi = np.percentile(x, [low_pct, high_pct])
    stats = {"frame_low_c_median": float(np.median(per_frame[0])),
             "frame_high_c_median": float(np.median(per_frame[1])),
             "pooled_low_c": float(pooled_lo), "pooled_high_c": float(pooled_hi),
             "frame_span_c_min": float(np.min(per_frame[1] - per_frame[0]))}
    if mode == "percentile":
        contract = ThermalContract(mapping="percentile", low_percentile=low_pct, high_percentile=high_pct)
    elif mode == "fixed":
        lo = np.floor((pooled_lo - margin_c) * 2) / 2
        hi = max(np.ceil((pooled_hi + margin_c) * 2) / 2, lo + 0.5)
        contract = ThermalContract(mapping="fixed", min_temp_c=float(lo), max_temp_c=float(hi))
    else:
        raise ConfigError(f"unknown thermal mapping '{mode}'.{suggest(mode, ['percentile', 'fixed'])}")
    return contract.to_dict(), stats


def _temporal_noise_c(frames_c: np.ndarray) -> float:
    """Frame-to-frame noise in C: std of consecutive differences / sqrt(2), ignoring moving objects (> 1 C)."""
    if len(frames_c) < 2:
        return 0.0
    d = np.diff(frames_c, axis=0)
    d = d[np.abs(d) < 1.0]
    return float(d.std() / np.sqrt(2)) if d.size else 0.0


@dataclass
class ThermalCalibrationResult:
    """The thermal part of a profile plus the converted, repaired frames it was fitted on."""

    calibration: ThermalCalibration
    frames_c: np.ndarray
    report: dict[str, Any] = field(default_factory=dict)


def calibrate_thermal(frames_raw: np.ndarray, sensor: str, raw_units: str = "auto", mapping: str = "percentile",
                      low_pct: float = 1.0, high_pct: float = 99.0) -> ThermalCalibrationResult:
    """Fit a thermal calibration on a clip: units, bad pixels, intensity mapping.

    Args:
        frames_raw: (M, H, W) raw frames (counts or C, see :func:`counts_to_celsius`).
        sensor: thermal sensor spec name ("lepton3.5", "mlx90640", "amg8833").
        raw_units: unit of ``frames_raw`` or "auto". Defaults to "auto".
        mapping: "percentile" or "fixed". Defaults to "percentile".
        low_pct, high_pct: mapping percentiles. Defaults to 1 and 99.

    Raises:
        SensorError: frames of the wrong size for the sensor, or implausible units.
    """
    spec = load_sensor_spec(sensor, "thermal")
    raw = _as_stack(frames_raw)
    if tuple(raw.shape[1:]) != tuple(spec["frame_shape"]):
        raise SensorError(f"frames are {raw.shape[1]}x{raw.shape[2]} but a {spec['sensor']} gives "
                          f"{spec['frame_shape'][0]}x{spec['frame_shape'][1]}; pass the right --sensor "
                          f"(thermal sensors: lepton3.5 160x120, mlx90640 32x24, amg8833 8x8).")
    units = resolve_raw_units(raw, sensor, raw_units)
    temp_c = counts_to_celsius(raw, sensor, units)
    bad = detect_bad_pixels(temp_c)
    fixed = repair_bad_pixels(temp_c, bad)
    contract, stats = fit_thermal_mapping(fixed, mapping, low_pct, high_pct)
    noise = _temporal_noise_c(fixed)
    report = {"frames": len(raw), "raw_units": units, "bad_pixels": len(bad),
              "median_c": float(np.median(fixed)), "temporal_noise_c": noise, **stats}
    cal = ThermalCalibration(sensor=spec["sensor"], raw_units=units, frame_shape=list(raw.shape[1:]),
                             bad_pixels=bad.tolist(), mapping=contract, quality=report)
    log.info("thermal calibration: %d frames, %s, %d bad pixels", len(raw), units, len(bad))
    return ThermalCalibrationResult(cal, fixed, report)


def thermal_contract(profile: CalibrationProfile | dict[str, Any] | str) -> Any:
    """The profile's intensity mapping as an ``edgebind.preprocess.thermal.ThermalContract``."""
    from edgebind.preprocess.thermal import ThermalContract

    prof = as_profile(profile)
    if prof.thermal is None:
        raise ConfigError("the profile has no thermal part; add one with 'edgebind calibrate thermal'.")
    return ThermalContract.from_dict(prof.thermal.mapping)


def apply_thermal_profile(frames_raw: np.ndarray, profile: CalibrationProfile | dict[str, Any] | str,
                          sensor: str | None = None) -> np.ndarray:
    """Convert raw frames to C and repair the profile's bad pixels (pure numpy).

    Args:
        frames_raw: (H, W) or (M, H, W) in the profile's ``raw_units`` (C when the bridge already converted).
        profile: a :class:`CalibrationProfile`, its dict, or a path to its JSON.
        sensor: the thermal sensor the stream reports; when given it must match the profile.

    Returns:
        float32 degrees C, same shape. Map to intensity with ``map_temperature(x, thermal_contract(profile))``.

    Raises:
        ConfigError: no thermal part, another sensor, or a frame size that does not match the profile.
    """
    prof = as_profile(profile)
    if prof.thermal is None:
        raise ConfigError("the profile has no thermal calibration; add one with 'edgebind calibrate thermal PORT "
                          "-o PROFILE.json'.")
    if sensor:
        check_profile_sensor(prof, thermal_sensor=sensor)
    cal = prof.thermal
    x = np.asarray(frames_raw)
    if cal.frame_shape and tuple(x.shape[-2:]) != tuple(cal.frame_shape):
        raise ConfigError(f"thermal frame is {x.shape[-2]}x{x.shape[-1]} but the profile was made for "
                          f"{cal.frame_shape[0]}x{cal.frame_shape[1]} ({cal.sensor}); use that sensor's profile.")
    temp_c = counts_to_celsius(x, cal.sensor, cal.raw_units)
    return repair_bad_pixels(temp_c, cal.bad_pixels)
