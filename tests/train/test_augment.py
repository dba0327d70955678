"""Sensor-matched augmentations: rotation shared by both triads, fixed-end time warp, determinism, thermal views."""

from __future__ import annotations

import numpy as np
import pytest

from edgebind.errors import ConfigError
from edgebind.preprocess.thermal import ThermalContract, map_temperature, to_model_input
from edgebind.train.augment import ImuAugment, ThermalAugment, imu_view, make_view, no_augment, time_warp, view_rng

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
    flip = ThermalAugment(hflip=1.0, vflip=0.0, percentile_jitter=0.0)
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
