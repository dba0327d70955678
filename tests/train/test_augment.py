"""Sensor-matched augmentations: rotation shared by both triads, fixed-end time warp, determinism, thermal views."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edgebind.errors import ConfigError
from edgebind.preprocess.thermal import ThermalContract, map_temperature, to_model_input
from edgebind.train.augment import (
    ImuAugment,
    ThermalAugment,
    imu_view,
    make_view,
    no_augment,
    thermal_scene_view,
    time_warp,
    view_rng,
)

ROT_ONLY = ImuAugment(rotation_deg=90, gain=0, jitter_accel_mps2=0, jitter_gyro_rads=0, time_warp=0)


def _window(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(6, 2000)).astype(np.float32)


def test_rotation_turns_accel_and_gyro_by_the_same_matrix() -> None:
    w = _window()
    w[3:] = w[:3]  # gyro == accel: only a joint rotation keeps them equal
    out = imu_view(w, ROT_ONLY, view_rng(0, 0, 1))
    np.testing.assert_allclose(out[3:], out[:3], atol=1e-6)
    # a rotation keeps each sample's vector length but changes the vector
    np.testing.assert_allclose(np.linalg.norm(out[:3], axis=0), np.linalg.norm(w[:3], axis=0), rtol=1e-5)
    assert np.abs(out[:3] - w[:3]).max() > 0.1


def test_rotation_of_gyro_differs_from_an_independent_one() -> None:
    w = _window(1)
    a = imu_view(w, ROT_ONLY, view_rng(0, 0, 1))
    b = imu_view(w, ROT_ONLY, view_rng(0, 0, 2))
    assert np.abs(a - b).max() > 0.1  # another view is another rotation


def test_time_warp_is_monotonic_with_fixed_ends() -> None:
    ramp = np.tile(np.linspace(0, 1, 2000), (6, 1))
    out = time_warp(ramp, np.random.default_rng(3), sigma=0.3, knots=4)
    assert out[0, 0] == pytest.approx(0.0) and out[0, -1] == pytest.approx(1.0)
    assert np.all(np.diff(out[0]) >= 0)
    assert np.abs(out - ramp).max() > 1e-3


def test_views_are_deterministic_and_view0_is_clean() -> None:
    w, aug = _window(2), ImuAugment()
    a = make_view(w, "imu", None, aug, seed=5, index=3, view=2)
    b = make_view(w, "imu", None, aug, seed=5, index=3, view=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, make_view(w, "imu", None, aug, seed=6, index=3, view=2))
    np.testing.assert_array_equal(make_view(w, "imu", None, aug, seed=5, index=3, view=0), w)


def test_thermal_flip_and_range() -> None:
    frame = np.random.default_rng(0).uniform(10, 30, size=(120, 160)).astype(np.float32)
    contract = ThermalContract()
    flip = dataclasses.replace(no_augment(ThermalAugment()), hflip=1.0)  # the flip alone
    out = make_view(frame, "thermal", contract, flip, 0, 0, 1)
    expect = to_model_input(map_temperature(frame, contract)[:, ::-1].copy())[0]
    np.testing.assert_allclose(out, expect)
    jittered = make_view(frame, "thermal", contract, ThermalAugment(hflip=0, percentile_jitter=2.0), 0, 0, 1)
    assert jittered.shape == (1, 224, 224) and jittered.min() >= 0 and jittered.max() <= 1
    assert not np.allclose(jittered, make_view(frame, "thermal", contract, flip, 0, 0, 0))


def test_no_augment_and_bad_strengths() -> None:
    assert no_augment(ImuAugment()).rotation_deg == 0
    with pytest.raises(ConfigError, match="rotation_deg"):
        ImuAugment(rotation_deg=400)
    with pytest.raises(ConfigError, match="probabilities"):
        ThermalAugment(hflip=2)


# Thermal, in °C before the mapping. Each strength alone, with everything else off.
THERMAL_OFF = no_augment(ThermalAugment())


def _scene(seed: int = 0) -> np.ndarray:
    """A 120x160 frame with a vertical warm bar on a ramp: edges a warp must move."""
    frame = np.tile(np.linspace(5.0, 15.0, 160), (120, 1))
    frame[:, 70:90] += 20.0
    return frame + np.random.default_rng(seed).normal(0, 0.01, size=frame.shape)


def test_thermal_crop_zooms_in_and_is_deterministic_per_view() -> None:
    crop = dataclasses.replace(THERMAL_OFF, crop_scale=0.5)
    frame = _scene()
    a = thermal_scene_view(frame, crop, view_rng(3, 7, 1))
    np.testing.assert_array_equal(a, thermal_scene_view(frame, crop, view_rng(3, 7, 1)))
    assert not np.allclose(a, thermal_scene_view(frame, crop, view_rng(3, 7, 2)))
    # zooming in widens the 20-pixel bar by 1/side (side in [0.5, 1]; this draw is well inside)
    assert a.shape == frame.shape
    width = int((a[60] > 22.0).sum())
    assert 21 <= width <= 41 and width != 20, width
    a_view = make_view(frame, "thermal", ThermalContract(), crop, 3, 7, 1)
    assert not np.allclose(a_view, make_view(frame, "thermal", ThermalContract(), THERMAL_OFF, 3, 7, 1))


def test_thermal_rotation_tilts_a_vertical_edge() -> None:
    rot = dataclasses.replace(THERMAL_OFF, rotation_deg=20.0)
    out = thermal_scene_view(_scene(), rot, view_rng(0, 0, 1))
    left_edge = [int(np.argmax(out[r] > 22.0)) for r in (10, 110)]  # first warm column, top and bottom rows
    assert abs(left_edge[0] - left_edge[1]) >= 3, left_edge


def test_thermal_gradient_noise_and_lowres() -> None:
    frame = _scene()
    grad = thermal_scene_view(frame, dataclasses.replace(THERMAL_OFF, gradient_c=4.0), view_rng(0, 1, 1))
    ramp = grad - frame
    assert 0.05 < np.abs(ramp).max() <= 4.0 / 2 * np.sqrt(2) + 1e-9
    np.testing.assert_allclose(np.diff(ramp, 2, axis=1), 0, atol=1e-9)  # a plane: no curvature
    noisy = thermal_scene_view(frame, dataclasses.replace(THERMAL_OFF, noise_c=0.5), view_rng(0, 2, 1))
    assert 0.0 < float((noisy - frame).std()) <= 0.5 * 1.1
    low = thermal_scene_view(frame, dataclasses.replace(THERMAL_OFF, lowres=1.0), view_rng(0, 3, 1))
    assert low.shape == (24, 32)
    np.testing.assert_allclose(low[0, 0], frame[:5, :5].mean())  # each 5x5 block averaged
    assert make_view(frame, "thermal", ThermalContract(), dataclasses.replace(THERMAL_OFF, lowres=1.0),
                     0, 3, 1).shape == (1, 224, 224)


def test_thermal_view0_is_clean_with_every_default_on() -> None:
    frame, contract = _scene(), ThermalContract()
    clean = to_model_input(map_temperature(frame, contract))[0]
    np.testing.assert_array_equal(make_view(frame, "thermal", contract, ThermalAugment(), 0, 0, 0), clean)
    assert not np.allclose(make_view(frame, "thermal", contract, ThermalAugment(), 0, 0, 1), clean)
    assert THERMAL_OFF.lowres_hw == (24, 32) and THERMAL_OFF.crop_scale == 0 and THERMAL_OFF.noise_c == 0


@pytest.mark.parametrize("bad, match", [({"crop_scale": 1.0}, "crop_scale"), ({"translate": 0.5}, "translate"),
                                        ({"rotation_deg": 90}, "rotation_deg"), ({"noise_c": -1}, "non-negative"),
                                        ({"lowres": 1.5}, "probabilities"), ({"lowres_hw": (1, 32)}, "lowres_hw")])
def test_thermal_bounds(bad: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        ThermalAugment(**bad)  # type: ignore[arg-type]
