"""The per-format line parsers (pure): label spellings, separators, units named in the line."""

from __future__ import annotations

import pytest

from edgebind.bridge import lines as ln


@pytest.mark.parametrize("labels", [("AccelX", "AccelY", "AccelZ", "GyroX", "GyroY", "GyroZ"),
                                    ("accX", "accY", "accZ", "gyroX", "gyroY", "gyroZ"),
                                    ("ax", "ay", "az", "gx", "gy", "gz"),
                                    ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"),
                                    ("AccelerationX", "AccelerationY", "AccelerationZ", "RotationX", "RotationY",
                                     "RotationZ")])
@pytest.mark.parametrize("sep", [",", " ", "\t", ", "])
def test_plotter_label_spellings_and_separators(labels: tuple[str, ...], sep: str) -> None:
    values = (0.5, -1.25, 9.81, 0.01, -0.02, 3.0)
    line = sep.join(f"{k}:{v}" for k, v in zip(labels, values, strict=True))
    parsed = ln.parse_plotter(line)
    assert parsed is not None and [parsed.values[a] for a in ln.AXES] == list(values)
    assert ln.parse_any(line).fmt == "plotter"  # type: ignore[union-attr]


def test_plotter_units_in_labels_and_unrelated_labels() -> None:
    parsed = ln.parse_plotter("temp:25.1 acc_x(mg):12 acc_y(mg):-3 acc_z(mg):1001 gx(dps):0.5 gy:0 gz:0")
    assert parsed is not None and parsed.units == {"accel": "mg", "gyro": "dps"}
    assert parsed.values["az"] == 1001 and "temp" not in parsed.values
    assert ln.parse_plotter("Temperature: 25.43 degC") is None
    assert ln.parse_plotter("AccelX:1,AccelY:2") is None  # needs the three accelerometer axes


def test_sparkfun_signs_padding_and_units() -> None:
    line = ("Scaled. Acc (mg) [ -00012.34,  00045.67,  01001.23 ], Gyr (DPS) [  00001.50, -00000.25,  00000.00 ], "
            "Mag (uT) [  00012.50, -00030.25,  00041.00 ], Tmp (C) [  00027.50 ]")
    parsed = ln.parse_sparkfun(line)
    assert parsed is not None and parsed.units == {"accel": "mg", "gyro": "dps"}
    assert [parsed.values[a] for a in ln.AXES] == [-12.34, 45.67, 1001.23, 1.5, -0.25, 0.0]
    assert ln.parse_sparkfun("Waiting for data") is None


def test_teleplot_i2cdevlib_and_mlx_rows() -> None:
    assert ln.parse_teleplot(">accZ:1234:0.98§g|np").values == {"az": 0.98, "t": 1234.0}  # type: ignore[union-attr]
    assert ln.parse_teleplot(">accZ:0.98§g").units == {"accel": "g"}  # type: ignore[union-attr]
    assert ln.parse_teleplot(">battery:3.7").values == {}  # type: ignore[union-attr]
    raw = ln.parse_i2cdevlib("a/g:\t-76\t-2359\t16384\t12\t-3\t40")
    assert raw is not None and raw.values["az"] == 16384 and raw.units["accel"] == "counts"
    assert ln.parse_i2cdevlib("a/g:\t1\t2\t3") is None
    row = "".join(f"{20 + k / 10:.1f}, " for k in range(32))
    assert ln.numbers(row) == [20 + k / 10 for k in range(32)]  # trailing ", " of MLX90640_simpletest
    assert ln.is_separator("--------------------------------") and ln.is_separator("=" * 35)
    assert not ln.is_separator("-1,-2,-3")
