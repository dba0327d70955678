"""Thermal calibration: unit conversion, bad pixels on real Lepton clips, mapping fit, applying a profile."""

from __future__ import annotations

import numpy as np
import pytest

from edgebind.calibration.profiles import CalibrationProfile
from edgebind.calibration.thermal import (
    apply_thermal_profile,
    calibrate_thermal,
    counts_to_celsius,
    detect_bad_pixels,
    fit_thermal_mapping,
    repair_bad_pixels,
    thermal_contract,
)
from edgebind.errors import ConfigError, SensorError

CLIPS = ("20240507-074536.cptv", "20240917-1921337.cptv")


def _clip(data_dir, name: str) -> np.ndarray:
    from edgebind.preprocess.thermal import load_cptv

    path = data_dir / "thermal" / name
    return load_cptv(path)[0]


def test_counts_to_celsius_per_sensor() -> None:
    # Lepton TLinear: kelvin x 100 (0.01 K) or x 10 (0.1 K).
    np.testing.assert_allclose(counts_to_celsius(np.array([[29315.0]]), "lepton3.5", "tlinear_0.01k"), [[20.0]],
                               atol=1e-4)
    np.testing.assert_allclose(counts_to_celsius(np.array([[2931.5]]), "lepton3.5", "tlinear_0.1k"), [[20.0]],
                               atol=1e-4)
    # "auto" picks the resolution whose scene temperature is plausible.
    np.testing.assert_allclose(counts_to_celsius(np.full((4, 4), 3081.5), "lepton3.5"), 35.0, atol=1e-4)
    np.testing.assert_allclose(counts_to_celsius(np.full((4, 4), 30815.0), "lepton3.5"), 35.0, atol=1e-3)
    # AMG8833: 12-bit two's complement, 0.25 C/LSB; 0xFFC is -4 LSB = -1 C.
    np.testing.assert_allclose(counts_to_celsius(np.array([[100, 0xFFC, 0x1F4]]), "amg8833"), [[25.0, -1.0, 125.0]])
    # MLX90640 over the edgebind link: int16 hundredths of a degree.
    np.testing.assert_allclose(counts_to_celsius(np.array([[2345]]), "mlx90640"), [[23.45]], atol=1e-5)


def test_non_radiometric_lepton_counts_are_refused_with_the_fix() -> None:
    with pytest.raises(SensorError, match=r"radiometry \(TLinear\) is off.*enable RAD TLinear"):
        counts_to_celsius(np.full((120, 160), 8192.0), "lepton3.5")
    with pytest.raises(ConfigError, match=r"no raw unit 'tlinear'.*Did you mean"):
        counts_to_celsius(np.zeros((8, 8)), "lepton3.5", "tlinear")


@pytest.mark.parametrize("clip", CLIPS)
def test_injected_dead_stuck_hot_cold_pixels_are_found_and_repaired_on_real_clips(data_dir, clip: str) -> None:
    temp_c = counts_to_celsius(_clip(data_dir, clip), "lepton3.5")
    clean = detect_bad_pixels(temp_c)
    rng = np.random.default_rng(0)
    flat = rng.choice(temp_c.shape[1] * temp_c.shape[2], 20, replace=False)
    rows, cols = np.unravel_index(flat, temp_c.shape[1:])
    bad = temp_c.copy()
    bad[:, rows[:5], cols[:5]] = -273.15  # dead (zero counts)
    bad[:, rows[5:10], cols[5:10]] = temp_c[0, rows[5:10], cols[5:10]]  # stuck at one reading
    bad[:, rows[10:15], cols[10:15]] += 5.0  # hot
    bad[:, rows[15:], cols[15:]] -= 5.0  # cold
    detected = detect_bad_pixels(bad)
    found = {tuple(x) for x in detected.tolist()}
    injected = set(zip(rows.tolist(), cols.tolist(), strict=True))
    false_pos = found - injected
    print(f"{clip}: clean clip flags {len(clean)} pixel(s); injected 20 -> found {len(found & injected)}, "
          f"{len(false_pos)} other(s) {sorted(false_pos)}")
    assert injected <= found
    assert len(false_pos) <= 2 and false_pos <= {tuple(x) for x in clean.tolist()}
    fixed = repair_bad_pixels(bad, detected)
    err = np.abs(fixed[:, rows, cols] - temp_c[:, rows, cols])
    print(f"  repair error at injected pixels: median {np.median(err):.3f} C, p95 {np.percentile(err, 95):.3f} C")
    assert np.median(err) < 0.3


