"""Load benchmark for the serial bridge (issue 3, "Must show").

    python benchmarks/bench_serial_link.py                 # 60 s real-time pty run + decoder throughput
    python benchmarks/bench_serial_link.py --seconds 10    # shorter

1. Decoder throughput: IMU 1 kHz + MLX90640 (32x24 int16) 8 Hz encoded in memory, decoded in 4 kB chunks;
   MB/s printed beside the 921 600-baud line rate (92 160 B/s) as a ratio (target >= 100x). CSV too.
2. The same mix streamed in real time through a pseudo-terminal (SimulatedDevice -> SensorSource) for N seconds:
   frames sent vs received, counters (target: zero lost).
3. 1 % and 0.1 % of bytes bit-flipped: frames injected-corrupt vs lost vs counted. Protocol v2 counts lost
   thermal frames exactly (each IMU frame carries the thermal frame count); IMU samples lost after the last
   frame that arrives cannot be counted by any receiver.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from edgebind.bridge.binary import BinaryDecoder
from edgebind.bridge.encode import binary_units, csv_units
from edgebind.bridge.events import ImuBatch, ThermalFrame
from edgebind.bridge.faults import FaultInjector, FaultSpec
from edgebind.bridge.record import record
from edgebind.bridge.recording import Recording
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.bridge.text import CsvDecoder
from edgebind.bridge.units import UnitOptions

LINE_RATE_BPS = 921_600 / 10  # bytes per second at 921 600 baud, 8N1


def make_recording(seconds: float, seed: int = 0) -> Recording:
    """IMU at 1 kHz (gravity on z, noise) and MLX90640-sized frames at 8 Hz."""
    rng = np.random.default_rng(seed)
    n, m = int(seconds * 1000), int(seconds * 8)
    imu = rng.normal(0, 1.5, size=(n, 6)).astype(np.float32)
    imu[:, 2] += 9.81
    thermal = rng.normal(24, 3, size=(m, 24, 32)).astype(np.float32)
    return Recording(imu=imu, imu_t_ns=np.arange(n, dtype=np.int64) * 1_000_000, thermal=thermal,
                     thermal_t_ns=np.arange(m, dtype=np.int64) * 125_000_000, meta={"source": "bench"})


def throughput(rec: Recording, repeats: int = 3) -> None:
    stream = b"".join(u.data for u in binary_units(rec)[0])
    best = float("inf")
    for _ in range(repeats):
        dec = BinaryDecoder()
        t0 = time.perf_counter()
        for i in range(0, len(stream), 4096):
            dec.feed(stream[i : i + 4096])
        best = min(best, time.perf_counter() - t0)
    mbps = len(stream) / best / 1e6
    print(f"binary decoder: {len(stream) / 1e6:.2f} MB in {best * 1e3:.0f} ms = {mbps:.1f} MB/s = "
          f"{len(stream) / best / LINE_RATE_BPS:.0f}x the 921600-baud line rate ({dec.stats['frames_ok']} frames)")
    text = b"".join(u.data for u in csv_units(Recording(imu=rec.imu, imu_t_ns=rec.imu_t_ns)))
    dec_csv = CsvDecoder(units=UnitOptions(accel_unit="mps2", gyro_unit="rads"))  # units known: no detection
    t0 = time.perf_counter()
    for i in range(0, len(text), 4096):
        dec_csv.feed(text[i : i + 4096])
    dt = time.perf_counter() - t0
    print(f"csv decoder:    {len(text) / 1e6:.2f} MB in {dt * 1e3:.0f} ms = {len(text) / dt / 1e6:.1f} MB/s = "
          f"{len(text) / dt / LINE_RATE_BPS:.0f}x the line rate ({dec_csv.stats['lines_ok']} lines)")


def pty_load(rec: Recording, speed: float) -> None:
    n_frames = len(rec.thermal) if rec.thermal is not None else 0
    with SimulatedDevice(rec, fmt="binary", speed=speed) as sim:
        t0 = time.perf_counter()
        out = record(sim.port, max_samples=len(rec.imu), idle_s=2.0, duration_s=rec.duration_s / speed + 30)
        wall = time.perf_counter() - t0
    c = out.meta["counters"]
    got_th = 0 if out.thermal is None else len(out.thermal)
    ok = len(out.imu) == len(rec.imu) and got_th == n_frames and np.array_equal(out.imu_t_ns, rec.imu_t_ns)
    print(f"pty load ({rec.duration_s + 0.001:.0f} s of IMU 1 kHz + MLX90640 8 Hz at speed {speed:g}, {wall:.1f} s "
          f"wall): IMU samples {len(out.imu)}/{len(rec.imu)}, thermal frames {got_th}/{n_frames}, "
          f"frames sent {sim.stats['frames_sent']}, bytes {c['bytes_read']}, samples_lost {c['samples_lost']}, "
          f"thermal_frames_lost {c['thermal_frames_lost']}, crc_failures {c['crc_failures']}, queue drops "
          f"{c['queue_dropped_bytes']}, clock drift {c['clock_drift_ppb'] / 1000:.1f} ppm -> "
          f"{'ZERO LOST' if ok else 'LOSS'}")


def faults(rec: Recording, rate: float = 0.01) -> None:
    units, _ = binary_units(rec, imu_batch=10)
    inj = FaultInjector(FaultSpec(bitflip=rate, seed=1))
    data, touched = [], []
    for u in units:
        d, t = inj.apply(u.data) if u.kind != "info" else (u.data, False)
        data.append(d)
        touched.append(t)
    dec = BinaryDecoder()
    events = dec.feed(b"".join(data))
    got_imu = sum(len(e.t_ns) for e in events if isinstance(e, ImuBatch))
    got_th = sum(1 for e in events if isinstance(e, ThermalFrame))
    imu_frames = sum(1 for u in units if u.kind == "imu")
    th_frames = sum(1 for u in units if u.kind == "thermal")
    touched_frames = sum(touched)
    received = dec.stats["frames_ok"] - 1
    print(f"faults ({rate:.1%} of bytes bit-flipped, {inj.stats['bytes_flipped']} flips): frames sent "
          f"{imu_frames + th_frames}, touched {touched_frames} (+{inj.stats['delimiter_hits']} delimiter hits), "
          f"recovered {received}, lost {imu_frames + th_frames - received}; counted: crc {dec.stats['crc_failures']}"
          f" cobs {dec.stats['cobs_errors']} resyncs {dec.stats['resyncs']} samples_lost {dec.stats['samples_lost']}"
          f" (actual {len(rec.imu) - got_imu}) thermal_frames_lost {dec.stats['thermal_frames_lost']} (actual "
          f"{th_frames - got_th}); decoder raised: no")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the pty run (default 60)")
    ap.add_argument("--speed", type=float, default=1.0, help="playback speed of the pty run (default real time)")
    args = ap.parse_args()
    throughput(make_recording(60.0))
    for rate in (0.01, 0.001):
        faults(make_recording(20.0, seed=2), rate)
    pty_load(make_recording(args.seconds, seed=3), args.speed)


if __name__ == "__main__":
    main()
