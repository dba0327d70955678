"""Stationary segments of an IMU stream: automatic detection, motion and saturation checks, pose grouping.

A segment is stationary when the rolling standard deviation of every accelerometer and gyroscope axis stays
below a threshold. By default the thresholds adapt to the stream: a few times its quietest decile (its noise
floor), clipped to limits that a hand-held "still" pose meets and a slow rotation does not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from edgebind.calibration.profiles import AXIS_NAMES, G_MPS2
from edgebind.errors import InputError, SensorError

log = logging.getLogger(__name__)

ACCEL_STD_LIMITS_MPS2 = (0.02, 0.3)  # auto threshold clip: a held pose is under 0.3, a slow turn is above
GYRO_STD_LIMITS_RADS = (0.005, 0.1)
SAME_POSE_DEG = 20.0  # two segments whose gravity directions differ by less are one pose


@dataclass
class StationarySegment:
    """A stretch where the sensor did not move.

    Attributes:
        start: first sample index; ``stop``: one past the last (half-open, in the input array).
        accel_mean_mps2, accel_std_mps2: (3,) per-axis mean and standard deviation (raw sensor frame).
        gyro_mean_rads, gyro_std_rads: (3,) per-axis mean and standard deviation.
        label: the recording label that declared this segment ("" when detected automatically).
    """

    start: int
    stop: int
    accel_mean_mps2: np.ndarray
    accel_std_mps2: np.ndarray
    gyro_mean_rads: np.ndarray
    gyro_std_rads: np.ndarray
    label: str = ""

    @property
    def n(self) -> int:
        """Number of samples."""
        return self.stop - self.start

    @property
    def face(self) -> str:
        """The axis that points up, e.g. "+z" (the accelerometer reads +g on the axis away from the ground)."""
        i = int(np.argmax(np.abs(self.accel_mean_mps2)))
        return ("+" if self.accel_mean_mps2[i] > 0 else "-") + AXIS_NAMES[i]


@dataclass
class Pose:
    """Stationary segments that share one orientation, pooled."""

    segments: list[StationarySegment] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Samples over all segments."""
        return sum(s.n for s in self.segments)

    @property
    def accel_mean_mps2(self) -> np.ndarray:
        """(3,) sample-weighted mean accelerometer reading in m/s^2."""
        w = np.array([s.n for s in self.segments], dtype=np.float64)
        return np.asarray(np.average([s.accel_mean_mps2 for s in self.segments], axis=0, weights=w))

    @property
    def face(self) -> str:
        """The axis that points up in this pose."""
        return self.segments[0].face


