"""The binary wire protocol of firmware_bridge/PROTOCOL.md, mirrored in ``struct.Struct`` layouts.

A frame on the wire is ``COBS(header + body + crc16_le) + b"\\x00"``. Everything is little-endian. This module
holds the constants, the encoders (used by the simulator, golden vectors and tests) and ``parse_frame``, which
turns one delimiter-free COBS block into ``(Header, body)`` or raises :class:`FrameError`. It imports neither
threads nor pyserial.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from cobs import cobs

PROTOCOL_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)  # v2 = v1 + the thermal frame count in IMU frames and stream counters in INFO
DELIMITER = b"\x00"
MAX_PAYLOAD_BYTES = 40 * 1024  # header + body + CRC; a Lepton 160x120 u16 frame (38 414 B) fits
MAX_ENCODED_BYTES = MAX_PAYLOAD_BYTES + MAX_PAYLOAD_BYTES // 254 + 2
MAX_IMU_BATCH = 255

HEADER = struct.Struct("<BBHI")  # version, type, seq, t_us
CRC = struct.Struct("<H")
INFO = struct.Struct("<ffffHHBB")  # accel_lsb, gyro_lsb, imu_rate_hz, thermal_rate_hz, fs_g, fs_dps, flags, rsv
IMU = struct.Struct("<BBH")  # n, flags, dt_us
IMU_THERMAL_COUNT = struct.Struct("<H")  # v2, flag IMU_HAS_THERMAL_COUNT: thermal frames sent so far (mod 2**16)
INFO_COUNTERS = struct.Struct("<HH")  # v2, after the strings: next IMU seq, next THERMAL seq
THERMAL = struct.Struct("<BBHHff")  # sensor, encoding, width, height, scale, offset
LOG = struct.Struct("<B")  # level
CMD_START = struct.Struct("<B")  # stream mask
CMD_SET_RATE = struct.Struct("<Bf")  # stream, rate_hz

GRAVITY_MPS2 = 9.80665


class FrameType(IntEnum):
    """Frame type byte. Device -> host below 0x80, host -> device from 0x80."""

    INFO = 0x01
    IMU = 0x02
    THERMAL = 0x03
    LOG = 0x04
    START = 0x81
    STOP = 0x82
    SET_RATE = 0x83
    GET_INFO = 0x84


class ThermalSensor(IntEnum):
    """Thermal sensor id in a THERMAL frame."""

    OTHER = 0
    MLX90640 = 1
    AMG8833 = 2
    LEPTON = 3


class PixelEncoding(IntEnum):
    """How THERMAL pixels are stored; degrees C = value * scale + offset."""

    INT16 = 1
    UINT16 = 2
    FLOAT32 = 3


PIXEL_DTYPES = {PixelEncoding.INT16: "<i2", PixelEncoding.UINT16: "<u2", PixelEncoding.FLOAT32: "<f4"}
LOG_LEVELS = ("debug", "info", "warning", "error")
STREAM_BITS = {"imu": 0x01, "thermal": 0x02}
STREAM_IDS = {"imu": 0, "thermal": 1}
INFO_HAS_GYRO = 0x01
INFO_HAS_THERMAL = 0x02
IMU_HAS_GYRO = 0x01
IMU_HAS_THERMAL_COUNT = 0x02


class FrameError(ValueError):
    """One COBS block is not a valid frame; ``reason`` names the counter it goes to."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Header:
    """The 8-byte frame header. ``t_us`` is the device clock in microseconds (u32, wraps after 71.6 min)."""

    version: int
    type: int
    seq: int
    t_us: int


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xor-out); ``b"123456789"`` -> 0x29B1."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode_frame(ftype: int, seq: int, t_us: int, body: bytes = b"") -> bytes:
    """Frame ``body`` for the wire: ``COBS(header + body + crc) + 0x00``.

    Args:
        ftype: a :class:`FrameType` value.
        seq: per-stream sequence number; reduced modulo 2**16.
        t_us: device time in microseconds; reduced modulo 2**32.
        body: the type-specific payload.
    """
    payload = HEADER.pack(PROTOCOL_VERSION, int(ftype), seq & 0xFFFF, t_us & 0xFFFFFFFF) + body
    if len(payload) + CRC.size > MAX_PAYLOAD_BYTES:
        raise ValueError(f"frame payload {len(payload) + CRC.size} B exceeds {MAX_PAYLOAD_BYTES} B")
    payload += CRC.pack(crc16(payload))
    return bytes(cobs.encode(payload)) + DELIMITER


