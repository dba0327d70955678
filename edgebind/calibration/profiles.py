"""Sensor datasheet specs (``edgebind/data/sensors/*.json``) and the calibration profile JSON.

Two kinds of file:

* a **sensor spec** ships with edgebind, one per part: raw-to-SI scale per range setting, axes, nominal rates,
  noise figures, with the datasheet it came from (:func:`load_sensor_spec`);
* a **calibration profile** is what ``edgebind calibrate`` writes for one physical sensor: accelerometer bias and
  3x3 matrix, gyroscope bias, axis map, thermal conversion, bad pixels and intensity mapping
  (:class:`CalibrationProfile`). ``stream``, ``record`` and ``embed`` apply it (``apply_imu_profile``,
  ``apply_thermal_profile``).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import ConfigError, suggest

log = logging.getLogger(__name__)

G_MPS2 = 9.80665  # standard gravity (CGPM 1901); datasheets give accel sensitivity in LSB per g
SCHEMA_VERSION = 1
AXIS_NAMES = ("x", "y", "z")


def _spec_files() -> dict[str, Any]:
    root = resources.files("edgebind") / "data" / "sensors"
    return {p.name[: -len(".json")]: p for p in root.iterdir() if p.name.endswith(".json")}


@cache
def _all_specs() -> dict[str, dict[str, Any]]:
    specs = {}
    for p in _spec_files().values():
        spec = json.loads(p.read_text())
        specs[spec["sensor"]] = spec
    return specs


def sensor_names(kind: str | None = None) -> list[str]:
    """Names of the shipped sensor specs, optionally only ``kind`` ("imu" or "thermal")."""
    return sorted(n for n, s in _all_specs().items() if kind is None or s["kind"] == kind)


def normalize_sensor_name(name: str) -> str:
    """Lower-case and drop '-', '_' and spaces, so 'MPU-6050' and 'mpu_6050' both give 'mpu6050'."""
    out = name.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    return {"lepton35": "lepton3.5", "lepton": "lepton3.5", "icm42688p": "icm42688"}.get(out, out)


def load_sensor_spec(name: str, kind: str | None = None) -> dict[str, Any]:
    """The datasheet spec of one sensor as a dict (see ``edgebind/data/sensors/``).

    Args:
        name: sensor name, e.g. ``"mpu6050"``, ``"MPU-6050"``, ``"lepton3.5"``.
        kind: if given, the spec must be of this kind (``"imu"`` or ``"thermal"``).

    Raises:
        ConfigError: unknown sensor (with a did-you-mean), or a sensor of the wrong kind.
    """
    key = normalize_sensor_name(name)
    specs = _all_specs()
    if key not in specs:
        raise ConfigError(f"unknown sensor '{name}'.{suggest(key, sensor_names(kind))} "
                          "Add a spec JSON to edgebind/data/sensors/ for a new part.")
    spec = specs[key]
    if kind is not None and spec["kind"] != kind:
        raise ConfigError(f"sensor '{name}' is a {spec['kind']} sensor, not {kind}; "
                          f"{kind} sensors: {', '.join(sensor_names(kind))}.")
    return spec


def _range_entry(spec: dict[str, Any], part: str, table: str, range_name: str | None) -> tuple[str, float]:
    sub = spec[part]
    rng = sub["default_range"] if range_name is None else range_name.strip().lower().replace(" ", "")
    if rng not in sub[table]:
        raise ConfigError(f"{spec['sensor']} has no {part} range '{range_name}'.{suggest(rng, sub[table])}")
    return rng, float(sub[table][rng])


def accel_scale_mps2_per_lsb(sensor: str, accel_range: str | None = None) -> float:
    """Accelerometer raw-to-SI scale: m/s^2 per LSB for ``accel_range`` (e.g. "4g"; defaults to the spec's)."""
    _, lsb_per_g = _range_entry(load_sensor_spec(sensor, "imu"), "accel", "lsb_per_g", accel_range)
    return G_MPS2 / lsb_per_g


def gyro_scale_rads_per_lsb(sensor: str, gyro_range: str | None = None) -> float:
    """Gyroscope raw-to-SI scale: rad/s per LSB for ``gyro_range`` (e.g. "500dps"; defaults to the spec's)."""
    _, lsb_per_dps = _range_entry(load_sensor_spec(sensor, "imu"), "gyro", "lsb_per_dps", gyro_range)
    return math.radians(1.0) / lsb_per_dps


def accel_full_scale_mps2(sensor: str, accel_range: str | None = None) -> float:
    """The accelerometer's full-scale reading in m/s^2 for a range setting (readings clip here)."""
    rng, _ = _range_entry(load_sensor_spec(sensor, "imu"), "accel", "lsb_per_g", accel_range)
    return float(rng.rstrip("g")) * G_MPS2


def imu_counts_to_si(counts: np.ndarray, sensor: str, accel_range: str | None = None,
                     gyro_range: str | None = None) -> np.ndarray:
    """Convert raw IMU register counts to SI units.

    Args:
        counts: (N, 6) integer or float counts, accel x,y,z then gyro x,y,z.
        sensor: sensor spec name.
        accel_range: e.g. "2g". Defaults to the spec's default range.
        gyro_range: e.g. "250dps". Defaults to the spec's default range.

    Returns:
        (N, 6) float32: accel in m/s^2, gyro in rad/s.
    """
    scale = np.array([accel_scale_mps2_per_lsb(sensor, accel_range)] * 3
                     + [gyro_scale_rads_per_lsb(sensor, gyro_range)] * 3, dtype=np.float64)
    return (np.asarray(counts, dtype=np.float64).reshape(-1, 6) * scale).astype(np.float32)


def parse_axis_map(axis_map: str | list[str] | tuple[str, ...]) -> np.ndarray:
    """Signed permutation matrix R (3, 3) for an axis map: model axis i = sign * sensor axis.

    Args:
        axis_map: three entries such as ``["+y", "-x", "+z"]`` or the string ``"+y,-x,+z"``: model x is the
            sensor's +y, model y is the sensor's -x, model z is the sensor's +z.

    Raises:
        ConfigError: not three entries, an unknown axis, or an axis used twice.
    """
    items = [a.strip().lower() for a in (axis_map.split(",") if isinstance(axis_map, str) else axis_map)]
    fix = "Give three signed sensor axes, one per model axis, each axis once, e.g. '+y,-x,+z'."
    if len(items) != 3:
        raise ConfigError(f"axis map {axis_map!r} has {len(items)} entries, not 3. {fix}")
    r = np.zeros((3, 3))
    used = set()
    for i, item in enumerate(items):
        sign = -1.0 if item.startswith("-") else 1.0
        name = item.lstrip("+-")
        if name not in AXIS_NAMES or name in used:
            raise ConfigError(f"axis map {axis_map!r}: entry '{item}' is unknown or repeated. {fix}")
        used.add(name)
        r[i, AXIS_NAMES.index(name)] = sign
    return r


def format_axis_map(r: np.ndarray) -> list[str]:
    """Inverse of :func:`parse_axis_map`: ``["+x", "+y", "+z"]`` for the identity."""
    out = []
    for row in np.asarray(r):
        j = int(np.argmax(np.abs(row)))
        out.append(("+" if row[j] > 0 else "-") + AXIS_NAMES[j])
    return out


@dataclass
class ThermalCalibration:
    """Thermal part of a profile: counts -> degrees C, bad pixels, and the C -> model intensity mapping.

    Attributes:
        sensor: thermal sensor spec name, e.g. "lepton3.5".
        raw_units: a key of the spec's ``raw_units`` (e.g. "tlinear_0.01k"); "celsius" when frames arrive in C.
        frame_shape: (H, W) of the sensor frame.
        bad_pixels: list of [row, col] to repair with the median of their good neighbours.
        mapping: the C -> intensity mapping as an ``edgebind.preprocess.thermal.ThermalContract`` dict:
            ``mapping`` "percentile" (per-frame stretch between ``low_percentile`` and ``high_percentile``, like a
            camera's 8-bit AGC) or "fixed" (``min_temp_c``..``max_temp_c``). Defaults to the contract's default.
        quality: figures measured during calibration (frames used, noise, bad-pixel counts).
    """

    sensor: str
    raw_units: str = "celsius"
    frame_shape: list[int] = field(default_factory=list)
    bad_pixels: list[list[int]] = field(default_factory=list)
    mapping: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from edgebind.preprocess.thermal import ThermalContract

        # Validate through the contract itself (unknown keys, bad ranges), and store every field explicitly.
        self.mapping = ThermalContract.from_dict(dict(self.mapping)).to_dict()


@dataclass
class CalibrationProfile:
    """One physical sensor set's calibration, saved as JSON (docs/calibration.md).

    The IMU correction is ``imu_model = R @ (accel_matrix @ (accel_raw - accel_bias_mps2))`` for the
    accelerometer and ``R @ (gyro_raw - gyro_bias_rads)`` for the gyroscope, where R is the signed permutation
    of ``axis_map``.

    Attributes:
        sensor: IMU sensor spec name ("" when the profile holds only a thermal part).
        accel_bias_mps2: (3,) accelerometer bias in m/s^2, in the sensor frame.
        accel_matrix: (3, 3) scale/misalignment matrix applied after subtracting the bias.
        gyro_bias_rads: (3,) gyroscope bias in rad/s, in the sensor frame.
        axis_map: model axis i = signed sensor axis, e.g. ["+x", "+y", "+z"].
        accel_range: range setting the fit was made at (e.g. "2g"), "" if unknown.
        gyro_range: range setting (e.g. "250dps"), "" if unknown.
        imu_quality: figures measured during the fit (residuals, poses, noise).
        thermal: thermal part, or None.
    """

    sensor: str = ""
    accel_bias_mps2: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    accel_matrix: list[list[float]] = field(default_factory=lambda: np.eye(3).tolist())
    gyro_bias_rads: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    axis_map: list[str] = field(default_factory=lambda: ["+x", "+y", "+z"])
    accel_range: str = ""
    gyro_range: str = ""
    imu_quality: dict[str, Any] = field(default_factory=dict)
    thermal: ThermalCalibration | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.sensor:
            self.sensor = load_sensor_spec(self.sensor, "imu")["sensor"]
        for name, shape in (("accel_bias_mps2", (3,)), ("accel_matrix", (3, 3)), ("gyro_bias_rads", (3,))):
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.shape != shape or not np.all(np.isfinite(arr)):
                raise ConfigError(f"profile field {name} must be a finite array of shape {shape}, got "
                                  f"{getattr(self, name)!r}; re-run 'edgebind calibrate imu'.")
            setattr(self, name, arr.tolist())
        if abs(np.linalg.det(np.asarray(self.accel_matrix))) < 1e-6:
            raise ConfigError(f"profile accel_matrix {self.accel_matrix} is singular; re-run 'edgebind calibrate imu'.")
        self.axis_map = format_axis_map(parse_axis_map(self.axis_map))
        if isinstance(self.thermal, dict):
            self.thermal = ThermalCalibration(**self.thermal)
        if self.thermal is not None:
            self.thermal.sensor = load_sensor_spec(self.thermal.sensor, "thermal")["sensor"]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the file format)."""
        from edgebind import __version__

        d = asdict(self)
        d["edgebind_version"] = __version__
        return d

    def save(self, path: str | Path) -> Path:
        """Write the profile as indented JSON. Returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CalibrationProfile:
        """Build a profile from its JSON dict.

        Raises:
            ConfigError: newer schema, unknown keys, or invalid values.
        """
        d = dict(d)
        d.pop("edgebind_version", None)
        version = int(d.get("schema_version", SCHEMA_VERSION))
        if version > SCHEMA_VERSION:
            raise ConfigError(f"profile schema_version {version} is newer than this edgebind understands "
                              f"({SCHEMA_VERSION}); upgrade edgebind.")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"profile has unknown keys {unknown}.{suggest(unknown[0], known)}")
        if d.get("thermal") is not None:
            tknown = set(ThermalCalibration.__dataclass_fields__)
            tunknown = sorted(set(d["thermal"]) - tknown)
            if tunknown:
                raise ConfigError(f"profile thermal part has unknown keys {tunknown}.{suggest(tunknown[0], tknown)}")
            d["thermal"] = ThermalCalibration(**d["thermal"])
        return cls(**d)

    @classmethod
    def load(cls, path: str | Path) -> CalibrationProfile:
        """Read a profile JSON written by :meth:`save`.

        Raises:
            ConfigError: missing file, not JSON, or invalid content.
        """
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"profile {path} does not exist; create it with "
                              f"'edgebind calibrate imu PORT -o {path}' (or 'calibrate thermal').")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(f"profile {path} is not valid JSON ({exc}); re-create it with "
                              "'edgebind calibrate imu'.") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"profile {path} holds a {type(data).__name__}, not a JSON object.")
        return cls.from_dict(data)


