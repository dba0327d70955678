"""Per-window truth from a label track or a CSV of intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebind.bridge.recording import Recording
from edgebind.errors import InputError
from edgebind.eval.truth import intervals_to_track, read_intervals, window_truth, with_truth

S = 1_000_000_000


def rec_of(seconds: float, t0_s: float = 100.0) -> Recording:
    t = np.arange(0, seconds, 0.01)
    return Recording(imu=np.zeros((len(t), 6)), imu_t_ns=np.round((t0_s + t) * S).astype(np.int64))


def test_csv_intervals_become_a_track_with_holes(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("start_s,end_s,label\n10,20,walk\n0,10,sit\n25,30,run\n")
    assert read_intervals(p) == [(0.0, 10.0, "sit"), (10.0, 20.0, "walk"), (25.0, 30.0, "run")]
    labels, t = intervals_to_track(read_intervals(p), 5 * S)
    assert labels.tolist() == ["sit", "walk", "", "run", ""]
    assert (t // S).tolist() == [5, 15, 25, 30, 35]


def test_a_window_has_truth_only_when_one_entry_covers_all_of_it(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("0,10,sit\n10,20,walk\n22,30,run\n")
    rec = with_truth(rec_of(30), p)  # times are seconds from the first sample (t0 = 100 s)
    start = (100 + np.array([0, 5, 6, 12, 16, 21, 22, 25])) * S
    wt = window_truth(rec, start, start + 4 * S)
    # [0,4] sit, [5,9] sit, [6,10] touches walk's start, [12,16] walk, [16,20] touches the hole, [21,25] starts in
    # the hole, [22,26] run, [25,29] run
    assert wt.labels.tolist() == ["sit", "sit", "", "walk", "", "", "run", "run"]
    assert wt.segment.tolist() == [0, 0, -1, 1, -1, -1, 3, 3]


@pytest.mark.parametrize(("text", "match"), [
    ("0,10\n", "2 cells"),
    ("0,10,sit\n5,15,walk\n", "overlap"),
    ("10,5,sit\n", "empty or unnamed"),
    ("start,end,label\nzero,10,sit\n", "not seconds"),
    ("# only a comment\n", "no intervals"),
])
def test_bad_truth_csv_says_what_is_wrong(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "t.csv"
    p.write_text(text)
    with pytest.raises(InputError, match=match):
        read_intervals(p)


def test_a_recording_without_a_track_says_how_to_give_one() -> None:
    with pytest.raises(InputError, match="--truth"):
        window_truth(rec_of(10), np.array([0]), np.array([1]))


def test_a_track_out_of_order_is_refused() -> None:
    rec = rec_of(10)
    rec.labels, rec.label_t_ns = np.array(["a", "b"]), rec.imu_t_ns[[500, 100]]
    with pytest.raises(InputError, match="goes back in time at entry 1 \\('b'\\)"):
        window_truth(rec, rec.imu_t_ns[:1], rec.imu_t_ns[1:2])
