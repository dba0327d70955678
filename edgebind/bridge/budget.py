"""Link budget: bytes on the wire per stream and which baud rate carries which sensor mix (PROTOCOL.md table).

UART 8N1 spends 10 bits per byte. A link is "comfortable" below 70 % utilisation (FIELD_NOTES.md §3.3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from edgebind.bridge import protocol as p

BAUD_RATES = (115_200, 230_400, 460_800, 921_600, 2_000_000)
UTILISATION = 0.7
BITS_PER_BYTE = 10


def wire_bytes(payload_bytes: int) -> int:
    """Bytes on the wire for a frame whose header + body + CRC is ``payload_bytes`` (COBS + delimiter)."""
    return payload_bytes + 1 + payload_bytes // 254 + 1


def imu_frame_bytes(samples_per_frame: int, has_gyro: bool = True, thermal_count: bool = True) -> int:
    """Wire bytes of one IMU frame carrying ``samples_per_frame`` samples.

    Args:
        samples_per_frame: samples in the batch.
        has_gyro: 6 channels, else 3.
        thermal_count: the v2 2-byte thermal frame count, which the reference firmware always sends
            (``eb_build_imu_tc``); False for a v1 frame.
    """
    channels = 6 if has_gyro else 3
    count = p.IMU_THERMAL_COUNT.size if thermal_count else 0
    return wire_bytes(p.HEADER.size + p.IMU.size + count + samples_per_frame * channels * 2 + p.CRC.size)


def thermal_frame_bytes(width: int, height: int, bytes_per_pixel: int = 2) -> int:
    """Wire bytes of one THERMAL frame."""
    return wire_bytes(p.HEADER.size + p.THERMAL.size + width * height * bytes_per_pixel + p.CRC.size)


def stream_bits_per_s(imu_hz: float, thermal: tuple[int, int, int] | None = None, thermal_hz: float = 0.0,
                      frames_per_s: float = 100.0) -> float:
    """UART bits per second for an IMU at ``imu_hz`` batched into ~``frames_per_s`` frames, plus thermal.

    Args:
        imu_hz: IMU sample rate (0 for none).
        thermal: (width, height, bytes per pixel) of the thermal frame, or None.
        thermal_hz: thermal frame rate.
        frames_per_s: IMU frames per second (batching). Defaults to 100.
    """
    bits = 0.0
    if imu_hz > 0:
        batch = max(1, min(p.MAX_IMU_BATCH, math.ceil(imu_hz / frames_per_s)))
        bits += imu_hz / batch * imu_frame_bytes(batch) * BITS_PER_BYTE
    if thermal is not None and thermal_hz > 0:
        bits += thermal_hz * thermal_frame_bytes(*thermal) * BITS_PER_BYTE
    return bits


def smallest_baud(bits_per_s: float, bauds: Sequence[int] = BAUD_RATES) -> int | None:
    """The lowest standard baud rate that carries ``bits_per_s`` at <= 70 % utilisation (None if none does)."""
    return next((b for b in bauds if bits_per_s <= UTILISATION * b), None)


def recording_bits_per_s(units: Sequence[Any], duration_s: float) -> float:
    """Average bits per second needed to send ``units`` (objects with ``.data``) within ``duration_s``."""
    if duration_s <= 0:
        return 0.0
    return sum(len(u.data) for u in units) * BITS_PER_BYTE / duration_s


def budget_table() -> list[dict[str, Any]]:
    """Rows of the PROTOCOL.md link-budget table: sensor mix, kbit/s, smallest baud at <= 70 %."""
    mixes: list[tuple[str, float, tuple[int, int, int] | None, float]] = [
        ("IMU 200 Hz", 200, None, 0),
        ("IMU 400 Hz", 400, None, 0),
        ("IMU 1 kHz", 1000, None, 0),
        ("MLX90640 8 Hz (int16 centi-°C)", 0, (32, 24, 2), 8),
        ("MLX90640 16 Hz (int16)", 0, (32, 24, 2), 16),
        ("AMG8833 10 Hz", 0, (8, 8, 2), 10),
        ("IMU 400 Hz + MLX90640 8 Hz", 400, (32, 24, 2), 8),
        ("IMU 1 kHz + MLX90640 8 Hz", 1000, (32, 24, 2), 8),
        ("IMU 1 kHz + MLX90640 16 Hz", 1000, (32, 24, 2), 16),
        ("IMU 400 Hz + AMG8833 10 Hz", 400, (8, 8, 2), 10),
        ("Lepton 160x120 8.7 Hz (u16)", 0, (160, 120, 2), 8.7),
    ]
    rows = []
    for name, imu_hz, th, th_hz in mixes:
        bits = stream_bits_per_s(imu_hz, th, th_hz)
        baud = smallest_baud(bits)
        rows.append({"mix": name, "kbit_s": bits / 1e3, "baud": baud})
    return rows
