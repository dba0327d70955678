"""Per-window truth: the Recording's label track, or a CSV of ``start_s,end_s,label`` intervals turned into one.

The label track (ARCHITECTURE.md, Recording) is ``labels`` (K,) strings and ``label_t_ns`` (K,) int64 device
times: label k is in force from ``label_t_ns[k]`` until the next entry; an empty string marks time nobody
labelled. Any source that fills these two arrays (``edgebind record``, ``convert``, an MCAP label topic, a CSV here)
works with ``eval`` unchanged.

A window's truth is the label in force over its whole span, and only when one track entry covers it from its first
to its last sample; a window that straddles a label change or unlabelled time has no truth and is not scored.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edgebind.bridge.recording import Recording
from edgebind.errors import InputError

UNLABELLED = ""


def read_intervals(path: str | Path) -> list[tuple[float, float, str]]:
    """Read a CSV of ``start_s,end_s,label`` rows (seconds from the recording's first IMU sample).

    An optional header row is skipped, ``#`` lines are comments.

    Raises:
        InputError: the file is missing, a row is not three cells, times are not numbers, an interval ends before
            it starts, or intervals overlap.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"truth CSV {path} does not exist; write rows of start_s,end_s,label.")
    with path.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].lstrip().startswith("#")]
    out: list[tuple[float, float, str]] = []
    for lineno, row in enumerate(rows, 1):
        if len(row) != 3:
            raise InputError(f"{path} row {lineno} has {len(row)} cells ({row}); write start_s,end_s,label.")
        try:
            start, end = float(row[0]), float(row[1])
        except ValueError:
            if lineno == 1:
                continue  # a header
            raise InputError(f"{path} row {lineno}: times {row[0]!r}, {row[1]!r} are not seconds; "
                             "write start_s,end_s,label with numbers.") from None
        label = row[2].strip()
        if end <= start or not label:
            raise InputError(f"{path} row {lineno}: interval {start}..{end} s '{label}' is empty or unnamed; "
                             "end_s must exceed start_s and the label must be given.")
        out.append((start, end, label))
    out.sort()
    for (s0, e0, l0), (s1, _, l1) in itertools.pairwise(out):
        if s1 < e0:
            raise InputError(f"{path}: intervals '{l0}' ({s0}..{e0} s) and '{l1}' (from {s1} s) overlap; "
                             "a window can have one true label only.")
    if not out:
        raise InputError(f"truth CSV {path} holds no intervals; write rows of start_s,end_s,label.")
    return out


def intervals_to_track(intervals: list[tuple[float, float, str]], t0_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, disjoint intervals -> (labels, label_t_ns), with ``""`` entries over the holes between them."""
    labels: list[str] = []
    times: list[int] = []
    for start, end, label in intervals:
        s_ns, e_ns = t0_ns + round(start * 1e9), t0_ns + round(end * 1e9)
        if times and labels[-1] == UNLABELLED and times[-1] == s_ns:
            labels.pop(), times.pop()  # the previous interval ends exactly where this starts
        labels += [label, UNLABELLED]
        times += [s_ns, e_ns]
    return np.array(labels, dtype=str), np.array(times, dtype=np.int64)


def with_truth(rec: Recording, truth_csv: str | Path) -> Recording:
    """A copy of ``rec`` whose label track comes from ``truth_csv`` (times relative to its first IMU sample)."""
    t0 = int(rec.imu_t_ns[0]) if len(rec.imu_t_ns) else 0
    labels, times = intervals_to_track(read_intervals(truth_csv), t0)
    return replace(rec, labels=labels, label_t_ns=times)


@dataclass(frozen=True)
class WindowTruth:
    """The truth of each window of one recording.

    Attributes:
        labels: (W,) the true label, ``""`` where the window has none (straddles a change or unlabelled time).
        segment: (W,) index of the label-track entry covering the window, -1 where none.
    """

    labels: np.ndarray
    segment: np.ndarray


def window_truth(rec: Recording, start_t_ns: np.ndarray, end_t_ns: np.ndarray) -> WindowTruth:
    """Truth of windows spanning ``start_t_ns[i]..end_t_ns[i]`` (device ns) from ``rec``'s label track.

    Raises:
        InputError: the recording has no label track (the message says how to give one), or one out of order.
    """
    if rec.labels is None or rec.label_t_ns is None or len(rec.labels) == 0:
        raise InputError(f"recording {rec.meta.get('source', '')!s} has no label track; pass --truth "
                         "intervals.csv (start_s,end_s,label rows) or record labels into it.")
    if np.any(np.diff(rec.label_t_ns) < 0):
        bad = int(np.argmax(np.diff(rec.label_t_ns) < 0)) + 1
        raise InputError(f"label_t_ns of {rec.meta.get('source', 'the recording')!s} goes back in time at entry {bad} "
                         f"('{rec.labels[bad]}'); sort the label track by time.")
    seg_start = np.searchsorted(rec.label_t_ns, start_t_ns, side="right") - 1
    seg_end = np.searchsorted(rec.label_t_ns, end_t_ns, side="right") - 1
    ok = (seg_start == seg_end) & (seg_start >= 0)
    labels = np.where(ok, rec.labels[np.clip(seg_start, 0, None)], UNLABELLED).astype(str)
    return WindowTruth(labels, np.where(ok & (labels != UNLABELLED), seg_start, -1))
