"""Regenerate the golden vectors shared by the C tests and the Python tests.

    python firmware_bridge/golden/make_golden.py          # rewrites vectors.json and vectors.txt

vectors.json is the readable form (frames as hex and their decoded values); vectors.txt mirrors it as
whitespace-separated records that the C test reads without a JSON parser. The tests check that both files are
exactly what this script produces, so the vectors change only through it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from edgebind.bridge import protocol as p

HERE = Path(__file__).resolve().parent
ACCEL_LSB = 16 * p.GRAVITY_MPS2 / 32768  # ICM-42688 at +-16 g
GYRO_LSB = math.radians(2000) / 32768  # +-2000 dps


def _f32(x: float) -> float:
    return float(np.float32(x))


def build() -> dict:
    """All vectors as one JSON-able dict."""
    rng = np.random.default_rng(42)
    frames: list[dict] = []

    def frame(name: str, ftype: int, seq: int, t_us: int, body: bytes, **decoded: object) -> None:
        wire = p.encode_frame(ftype, seq, t_us, body)
        frames.append({"name": name, "type": ftype, "seq": seq, "t_us": t_us, "body": body.hex(),
                       "wire": wire.hex(), "decoded": decoded})

    info = {"accel_lsb_mps2": _f32(ACCEL_LSB), "gyro_lsb_rads": _f32(GYRO_LSB), "imu_rate_hz": 400.0,
            "thermal_rate_hz": 8.0, "accel_fs_g": 16, "gyro_fs_dps": 2000, "flags": 3,
            "firmware": "edgebind-ref-0.1.0", "imu_sensor": "ICM-42688-P", "thermal_sensor": "MLX90640",
            "imu_next_seq": 1234, "thermal_next_seq": 7}
    body = p.encode_info(0, next_seq=(1234, 7), **{k: v for k, v in info.items()
                                                    if k not in ("flags", "imu_next_seq", "thermal_next_seq")})
    _, info_body = p.parse_frame(body[:-1])
    frame("info_icm42688_mlx90640", p.FrameType.INFO, 0, 1000, info_body, **info)

    def imu(name: str, seq: int, t_us: int, dt_us: int, counts: np.ndarray, has_gyro: bool = True,
            thermal_count: int | None = None) -> None:
        wire = p.encode_imu(seq, t_us, dt_us, counts, has_gyro, thermal_count)
        _, b = p.parse_frame(wire[:-1])
        accel = (counts[:, :3].astype(np.float64) * info["accel_lsb_mps2"]).astype(np.float32)
        gyro = (counts[:, 3:].astype(np.float64) * info["gyro_lsb_rads"]).astype(np.float32) if has_gyro else None
        flags = int(has_gyro) | (p.IMU_HAS_THERMAL_COUNT if thermal_count is not None else 0)
        frame(name, p.FrameType.IMU, seq, t_us, b, n=len(counts), flags=flags, dt_us=dt_us, thermal_count=thermal_count,
              counts=counts.astype(int).ravel().tolist(), accel_mps2=accel.ravel().tolist(),
              gyro_rads=None if gyro is None else gyro.ravel().tolist())

    imu("imu_one_sample", 0, 2500, 0, np.array([[0, 0, 2048, 1, -1, 0]], np.int16))
    imu("imu_batch4_zeros", 1, 5000, 2500, np.array(
        [[0, 0, 0, 0, 0, 0], [256, -256, 2048, 0, 1, 2], [32767, -32768, 1, 255, 0, -1], [10, 20, 30, 40, 50, 60]],
        np.int16))
    imu("imu_accel_only", 5, 15000, 15625, rng.integers(-4000, 4000, size=(3, 3)).astype(np.int16), has_gyro=False)
    imu("imu_seq_and_time_wrap", 65534, 0xFFFFFF00, 1000, rng.integers(-32768, 32767, size=(8, 6)).astype(np.int16))
    imu("imu_v2_thermal_count", 40, 100000, 2500, rng.integers(-4000, 4000, size=(2, 6)).astype(np.int16),
        thermal_count=65535)

    def thermal(name: str, seq: int, t_us: int, values: np.ndarray, enc: p.PixelEncoding, scale: float,
                offset: float, sensor: p.ThermalSensor) -> None:
        wire = p.encode_thermal(seq, t_us, values, enc, scale, offset, sensor)
        _, b = p.parse_frame(wire[:-1])
        raw = values.astype(p.PIXEL_DTYPES[enc])
        celsius = (raw.astype(np.float64) * _f32(scale) + _f32(offset)).astype(np.float32)
        frame(name, p.FrameType.THERMAL, seq, t_us, b, sensor=int(sensor), encoding=int(enc),
              width=values.shape[1], height=values.shape[0], scale=_f32(scale), offset=_f32(offset),
              values=raw.ravel().tolist(), celsius=celsius.ravel().tolist())

    thermal("thermal_amg8833", 3, 125000, rng.integers(80, 160, size=(8, 8)), p.PixelEncoding.INT16, 0.25, 0.0,
            p.ThermalSensor.AMG8833)
    thermal("thermal_mlx90640_centi_c", 7, 250000, rng.integers(1800, 3700, size=(24, 32)), p.PixelEncoding.INT16,
            0.01, 0.0, p.ThermalSensor.MLX90640)
    thermal("thermal_float32_3x2", 0, 42, np.array([[21.5, -3.25, 0.0], [100.0, 36.6, 0.5]], np.float32),
            p.PixelEncoding.FLOAT32, 1.0, 0.0, p.ThermalSensor.OTHER)
    thermal("thermal_lepton_tlinear_4x3", 1, 99, rng.integers(27300, 31000, size=(3, 4)), p.PixelEncoding.UINT16,
            0.01, -273.15, p.ThermalSensor.LEPTON)
    log_text = "imu: FIFO overflow, 12 samples dropped"
    frame("log_warning", p.FrameType.LOG, 2, 777, p.LOG.pack(2) + log_text.encode(), level=2, text=log_text)
    for name, cmd, kwargs in [("cmd_start_all", "start", {}), ("cmd_start_imu", "start", {"streams": ["imu"]}),
                              ("cmd_stop", "stop", {}), ("cmd_get_info", "get_info", {}),
                              ("cmd_set_rate_imu_1k", "set_rate", {"stream": "imu", "rate_hz": 1000.0})]:
        wire = p.encode_command(cmd, 3, **kwargs)
        h, b = p.parse_frame(wire[:-1])
        mask = b[0] if cmd == "start" else 0
        stream, rate = (p.CMD_SET_RATE.unpack(b) if cmd == "set_rate" else (0, 0.0))
        frame(name, h.type, 3, 0, b, stream_mask=mask, stream=stream, rate_hz=rate)

    cobs_cases = {"empty": b"", "one_zero": b"\x00", "two_zeros": b"\x00\x00", "no_zero": b"\x11\x22\x33",
                  "run_253": bytes(range(1, 254)), "run_254": bytes([7]) * 254, "run_255": bytes([9]) * 255,
                  "zero_after_254": bytes([5]) * 254 + b"\x00" + b"\x01"}
    cobs = [{"name": k, "raw": v.hex(), "encoded": bytes(p.cobs.encode(v)).hex()} for k, v in cobs_cases.items()]
    crc = [{"name": k, "data": v.hex(), "crc": p.crc16(v)} for k, v in
           {"check_123456789": b"123456789", "empty": b"", "zeros_16": bytes(16)}.items()]
    return {"protocol_version": p.PROTOCOL_VERSION, "frames": frames, "cobs": cobs, "crc16": crc}


def _hex(s: str) -> str:
    return s if s else "-"


def render_txt(g: dict) -> str:
    """The C-readable mirror of :func:`build` (see firmware_bridge/tests/test_proto.c)."""
    out = [f"# edgebind golden vectors v{g['protocol_version']}, generated by make_golden.py; do not edit"]
    for f in g["frames"]:
        out.append(f"F {f['name']} {f['type']} {f['seq']} {f['t_us']} {_hex(f['body'])} {f['wire']}")
        d = f["decoded"]
        if f["type"] == p.FrameType.IMU:
            tc = -1 if d["thermal_count"] is None else d["thermal_count"]
            out.append(f"I {f['name']} {d['n']} {d['flags']} {d['dt_us']} {tc} " + " ".join(map(str, d["counts"])))
        elif f["type"] == p.FrameType.THERMAL:
            vals = " ".join(f"{v!r}" for v in d["values"])
            out.append(f"T {f['name']} {d['sensor']} {d['encoding']} {d['width']} {d['height']} {d['scale']!r} "
                       f"{d['offset']!r} {vals}")
        elif f["type"] == p.FrameType.INFO:
            out.append(f"N {f['name']} {d['accel_lsb_mps2']!r} {d['gyro_lsb_rads']!r} {d['imu_rate_hz']!r} "
                       f"{d['thermal_rate_hz']!r} {d['accel_fs_g']} {d['gyro_fs_dps']} {d['flags']} "
                       f"{d['firmware']} {d['imu_sensor']} {d['thermal_sensor']} {d['imu_next_seq']} "
                       f"{d['thermal_next_seq']}")
        elif f["type"] == p.FrameType.LOG:
            out.append(f"L {f['name']} {d['level']} {d['text'].encode().hex()}")
        else:
            out.append(f"C {f['name']} {f['type']} {d['stream_mask']} {d['stream']} {d['rate_hz']!r}")
    for c in g["cobs"]:
        out.append(f"B {c['name']} {_hex(c['raw'])} {_hex(c['encoded'])}")
    for c in g["crc16"]:
        out.append(f"R {c['name']} {_hex(c['data'])} {c['crc']}")
    return "\n".join(out) + "\n"


def render_json(g: dict) -> str:
    """vectors.json text."""
    return json.dumps(g, indent=1) + "\n"


def main() -> None:
    g = build()
    (HERE / "vectors.json").write_text(render_json(g))
    (HERE / "vectors.txt").write_text(render_txt(g))
    print(f"wrote {len(g['frames'])} frames, {len(g['cobs'])} COBS and {len(g['crc16'])} CRC vectors to {HERE}")


if __name__ == "__main__":
    main()
