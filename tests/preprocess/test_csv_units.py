"""``embed imu data.csv`` chooses units as ``convert`` does for the same lines (issue 21, part 5): the issue measured
a cosine of 0.39 between the two paths on a CSV in g and deg/s. Also a UTF-8 BOM and CRLF line ends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebind.bridge.convert import convert
from edgebind.bridge.units import G_MPS2, UnitOptions
from edgebind.embed import load_inputs
from edgebind.preprocess.imu import load_imu_csv, windows_from_recording


def _csv_in_g_and_dps(path: Path, header: str) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 1200  # 12 s at 100 Hz, at rest on z then turning about x
    t = np.arange(n) / 100
    acc = np.stack([0.02 * rng.normal(size=n), 0.02 * rng.normal(size=n), 1 + 0.02 * rng.normal(size=n)], 1)
    gyr = np.stack([20 * np.sin(2 * np.pi * 1.5 * t), 5 * rng.normal(size=n), 3 * rng.normal(size=n)], 1)
    rows = [f"{t[i]:.3f}," + ",".join(f"{v:.5f}" for v in [*acc[i], *gyr[i]]) for i in range(n)]
    path.write_bytes(("\ufeff" + header + "\r\n" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    return path, np.column_stack([acc, gyr])


@pytest.mark.parametrize("header, gyro_rads_per_unit", [
    ("time_s,ax,ay,az,gx,gy,gz", 1.0),  # accel detected from gravity; gyro unnamed: rad/s on both paths
    ("time_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps", np.pi / 180),
    ("time_s,ax (g),ay (g),az (g),gx (deg/s),gy (deg/s),gz (deg/s)", np.pi / 180),
])
def test_embed_csv_units_agree_with_convert(tmp_path: Path, header: str, gyro_rads_per_unit: float) -> None:
    path, raw = _csv_in_g_and_dps(tmp_path / "data.csv", header)
    rec = load_imu_csv(path)
    np.testing.assert_allclose(rec.imu[:, :3], raw[:, :3] * G_MPS2, atol=1e-4)  # g -> m/s^2 (5 decimals in the file)
    np.testing.assert_allclose(rec.imu[:, 3:], raw[:, 3:] * gyro_rads_per_unit, atol=1e-4)
    via_embed = load_inputs("imu", [str(path)])
    via_convert = windows_from_recording(convert(path, kind="serial"), 5.0)[0]
    assert via_embed.shape == via_convert.shape == (2, 6, 2000)
    np.testing.assert_allclose(via_embed, via_convert, atol=1e-4)


def test_embed_csv_unit_flags_decide(tmp_path: Path) -> None:
    path, raw = _csv_in_g_and_dps(tmp_path / "data.csv", "time_s,ax,ay,az,gx,gy,gz")
    rec = load_imu_csv(path, units=UnitOptions(gyro_unit="dps"))
    np.testing.assert_allclose(rec.imu[:, 3:], raw[:, 3:] * np.pi / 180, atol=1e-4)
    assert rec.meta["units"]["gyro_unit_source"] == "--gyro-unit"
