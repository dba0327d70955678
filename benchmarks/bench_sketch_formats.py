"""Issue 11, "Done when": each hobby sketch's output printed on a pseudo-terminal in real time, read as ``edgebind
record`` reads it (SensorSource + RecordingBuilder). Prints samples kept, the rate found, the units chosen and the
largest error against the values before printing (the print precision bounds it).

    python benchmarks/bench_sketch_formats.py        # about 15 s

The sketches' exact print statements are reproduced in tests/bridge/sketches.py (used by the tests too).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.bridge.sketches: the sketches' exact prints

from edgebind.bridge.units import UnitOptions
from tests.bridge.sketches import (
    G,
    i2cdevlib_counts,
    i2cdevlib_line,
    imu_truth,
    mlx_frame,
    plotter_line,
    record_board,
    sparkfun_line,
    teleplot_lines,
)


def show(name: str, items: list[tuple[float, str]], truth: np.ndarray, **kwargs: object) -> None:
    rec, _, _ = record_board(items, **kwargs)
    err = np.abs(rec.imu - truth).max(axis=0)
    units = rec.meta["units"]
    print(f"{name}: {len(rec.imu)}/{len(truth)} samples, rate {rec.imu_rate_hz:.3f} Hz, units "
          f"{units.get('accel_unit')}/{units.get('gyro_unit')}, max |err| accel {err[:3].max():.2e} m/s^2 gyro "
          f"{err[3:].max():.2e} rad/s, thermal frames {0 if rec.thermal is None else len(rec.thermal)}")


def main() -> None:
    t = imu_truth(220)
    show("Adafruit MPU6050 plotter 100 Hz", [(0.0, "\r\n")] + [(i / 100, plotter_line(r)) for i, r in enumerate(t)], t)
    t = imu_truth(130, seed=1)
    show("SparkFun ICM-20948 Example1 50 Hz", [(i / 50, sparkfun_line(r)) for i, r in enumerate(t)], t)
    t = imu_truth(220, seed=2)
    c = np.array([i2cdevlib_counts(r) for r in t])
    counts_si = np.concatenate([c[:, :3] * G / 16384, np.radians(c[:, 3:] / 131)], axis=1)
    show("i2cdevlib MPU6050_raw 100 Hz (vs counts x LSB)", [(i / 100, i2cdevlib_line(r)) for i, r in enumerate(t)],
         counts_si, units=UnitOptions(sensor="mpu6050"))
    t = imu_truth(130, seed=3)
    show("Teleplot 50 Hz", [(i / 50, teleplot_lines(r)) for i, r in enumerate(t)], t)
    t = imu_truth(60, seed=4)
    frames = np.round(np.random.default_rng(5).normal(25, 3, size=(3, 24, 32)), 1)
    items = []
    for i, r in enumerate(t):
        items.append((i / 20, ",".join(f"{v:.4f}" for v in np.concatenate([r[:3] / G, np.degrees(r[3:])])) + "\r\n"))
        if i % 20 == 10:
            items.append((i / 20 + 0.01, mlx_frame(frames[i // 20])))
    show("CSV in g and deg/s 20 Hz + MLX90640_simpletest frames", items, t, units=UnitOptions(gyro_unit="dps"))


if __name__ == "__main__":
    main()