def parse_frame(block: bytes) -> tuple[Header, bytes]:
    """Decode one COBS block (without its delimiter) into its header and body.

    Raises:
        FrameError: with ``reason`` one of ``cobs_errors``, ``crc_failures``, ``bad_version``, ``bad_length``.
    """
    if len(block) > MAX_ENCODED_BYTES:
        raise FrameError("bad_length", f"{len(block)} B block exceeds {MAX_ENCODED_BYTES} B")
    try:
        payload = cobs.decode(block)
    except cobs.DecodeError as exc:
        raise FrameError("cobs_errors", str(exc)) from None
    if len(payload) < HEADER.size + CRC.size:
        raise FrameError("bad_length", f"{len(payload)} B payload is shorter than header + CRC")
    (crc_rx,) = CRC.unpack_from(payload, len(payload) - CRC.size)
    if crc16(payload[: -CRC.size]) != crc_rx:
        raise FrameError("crc_failures", f"CRC {crc_rx:#06x} does not match")
    version, ftype, seq, t_us = HEADER.unpack_from(payload)
    if version not in SUPPORTED_VERSIONS:
        raise FrameError("bad_version", f"protocol version {version}, this host speaks {SUPPORTED_VERSIONS}")
    return Header(version, ftype, seq, t_us), bytes(payload[HEADER.size : -CRC.size])


def _lp_string(text: str) -> bytes:
    raw = text.encode("utf-8")[:255]
    return bytes([len(raw)]) + raw


def encode_info(
    t_us: int,
    *,
    accel_lsb_mps2: float,
    gyro_lsb_rads: float,
    imu_rate_hz: float,
    thermal_rate_hz: float = 0.0,
    accel_fs_g: int = 16,
    gyro_fs_dps: int = 2000,
    firmware: str = "",
    imu_sensor: str = "",
    thermal_sensor: str = "",
    seq: int = 0,
    next_seq: tuple[int, int] = (0, 0),
) -> bytes:
    """An INFO frame: the scale factors that turn IMU counts into SI units, nominal rates, sensor names, and (v2)
    ``next_seq``: the sequence numbers the next IMU sample and THERMAL frame will carry (0, 0 after boot)."""
    flags = (INFO_HAS_GYRO if gyro_lsb_rads > 0 else 0) | (INFO_HAS_THERMAL if thermal_sensor else 0)
    body = INFO.pack(accel_lsb_mps2, gyro_lsb_rads, imu_rate_hz, thermal_rate_hz, accel_fs_g, gyro_fs_dps, flags, 0)
    body += _lp_string(firmware) + _lp_string(imu_sensor) + _lp_string(thermal_sensor)
    body += INFO_COUNTERS.pack(next_seq[0] & 0xFFFF, next_seq[1] & 0xFFFF)
    return encode_frame(FrameType.INFO, seq, t_us, body)


