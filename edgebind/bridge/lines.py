"""Pure parsers for the text lines hobby sketches print, one function per format (FIELD_NOTES.md, section 8).

Each parser takes one decoded line (no newline) and returns a :class:`ParsedLine` or None when the line is not of
its format. Values stay in the printed unit; :mod:`edgebind.bridge.units` and the decoder convert them.

* ``csv``: numbers separated by commas, tabs or spaces (Edge Impulse data forwarder); the layout is learnt later.
* ``plotter``: Arduino Serial Plotter ``label:value`` parts (Adafruit MPU6050 ``plotter``: ``AccelX:0.12,...``).
* ``teleplot``: ``>name:value`` or ``>name:timestamp_ms:value``, optional ``§unit`` and ``|flags``; one variable
  per line, grouped into samples by the decoder.
* ``sparkfun``: SparkFun ICM-20948 ``Example1_Basics``: ``Scaled. Acc (mg) [ ... ], Gyr (DPS) [ ... ], ...``.
* ``i2cdevlib``: jrowberg ``MPU6050_raw``: ``a/g:`` then six tab-separated raw int16 counts.
* MLX90640 rows (Adafruit ``MLX90640_simpletest``): a separator line of ``-`` or ``=``, then 24 lines of 32 values
  printed as ``%.1f, `` in degrees C.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from edgebind.bridge.units import unit_from_text

IMU_FORMATS = ("csv", "plotter", "teleplot", "sparkfun", "i2cdevlib")
MLX_ROWS, MLX_COLS = 24, 32
AXES = ("ax", "ay", "az", "gx", "gy", "gz")

_SPLIT = re.compile(r"[,\t ]+")
_SEPARATOR = re.compile(r"^\s*(?:-{8,}|={8,})\s*$")
_LABEL = re.compile(r"^(accel|acc|a|accelerometer|acceleration|gyro|gyr|g|gyroscope|rot|rotation)[_\- ]?([xyz])"
                    r"(?:[_\- ]?\(?([a-z/^²°0-9]+)\)?)?$")
_PLOTTER_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_ ()/^²°.\-]*?)\s*:\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_TELEPLOT = re.compile(r"^>([^:|§]+):(?:([-+]?\d+(?:\.\d+)?):)?([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                       r"(?:§([^|]*))?(?:\|.*)?$")
_SPARKFUN = re.compile(r"Acc \(([^)]*)\) \[([^\]]*)\]\s*,\s*Gyr \(([^)]*)\) \[([^\]]*)\]")
_I2CDEVLIB = re.compile(r"^a/g:\s+([-+]?\d+)\s+([-+]?\d+)\s+([-+]?\d+)\s+([-+]?\d+)\s+([-+]?\d+)\s+([-+]?\d+)\s*$")


@dataclass
class ParsedLine:
    """One line's values in the printed unit.

    ``values`` maps ``ax..gz`` (and ``t`` for a timestamp) to numbers; ``csv`` lines keep ``columns`` instead and
    get their layout from the decoder. ``units`` holds units the line names (``accel``, ``gyro``).
    """

    fmt: str
    values: dict[str, float] = field(default_factory=dict)
    columns: list[float] | None = None
    units: dict[str, str] = field(default_factory=dict)
    dotted: bool = False  # csv: the first column has a decimal point (a timestamp in seconds)


def axis_of(label: str) -> tuple[str, str | None] | None:
    """``("ax", unit or None)`` for labels such as AccelX, accX, ax, GyroZ, gz, acc_x(mg); None otherwise."""
    m = _LABEL.match(label.strip().lower())
    if not m:
        return None
    kind = "g" if m.group(1).startswith(("g", "rot")) else "a"
    return kind + m.group(2), unit_from_text(m.group(3)) if m.group(3) else None


def is_separator(text: str) -> bool:
    """A line of 8+ ``-`` or ``=`` (MLX90640_simpletest prints one before each frame)."""
    return bool(_SEPARATOR.match(text))


def numbers(text: str) -> list[float] | None:
    """The numbers of a line separated by commas, tabs or spaces (a trailing separator allowed), else None."""
    tokens = [t for t in _SPLIT.split(text.strip()) if t]
    if not tokens:
        return None
    try:
        return [float(t) for t in tokens]
    except ValueError:
        return None


def parse_csv(text: str) -> ParsedLine | None:
    """All-numeric line (at least 3 numbers)."""
    cols = numbers(text)
    if cols is None or len(cols) < 3:
        return None
    first = _SPLIT.split(text.strip(), maxsplit=1)[0]
    return ParsedLine("csv", columns=cols, dotted="." in first)


def parse_plotter(text: str) -> ParsedLine | None:
    """``label:value`` parts; needs at least the three accelerometer axes."""
    out = ParsedLine("plotter")
    for label, value in _PLOTTER_PART.findall(text):
        axis = axis_of(label)
        if axis is None:
            continue
        out.values[axis[0]] = float(value)
        if axis[1]:
            out.units["accel" if axis[0][0] == "a" else "gyro"] = axis[1]
    return out if all(k in out.values for k in AXES[:3]) else None


def parse_teleplot(text: str) -> ParsedLine | None:
    """One ``>name[:ts_ms]:value[§unit][|flags]`` variable; ``values`` holds one axis (and ``t`` in ms)."""
    m = _TELEPLOT.match(text.strip())
    if not m:
        return None
    axis = axis_of(m.group(1))
    if axis is None:
        return ParsedLine("teleplot")  # a Teleplot variable that is no IMU axis: grouped, then ignored
    out = ParsedLine("teleplot", values={axis[0]: float(m.group(3))})
    if m.group(2) is not None:
        out.values["t"] = float(m.group(2))
    unit = unit_from_text(m.group(4)) if m.group(4) else axis[1]
    if unit:
        out.units["accel" if axis[0][0] == "a" else "gyro"] = unit
    return out


def parse_sparkfun(text: str) -> ParsedLine | None:
    """SparkFun ``printScaledAGMT`` line: accelerometer and gyroscope triples with their units."""
    m = _SPARKFUN.search(text)
    if not m:
        return None
    acc, gyr = numbers(m.group(2)), numbers(m.group(4))
    if acc is None or gyr is None or len(acc) != 3 or len(gyr) != 3:
        return None
    out = ParsedLine("sparkfun", values=dict(zip(AXES, acc + gyr, strict=True)))
    for key, unit_text in (("accel", m.group(1)), ("gyro", m.group(3))):
        unit = unit_from_text(unit_text)
        if unit:
            out.units[key] = unit
    return out


def parse_i2cdevlib(text: str) -> ParsedLine | None:
    """i2cdevlib ``MPU6050_raw`` readable output: six raw int16 counts."""
    m = _I2CDEVLIB.match(text)
    if not m:
        return None
    return ParsedLine("i2cdevlib", values=dict(zip(AXES, (float(v) for v in m.groups()), strict=True)),
                      units={"accel": "counts", "gyro": "counts"})


PARSERS = {"sparkfun": parse_sparkfun, "i2cdevlib": parse_i2cdevlib, "teleplot": parse_teleplot,
           "plotter": parse_plotter, "csv": parse_csv}


def parse_any(text: str) -> ParsedLine | None:
    """Try every IMU format, most specific first (a plotter line is never all-numeric, a CSV line has no label)."""
    for parse in PARSERS.values():
        parsed = parse(text)
        if parsed is not None and (parsed.fmt != "teleplot" or parsed.values):
            return parsed
    return None
