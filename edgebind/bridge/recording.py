"""The Recording: real sensor data on disk, one ``.npz`` without pickles (ARCHITECTURE.md, Contracts).

Arrays:
    imu        (N, 6) float32: accel x,y,z in m/s^2 (gravity included) then gyro x,y,z in rad/s.
    imu_t_ns   (N,) int64: device time of each sample in nanoseconds, strictly increasing.
    thermal    (M, H, W) float32 in degrees Celsius (optional).
    thermal_t_ns (M,) int64 (optional, with ``thermal``).
    labels     (K,) unicode strings, the label that starts at ``label_t_ns[k]`` and holds until the next entry;
               ``""`` marks unlabelled time (optional). ``edgebind eval`` scores a window against the entry that
               covers all of it.
    label_t_ns (K,) int64 device times, non-decreasing (optional, with ``labels``).
    meta       a JSON string: sensor, rates, source, licence, counters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.atomicfile import atomic_write
from edgebind.errors import SensorError
from edgebind.npzfile import read_npz

IMU_CHANNELS = ("accel_x_mps2", "accel_y_mps2", "accel_z_mps2", "gyro_x_rads", "gyro_y_rads", "gyro_z_rads")


@dataclass
class Recording:
    """Sensor streams with device timestamps. See the module docstring for shapes and units."""

    imu: np.ndarray = field(default_factory=lambda: np.zeros((0, 6), np.float32))
    imu_t_ns: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    thermal: np.ndarray | None = None
    thermal_t_ns: np.ndarray | None = None
    labels: np.ndarray | None = None
    label_t_ns: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.imu = np.asarray(self.imu, dtype=np.float32).reshape(-1, 6)
        self.imu_t_ns = np.asarray(self.imu_t_ns, dtype=np.int64).reshape(-1)
        if len(self.imu) != len(self.imu_t_ns):
            raise SensorError(
                f"recording has {len(self.imu)} IMU samples but {len(self.imu_t_ns)} timestamps; "
                "imu and imu_t_ns must have the same length."
            )
        if len(self.imu_t_ns) > 1 and np.any(np.diff(self.imu_t_ns) <= 0):
            bad = int(np.argmax(np.diff(self.imu_t_ns) <= 0))
            raise SensorError(
                f"imu_t_ns is not strictly increasing at sample {bad + 1} "
                f"({self.imu_t_ns[bad]} -> {self.imu_t_ns[bad + 1]} ns); sort the samples or drop duplicates."
            )
        if self.thermal is not None:
            self.thermal = np.asarray(self.thermal, dtype=np.float32)
            if self.thermal.ndim != 3:
                raise SensorError(f"thermal must be (M, H, W) in degrees C, got shape {self.thermal.shape}.")
            if self.thermal_t_ns is None or len(self.thermal_t_ns) != len(self.thermal):
                raise SensorError("thermal needs thermal_t_ns with one device timestamp per frame.")
            self.thermal_t_ns = np.asarray(self.thermal_t_ns, dtype=np.int64)
        if self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=str)
            if self.label_t_ns is None or len(self.label_t_ns) != len(self.labels):
                raise SensorError("labels needs label_t_ns with one start time per label.")
            self.label_t_ns = np.asarray(self.label_t_ns, dtype=np.int64)

    @property
    def imu_rate_hz(self) -> float:
        """Median IMU sample rate from the device timestamps (0.0 with fewer than two samples)."""
        if len(self.imu_t_ns) < 2:
            return 0.0
        return float(1e9 / np.median(np.diff(self.imu_t_ns)))

    @property
    def duration_s(self) -> float:
        """Span of the IMU timestamps in seconds."""
        if len(self.imu_t_ns) < 2:
            return 0.0
        return float((self.imu_t_ns[-1] - self.imu_t_ns[0]) / 1e9)

    def label_at(self, t_ns: np.ndarray | int) -> np.ndarray:
        """Label in force at each device time ``t_ns`` ('' before the first label or without labels)."""
        t = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
        if self.labels is None or self.label_t_ns is None or len(self.labels) == 0:
            return np.full(t.shape, "", dtype=str)
        idx = np.searchsorted(self.label_t_ns, t, side="right") - 1
        out = np.where(idx >= 0, self.labels[np.clip(idx, 0, None)], "")
        return out.astype(str)

    def save(self, path: str | Path) -> Path:
        """Write the recording as a compressed ``.npz`` (no pickled objects), atomically: ``path`` holds the old
        file or the whole new one, never part of it. Returns the path written."""
        path = Path(path)
        arrays: dict[str, np.ndarray] = {"imu": self.imu, "imu_t_ns": self.imu_t_ns}
        if self.thermal is not None and self.thermal_t_ns is not None:
            arrays["thermal"] = self.thermal
            arrays["thermal_t_ns"] = self.thermal_t_ns
        if self.labels is not None and self.label_t_ns is not None:
            arrays["labels"] = self.labels
            arrays["label_t_ns"] = self.label_t_ns
        arrays["meta"] = np.array(json.dumps(self.meta, sort_keys=True))
        with atomic_write(path) as f:  # never half a file at ``path``: temp file, fsync, rename
            np.savez_compressed(f, **arrays)  # type: ignore[arg-type]
        return path

    @classmethod
    def load(cls, path: str | Path) -> Recording:
        """Read a recording written by :meth:`save`.

        Raises:
            SensorError: the file is missing, not an ``.npz``, or lacks ``imu``/``imu_t_ns``.
        """
        path = Path(path)
        if not path.is_file():
            raise SensorError(f"recording {path} does not exist; record one with 'edgebind record PORT -o {path}'.")
        data = read_npz(path, SensorError, "a Recording .npz", "record one with 'edgebind record'.")
        if "imu" not in data or "imu_t_ns" not in data:
            raise SensorError(f"{path} lacks 'imu'/'imu_t_ns' arrays (has {sorted(data)}); it is not a Recording.")
        meta = json.loads(str(data["meta"])) if "meta" in data else {}
        return cls(
            imu=data["imu"],
            imu_t_ns=data["imu_t_ns"],
            thermal=data.get("thermal"),
            thermal_t_ns=data.get("thermal_t_ns"),
            labels=data.get("labels"),
            label_t_ns=data.get("label_t_ns"),
            meta=meta,
        )