def as_profile(profile: CalibrationProfile | dict[str, Any] | str | Path) -> CalibrationProfile:
    """Accept a profile object, its dict, or a path to its JSON."""
    if isinstance(profile, CalibrationProfile):
        return profile
    if isinstance(profile, dict):
        return CalibrationProfile.from_dict(profile)
    return CalibrationProfile.load(profile)


def merge_profile(path: str | Path, new: CalibrationProfile, part: str) -> tuple[CalibrationProfile, bool]:
    """Combine ``new``'s ``part`` ("imu" or "thermal") with the other part of an existing profile at ``path``.

    Returns:
        (the merged profile, whether an existing file contributed its other part).
    """
    path = Path(path)
    if not path.is_file():
        return new, False
    old = CalibrationProfile.load(path)
    if part == "imu":
        merged = CalibrationProfile(**{**asdict(new), "thermal": old.thermal})
        return merged, old.thermal is not None
    if part == "thermal":
        merged = CalibrationProfile(**{**asdict(old), "thermal": new.thermal})
        return merged, bool(old.sensor)
    raise ConfigError(f"unknown profile part '{part}'; use 'imu' or 'thermal'.")


def check_profile_parts(profile: CalibrationProfile, imu_sensor: str | None, thermal_sensor: str | None,
                        source: str) -> None:
    """:func:`check_profile_sensor` for the parts the profile holds: a thermal-only profile on a stream that also
    carries IMU data corrects the thermal frames and leaves the IMU alone (and the other way round)."""
    check_profile_sensor(profile, imu_sensor=imu_sensor if profile.sensor else None,
                         thermal_sensor=thermal_sensor if profile.thermal else None, source=source)


