"""Units of text IMU lines: names, factors to SI, detection from the gravity magnitude, raw-count scales.

Pure functions, no I/O except reading a shipped sensor profile. A line that names its unit (SparkFun's
``Acc (mg)``, Teleplot's ``§mg``) wins; otherwise ``--accel-unit`` decides, and ``auto`` compares the resting
magnitude of the first samples with 1 (g), 9.81 (m/s^2) and 1000 (mg). The gyroscope has no such anchor: it is
auto only where the line names its unit, else rad/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgebind.errors import ConfigError, SensorError, suggest

G_MPS2 = 9.80665
ACCEL_UNITS = {"mps2": 1.0, "g": G_MPS2, "mg": G_MPS2 / 1000.0}
GYRO_UNITS = {"rads": 1.0, "dps": math.pi / 180.0}
ACCEL_CHOICES = ("auto", *ACCEL_UNITS)
GYRO_CHOICES = ("auto", *GYRO_UNITS)
# the resting magnitude each accelerometer unit prints (gravity only)
_GRAVITY_IN = {"g": 1.0, "mps2": G_MPS2, "mg": 1000.0}
_MATCH = math.log(1.35)  # a magnitude within x1.35 of an anchor names that unit
_SPELLINGS = {
    "mg": "mg", "millig": "mg", "g": "g", "m/s^2": "mps2", "m/s2": "mps2", "m/s²": "mps2", "mps2": "mps2",
    "m/s/s": "mps2", "dps": "dps", "deg/s": "dps", "°/s": "dps", "degs": "dps", "rad/s": "rads", "rads": "rads",
    "rad/sec": "rads", "rps": "rads",
}


def unit_from_text(text: str) -> str | None:
    """The unit a label or suffix names (``mg``, ``DPS``, ``m/s^2``, ``rad/s`` ...), or None."""
    return _SPELLINGS.get(text.strip().strip("()[]").lower())


def column_unit(name: str) -> str | None:
    """The unit a CSV column name carries: ``ax_g``, ``gyro_x (dps)``, ``gx[deg/s]`` -> g, dps, dps; else None."""
    c = name.strip()
    for open_, close in ("()", "[]"):
        if open_ in c and close in c:
            return unit_from_text(c[c.find(open_) + 1:c.rfind(close)])
    return unit_from_text(c.rsplit("_", 1)[-1]) if "_" in c else None


def header_units(names: list[str]) -> dict[str, str]:
    """``{"accel": unit, "gyro": unit}`` from a CSV header's last six column names, where all three of a sensor's
    columns name the same unit (accelerometer x,y,z then gyroscope x,y,z)."""
    out: dict[str, str] = {}
    if len(names) < 6:
        return out
    for key, cols in (("accel", names[-6:-3]), ("gyro", names[-3:])):
        found = {column_unit(c) for c in cols}
        unit = found.pop() if len(found) == 1 else None
        if unit is not None and (unit in ACCEL_UNITS) == (key == "accel"):
            out[key] = unit
    return out


@dataclass(frozen=True)
class UnitOptions:
    """What the user said about units and the sensor (CLI flags ``--accel-unit``, ``--gyro-unit``, ``--sensor``).

    Args:
        accel_unit: ``auto``, ``mps2``, ``g`` or ``mg``. Defaults to auto.
        gyro_unit: ``auto``, ``rads`` or ``dps``. Defaults to auto.
        sensor: IMU profile for raw-count formats (``mpu6050``). Defaults to None.
        accel_range: e.g. ``4g``; defaults to the profile's default range.
        gyro_range: e.g. ``500dps``; defaults to the profile's default range.
    """

    accel_unit: str = "auto"
    gyro_unit: str = "auto"
    sensor: str | None = None
    accel_range: str | None = None
    gyro_range: str | None = None

    def __post_init__(self) -> None:
        for what, flag, value, choices in (("accelerometer", "--accel-unit", self.accel_unit, ACCEL_CHOICES),
                                           ("gyroscope", "--gyro-unit", self.gyro_unit, GYRO_CHOICES)):
            if value not in choices:
                raise ConfigError(f"unknown {what} unit '{value}'.{suggest(value, choices)} Use {flag} "
                                  f"{'|'.join(choices)}.")


def detect_accel_unit(magnitudes: np.ndarray) -> tuple[str | None, float]:
    """(unit, median magnitude) from accelerometer magnitudes in the printed unit.

    The unit is None when the magnitude matches no anchor, or when it is not steady (spread above 20 % of the
    median, or fewer than 8 samples): a moving board, or data with gravity removed, says nothing about the unit.
    """
    finite = magnitudes[np.isfinite(magnitudes)]
    if not len(finite):
        return None, float("nan")
    med = float(np.median(finite))
    if med <= 0 or len(finite) < 8 or float(np.std(finite)) > 0.2 * med:
        return None, med
    best = min(_GRAVITY_IN, key=lambda u: abs(math.log(med / _GRAVITY_IN[u])))
    return (best if abs(math.log(med / _GRAVITY_IN[best])) < _MATCH else None), med


def choose_accel_unit(opts: UnitOptions, named: str | None, magnitudes: np.ndarray) -> tuple[str, str, str | None]:
    """Decide the accelerometer unit.

    Args:
        opts: the user's flags.
        named: the unit the lines name, if any.
        magnitudes: |a| of the first samples in the printed unit.

    Returns:
        (unit, how it was chosen, warning or None).

    Raises:
        SensorError: ``--accel-unit`` contradicts the unit the lines name or the resting magnitude.
    """
    found, med = detect_accel_unit(magnitudes)
    flag = opts.accel_unit
    if named is not None:
        if flag not in ("auto", named):
            raise SensorError(f"--accel-unit {flag} contradicts the lines, which name their unit '{named}': "
                              f"pass --accel-unit {named} (or auto).")
        return named, "named in the lines", _resting_warning(named, med)
    if flag != "auto":
        if found is not None and found != flag:
            raise SensorError(
                f"--accel-unit {flag} contradicts the data: the resting magnitude {med:.3g} would be "
                f"{med * ACCEL_UNITS[flag]:.3g} m/s^2, and it reads as {found} ({med * ACCEL_UNITS[found]:.3g} m/s^2):"
                f" pass --accel-unit {found} (or auto).")
        return flag, "--accel-unit", _resting_warning(flag, med)
    if found is None:
        return "mps2", "default (magnitude matched no unit)", (
            f"accelerometer magnitude {med:.3g} at the start is not a steady 1 (g), 9.81 (m/s^2) or 1000 (mg); "
            "taken as m/s^2: pass --accel-unit g|mg|mps2 if that is wrong (or --sensor for raw counts).")
    return found, f"detected from the gravity magnitude {med:.3g}", None


def _resting_warning(unit: str, med: float) -> str | None:
    si = med * ACCEL_UNITS[unit]
    if math.isfinite(si) and abs(math.log(max(si, 1e-9) / G_MPS2)) > _MATCH:
        return (f"accelerometer magnitude at the start is {si:.3g} m/s^2 in {unit}, far from g (9.81): pass "
                "--accel-unit g|mg|mps2 to match what the device prints.")
    return None


def choose_gyro_unit(opts: UnitOptions, named: str | None) -> tuple[str, str, str | None]:
    """(unit, how it was chosen, note or None) for the gyroscope; a flag contradicting a named unit raises."""
    if named is not None:
        if opts.gyro_unit not in ("auto", named):
            raise SensorError(f"--gyro-unit {opts.gyro_unit} contradicts the lines, which name their unit '{named}': "
                              f"pass --gyro-unit {named} (or auto).")
        return named, "named in the lines", None
    if opts.gyro_unit != "auto":
        return opts.gyro_unit, "--gyro-unit", None
    return "rads", "default", ("gyroscope unit not named in the lines: taken as rad/s; pass --gyro-unit dps if the "
                               "device prints degrees per second.")


def raw_count_scale(opts: UnitOptions, fmt: str) -> tuple[float, float, str]:
    """(m/s^2 per accel count, rad/s per gyro count, description) from the sensor profile, for raw-count formats.

    Raises:
        SensorError: no ``--sensor`` given (raw counts have no unit without one).
        ConfigError: unknown sensor or range.
    """
    if not opts.sensor:
        raise SensorError(f"the lines are raw sensor counts ({fmt}, e.g. i2cdevlib MPU6050_raw 'a/g:'), which need "
                          "the sensor's LSB sizes: pass --sensor mpu6050 (and --accel-range/--gyro-range if the sketch "
                          "changed them from 2g/250dps).")
    from edgebind.calibration.profiles import accel_scale_mps2_per_lsb, gyro_scale_rads_per_lsb, load_sensor_spec

    spec = load_sensor_spec(opts.sensor, kind="imu")
    acc_range = opts.accel_range or spec["accel"]["default_range"]
    gyr_range = opts.gyro_range or spec["gyro"]["default_range"]
    return (accel_scale_mps2_per_lsb(spec["sensor"], acc_range), gyro_scale_rads_per_lsb(spec["sensor"], gyr_range),
            f"{spec['sensor']} counts at {acc_range}/{gyr_range}")