def check_imu_array(imu: np.ndarray) -> np.ndarray:
    """(N, 6) float64 copy of ``imu``; raises InputError for another shape or non-finite values."""
    arr = np.asarray(imu, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 6:
        raise InputError(f"IMU data must be (N, 6) accel x,y,z [m/s^2] then gyro x,y,z [rad/s], got shape "
                         f"{arr.shape}; transpose a (6, N) window with .T.")
    if not np.all(np.isfinite(arr)):
        bad = int(np.argwhere(~np.isfinite(arr))[0, 0])
        raise InputError(f"IMU data has NaN/inf at sample {bad}; drop or interpolate those samples first.")
    return arr


def rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling standard deviation over ``window`` samples. (N, C) -> (N, C)."""
    from scipy.ndimage import uniform_filter1d

    x = x - x.mean(axis=0)  # centre first: E[x^2] - E[x]^2 loses precision on large offsets such as gravity
    m = uniform_filter1d(x, window, axis=0, mode="nearest")
    m2 = uniform_filter1d(x * x, window, axis=0, mode="nearest")
    return np.sqrt(np.clip(m2 - m * m, 0.0, None))


def make_segment(imu: np.ndarray, start: int, stop: int, label: str = "") -> StationarySegment:
    part = imu[start:stop]
    return StationarySegment(start, stop, part[:, :3].mean(0), part[:, :3].std(0), part[:, 3:].mean(0),
                             part[:, 3:].std(0), label)


def check_gravity_magnitude(median_norm: float, g_mps2: float = G_MPS2) -> None:
    """Raise if still readings are not about 1 g (the stream is in counts, milli-g, or g rather than m/s^2).

    Raises:
        SensorError: gives the magnitude seen and how to scale the stream.
    """
    if not 0.5 * g_mps2 < median_norm < 2.0 * g_mps2:
        raise SensorError(
            f"stationary accelerometer magnitude is {median_norm:.4g} (median over still segments), not about "
            f"{g_mps2:.2f} m/s^2: the stream is not in m/s^2. Give the sensor and range (--sensor mpu6050 "
            "--accel-range 2g) so raw counts are scaled, or convert the recording to SI units.")


def check_units(segments: list[StationarySegment], g_mps2: float = G_MPS2) -> None:
    """:func:`check_gravity_magnitude` on the median magnitude of ``segments`` (nothing to check when empty)."""
    if segments:
        check_gravity_magnitude(float(np.median([np.linalg.norm(s.accel_mean_mps2) for s in segments])), g_mps2)


def motion_thresholds(imu: np.ndarray, window: int) -> tuple[float, float]:
    """Automatic (accel m/s^2, gyro rad/s) rolling-std thresholds: 4x the quietest decile, clipped."""
    acc = rolling_std(imu[:, :3], window).max(axis=1)
    gyr = rolling_std(imu[:, 3:], window).max(axis=1)
    acc_thr = float(np.clip(4.0 * np.percentile(acc, 10), *ACCEL_STD_LIMITS_MPS2))
    gyr_thr = float(np.clip(4.0 * np.percentile(gyr, 10), *GYRO_STD_LIMITS_RADS))
    return acc_thr, gyr_thr


def detect_stationary(imu: np.ndarray, rate_hz: float, window_s: float = 0.25, min_duration_s: float = 1.0,
                      accel_std_max_mps2: float | None = None,
                      gyro_std_max_rads: float | None = None) -> list[StationarySegment]:
    """Find the stretches where the sensor is still.

    Args:
        imu: (N, 6) accel m/s^2 then gyro rad/s (raw sensor frame).
        rate_hz: sample rate in Hz.
        window_s: rolling window in seconds. Defaults to 0.25.
        min_duration_s: shortest segment kept, in seconds. Defaults to 1.0.
        accel_std_max_mps2: rolling-std threshold per accel axis. Defaults to automatic (see module docstring).
        gyro_std_max_rads: rolling-std threshold per gyro axis. Defaults to automatic.

    Returns:
        Segments in time order.
    """
    imu = check_imu_array(imu)
    window = max(3, round(window_s * rate_hz))
    if len(imu) < window:
        return []
    auto_a, auto_g = motion_thresholds(imu, window)
    acc_thr = auto_a if accel_std_max_mps2 is None else accel_std_max_mps2
    gyr_thr = auto_g if gyro_std_max_rads is None else gyro_std_max_rads
    still = (rolling_std(imu[:, :3], window).max(1) < acc_thr) & (rolling_std(imu[:, 3:], window).max(1) < gyr_thr)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], still.astype(np.int8), [0]])))
    min_n = max(window, round(min_duration_s * rate_hz))
    runs = zip(edges[::2], edges[1::2], strict=True)
    segments = [make_segment(imu, int(a), int(b)) for a, b in runs if b - a >= min_n]
    log.info("stationary detection: %d segments (accel std < %.3f m/s^2, gyro std < %.4f rad/s, window %d)",
             len(segments), acc_thr, gyr_thr, window)
    return segments


def segments_from_labels(imu: np.ndarray, t_ns: np.ndarray, labels: np.ndarray, label_t_ns: np.ndarray,
                         prefix: str = "pose") -> list[StationarySegment]:
    """Declared stationary segments: each recording label starting with ``prefix`` (e.g. "pose:+z") spans until
    the next label. These are checked for motion with :func:`check_still` rather than trusted."""
    imu = check_imu_array(imu)
    out = []
    ends = np.append(np.asarray(label_t_ns)[1:], np.iinfo(np.int64).max)
    for label, t0, t1 in zip(labels, label_t_ns, ends, strict=True):
        if not str(label).startswith(prefix):
            continue
        a, b = np.searchsorted(t_ns, [t0, t1])
        if b - a >= 2:
            out.append(make_segment(imu, int(a), int(b), str(label)))
    return out


def check_still(segments: list[StationarySegment], rate_hz: float, accel_std_max_mps2: float = 0.3,
                gyro_std_max_rads: float = 0.1) -> None:
    """Raise if a declared stationary segment contains motion.

    Raises:
        SensorError: names the segment, the axis, its standard deviation and the limit, and what to do.
    """
    for k, seg in enumerate(segments):
        name = f"'{seg.label}'" if seg.label else f"#{k + 1}"
        where = f"samples {seg.start}..{seg.stop} ({seg.start / rate_hz:.1f}-{seg.stop / rate_hz:.1f} s)"
        for what, std, limit, unit in (("accel", seg.accel_std_mps2, accel_std_max_mps2, "m/s^2"),
                                       ("gyro", seg.gyro_std_rads, gyro_std_max_rads, "rad/s")):
            i = int(np.argmax(std))
            if std[i] > limit:
                raise SensorError(
                    f"the sensor moved during stationary segment {name}, {where}: {what} {AXIS_NAMES[i]} std "
                    f"{std[i]:.3f} {unit} > {limit} allowed. Rest the sensor on a firm surface, keep hands off "
                    "while the segment records, and record that position again.")


def check_saturation(imu: np.ndarray, segments: list[StationarySegment], rate_hz: float,
                     full_scale_mps2: float | None = None) -> None:
    """Raise if an accelerometer axis is clipped during a stationary segment.

    Clipping shows as readings at the range limit (when ``full_scale_mps2`` is known) or, without it, as a
    flat top: a quarter or more of a segment's samples sit exactly on its extreme value, above 0.5 g.

    Raises:
        SensorError: names the axis, the value and the segment, and what to change.
    """
    imu = check_imu_array(imu)
    for k, seg in enumerate(segments):
        part = imu[seg.start:seg.stop, :3]
        for i in range(3):
            col = part[:, i]
            peak = col[np.argmax(np.abs(col))]
            at_rail = full_scale_mps2 is not None and abs(peak) >= 0.995 * full_scale_mps2
            flat_top = abs(peak) > 0.5 * G_MPS2 and np.mean(col == peak) >= 0.25
            if at_rail or flat_top:
                rng = f" (range +-{full_scale_mps2:.1f} m/s^2)" if full_scale_mps2 else ""
                raise SensorError(
                    f"accelerometer {AXIS_NAMES[i]} is saturated at {peak:.2f} m/s^2{rng} in stationary segment "
                    f"#{k + 1} ({seg.start / rate_hz:.1f}-{seg.stop / rate_hz:.1f} s, "
                    f"{100 * np.mean(col == peak):.0f}% of samples on that value); gravity alone should read "
                    f"{G_MPS2:.2f}. Select a wider range (e.g. --accel-range 4g, and the same in the firmware) or "
                    "fix the raw-to-SI scale, then record the session again.")


def group_poses(segments: list[StationarySegment], same_pose_deg: float = SAME_POSE_DEG) -> list[Pose]:
    """Pool segments whose gravity directions are within ``same_pose_deg`` degrees into one pose."""
    poses: list[Pose] = []
    cos_lim = np.cos(np.radians(same_pose_deg))
    for seg in segments:
        u = seg.accel_mean_mps2 / max(np.linalg.norm(seg.accel_mean_mps2), 1e-9)
        for pose in poses:
            v = pose.accel_mean_mps2 / max(np.linalg.norm(pose.accel_mean_mps2), 1e-9)
            if float(u @ v) > cos_lim:
                pose.segments.append(seg)
                break
        else:
            poses.append(Pose([seg]))
    return poses


def missing_faces(poses: list[Pose]) -> list[str]:
    """Faces (e.g. "-y") that no pose has pointing up (within 45 degrees)."""
    seen = set()
    for p in poses:
        u = p.accel_mean_mps2 / max(np.linalg.norm(p.accel_mean_mps2), 1e-9)
        for i in range(3):
            if abs(u[i]) >= np.cos(np.radians(45)):
                seen.add(("+" if u[i] > 0 else "-") + AXIS_NAMES[i])
    return [s + a for a in AXIS_NAMES for s in "+-" if s + a not in seen]