def check_profile_sensor(profile: CalibrationProfile, imu_sensor: str | None = None,
                         thermal_sensor: str | None = None, source: str = "this stream") -> None:
    """Fail fast when a profile was made for another sensor than the one streaming.

    Args:
        profile: the calibration profile.
        imu_sensor: IMU sensor the device reports (None, "" or a name without a spec: not checked, logged).
        thermal_sensor: thermal sensor the device reports (same rule).
        source: how to name the device in the message.

    Raises:
        ConfigError: the names differ, or the profile lacks the needed part; the message says what to run.
    """
    if imu_sensor and normalize_sensor_name(imu_sensor) not in sensor_names("imu"):
        log.warning("%s reports IMU '%s', which has no sensor spec; cannot check that profile '%s' belongs to it",
                    source, imu_sensor, profile.sensor)
        imu_sensor = None
    if thermal_sensor and normalize_sensor_name(thermal_sensor) not in sensor_names("thermal"):
        log.warning("%s reports thermal sensor '%s', which has no sensor spec; not checked against the profile",
                    source, thermal_sensor)
        thermal_sensor = None
    if imu_sensor:
        want = normalize_sensor_name(imu_sensor)
        if not profile.sensor:
            raise ConfigError(f"the profile has no IMU calibration but {source} has an IMU ({imu_sensor}); "
                              "add one with 'edgebind calibrate imu PORT -o PROFILE.json'.")
        if want != profile.sensor:
            raise ConfigError(
                f"the profile was made for IMU '{profile.sensor}' but {source} reports '{imu_sensor}'; a bias and "
                f"matrix from another part would corrupt every window. Calibrate this sensor with 'edgebind "
                f"calibrate imu PORT --sensor {want} -o PROFILE.json', or pass the profile made for it.")
    if thermal_sensor:
        want = normalize_sensor_name(thermal_sensor)
        if profile.thermal is None:
            raise ConfigError(f"the profile has no thermal calibration but {source} has a thermal sensor "
                              f"({thermal_sensor}); add one with 'edgebind calibrate thermal PORT -o PROFILE.json'.")
        if want != profile.thermal.sensor:
            raise ConfigError(
                f"the profile was made for thermal sensor '{profile.thermal.sensor}' but {source} reports "
                f"'{thermal_sensor}'. Calibrate this sensor with 'edgebind calibrate thermal PORT --sensor {want} "
                "-o PROFILE.json', or pass the profile made for it.")