def encode_imu(seq: int, t_us: int, dt_us: int, counts: np.ndarray, has_gyro: bool = True,
               thermal_count: int | None = None) -> bytes:
    """An IMU batch frame.

    Args:
        seq: index of the first sample in the IMU stream (mod 2**16), so gaps count samples.
        t_us: device time of the first sample in microseconds.
        dt_us: interval between consecutive samples in microseconds (0..65535).
        counts: (n, 6) int16 raw counts ax, ay, az, gx, gy, gz, or (n, 3) without gyro; 1 <= n <= 255.
        has_gyro: whether the gyro columns are present.
        thermal_count: (v2) THERMAL frames the device sent before this frame, mod 2**16, so the host counts lost
            thermal frames exactly even when none arrives; None leaves it out (v1 layout).
    """
    channels = 6 if has_gyro else 3
    counts = np.asarray(counts).reshape(-1, channels)
    n = len(counts)
    if not 1 <= n <= MAX_IMU_BATCH or not 0 <= dt_us <= 0xFFFF:
        raise ValueError(f"IMU batch needs 1..{MAX_IMU_BATCH} samples and dt_us in 0..65535, got {n}, {dt_us}")
    flags = (IMU_HAS_GYRO if has_gyro else 0) | (IMU_HAS_THERMAL_COUNT if thermal_count is not None else 0)
    body = IMU.pack(n, flags, dt_us)
    if thermal_count is not None:
        body += IMU_THERMAL_COUNT.pack(thermal_count & 0xFFFF)
    body += counts.astype("<i2").tobytes()
    return encode_frame(FrameType.IMU, seq, t_us, body)


def encode_thermal(
    seq: int, t_us: int, pixels: np.ndarray, encoding: PixelEncoding, scale: float, offset: float,
    sensor: ThermalSensor = ThermalSensor.OTHER,
) -> bytes:
    """A THERMAL frame. ``pixels`` is (H, W) stored row-major; degrees C = value * scale + offset."""
    h, w = pixels.shape
    body = THERMAL.pack(int(sensor), int(encoding), w, h, scale, offset)
    body += np.ascontiguousarray(pixels, dtype=PIXEL_DTYPES[encoding]).tobytes()
    return encode_frame(FrameType.THERMAL, seq, t_us, body)


def encode_log(seq: int, t_us: int, level: str, text: str) -> bytes:
    """A LOG frame; ``level`` is one of ``debug``, ``info``, ``warning``, ``error``."""
    return encode_frame(FrameType.LOG, seq, t_us, LOG.pack(LOG_LEVELS.index(level)) + text.encode("utf-8"))


def encode_command(cmd: str, seq: int = 0, **kwargs: object) -> bytes:
    """A host -> device command frame.

    Args:
        cmd: ``start`` (kwargs ``streams``: list of ``imu``/``thermal``, default both), ``stop``,
            ``set_rate`` (kwargs ``stream``: ``imu``/``thermal``, ``rate_hz``: float) or ``get_info``.
        seq: command counter.

    Raises:
        ValueError: unknown command or arguments (SensorSource turns it into a SensorError).
    """
    if cmd == "start":
        streams = kwargs.pop("streams", ("imu", "thermal"))
        mask = 0
        for s in streams:  # type: ignore[attr-defined]
            mask |= STREAM_BITS[str(s)]
        body, ftype = CMD_START.pack(mask), FrameType.START
    elif cmd == "stop":
        body, ftype = b"", FrameType.STOP
    elif cmd == "get_info":
        body, ftype = b"", FrameType.GET_INFO
    elif cmd == "set_rate":
        stream = str(kwargs.pop("stream", "imu"))
        rate = float(kwargs.pop("rate_hz"))  # type: ignore[arg-type]
        if stream not in STREAM_IDS or not rate > 0:
            raise ValueError(f"set_rate needs stream in {sorted(STREAM_IDS)} and rate_hz > 0, got {stream}, {rate}")
        body, ftype = CMD_SET_RATE.pack(STREAM_IDS[stream], rate), FrameType.SET_RATE
    else:
        raise ValueError(f"unknown command '{cmd}'")
    if kwargs:
        raise ValueError(f"command '{cmd}' got unexpected arguments {sorted(kwargs)}")
    return encode_frame(ftype, seq, 0, body)


COMMANDS = ("start", "stop", "set_rate", "get_info")
