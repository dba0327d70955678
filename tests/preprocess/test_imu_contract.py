"""The IMU input contract: shape checks, resampling, windows from recordings and CSV (ARCHITECTURE.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgebind.bridge.recording import Recording
from edgebind.errors import ConfigError, InputError
from edgebind.preprocess.imu import (
    ImuContract,
    check_imu_input,
    load_imu_csv,
    load_imu_input,
    resample_imu,
    windows_from_recording,
)


def _basic_motions_case(data_dir: Path, index: int = 0) -> tuple[np.ndarray, str]:
    """One real BasicMotions case: (100, 6) smartwatch accel+gyro at 10 Hz and its label."""
    path = data_dir / "imu" / "BasicMotions_TRAIN.ts"
    lines = [ln for ln in path.read_text().splitlines() if ln and ln[0] not in "#@"]
    *dims, label = lines[index].split(":")
    return np.array([[float(v) for v in d.split(",")] for d in dims]).T, label  # (6, 100) -> (100, 6)


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


# --- contract ---------------------------------------------------------------------------------------------


def test_contract_defaults_and_json_round_trip() -> None:
    c = ImuContract()
    assert c.channel_order[0] == "accel_x_mps2" and c.channel_order[5] == "gyro_z_rads"
    assert (c.sample_rate_hz, c.window_s, c.num_samples, c.period_ns) == (400.0, 5.0, 2000, 2.5e6)
    d = json.loads(json.dumps(c.to_dict()))
    assert ImuContract.from_dict(d) == c
    other = ImuContract(sample_rate_hz=200.0, window_s=10.0)
    assert ImuContract.from_dict(json.loads(json.dumps(other.to_dict()))) == other


def test_contract_rejects_bad_values() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'sample_rate_hz'"):
        ImuContract.from_dict({"sample_rate": 400.0})
    with pytest.raises(ConfigError, match=r"num_samples=2000 but 200\.0 Hz"):
        ImuContract(sample_rate_hz=200.0)
    with pytest.raises(ConfigError, match="3 channels"):
        ImuContract(channel_order=("ax", "ay", "az"))
    # every reader converts to SI, so a contract in other units could never be met
    with pytest.raises(ConfigError, match=r"accel_unit='g'.*set 'm/s\^2' and 'rad/s'"):
        ImuContract(accel_unit="g")
    with pytest.raises(ConfigError, match=r"gyro_unit='deg/s'"):
        ImuContract.from_dict({**ImuContract().to_dict(), "gyro_unit": "deg/s"})
    with pytest.raises(ConfigError, match="source_rate_hz=0"):
        ImuContract(source_rate_hz=0)


def test_contract_declares_training_data_and_old_manifests_still_load() -> None:
    c = ImuContract(gravity_included=False, source_rate_hz=10.0)
    assert ImuContract.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    old = {k: v for k, v in ImuContract().to_dict().items() if k != "source_rate_hz"}  # a manifest from before
    assert ImuContract.from_dict(old).source_rate_hz is None


# --- check_imu_input --------------------------------------------------------------------------------------


def test_check_accepts_model_shape_unchanged() -> None:
    x = np.random.default_rng(0).normal(size=(6, 2000))
    out = check_imu_input(x)
    assert out.shape == (1, 6, 2000) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0], x.astype(np.float32))
    batch = np.random.default_rng(1).normal(size=(3, 6, 2000)).astype(np.float32)
    assert check_imu_input(batch) is batch


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((3, 2000), r"3 channels .*needs 6, accel\+gyro.*zero gyro"),
        ((6, 1000), r"1000 samples per channel .*exactly 2000.*resampled to 400 Hz"),
        ((2, 6, 1000), r"1000 samples per channel"),
        ((2000, 6), r"channels-last.*np.swapaxes"),
        ((12000,), r"1-D.*expected \(6, 2000\) or \(N, 6, 2000\)"),
        ((1, 1, 6, 2000), r"4-D"),
        ((9, 2000), r"9 channels"),
    ],
)
def test_check_rejects_wrong_shapes(shape: tuple[int, ...], expected: str) -> None:
    with pytest.raises(InputError, match=expected) as exc:
        check_imu_input(np.zeros(shape, np.float32))
    assert str(shape) in _one_line(exc)


def test_check_rejects_nan() -> None:
    x = np.zeros((6, 2000))
    x[2, 7] = np.nan
    with pytest.raises(InputError, match="1 NaN/inf"):
        check_imu_input(x)


# --- resample_imu -----------------------------------------------------------------------------------------


def test_resample_upsamples_a_ramp_exactly() -> None:
    rng = np.random.default_rng(0)
    t_ns = np.cumsum(rng.integers(9_000_000, 11_000_000, size=300)).astype(np.int64)  # ~100 Hz, jittered
    ramp = (t_ns - t_ns[0]) / 1e9
    imu = np.stack([ramp * (c + 1) + c for c in range(6)], axis=1)
    out, grid = resample_imu(imu, t_ns, 400.0)
    assert out.dtype == np.float32 and grid.dtype == np.int64
    assert grid[0] == t_ns[0] and grid[-1] <= t_ns[-1] and t_ns[-1] - grid[-1] < 2_500_000
    np.testing.assert_array_equal(np.diff(grid), 2_500_000)
    expected = np.stack([(grid - t_ns[0]) / 1e9 * (c + 1) + c for c in range(6)], axis=1)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_resample_anti_aliases_when_downsampling() -> None:
    fs = 1000.0
    t_ns = np.round(np.arange(4000) * 1e9 / fs).astype(np.int64)
    ts = t_ns / 1e9
    slow = np.sin(2 * np.pi * 20 * ts)  # below the new 200 Hz Nyquist: kept
    fast = np.sin(2 * np.pi * 300 * ts)  # above it: would alias to 100 Hz without the filter
    imu = np.stack([slow, fast, slow + fast, np.zeros_like(ts), np.ones_like(ts), 9.81 * np.ones_like(ts)], 1)
    out, grid = resample_imu(imu, t_ns, 400.0)
    mid = slice(200, -200)  # away from the filter's edge transients
    np.testing.assert_allclose(out[mid, 0], np.sin(2 * np.pi * 20 * grid[mid] / 1e9), atol=0.02)
    assert np.abs(out[mid, 1]).max() < 0.02
    np.testing.assert_allclose(out[mid, 2], out[mid, 0], atol=0.02)
    np.testing.assert_allclose(out[:, 5], 9.81, rtol=1e-3)  # gravity (DC) survives the filter


def test_resample_rejects_bad_timestamps() -> None:
    with pytest.raises(InputError, match="strictly increasing"):
        resample_imu(np.zeros((3, 6)), np.array([0, 5, 5]), 400.0)
    with pytest.raises(InputError, match=r"imu \(N, 6\)"):
        resample_imu(np.zeros((3, 3)), np.array([0, 1, 2]), 400.0)


# --- windows_from_recording -------------------------------------------------------------------------------


def test_windows_from_real_basic_motions(data_dir: Path) -> None:
    imu, label = _basic_motions_case(data_dir)
    assert label in {"Standing", "Running", "Walking", "Badminton"}
    t_ns = np.arange(len(imu), dtype=np.int64) * 100_000_000 + 5_000_000_000  # 10 Hz device clock
    rec = Recording(imu=imu.astype(np.float32), imu_t_ns=t_ns)
    windows, end_t_ns = windows_from_recording(rec, hop_s=1.0)
    # 9.9 s span -> 3961 grid samples -> window starts 0, 400, ..., 1600
    assert windows.shape == (5, 6, 2000) and windows.dtype == np.float32
    np.testing.assert_array_equal(end_t_ns, t_ns[0] + (np.arange(5) * 400 + 1999) * 2_500_000)
    # every 40th grid sample falls on a real sample
    np.testing.assert_allclose(windows[0][:, ::40], imu[:50].T, atol=1e-6)
    np.testing.assert_allclose(windows[2][:, ::40], imu[20:70].T, atol=1e-6)


def test_short_recording_says_duration_found_and_needed() -> None:
    t_ns = np.arange(1200, dtype=np.int64) * 2_500_000  # 3 s at 400 Hz
    rec = Recording(imu=np.zeros((1200, 6), np.float32), imu_t_ns=t_ns)
    with pytest.raises(InputError, match=r"lasts 2.998 s .*needs 4.9975 s \(2000 samples at 400 Hz\)") as exc:
        windows_from_recording(rec)
    _one_line(exc)


def test_windows_never_span_a_gap() -> None:
    a = np.arange(2400, dtype=np.int64) * 2_500_000  # 6 s
    b = a + a[-1] + 1_000_000_000  # 1 s hole, then 6 s more
    t_ns = np.concatenate([a, b])
    imu = np.repeat(np.arange(len(t_ns), dtype=np.float32)[:, None], 6, axis=1)
    windows, end_t_ns = windows_from_recording(Recording(imu=imu, imu_t_ns=t_ns), hop_s=0.5)
    per_stretch = (2400 - 2000) // 200 + 1
    assert len(windows) == 2 * per_stretch
    starts = end_t_ns - 1999 * 2_500_000
    assert ((end_t_ns <= a[-1]) | (starts >= b[0])).all()
    np.testing.assert_array_equal(windows[per_stretch, 0, :3], [2400, 2401, 2402])


def test_hop_counts() -> None:
    t_ns = np.arange(4000, dtype=np.int64) * 2_500_000  # 10 s -> 4000 grid samples (last at 9.9975 s)
    rec = Recording(imu=np.zeros((4000, 6), np.float32), imu_t_ns=t_ns)
    assert len(windows_from_recording(rec, hop_s=5.0)[0]) == 2
    assert len(windows_from_recording(rec, hop_s=1.0)[0]) == 6
    assert len(windows_from_recording(rec, hop_s=0.25)[0]) == 21
    with pytest.raises(InputError, match="shorter than one sample"):
        windows_from_recording(rec, hop_s=0.0001)


# --- files ------------------------------------------------------------------------------------------------


def _write_csv(path: Path, header: str | None, t: np.ndarray | None, imu: np.ndarray) -> Path:
    cols = imu if t is None else np.column_stack([t, imu])
    lines = [] if header is None else [header]
    lines += [",".join(repr(float(v)) for v in row) for row in cols]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_with_timestamps_in_seconds_and_ns(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    t_s = 100.0 + np.arange(1300) / 100.0  # 13 s at 100 Hz
    imu = rng.normal(size=(1300, 6))
    p = _write_csv(tmp_path / "a.csv", "time,ax,ay,az,gx,gy,gz", t_s, imu)
    rec = load_imu_csv(p)
    assert rec.imu_rate_hz == pytest.approx(100.0, rel=1e-6) and rec.imu_t_ns[0] == 0
    windows = load_imu_input(p)
    assert windows.shape == (2, 6, 2000)
    np.testing.assert_allclose(windows[0][:, ::4], imu[:500].T, atol=1e-5)
    p_ns = _write_csv(tmp_path / "b.csv", "t_ns,ax,ay,az,gx,gy,gz", np.round(t_s * 1e9), imu)
    np.testing.assert_array_equal(load_imu_csv(p_ns).imu_t_ns, rec.imu_t_ns)


def test_csv_without_timestamps_needs_a_rate(tmp_path: Path) -> None:
    imu = np.random.default_rng(0).normal(size=(2100, 6))
    p = _write_csv(tmp_path / "c.csv", None, None, imu)
    with pytest.raises(InputError, match="no timestamp column; give its sample rate"):
        load_imu_csv(p)
    windows = load_imu_input(p, rate_hz=400.0)
    np.testing.assert_allclose(windows[0], imu[:2000].T, atol=1e-6)


def test_real_daphnet_csv_is_rejected_with_column_count(data_dir: Path) -> None:
    path = data_dir / "imu" / "daphnet_S06R02E0.csv"
    with pytest.raises(InputError, match=r"has 11 columns; expected 6 .* or a timestamp") as exc:
        load_imu_input(path)
    _one_line(exc)


def test_load_imu_input_npy_npz_and_unknown(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(2, 6, 2000)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.testing.assert_array_equal(load_imu_input(tmp_path / "x.npy"), x)
    np.save(tmp_path / "bad.npy", x[:, :3])
    with pytest.raises(InputError, match="3 channels"):
        load_imu_input(tmp_path / "bad.npy")
    t_ns = np.arange(2400, dtype=np.int64) * 2_500_000
    Recording(imu=np.ones((2400, 6), np.float32), imu_t_ns=t_ns).save(tmp_path / "r.npz")
    assert load_imu_input(tmp_path / "r.npz").shape == (1, 6, 2000)
    with pytest.raises(InputError, match=r"unknown extension '.txt'"):
        load_imu_input(tmp_path / "x.txt")
