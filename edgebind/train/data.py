"""Training windows from Recordings, through the same input contracts the stream uses.

IMU windows come from :func:`edgebind.preprocess.imu.windows_from_recording` (resampled to the contract's 400 Hz
grid, never spanning a timestamp gap), so a student sees exactly what ``edgebind stream`` will feed it. Thermal
windows are single frames kept in °C; the intensity mapping runs when a view is made, because its range is one of
the augmentations.

Every window carries the segment (gap-free stretch of one recording) it came from, so held-out windows can be
split by segment: overlapping windows of one stretch never land on both sides of a split.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bridge.recording import Recording
from edgebind.errors import ConfigError, InputError
from edgebind.preprocess.imu import DEFAULT_IMU_CONTRACT, ImuContract, split_at_gaps, windows_from_recording
from edgebind.preprocess.thermal import DEFAULT_THERMAL_CONTRACT, ThermalContract

logger = logging.getLogger(__name__)


@dataclass
class WindowSet:
    """Windows of one modality with their provenance.

    Attributes:
        modality: "imu" or "thermal".
        raw: IMU (K, 6, num_samples) float32 model-ready windows in SI units; thermal (K, H, W) float32 frames in
            °C (or raw counts), mapped to intensity when a view is made.
        labels: (K,) str, the recording's label in force at each window's middle ('' where unlabelled).
        segments: (K,) int64 id of the gap-free stretch each window came from (unique across recordings).
        t_ns: (K,) int64 device time of each window's last sample (thermal: the frame time).
        sources: names of the recordings, in order.
        contract: the ImuContract or ThermalContract the windows follow.
    """

    modality: str
    raw: np.ndarray
    labels: np.ndarray
    segments: np.ndarray
    t_ns: np.ndarray
    sources: list[str] = field(default_factory=list)
    contract: ImuContract | ThermalContract = DEFAULT_IMU_CONTRACT

    def __len__(self) -> int:
        return len(self.raw)

    def subset(self, index: np.ndarray) -> WindowSet:
        """The windows at ``index`` (an int array), same modality and contract."""
        return WindowSet(self.modality, self.raw[index], self.labels[index], self.segments[index],
                         self.t_ns[index], list(self.sources), self.contract)

    def content_hash(self) -> str:
        """sha256 over the windows, labels and contract: the data half of every cache key."""
        h = hashlib.sha256(self.modality.encode())
        h.update(np.ascontiguousarray(self.raw).tobytes())
        h.update(json.dumps(self.labels.tolist()).encode())
        h.update(json.dumps(self.contract.to_dict(), sort_keys=True).encode())
        return h.hexdigest()

    @property
    def label_names(self) -> list[str]:
        """Distinct non-empty labels, sorted."""
        return sorted({str(x) for x in self.labels if x})


def label_pieces(rec: Recording) -> list[Recording]:
    """``rec`` cut at every label start, so that no window mixes two labelled cases (one piece when unlabelled)."""
    if rec.labels is None or rec.label_t_ns is None or len(rec.labels) == 0:
        return [rec]
    bounds = np.searchsorted(rec.imu_t_ns, rec.label_t_ns, side="left")
    edges = sorted({0, *bounds.tolist(), len(rec.imu_t_ns)})
    pieces = []
    for a, b in itertools.pairwise(edges):
        if b - a >= 2:
            pieces.append(Recording(imu=rec.imu[a:b], imu_t_ns=rec.imu_t_ns[a:b], labels=rec.labels,
                                    label_t_ns=rec.label_t_ns, meta=rec.meta))
    return pieces


def _imu_windows(rec: Recording, hop_s: float, contract: ImuContract, segment_base: int, by_label: bool
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    out_w, out_lab, out_seg, out_t = [], [], [], []
    longest_error: InputError | None = None
    base = segment_base
    for piece in label_pieces(rec) if by_label else [rec]:
        try:
            windows, end_t_ns = windows_from_recording(piece, hop_s, contract)
        except InputError as exc:
            longest_error = exc
            continue
        stretches = split_at_gaps(piece.imu_t_ns)
        starts = np.array([int(piece.imu_t_ns[s.start]) for s in stretches], dtype=np.int64)
        segment = np.searchsorted(starts, end_t_ns, side="right") - 1  # stretch holding each window's end
        mid_t_ns = end_t_ns - np.int64(round(contract.window_s * 5e8))
        out_w.append(windows)
        out_lab.append(rec.label_at(mid_t_ns))
        out_seg.append(segment.astype(np.int64) + base)
        out_t.append(end_t_ns)
        base += len(stretches)
    if not out_w:
        assert longest_error is not None
        raise longest_error
    return np.concatenate(out_w), np.concatenate(out_lab), np.concatenate(out_seg), np.concatenate(out_t)


def windows_from_recordings(
    recordings: list[Recording],
    modality: str,
    hop_s: float = 1.0,
    imu_contract: ImuContract = DEFAULT_IMU_CONTRACT,
    thermal_contract: ThermalContract = DEFAULT_THERMAL_CONTRACT,
    frame_stride: int = 1,
    by_label: bool = True,
) -> WindowSet:
    """Cut recordings into training windows of one modality.

    Args:
        recordings: Recordings (see :mod:`edgebind.bridge.recording`).
        modality: "imu" or "thermal".
        hop_s: seconds between IMU window starts. Defaults to 1.0 (5 s windows overlap by 4 s).
        imu_contract: the IMU contract. Defaults to 6 x 2000 at 400 Hz.
        thermal_contract: the thermal contract, stored with the set. Defaults to a 1-99 percentile stretch.
        frame_stride: keep every n-th thermal frame (neighbouring frames are near duplicates). Defaults to 1.
        by_label: cut IMU recordings at every label start (BasicMotions lays its 10 s cases end to end), so each
            window holds one case. Defaults to True.

    Returns:
        A :class:`WindowSet`.

    Raises:
        InputError: no recording holds one full window of the modality (the message says how long they are).
        ConfigError: unknown modality or a stride below 1.
    """
    if modality not in ("imu", "thermal"):
        raise ConfigError(f"training supports modality 'imu' or 'thermal', got '{modality}'.")
    if frame_stride < 1:
        raise ConfigError(f"frame_stride must be >= 1, got {frame_stride}.")
    raws, labels, segments, times = [], [], [], []
    seg_base = 0
    problems: list[str] = []
    for i, rec in enumerate(recordings):
        name = str(rec.meta.get("source", f"recording {i}"))
        if modality == "imu":
            try:
                w, lab, seg, t = _imu_windows(rec, hop_s, imu_contract, seg_base, by_label)
            except InputError as exc:
                problems.append(f"{name}: {exc}")
                continue
            seg_base = int(seg.max()) + 1
        else:
            if rec.thermal is None or rec.thermal_t_ns is None or len(rec.thermal) == 0:
                problems.append(f"{name}: no thermal frames")
                continue
            keep = np.arange(0, len(rec.thermal), frame_stride)
            w, t = rec.thermal[keep], rec.thermal_t_ns[keep]
            lab = rec.label_at(t)
            seg = np.full(len(keep), seg_base, dtype=np.int64)  # one clip = one segment
            seg_base += 1
        raws.append(w)
        labels.append(lab)
        segments.append(seg)
        times.append(t)
    if not raws:
        detail = "; ".join(problems) if problems else "no recordings were given"
        raise InputError(f"no {modality} training windows: {detail}. Pass longer recordings with --data.")
    for p in problems:
        logger.warning("skipped %s", p)
    contract: ImuContract | ThermalContract = imu_contract if modality == "imu" else thermal_contract
    out = WindowSet(modality, np.concatenate(raws).astype(np.float32, copy=False), np.concatenate(labels),
                    np.concatenate(segments), np.concatenate(times),
                    [str(r.meta.get("source", i)) for i, r in enumerate(recordings)], contract)
    logger.info("%d %s windows from %d recording(s), %d segments", len(out), modality, len(recordings),
                len(np.unique(out.segments)))
    return out


def load_recordings(paths: list[str | Path]) -> list[Recording]:
    """Load Recording ``.npz`` files, recording each file name in ``meta['source']`` when it has none.

    Raises:
        SensorError: a file is missing or not a Recording.
    """
    recs = []
    for p in paths:
        rec = Recording.load(p)
        rec.meta.setdefault("source", Path(p).name)
        recs.append(rec)
    return recs


def split_holdout(windows: WindowSet, fraction: float, seed: int = 0) -> tuple[WindowSet, WindowSet]:
    """Split by segment: about ``fraction`` of the segments (at least one) become the held-out set.

    Where there is a single segment, its last ``fraction`` of windows in time is held out instead, with the
    windows that overlap the boundary dropped from training.

    Returns:
        (train, held_out).

    Raises:
        ConfigError: ``fraction`` outside (0, 1). InputError: too few windows to hold any out.
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"holdout fraction must be in (0, 1), got {fraction}; e.g. 0.2.")
    segs = np.unique(windows.segments)
    if len(segs) >= 2:
        rng = np.random.default_rng([seed, 7])
        n_eval = max(1, round(fraction * len(segs)))
        n_eval = min(n_eval, len(segs) - 1)
        held = rng.choice(segs, size=n_eval, replace=False)
        is_eval = np.isin(windows.segments, held)
        return windows.subset(np.flatnonzero(~is_eval)), windows.subset(np.flatnonzero(is_eval))
    order = np.argsort(windows.t_ns, kind="stable")
    n_eval = max(1, round(fraction * len(order)))
    if len(order) - n_eval < 1:
        raise InputError(
            f"only {len(order)} window(s) in one stretch: too few to hold any out for evaluation. Pass more "
            "data, or a separate --eval-data recording."
        )
    eval_idx = order[-n_eval:]
    window_ns = 0
    if isinstance(windows.contract, ImuContract):
        window_ns = round(windows.contract.window_s * 1e9)
    first_eval_start = int(windows.t_ns[eval_idx].min()) - window_ns
    train_idx = order[:-n_eval]
    train_idx = train_idx[windows.t_ns[train_idx] < first_eval_start] if window_ns else train_idx
    if len(train_idx) == 0:
        raise InputError(
            f"{len(order)} overlapping windows in one stretch leave none for training after holding out "
            f"{n_eval}; pass more data or a separate --eval-data recording."
        )
    return windows.subset(np.sort(train_idx)), windows.subset(np.sort(eval_idx))


def describe(windows: WindowSet) -> dict[str, Any]:
    """A JSON-able summary: counts per label, segments, sources."""
    names, counts = np.unique(windows.labels, return_counts=True)
    return {"modality": windows.modality, "windows": len(windows), "segments": len(np.unique(windows.segments)),
            "labels": {str(n) or "(none)": int(c) for n, c in zip(names, counts, strict=True)},
            "sources": windows.sources}
