"""Training windows from real recordings, through the IMU contract; held-out splits by segment."""

from __future__ import annotations

import numpy as np
import pytest

from edgebind.bridge.recording import Recording
from edgebind.errors import InputError
from edgebind.preprocess.imu import windows_from_recording
from edgebind.train.data import split_holdout, windows_from_recordings


def test_basicmotions_windows_follow_the_contract_and_keep_cases_apart(basicmotions: dict) -> None:
    rec = basicmotions["TRAIN"]
    w = windows_from_recordings([rec], "imu", hop_s=1.0)
    # 40 cases of 9.9 s at 400 Hz -> 5 windows each with a 1 s hop; none spans two cases
    assert w.raw.shape == (200, 6, 2000) and w.raw.dtype == np.float32
    assert len(np.unique(w.segments)) == 40
    assert sorted(set(w.labels.tolist())) == ["Badminton", "Running", "Standing", "Walking"]
    # the first case's windows equal what the stream contract cuts from that case alone
    first = Recording(imu=rec.imu[:100], imu_t_ns=rec.imu_t_ns[:100])
    np.testing.assert_array_equal(w.raw[:5], windows_from_recording(first, 1.0)[0])
    # a window never mixes labels: all windows of one segment carry one label
    for seg in np.unique(w.segments):
        assert len(set(w.labels[w.segments == seg].tolist())) == 1


def test_holdout_split_is_by_segment(basicmotions: dict) -> None:
    w = windows_from_recordings([basicmotions["TRAIN"]], "imu")
    train, held = split_holdout(w, 0.25, seed=1)
    assert len(train) + len(held) == len(w)
    assert not set(train.segments.tolist()) & set(held.segments.tolist())
    assert len(np.unique(held.segments)) == 10


def test_too_short_for_one_window_names_the_durations() -> None:
    t = np.arange(300, dtype=np.int64) * 10_000_000  # 3 s at 100 Hz
    rec = Recording(imu=np.zeros((300, 6), np.float32), imu_t_ns=t, meta={"source": "short.npz"})
    with pytest.raises(InputError, match=r"short.npz.*too short for one IMU window.*2\.99"):
        windows_from_recordings([rec], "imu")


def test_thermal_frames_from_cptv(data_dir) -> None:  # type: ignore[no-untyped-def]
    from edgebind.bridge.convert import convert

    p = data_dir / "thermal" / "20240507-074536.cptv"
    w = windows_from_recordings([convert(p)], "thermal", frame_stride=5)
    assert w.raw.shape == (10, 120, 160) and w.modality == "thermal"
    with pytest.raises(InputError, match="no thermal frames"):
        windows_from_recordings([Recording(imu=np.zeros((2, 6)), imu_t_ns=[0, 1])], "thermal")
