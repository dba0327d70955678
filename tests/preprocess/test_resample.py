"""The one IMU resampler: live (chunks of any size) == offline (whole recording), and a real anti-alias filter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebind.bridge.recording import Recording
from edgebind.bridge.remix import retime
from edgebind.preprocess.imu import resample_imu, windows_from_recording
from edgebind.preprocess.resample import GridResampler, anti_alias_fir, filter_delay_s
from edgebind.stream.window import ImuWindower

DEMO = Path(__file__).resolve().parents[2] / "edgebind" / "data" / "demo" / "basicmotions_test.npz"


def _real_recording(rate_hz: float, seed: int) -> Recording:
    """BasicMotions TEST (real smartwatch motion) re-timed to ``rate_hz``, device times jittered by up to +-5 % of
    a period and a 0.4 s hole cut out of the middle, so there are two stretches."""
    rec = retime(Recording.load(DEMO), rate_hz)
    n = min(len(rec.imu_t_ns), int(30 * rate_hz))
    rng = np.random.default_rng(seed)
    t = rec.imu_t_ns[:n] + np.round(rng.uniform(-0.05, 0.05, n) * 1e9 / rate_hz).astype(np.int64) + 7_000_123
    keep = (t < t[n // 2]) | (t > t[n // 2] + 400_000_000)
    return Recording(imu=rec.imu[:n][keep].astype(np.float32), imu_t_ns=t[keep])


@pytest.mark.parametrize(("rate_hz", "filtered"), [(1000.0, True), (50.0, False)])
def test_live_windows_equal_offline_windows_bit_for_bit(rate_hz: float, filtered: bool) -> None:
    rec = _real_recording(rate_hz, seed=1)
    offline, offline_end = windows_from_recording(rec, hop_s=0.5)
    rng = np.random.default_rng(2)
    windower, live, ends = ImuWindower(hop_s=0.5), [], []
    i = 0
    while i < len(rec.imu_t_ns):
        m = int(rng.integers(1, 400))  # random-sized reads, from one sample up
        for w, end in windower.push(rec.imu_t_ns[i : i + m], rec.imu[i : i + m]):
            live.append(w)
            ends.append(end)
        i += m
    assert windower.resampler.gaps == 1
    assert bool(windower.resampler.stretch is not None and windower.resampler.stretch.up) == filtered
    assert len(live) == len(offline) >= 20
    np.testing.assert_array_equal(np.array(ends), offline_end)
    np.testing.assert_array_equal(np.stack(live), offline)  # the same samples, not merely close ones


def test_grid_resampler_is_exact_under_any_split() -> None:
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.integers(900_000, 1_100_000, 5000)).astype(np.int64)  # ~1 kHz, jittered
    x = rng.normal(size=(5000, 6))
    whole = GridResampler()
    t_all, x_all = whole.push(t, x)
    assert whole.up is not None and whole.up >= 5 and len(t_all) > 1900
    for seed in range(3):
        split = np.sort(np.random.default_rng(seed).choice(np.arange(1, 5000), 300, replace=False))
        r = GridResampler()
        parts = [r.push(t[a:b], x[a:b]) for a, b in zip([0, *split], [*split, 5000], strict=True)]
        np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), t_all)
        np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), x_all)


def _tone(freq_hz: float, src_hz: float = 1000.0, seconds: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    t_ns = np.round(np.arange(int(seconds * src_hz)) * 1e9 / src_hz).astype(np.int64)
    wave = np.sin(2 * np.pi * freq_hz * t_ns / 1e9)
    return t_ns, np.repeat(wave[:, None], 6, axis=1)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_tone_above_new_nyquist_is_attenuated_by_more_than_40_db() -> None:
    t_ns, x = _tone(300.0)  # 300 Hz at 1 kHz: above the 200 Hz Nyquist of the 400 Hz grid (would alias to 100 Hz)
    out, _ = resample_imu(x, t_ns, 400.0)
    attenuation_db = 20 * np.log10(_rms(x[:, 0]) / _rms(out[400:, 0]))
    assert attenuation_db >= 40.0  # the goal
    assert attenuation_db > 70.0  # measured 74.7 dB with the 60 dB Kaiser design


@pytest.mark.parametrize("freq_hz", [5.0, 20.0])
def test_in_band_tone_keeps_its_amplitude_and_phase(freq_hz: float) -> None:
    t_ns, x = _tone(freq_hz)
    out, grid = resample_imu(x, t_ns, 400.0)
    # the FIR's 30.5 ms delay is compensated: the sample at grid time t is the tone at t (5.8e-4 off at 20 Hz)
    np.testing.assert_allclose(out[400:, 0], np.sin(2 * np.pi * freq_hz * grid[400:] / 1e9), atol=1e-3)
    assert t_ns[-1] - grid[-1] <= filter_delay_s(1000.0) * 1e9 + 2.5e6  # only the filter's delay is lost at the end


def test_fir_design_pass_and_stop_bands() -> None:
    from scipy import signal

    taps = anti_alias_fir(400.0, 5)
    assert len(taps) % 2 == 1 and abs(taps.sum() - 1) < 1e-9
    f, h = signal.freqz(taps, worN=8192, fs=2000.0)
    gain_db = 20 * np.log10(np.maximum(np.abs(h), 1e-12))
    assert np.abs(gain_db[f <= 140.0]).max() < 0.02  # flat pass band
    assert gain_db[f >= 200.0].max() < -59.0  # >= 60 dB (design) from the new Nyquist up
    assert filter_delay_s(1000.0) == pytest.approx((len(taps) - 1) / 2 / 2000.0)
    assert filter_delay_s(100.0) == 0.0  # a source slower than the grid is not filtered


def test_slow_source_is_linear_interpolation() -> None:
    t_ns = np.arange(200, dtype=np.int64) * 10_000_000  # 100 Hz ramp: linear interpolation reproduces it
    x = np.repeat((t_ns / 1e9)[:, None], 6, axis=1)
    out, grid = resample_imu(x, t_ns, 400.0)
    assert len(grid) == 797 and grid[-1] == t_ns[-1]
    np.testing.assert_allclose(out[:, 3], grid / 1e9, atol=1e-6)
