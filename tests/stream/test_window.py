"""Streaming resampler and sliding window: same windows as the offline path, whatever the batch sizes."""

from __future__ import annotations

import numpy as np
import pytest

from edgebind.bridge.events import ImuBatch
from edgebind.bridge.recording import Recording
from edgebind.errors import ConfigError, InputError
from edgebind.preprocess.imu import windows_from_recording
from edgebind.stream.window import ImuWindower, SlidingWindow, StreamResampler


def _sine_recording(seconds: float, rate_hz: float, seed: int = 0, t0_ns: int = 1_234_567_890_123) -> Recording:
    """A 50 Hz sine (plus per-channel offsets, gravity-like) sampled with jittered device timestamps."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate_hz)
    jitter_s = rng.uniform(-0.1, 0.1, n) / rate_hz
    t_ns = t0_ns + np.round((np.arange(n) / rate_hz + jitter_s) * 1e9).astype(np.int64)
    ts = (t_ns - t0_ns) / 1e9
    imu = np.stack([np.sin(2 * np.pi * 50 * ts + c) + (9.81 if c == 2 else 0.1 * c) for c in range(6)], axis=1)
    return Recording(imu=imu.astype(np.float32), imu_t_ns=t_ns)


def _feed(windower: ImuWindower, rec: Recording, seed: int, max_batch: int = 300) -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(seed)
    out: list[tuple[np.ndarray, int]] = []
    i = 0
    while i < len(rec.imu_t_ns):
        k = int(rng.integers(1, max_batch))
        out += windower.push(rec.imu_t_ns[i : i + k], rec.imu[i : i + k])
        i += k
    return out


@pytest.mark.parametrize(("rate_hz", "hop_s", "seed"), [(200.0, 1.0, 0), (400.0, 0.5, 1), (250.0, 5.0, 2)])
def test_stream_equals_offline_windows(rate_hz: float, hop_s: float, seed: int) -> None:
    rec = _sine_recording(17.0, rate_hz, seed)
    offline, offline_end = windows_from_recording(rec, hop_s=hop_s)
    out = _feed(ImuWindower(hop_s=hop_s), rec, seed)
    assert len(out) == len(offline) > 0
    windows = np.stack([w for w, _ in out])
    assert windows.dtype == np.float32 and windows.shape[1:] == (6, 2000)
    np.testing.assert_allclose(windows, offline, rtol=0, atol=1e-6)
    np.testing.assert_array_equal([t for _, t in out], offline_end)


def test_one_sample_batches_equal_one_big_batch() -> None:
    rec = _sine_recording(6.0, 200.0)
    big = ImuWindower(hop_s=0.25).push(rec.imu_t_ns, rec.imu)
    one = ImuWindower(hop_s=0.25)
    small = [w for i in range(len(rec.imu_t_ns)) for w in one.push(rec.imu_t_ns[i : i + 1], rec.imu[i : i + 1])]
    grid_samples = len(StreamResampler().push(rec.imu_t_ns, rec.imu)[0].t_ns)
    assert len(big) == len(small) == 1 + (grid_samples - 2000) // 100
    for (wa, ta), (wb, tb) in zip(big, small, strict=True):
        np.testing.assert_array_equal(wa, wb)
        assert ta == tb


def test_sliding_window_hop_counts_and_contents() -> None:
    x = np.arange(25 * 2, dtype=np.float32).reshape(25, 2)
    t = np.arange(25, dtype=np.int64) * 10
    sw = SlidingWindow(num_samples=10, hop=3, channels=2)
    out = sw.push(t, x)
    assert len(out) == 1 + (25 - 10) // 3 == sw.windows
    for k, (w, end) in enumerate(out):
        assert w.shape == (2, 10) and w.dtype == np.float32
        np.testing.assert_array_equal(w, x[3 * k : 3 * k + 10].T)
        assert end == t[3 * k + 9]
    sw2 = SlidingWindow(num_samples=10, hop=3, channels=2)
    out2 = [o for i in range(25) for o in sw2.push(t[i : i + 1], x[i : i + 1])]
    assert [e for _, e in out2] == [e for _, e in out]
    # hop longer than the window: samples between windows are skipped
    sw3 = SlidingWindow(num_samples=4, hop=6, channels=2)
    out3 = sw3.push(t[:20], x[:20])
    assert [e for _, e in out3] == [t[3], t[9], t[15]]
    np.testing.assert_array_equal(out3[1][0], x[6:10].T)


def test_sliding_window_reset_and_errors() -> None:
    sw = SlidingWindow(num_samples=4, hop=2, channels=1)
    assert len(sw.push(np.arange(3), np.ones((3, 1)))) == 0
    sw.reset()
    assert len(sw.push(np.arange(3), np.ones((3, 1)))) == 0  # needs a full buffer again
    assert len(sw.push(np.arange(1), np.ones((1, 1)))) == 1
    with pytest.raises(InputError, match=r"samples \(n, 1\)"):
        sw.push(np.arange(3), np.ones((3, 2)))
    with pytest.raises(ConfigError, match=">= 1"):
        SlidingWindow(num_samples=10, hop=0)


def test_gap_restarts_grid_and_matches_offline() -> None:
    a = _sine_recording(7.0, 200.0, seed=3)
    b = _sine_recording(6.0, 200.0, seed=4, t0_ns=int(a.imu_t_ns[-1]) + 750_000_000)  # 0.75 s hole
    rec = Recording(imu=np.concatenate([a.imu, b.imu]), imu_t_ns=np.concatenate([a.imu_t_ns, b.imu_t_ns]))
    offline, offline_end = windows_from_recording(rec, hop_s=0.5)
    windower = ImuWindower(hop_s=0.5)
    out = _feed(windower, rec, seed=5)
    assert windower.resampler.gaps == 1
    np.testing.assert_allclose(np.stack([w for w, _ in out]), offline, atol=1e-6)
    ends = np.array([t for _, t in out])
    np.testing.assert_array_equal(ends, offline_end)
    starts = ends - 1999 * 2_500_000
    assert ((ends <= a.imu_t_ns[-1]) | (starts >= b.imu_t_ns[0])).all()  # no window spans the hole
    assert (starts >= b.imu_t_ns[0]).sum() == 1 + (int((b.imu_t_ns[-1] - b.imu_t_ns[0]) / 2.5e6) + 1 - 2000) // 200


def test_resampler_drops_non_increasing_and_accepts_imu_batch() -> None:
    r = StreamResampler(rate_hz=400.0)
    t = np.arange(9, dtype=np.int64) * 2_500_000
    assert r.push(t[:8], np.ones((8, 6))) == []  # the stretch's rate is not known before 8 intervals
    chunks = r.push(t[8:], np.ones((1, 6)))
    assert len(chunks) == 1 and chunks[0].new_grid and len(chunks[0].t_ns) == 9
    batch = ImuBatch(
        t_ns=np.array([20_000_000, 19_000_000, 22_500_000, 25_000_000], dtype=np.int64),
        accel_mps2=np.full((4, 3), 2.0, np.float32),
        gyro_rads=np.zeros((4, 3), np.float32),
    )
    chunks = r.push_batch(batch)
    assert r.dropped == 2 and r.gaps == 0
    assert len(chunks) == 1 and not chunks[0].new_grid
    np.testing.assert_array_equal(chunks[0].t_ns, [22_500_000, 25_000_000])
    np.testing.assert_allclose(chunks[0].imu[:, 0], [2.0, 2.0])
    assert r.push(np.array([1]), np.zeros((1, 6))) == []  # entirely in the past
    assert r.dropped == 3
    with pytest.raises(InputError, match=r"imu \(n, 6\)"):
        r.push(np.arange(2), np.zeros((2, 3)))


def test_held_batches_release_each_window_with_the_batch_that_completes_it() -> None:
    from edgebind.preprocess.resample import filter_delay_s

    windower = ImuWindower(hop_s=0.5)
    t = np.arange(12_000, dtype=np.int64) * 1_000_000  # 12 s at 1 kHz, fed as 10-sample reads
    x = np.zeros((12_000, 6))
    delay_ns = filter_delay_s(1000.0) * 1e9  # 30.5 ms: the anti-alias filter's
    ends = []
    for i in range(0, 12_000, 10):
        for _, end in windower.push(t[i : i + 10], x[i : i + 10]):
            assert t[i] <= end + delay_ns <= t[i + 9]  # this read completed the window, not a later one
            ends.append(end)
    assert len(ends) == 14 and ends[0] == 1999 * 2_500_000