def test_repair_uses_good_neighbours_only() -> None:
    frame = np.arange(25, dtype=np.float32).reshape(5, 5)
    bad = np.array([[2, 2], [2, 3]])
    frame[2, 2], frame[2, 3] = 1000.0, -1000.0
    fixed = repair_bad_pixels(frame, bad)
    assert fixed[2, 2] == np.median([6, 7, 8, 11, 16, 17, 18])  # not the other bad pixel (2, 3)
    assert fixed[2, 3] == np.median([7, 8, 9, 14, 17, 18, 19])
    with pytest.raises(ConfigError, match=r"outside the 5x5 frame"):
        repair_bad_pixels(frame, [[7, 1]])


def test_mapping_fit_fixed_and_percentile(data_dir) -> None:
    temp_c = counts_to_celsius(_clip(data_dir, CLIPS[1]), "lepton3.5")
    fixed, stats = fit_thermal_mapping(temp_c, "fixed")
    assert fixed["mapping"] == "fixed"
    assert fixed["min_temp_c"] <= stats["pooled_low_c"] - 1.0 and fixed["max_temp_c"] >= stats["pooled_high_c"] + 1.0
    pct, _ = fit_thermal_mapping(temp_c, "percentile", 2.0, 98.0)
    assert pct["mapping"] == "percentile" and (pct["low_percentile"], pct["high_percentile"]) == (2.0, 98.0)
    with pytest.raises(ConfigError, match=r"Did you mean 'fixed'"):
        fit_thermal_mapping(temp_c, "fixd")


def test_calibrate_and_apply_on_a_real_clip(data_dir, tmp_path) -> None:
    from edgebind.preprocess.thermal import map_temperature, to_model_input

    raw = _clip(data_dir, CLIPS[0])
    result = calibrate_thermal(raw, "lepton3.5", mapping="fixed")
    rep = result.report
    print(f"{CLIPS[0]}: {rep['raw_units']}, median {rep['median_c']:.2f} C, noise {rep['temporal_noise_c']:.3f} C, "
          f"{rep['bad_pixels']} bad pixels, mapping {result.calibration.mapping}")
    assert rep["raw_units"] == "tlinear_0.01k"
    assert -10.0 < rep["median_c"] < 20.0  # a night-time outdoor scene
    assert 0.005 < rep["temporal_noise_c"] < 0.1  # Lepton NETD < 50 mK
    path = CalibrationProfile(thermal=result.calibration).save(tmp_path / "t.json")
    temp_c = apply_thermal_profile(raw[3], path)
    np.testing.assert_allclose(temp_c, result.frames_c[3], atol=1e-3)
    x = to_model_input(map_temperature(temp_c, thermal_contract(path)))
    assert x.shape == (1, 1, 224, 224) and x.min() >= 0.0 and x.max() <= 1.0
    with pytest.raises(ConfigError, match=r"made for thermal sensor 'lepton3.5' but .* 'mlx90640'"):
        apply_thermal_profile(raw[3], path, sensor="mlx90640")
    with pytest.raises(ConfigError, match=r"frame is 24x32 but the profile was made for 120x160"):
        apply_thermal_profile(np.zeros((24, 32)), path)
    with pytest.raises(ConfigError, match=r"no thermal calibration"):
        apply_thermal_profile(raw[3], CalibrationProfile(sensor="mpu6050"))
    with pytest.raises(SensorError, match=r"frames are 120x160 but a mlx90640 gives 24x32"):
        calibrate_thermal(raw, "mlx90640")
