"""What popular Arduino sketches print, byte for byte, and a pseudo-terminal "board" that prints it on schedule.

The print statements are those of the sketches' sources (Arduino ``Serial.print(float)`` gives 2 decimals,
``Serial.print(x, 1)`` one, ``println`` ends with CR LF):

* Adafruit_MPU6050 ``examples/plotter``: ``AccelX:`` .. ``AccelZ:`` then ``, GyroX:`` .. ``GyroZ:`` (m/s^2, rad/s).
* SparkFun ICM-20948 ``Example1_Basics`` ``printScaledAGMT``/``printFormattedFloat(val, 5, 2)`` (mg, DPS), with
  "Waiting for data" lines.
* i2cdevlib ``MPU6050_raw`` with ``OUTPUT_READABLE_ACCELGYRO``: ``a/g:\\t`` + six tab-separated int16 counts.
* Adafruit_MLX90640 ``MLX90640_simpletest``: 32 dashes, then 24 rows of ``Serial.print(t, 1); Serial.print(", ")``.
* Teleplot: ``>name:value`` per variable (``§unit`` optional).
"""

from __future__ import annotations

import os
import select
import threading
import time

import numpy as np

from edgebind.bridge.events import Event
from edgebind.bridge.record import RecordingBuilder
from edgebind.bridge.recording import Recording
from edgebind.bridge.simulator import open_raw_pty
from edgebind.bridge.source import SensorSource

G = 9.80665


def imu_truth(n: int, seed: int = 0) -> np.ndarray:
    """(n, 6) m/s^2 and rad/s: gravity on z, a slow wobble and noise, like a board held in the hand."""
    rng = np.random.default_rng(seed)
    k = np.arange(n)[:, None]
    imu = 0.3 * np.sin(0.05 * k + np.arange(6)) + rng.normal(0, 0.05, (n, 6))
    imu[:, 2] += G
    return imu


def arduino_float(x: float, digits: int = 2) -> str:
    """``Serial.print(x, digits)``."""
    return f"{x:.{digits}f}"


def plotter_line(row: np.ndarray) -> str:
    """Adafruit MPU6050 ``plotter``: m/s^2 and rad/s with 2 decimals."""
    a = [arduino_float(v) for v in row]
    return (f"AccelX:{a[0]},AccelY:{a[1]},AccelZ:{a[2]}, GyroX:{a[3]},GyroY:{a[4]},GyroZ:{a[5]}\r\n")


def _formatted(val: float, leading: int = 5, decimals: int = 2) -> str:
    """SparkFun ``printFormattedFloat``: sign char, zero padding to ``leading`` integer digits, then the digits."""
    out = "-" if val < 0 else " "
    aval = abs(val)
    for indi in range(leading):
        tenpow = 10 ** (leading - 1 - indi) if indi < leading - 1 else 0
        if aval < tenpow:
            out += "0"
        else:
            break
    return out + arduino_float(aval, decimals)


def sparkfun_line(row: np.ndarray) -> str:
    """SparkFun ICM-20948 ``printScaledAGMT``: accelerometer in mg, gyroscope in degrees/s."""
    acc = [_formatted(v / G * 1000.0) for v in row[:3]]
    gyr = [_formatted(float(np.degrees(v))) for v in row[3:]]
    mag = [_formatted(v) for v in (12.5, -30.25, 41.0)]
    return (f"Scaled. Acc (mg) [ {acc[0]}, {acc[1]}, {acc[2]} ], Gyr (DPS) [ {gyr[0]}, {gyr[1]}, {gyr[2]} ], "
            f"Mag (uT) [ {mag[0]}, {mag[1]}, {mag[2]} ], Tmp (C) [ {_formatted(27.5)} ]\r\n")


def i2cdevlib_counts(row: np.ndarray) -> np.ndarray:
    """MPU-6050 counts at the default ranges (2 g: 16384 LSB/g, 250 dps: 131 LSB/(deg/s))."""
    acc = np.round(row[:3] / G * 16384)
    gyr = np.round(np.degrees(row[3:]) * 131)
    return np.clip(np.concatenate([acc, gyr]), -32768, 32767).astype(int)


def i2cdevlib_line(row: np.ndarray) -> str:
    """i2cdevlib ``MPU6050_raw`` readable output."""
    c = i2cdevlib_counts(row)
    return "a/g:\t" + "\t".join(str(v) for v in c) + "\r\n"


def teleplot_lines(row: np.ndarray) -> str:
    """Teleplot, one variable per line: accelerometer in g (named with ``§g``), gyroscope in rad/s."""
    names = ("accX", "accY", "accZ", "gyrX", "gyrY", "gyrZ")
    vals = list(row[:3] / G) + list(row[3:])
    return "".join(f">{n}:{v:.4f}" + ("§g" if i < 3 else "") + "\r\n"
                   for i, (n, v) in enumerate(zip(names, vals, strict=True)))


def mlx_frame(temp_c: np.ndarray) -> str:
    """``MLX90640_simpletest`` loop(): a dash line, then 24 rows of ``%.1f, ``."""
    rows = ["".join(f"{arduino_float(float(t), 1)}, " for t in r) + "\r\n" for r in temp_c]
    return "-" * 32 + "\r\n" + "".join(rows)


class PtyBoard:
    """A pseudo-terminal that prints ``(t_s, text)`` items at their times once :meth:`start` is called."""

    def __init__(self, items: list[tuple[float, str]], wait_for_host: bool = False) -> None:
        self.items = items
        self.wait_for_host = wait_for_host
        self.master, self.port = open_raw_pty()
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        if self.wait_for_host:  # a board that prints from power-up; the host opens the port when it is ready
            poller = select.poll()
            poller.register(self.master, select.POLLIN)
            while not self.done.is_set():
                events = poller.poll(20)
                if not (events and events[0][1] & select.POLLHUP):
                    break
                self.done.wait(0.01)
            self.done.wait(0.3)  # pyserial flushes the input right after opening
        t0 = time.monotonic()
        for t, text in self.items:
            delay = t0 + t - time.monotonic()
            if delay > 0:
                self.done.wait(delay)
            data = text.encode("utf-8")  # Arduino sources are UTF-8: "§" is 2 bytes
            while data:
                select.select([], [self.master], [], 1.0)
                try:
                    data = data[os.write(self.master, data):]
                except BlockingIOError:
                    continue
        self.done.set()

    def close(self) -> None:
        self.done.set()
        self._thread.join(timeout=5)
        os.close(self.master)


def record_board(items: list[tuple[float, str]], **source_kwargs: object) -> tuple[Recording, dict, list[Event]]:
    """Print ``items`` on a pty and read it with SensorSource + RecordingBuilder (what ``edgebind record`` runs).

    Returns:
        The Recording, the source's counters, and every event.
    """
    board = PtyBoard(items)
    builder = RecordingBuilder()
    events: list[Event] = []
    try:
        with SensorSource(board.port, baud=115200, **source_kwargs) as src:  # type: ignore[arg-type]
            board.start()  # the port is open (and flushed): print from now on
            stopper = threading.Thread(target=lambda: (board.done.wait(30), threading.Event().wait(0.5), src.close()),
                                       daemon=True)
            stopper.start()
            for event in src.events(timeout_s=0.1):
                events.append(event)
                builder.add(event)
            stopper.join()
            info = src.info
            stats = src.stats
    finally:
        board.close()
    meta = {"format": src.detected_format, "units": {k: v for k, v in (info.extra if info else {}).items()
                                                      if "unit" in k}}
    return builder.build(meta), stats, events
