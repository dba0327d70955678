"""IMU calibration: gyroscope bias, multi-position accelerometer fit, axis remap, and applying a profile.

The accelerometer model is ``a_true = M @ (a_raw - b)``. Two fits:

* **Known faces** (``faces``, 12 unknowns). When every pose rests on one of the six axis-aligned faces (each
  within 10 degrees of an axis, all six present) gravity's direction in each pose is known: ``g u_k`` with ``u_k``
  a signed unit axis. Then ``a_raw = A (g u_k) + b`` is linear in ``A`` (3x3, full: scale, cross-axis sensitivity
  and misalignment to the faces) and ``b``, solved by linear least squares; ``M = A^-1``. This is the
  six-position method of ST's AN4508.
* **Magnitudes only** (``diagonal``/``symmetric``), for arbitrary poses. ``|a_true|`` must equal g in every pose,
  so ``b`` (3) and ``M`` are fitted with ``scipy.optimize.least_squares`` on the residuals ``|M (a_k - b)| - g``.
  Only ``M^T M`` is observable from magnitudes (a rotation of M changes nothing), so M is kept symmetric:
  bias + diagonal scale (6 unknowns, >= 6 poses) or bias + symmetric matrix (9 unknowns, >= 9 diverse poses).

Why this matters for ImageBind: its IMU tokens are invariant to a global scale but not to offsets or to the
accel/gyro ratio (SPEC.md §3), so bias and per-axis scale errors move the embedding.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgebind.calibration.profiles import (
    G_MPS2,
    CalibrationProfile,
    accel_full_scale_mps2,
    as_profile,
    check_profile_sensor,
    normalize_sensor_name,
    parse_axis_map,
    sensor_names,
)
from edgebind.calibration.stationary import (
    Pose,
    StationarySegment,
    check_gravity_magnitude,
    check_imu_array,
    check_saturation,
    check_still,
    check_units,
    detect_stationary,
    group_poses,
    make_segment,
    missing_faces,
    segments_from_labels,
)
from edgebind.errors import InputError, SensorError

log = logging.getLogger(__name__)

MODELS = {"diagonal": 6, "symmetric": 9, "faces": 12}  # unknowns per accelerometer model
FACE_TOLERANCE_DEG = 10.0  # a pose counts as resting on a face when gravity is this close to an axis
_SYM_IDX = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


def _sym(p: np.ndarray) -> np.ndarray:
    m = np.zeros((3, 3))
    for v, (i, j) in zip(p, _SYM_IDX, strict=True):
        m[i, j] = m[j, i] = v
    return m


def _unpack(x: np.ndarray, model: str) -> tuple[np.ndarray, np.ndarray]:
    bias = x[:3]
    matrix = np.diag(x[3:6]) if model == "diagonal" else _sym(x[3:9])
    return bias, matrix


def _sphere_init(a: np.ndarray) -> tuple[np.ndarray, float]:
    """Linear sphere fit |a - b| = r as a starting point: a.a = 2 a.b + (r^2 - |b|^2). (K, 3) -> b (3,), r."""
    design = np.column_stack([2 * a, np.ones(len(a))])
    sol, *_ = np.linalg.lstsq(design, (a * a).sum(1), rcond=None)
    b = sol[:3]
    r2 = sol[3] + b @ b
    return b, float(np.sqrt(r2)) if r2 > 0 else float(np.linalg.norm(a, axis=1).mean())


@dataclass
class AccelFit:
    """Result of :func:`fit_accel`.

    Attributes:
        bias_mps2: (3,) bias b; matrix: (3, 3) M (symmetric unless model is "faces");
        model: "faces", "diagonal" or "symmetric".
        residual_rms_mps2: RMS of ``|M (a_k - b)| - g`` over poses after the fit.
        raw_residual_rms_mps2: the same with b = 0, M = I (before calibration).
        condition: condition number of the scaled Jacobian at the solution (large = poorly determined).
        bias_std_mps2: (3,) 1-sigma bias uncertainty from the pose noise (zeros when no noise was given).
        matrix_std: 1-sigma uncertainty of the largest-uncertainty matrix entry.
    """

    bias_mps2: np.ndarray
    matrix: np.ndarray
    model: str
    residual_rms_mps2: float
    raw_residual_rms_mps2: float
    condition: float
    bias_std_mps2: np.ndarray = field(default_factory=lambda: np.zeros(3))
    matrix_std: float = 0.0


def face_directions(pose_means_mps2: np.ndarray, tolerance_deg: float = FACE_TOLERANCE_DEG
                    ) -> tuple[np.ndarray | None, str]:
    """Gravity's known direction in each pose, when every pose rests on an axis-aligned face.

    Args:
        pose_means_mps2: (K, 3) mean raw accelerometer reading per pose.
        tolerance_deg: largest angle between a pose's reading and its axis. Defaults to 10.

    Returns:
        ((K, 3) signed unit axes, "") when all K poses are within tolerance of an axis and all six faces occur;
        otherwise (None, the reason in words).
    """
    a = np.asarray(pose_means_mps2, dtype=np.float64).reshape(-1, 3)
    u = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    axis = np.argmax(np.abs(u), axis=1)
    sign = np.sign(u[np.arange(len(u)), axis])
    angle_deg = np.degrees(np.arccos(np.clip(np.abs(u[np.arange(len(u)), axis]), -1.0, 1.0)))
    faces = np.zeros((len(a), 3))
    faces[np.arange(len(a)), axis] = sign
    tilted = np.flatnonzero(angle_deg > tolerance_deg)
    if tilted.size:
        return None, (f"{tilted.size} of {len(a)} poses are tilted (up to {angle_deg.max():.0f} degrees from an "
                      f"axis; a face pose is within {tolerance_deg:g})")
    names = {("+" if sg > 0 else "-") + "xyz"[i] for i, sg in zip(axis, sign, strict=True)}
    missing = [s + x for x in "xyz" for s in "+-" if s + x not in names]
    if missing:
        return None, f"faces never pointing up: {', '.join(missing)}"
    return faces, ""


def _fit_faces(a: np.ndarray, faces: np.ndarray, g_mps2: float, pose_noise_mps2: float
               ) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, float]:
    """Linear least squares of a_k = A (g u_k) + b. Returns bias, M = A^-1, condition, bias std, max A std."""
    design = np.column_stack([faces, np.ones(len(a))])  # (K, 4): A's columns in m/s^2 per g, then the bias
    sol, *_ = np.linalg.lstsq(design, a, rcond=None)  # (4, 3) = [g A^T; b^T]
    a_matrix = sol[:3].T / g_mps2
    sv = np.linalg.svd(design, compute_uv=False)
    cov = np.linalg.pinv(design.T @ design) * pose_noise_mps2**2  # per output axis (white pose noise)
    std = np.sqrt(np.clip(np.diag(cov), 0, None))
    return sol[3], np.linalg.inv(a_matrix), float(sv[0] / max(sv[-1], 1e-300)), np.full(3, std[3]), \
        float(std[:3].max() / g_mps2)


def fit_accel(pose_means_mps2: np.ndarray, model: str = "auto", g_mps2: float = G_MPS2,
              faces_missing: list[str] | None = None, pose_noise_mps2: float = 0.0) -> AccelFit:
    """Fit accelerometer bias and matrix so that every pose reads |a| = g (and, with known faces, points along
    its face).

    Args:
        pose_means_mps2: (K, 3) mean raw accelerometer reading of each distinct pose, m/s^2.
        model: "faces" (bias + full 3x3 from the six axis-aligned faces, see the module docstring),
            "diagonal" (bias + per-axis scale, >= 6 poses), "symmetric" (bias + symmetric 3x3, >= 9 poses) or
            "auto" (faces when every pose rests on a face and all six occur, else symmetric with >= 9 poses,
            else diagonal). Defaults to "auto".
        g_mps2: local gravity in m/s^2. Defaults to standard gravity.
        faces_missing: faces no pose covered, named in the error message.
        pose_noise_mps2: 1-sigma noise of one pose mean, for the parameter uncertainties. Defaults to 0.

    Raises:
        SensorError: too few distinct poses, poses too similar to determine the unknowns, or readings far from g.
    """
    from scipy.optimize import least_squares

    a = np.asarray(pose_means_mps2, dtype=np.float64).reshape(-1, 3)
    k = len(a)
    if model not in MODELS and model != "auto":
        raise InputError(f"unknown accelerometer model '{model}'; use one of auto, {', '.join(MODELS)}.")
    faces, why_not_faces = face_directions(a)
    if model == "auto":
        model = "faces" if faces is not None else "symmetric" if k >= MODELS["symmetric"] else "diagonal"
    norms = np.linalg.norm(a, axis=1)
    if model == "faces":
        if faces is None:
            raise SensorError(
                f"the known-faces accelerometer fit needs every pose on one of the six faces, all six present: "
                f"{why_not_faces}. Rest the sensor with each face up in turn (+x, -x, +y, -y, +z, -z) on a level "
                "surface, or use --model diagonal/symmetric for arbitrary poses.")
        check_gravity_magnitude(float(np.median(norms)), g_mps2)
        bias, matrix, condition, bias_std, matrix_std = _fit_faces(a, faces, g_mps2, pose_noise_mps2)
        resid = np.linalg.norm((a - bias) @ matrix.T, axis=1) - g_mps2
        return AccelFit(bias, matrix, model, float(np.sqrt(np.mean(resid**2))),
                        float(np.sqrt(np.mean((norms - g_mps2) ** 2))), condition, bias_std, matrix_std)
    need = MODELS[model]
    hint = (f" Faces never pointing up: {', '.join(faces_missing)}." if faces_missing else "")
    if k < need:
        raise SensorError(
            f"found {k} distinct stationary positions; the {model} accelerometer fit needs at least {need}.{hint} "
            "Rest the sensor still for 2 s or more with each face pointing up in turn (+x, -x, +y, -y, +z, -z; "
            "add tilted poses for the full 3x3 matrix) and calibrate again.")
    check_gravity_magnitude(float(np.median(norms)), g_mps2)
    b0, r0 = _sphere_init(a) if k >= 4 else (np.zeros(3), float(norms.mean()))
    s0 = g_mps2 / r0
    x0 = np.concatenate([b0, [s0] * 3, [0.0] * (need - 6)])

    def residuals(x: np.ndarray) -> np.ndarray:
        b, m = _unpack(x, model)
        return np.asarray(np.linalg.norm((a - b) @ m.T, axis=1) - g_mps2)

    res = least_squares(residuals, x0, method="lm" if k > need else "trf", x_scale="jac")
    jac = res.jac * np.array([1.0] * 3 + [g_mps2] * (need - 3))  # make bias (m/s^2) and scale (1) commensurate
    sv = np.linalg.svd(jac, compute_uv=False)
    condition = float(sv[0] / max(sv[-1], 1e-300))
    if condition > 1e4 or not np.all(np.isfinite(res.x)):
        raise SensorError(
            f"the {k} positions are too similar to determine the {model} fit (condition number {condition:.2g}).{hint}"
            " Use positions that point each face up once (and tilted ones for the full matrix), then calibrate "
            "again.")
    bias, matrix = _unpack(res.x, model)
    # Linearised covariance of the parameters: sigma^2 (J^T J)^-1 (white noise; correlated noise makes it optimistic).
    std = np.sqrt(np.clip(np.diag(np.linalg.pinv(res.jac.T @ res.jac)), 0, None)) * pose_noise_mps2
    return AccelFit(bias, matrix, model, float(np.sqrt(np.mean(res.fun**2))),
                    float(np.sqrt(np.mean((norms - g_mps2) ** 2))), condition, std[:3], float(std[3:].max()))


@dataclass
class ImuCalibrationResult:
    """A fitted profile plus what was measured on the way (for the CLI's quality report)."""

    profile: CalibrationProfile
    segments: list[StationarySegment]
    poses: list[Pose]
    fit: AccelFit
    report: dict[str, Any] = field(default_factory=dict)


def calibrate_imu(imu: np.ndarray, rate_hz: float, sensor: str = "", accel_range: str | None = None,
                  gyro_range: str | None = None, axis_map: str | list[str] = "+x,+y,+z", model: str = "auto",
                  segments: list[StationarySegment] | None = None, g_mps2: float = G_MPS2,
                  min_duration_s: float = 1.0) -> ImuCalibrationResult:
    """Fit a full IMU profile from a session of still poses.

    Args:
        imu: (N, 6) accel m/s^2 then gyro rad/s in the raw sensor frame (SI units, not yet calibrated).
        rate_hz: sample rate in Hz.
        sensor: IMU spec name for the profile (e.g. "mpu6050"); "" if unknown.
        accel_range: range setting (e.g. "2g"); with ``sensor`` it sets the saturation limit.
        gyro_range: range setting (e.g. "250dps"), stored in the profile.
        axis_map: sensor-to-model axes, e.g. "+y,-x,+z". Defaults to identity.
        model: accelerometer model, see :func:`fit_accel`. Defaults to "auto".
        segments: declared stationary segments (checked for motion); default: detected automatically.
        g_mps2: local gravity. Defaults to standard gravity.
        min_duration_s: shortest automatic segment in seconds. Defaults to 1.0.

    Raises:
        SensorError: motion in a declared segment, a saturated axis, too few or too similar poses.
    """
    imu = check_imu_array(imu)
    parse_axis_map(axis_map)
    if segments is None:
        segments = detect_stationary(imu, rate_hz, min_duration_s=min_duration_s)
        if not segments:
            med = float(np.median(np.linalg.norm(imu[:, :3], axis=1)))
            check_gravity_magnitude(med, g_mps2)
            raise SensorError(
                f"no stationary segment of {min_duration_s:g} s or more in {len(imu) / rate_hz:.1f} s of data: the "
                "sensor never rested. Rest it still for 2 s or more in each position (or use the guided "
                "'edgebind calibrate imu PORT') and record again.")
    else:  # statistics come from this array, whatever array the segments were found on
        segments = [make_segment(imu, s.start, s.stop, s.label) for s in segments]
        check_units(segments, g_mps2)
        check_still(segments, rate_hz)
    full_scale = accel_full_scale_mps2(sensor, accel_range) if sensor and accel_range else None
    check_saturation(imu, segments, rate_hz, full_scale)
    poses = group_poses(segments)
    n = np.array([s.n for s in segments], dtype=np.float64)
    accel_noise = float(np.sqrt(np.average([np.mean(s.accel_std_mps2**2) for s in segments], weights=n)))
    gyro_noise = float(np.sqrt(np.average([np.mean(s.gyro_std_rads**2) for s in segments], weights=n)))
    pose_noise = accel_noise / np.sqrt(np.median([p.n for p in poses])) if poses else 0.0
    fit = fit_accel(np.array([p.accel_mean_mps2 for p in poses]).reshape(-1, 3), model, g_mps2,
                    missing_faces(poses), pose_noise)
    gyro_means = np.array([s.gyro_mean_rads for s in segments])
    gyro_bias = np.average(gyro_means, axis=0, weights=n)
    report = {
        "poses": len(poses),
        "faces": sorted({p.face for p in poses}),
        "stationary_segments": len(segments),
        "stationary_s": float(n.sum() / rate_hz),
        "accel_model": fit.model,
        "gravity_error_rms_mps2_before": fit.raw_residual_rms_mps2,
        "gravity_error_rms_mps2_after": fit.residual_rms_mps2,
        "fit_condition": fit.condition,
        "accel_bias_std_mps2": fit.bias_std_mps2.tolist(),
        "accel_matrix_std": fit.matrix_std,
        "gyro_bias_std_rads": float(gyro_noise / np.sqrt(n.sum())),
        "accel_noise_mps2": accel_noise,
        "gyro_noise_rads": gyro_noise,
        "gyro_bias_spread_rads": float(np.max(np.ptp(gyro_means, axis=0))) if len(segments) > 1 else 0.0,
        "rate_hz": float(rate_hz),
    }
    profile = CalibrationProfile(
        sensor=sensor, accel_bias_mps2=fit.bias_mps2.tolist(), accel_matrix=fit.matrix.tolist(),
        gyro_bias_rads=gyro_bias.tolist(), axis_map=axis_map if isinstance(axis_map, list) else axis_map.split(","),
        accel_range=accel_range or "", gyro_range=gyro_range or "", imu_quality=report)
    log.info("IMU calibration: %d poses, gravity error %.4f -> %.4f m/s^2 rms", len(poses),
             fit.raw_residual_rms_mps2, fit.residual_rms_mps2)
    return ImuCalibrationResult(profile, segments, poses, fit, report)


def calibrate_imu_recording(recording: Any, sensor: str | None = None, **kwargs: Any) -> ImuCalibrationResult:
    """:func:`calibrate_imu` on a :class:`~edgebind.bridge.recording.Recording`.

    Labels starting with "pose" (e.g. "pose:+z") declare stationary segments; without them they are detected.
    ``sensor`` defaults to the recording's ``meta["imu_sensor"]`` (or ``meta["sensor"]``).
    """
    rec = recording
    if len(rec.imu) < 2:
        raise SensorError("the recording has no IMU samples; record a calibration session with "
                          "'edgebind calibrate imu PORT' or 'edgebind record PORT'.")
    if sensor is None:
        sensor = str(rec.meta.get("imu_sensor") or rec.meta.get("sensor") or "")
        if sensor and normalize_sensor_name(sensor) not in sensor_names("imu"):
            log.warning("recording names IMU '%s', which has no sensor spec; the profile will not name a sensor "
                        "(pass --sensor to set one)", sensor)
            sensor = ""
    segments = None
    if rec.labels is not None and any(str(lb).startswith("pose") for lb in rec.labels):
        segments = segments_from_labels(rec.imu, rec.imu_t_ns, rec.labels, rec.label_t_ns)
    return calibrate_imu(rec.imu, rec.imu_rate_hz, sensor=sensor, segments=segments, **kwargs)


def imu_correction(profile: CalibrationProfile) -> tuple[np.ndarray, np.ndarray]:
    """The profile as one affine map on 6-vectors: ``out = (raw - bias6) @ matrix6.T``.

    Returns:
        bias6 (6,) float32 and matrix6 (6, 6) float32 (block-diagonal: ``R @ M`` for accel, ``R`` for gyro).
    """
    r = parse_axis_map(profile.axis_map)
    m6 = np.zeros((6, 6))
    m6[:3, :3] = r @ np.asarray(profile.accel_matrix)
    m6[3:, 3:] = r
    bias6 = np.concatenate([profile.accel_bias_mps2, profile.gyro_bias_rads])
    return bias6.astype(np.float32), m6.astype(np.float32)


def apply_imu_profile(imu: np.ndarray, profile: CalibrationProfile | dict[str, Any] | str,
                      sensor: str | None = None) -> np.ndarray:
    """Correct raw IMU samples with a calibration profile (pure numpy; ~10 ns/sample).

    Args:
        imu: (N, 6) float, accel x,y,z in m/s^2 then gyro x,y,z in rad/s, raw sensor frame.
        profile: a :class:`CalibrationProfile`, its dict, or a path to its JSON.
        sensor: the IMU the stream reports; when given it must match the profile's ``sensor``.

    Returns:
        (N, 6) float32 in the model's frame: ``R @ M @ (accel - b)`` and ``R @ (gyro - b_g)``.

    Raises:
        InputError: ``imu`` is not (N, 6).
        ConfigError: the profile was made for another sensor.
    """
    prof = as_profile(profile)
    if sensor:
        check_profile_sensor(prof, imu_sensor=sensor)
    arr = np.asarray(imu, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != 6:
        raise InputError(f"apply_imu_profile needs (N, 6) samples (accel xyz, gyro xyz), got {arr.shape}; "
                         "transpose a (6, N) window with .T.")
    bias6, m6 = imu_correction(prof)
    return np.asarray((arr - bias6) @ m6.T, dtype=np.float32)
