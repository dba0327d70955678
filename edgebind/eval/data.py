"""Labelled windows: recordings cut as ``stream`` cuts them, embedded once, with their truth and groups."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgebind.bridge.recording import Recording
from edgebind.errors import InputError
from edgebind.eval.truth import UNLABELLED, window_truth, with_truth
from edgebind.preprocess.imu import DEFAULT_IMU_CONTRACT, ImuContract, windows_from_recording
from edgebind.zeroshot import unit_rows

EMBED_BATCH = 64
GROUP_BY = ("auto", "recording", "segment")


@dataclass
class LabelledWindows:
    """Windows with truth, from one or more recordings (only windows that have a truth).

    Attributes:
        embeddings: (W, out_dim) float32 unit rows.
        truth: (W,) true label of each window.
        recording: (W,) index into ``sources``.
        segment: (W,) label-track entry of the window within its recording.
        start_t_ns, end_t_ns: (W,) device time of each window's first and last sample.
        sources: the recordings' paths.
        skipped: windows cut but not kept (straddling a label change, or unlabelled time).
    """

    embeddings: np.ndarray
    truth: np.ndarray
    recording: np.ndarray
    segment: np.ndarray
    start_t_ns: np.ndarray
    end_t_ns: np.ndarray
    sources: list[str]
    skipped: int = 0

    def __len__(self) -> int:
        return len(self.truth)

    def subset(self, keep: np.ndarray) -> LabelledWindows:
        """The windows where ``keep`` (a mask or index array) selects them."""
        return LabelledWindows(self.embeddings[keep], self.truth[keep], self.recording[keep], self.segment[keep],
                               self.start_t_ns[keep], self.end_t_ns[keep], self.sources, self.skipped)

    def groups(self, by: str) -> np.ndarray:
        """(W,) group id: one per recording, or one per label segment of a recording (never one per window)."""
        if by == "recording":
            return self.recording.astype(np.int64)
        return self.recording.astype(np.int64) * (1 << 32) + self.segment

    def overlaps(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Whether any window of index set ``a`` shares device time with any of ``b`` in the same recording."""
        for r in np.intersect1d(self.recording[a], self.recording[b]):
            aa, bb = a[self.recording[a] == r], b[self.recording[b] == r]
            if np.any((self.start_t_ns[aa][:, None] <= self.end_t_ns[bb][None, :])
                      & (self.start_t_ns[bb][None, :] <= self.end_t_ns[aa][:, None])):
                return True
        return False


def read_recording(path: str | Path) -> Recording:
    """A Recording from a file ``eval`` accepts: a Recording ``.npz``, or a ROS 2 bag ``.mcap`` whose
    ``std_msgs/msg/String`` topic becomes the label track (topics found by type; ``edgebind convert`` names them).

    Raises:
        SensorError: the file is missing or not a Recording or bag.
    """
    from edgebind.ros import load_recording

    return load_recording(path, modalities=("imu", "labels"))


def pick_group_by(windows: LabelledWindows, by: str = "auto") -> str:
    """``auto``: ``recording`` when every class occurs in at least two recordings, else ``segment``."""
    if by != "auto":
        return by
    per_class = [len(np.unique(windows.recording[windows.truth == c])) for c in np.unique(windows.truth)]
    return "recording" if per_class and min(per_class) >= 2 else "segment"


def load_windows(paths: Sequence[str | Path], embed: Callable[[np.ndarray], np.ndarray],
                 contract: ImuContract = DEFAULT_IMU_CONTRACT, hop_s: float = 1.0,
                 truth: Sequence[str | Path] = ()) -> LabelledWindows:
    """Cut each recording into windows as ``stream`` does, keep those with a truth, and embed them.

    Args:
        paths: Recording files.
        embed: the IMU encoder, (N, 6, T) -> (N, out_dim).
        contract: its input contract.
        hop_s: seconds between windows. Defaults to 1.0 (``stream``'s default).
        truth: CSV files of ``start_s,end_s,label`` intervals, one per recording in order (replacing their label
            tracks); empty to use the recordings' own label tracks.

    Raises:
        InputError: a truth count that does not match, or truth that covers no window of a recording.
    """
    if truth and len(truth) != len(paths):
        raise InputError(f"{len(truth)} --truth files for {len(paths)} recordings; give one start_s,end_s,label CSV "
                         "per recording, in the same order, or none to use the recordings' label tracks.")
    parts: list[tuple[np.ndarray, ...]] = []
    skipped = 0
    for i, path in enumerate(paths):
        rec = read_recording(path)
        if truth:
            rec = with_truth(rec, truth[i])
        windows, end = windows_from_recording(rec, hop_s, contract)
        start = end - round((contract.num_samples - 1) * contract.period_ns)
        wt = window_truth(rec, start, end)
        keep = wt.labels != UNLABELLED
        if not keep.any():
            track = sorted(set(rec.labels.tolist())) if rec.labels is not None else []
            raise InputError(f"the truth of {path} ({', '.join(track[:6]) or 'no labels'}) covers none of its "
                             f"{len(end)} windows of {contract.window_s:g} s; each label must last a whole window. "
                             "Check that the truth's times are seconds from the recording's start.")
        skipped += int((~keep).sum())
        emb = np.concatenate([np.asarray(embed(windows[keep][j:j + EMBED_BATCH]), dtype=np.float32)
                              for j in range(0, int(keep.sum()), EMBED_BATCH)])
        parts.append((emb, wt.labels[keep], np.full(int(keep.sum()), i), wt.segment[keep], start[keep], end[keep]))
    emb, labels, rec_idx, seg, start, end = (np.concatenate(x) for x in zip(*parts, strict=True))
    emb = unit_rows(emb)
    return LabelledWindows(emb.astype(np.float32), labels, rec_idx, seg, start, end, [str(p) for p in paths], skipped)
