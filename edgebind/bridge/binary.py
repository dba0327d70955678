"""Pure decoder for the binary protocol: ``BinaryDecoder().feed(bytes) -> list[Event]``.

No threads, no pyserial: it can be fuzzed and replayed. It never raises on bad input; every byte it throws away
and every sample it knows was lost is counted in :attr:`BinaryDecoder.stats`.
"""

from __future__ import annotations

import itertools
import logging
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgebind.bridge import protocol as p
from edgebind.bridge.events import DeviceInfo, Event, Gap, ImuBatch, LogMessage, ThermalFrame

log = logging.getLogger(__name__)

BINARY_COUNTERS = (
    "bytes_in",  # bytes fed to the decoder
    "frames_ok",  # frames that passed COBS, CRC, version and length checks
    "bytes_discarded",  # bytes thrown away (bad frames, oversize garbage, partial frame at start)
    "resyncs",  # times the decoder dropped bytes and restarted at the next 0x00
    "crc_failures",
    "cobs_errors",
    "bad_version",
    "bad_length",  # frame shorter than its header or body says
    "unknown_types",  # valid frame of a type this host does not know (skipped)
    "seq_gaps",  # sequence discontinuities (per stream)
    "samples_lost",  # IMU samples missing according to the sequence numbers
    "thermal_frames_lost",  # thermal frames missing: sequence numbers, and (v2) the thermal count in IMU frames
    "imu_before_info",  # IMU samples dropped because no INFO frame (scale factors) had arrived yet
    "imu_samples",
    "thermal_frames",
    "log_messages",
    "device_reboots",  # device clock and sequence numbers restarted (INFO or IMU frame): a new clock segment
)

_HALF_SEQ = 1 << 15
_ARANGE = np.arange(p.MAX_IMU_BATCH, dtype=np.int64)


@dataclass(frozen=True)
class _ImuFrame:
    """One decoded IMU frame before it becomes (part of) an :class:`ImuBatch`: its counts stay bytes until the read
    is done, so each read's adjacent IMU frames are scaled and stamped by a few numpy calls in all."""

    t0_ns: int
    dt_ns: int
    n: int
    counts: bytes
    lsb: np.ndarray  # (3|6,) float32 count -> SI factors in force for this frame
    has_gyro: bool
    host_t_ns: int


def _imu_batch(frames: list[_ImuFrame]) -> ImuBatch:
    """One ImuBatch from adjacent frames with the same layout and scale (in order)."""
    first = frames[0]
    channels = 6 if first.has_gyro else 3
    raw = first.counts if len(frames) == 1 else b"".join(f.counts for f in frames)
    counts = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)  # (n, 3|6)
    if all(b.dt_ns == a.dt_ns and b.t0_ns == a.t0_ns + a.n * a.dt_ns for a, b in itertools.pairwise(frames)):
        t_ns = first.t0_ns + np.arange(len(counts), dtype=np.int64) * first.dt_ns  # one evenly spaced run
    else:
        ns = np.array([f.n for f in frames])
        starts = np.repeat(np.array([f.t0_ns for f in frames], np.int64), ns)
        steps = np.repeat(np.array([f.dt_ns for f in frames], np.int64), ns)
        within = np.arange(len(counts)) - np.repeat(np.cumsum(ns) - ns, ns)
        t_ns = starts + within * steps
    # int16 * float32 rounds once, exactly as the float64 product cast to float32 would
    si = counts * first.lsb  # (n, 3|6) float32
    if first.has_gyro:
        return ImuBatch(t_ns=t_ns, accel_mps2=si[:, :3], gyro_rads=si[:, 3:], host_t_ns=frames[-1].host_t_ns,
                        has_gyro=True, imu6=si)
    return ImuBatch(t_ns=t_ns, accel_mps2=si, gyro_rads=np.zeros((len(si), 3), np.float32),
                    host_t_ns=frames[-1].host_t_ns, has_gyro=False)


def _merge_imu_frames(items: list[Any]) -> list[Event]:
    """Events in order, each run of adjacent :class:`_ImuFrame` (same layout and scale) made into one ImuBatch."""
    out: list[Event] = []
    run: list[_ImuFrame] = []
    for item in items:
        if isinstance(item, _ImuFrame):
            if run and (run[-1].has_gyro != item.has_gyro or run[-1].lsb is not item.lsb):
                out.append(_imu_batch(run))
                run = []
            run.append(item)
            continue
        if run:
            out.append(_imu_batch(run))
            run = []
        out.append(item)
    if run:
        out.append(_imu_batch(run))
    return out


class BinaryDecoder:
    """Decode a byte stream of COBS frames into events in SI units and device time.

    ``feed`` may be called with arbitrary chunks (split frames, garbage, bad checksums). Device timestamps
    (u32 microseconds) are unwrapped into a monotonic int64 nanosecond clock.
    """

    fmt = "binary"

    def __init__(self) -> None:
        self.stats: dict[str, int] = dict.fromkeys(BINARY_COUNTERS, 0)
        self.info: DeviceInfo | None = None
        self._buf = bytearray()
        self._synced = False
        self._lsb6 = np.zeros(6, np.float32)
        self._lsb3 = self._lsb6[:3]
        self._t_wraps = 0
        self._last_t_us = 0
        self._next_seq: dict[int, int] = {}
        self._offset_ns = 0  # added to device time: segments after a reboot continue the old time axis
        self._last_ns = 0
        self._last_host = 0

    def reset(self) -> None:
        """Forget partial input (after a reconnect). Sequence state is kept, so samples the device took while
        the link was down show up as a sequence gap; counters and the last INFO are kept too."""
        if self._buf:
            self.stats["bytes_discarded"] += len(self._buf)
        self._buf.clear()
        self._synced = False

    def problem(self) -> str | None:
        """A diagnosis when the input does not look like this protocol at all (else None)."""
        n_in = self.stats["bytes_in"]
        mostly_garbage = n_in >= 8192 and self.stats["bytes_discarded"] > 0.98 * n_in
        if (self.stats["frames_ok"] == 0 and self.stats["bytes_in"] >= 4096) or mostly_garbage:
            return (
                f"{self.stats['bytes_in']} bytes arrived with {self.stats['frames_ok']} valid binary frames "
                f"({self.stats['crc_failures']} CRC failures): the baud rate is probably wrong, or the device "
                "sends text: try --format csv or another --baud (115200, 460800, 921600)."
            )
        return None

    def feed(self, data: bytes, host_t_ns: int = 0) -> list[Event]:
        """Decode ``data`` and return the complete events it finishes.

        Args:
            data: any number of bytes from the link.
            host_t_ns: host monotonic time (ns) at which ``data`` arrived; copied into the events.

        Returns:
            Events in arrival order: DeviceInfo, ImuBatch, ThermalFrame, LogMessage, and Gap for lost samples.
        """
        self.stats["bytes_in"] += len(data)
        self._buf += data
        events: list[Any] = []  # events, and IMU frames that become ImuBatch events at the end of the read
        if p.DELIMITER[0] not in data:
            self._guard_oversize()
            return events
        *blocks, rest = bytes(self._buf).split(p.DELIMITER)
        self._buf = bytearray(rest)
        for block in blocks:
            if block:
                self._decode_block(block, host_t_ns, events)
            else:
                self._synced = True
        self._guard_oversize()
        return _merge_imu_frames(events)

    def _guard_oversize(self) -> None:
        if len(self._buf) > p.MAX_ENCODED_BYTES:
            self.stats["bytes_discarded"] += len(self._buf)
            self.stats["resyncs"] += 1
            self._buf.clear()
            self._synced = False

    def _reject(self, block: bytes, reason: str) -> None:
        self.stats["bytes_discarded"] += len(block) + 1
        self.stats["resyncs"] += 1
        if self._synced:  # the partial frame before the first delimiter is expected, not an error
            self.stats[reason] += 1
        self._synced = True

    def _decode_block(self, block: bytes, host_t_ns: int, events: list[Event]) -> None:
        try:
            header, body = p.parse_frame(block)
        except p.FrameError as exc:
            self._reject(block, exc.reason)
            return
        try:
            event = self._decode_body(header, body, host_t_ns, events)
        except (ValueError, IndexError, UnicodeDecodeError, struct.error):
            self._reject(block, "bad_length")
            return
        self._synced = True
        self.stats["frames_ok"] += 1
        if host_t_ns:
            self._last_host = host_t_ns
        if event is not None:
            events.append(event)

    def _device_ns(self, t_us: int) -> int:
        if t_us < self._last_t_us and self._last_t_us - t_us > (1 << 31):
            self._t_wraps += 1
        elif t_us > self._last_t_us and t_us - self._last_t_us > (1 << 31) and self._t_wraps:
            return ((self._t_wraps - 1) << 32 | t_us) * 1000 + self._offset_ns  # a late frame from before the wrap
        self._last_t_us = t_us
        self._last_ns = ((self._t_wraps << 32) + t_us) * 1000 + self._offset_ns
        return self._last_ns

    def _went_back(self, t_us: int) -> bool:
        """The device clock is earlier than the last frame's, and not by a u32 wrap."""
        return bool(self._last_t_us) and t_us + 1000 < self._last_t_us and self._last_t_us - t_us < (1 << 31)

    def _reboot(self, t_us: int, host_t_ns: int, events: list[Event]) -> None:
        """The device restarted: its clock and counters begin again. Start a new clock segment that continues the
        time axis after the host time that passed, forget sequence expectations, and report the gap."""
        elapsed = host_t_ns - self._last_host if host_t_ns and self._last_host else 0
        resume_ns = self._last_ns + max(elapsed, 1_000_000)
        self._offset_ns = resume_ns - t_us * 1000
        self._last_t_us, self._t_wraps = 0, 0
        self._next_seq.clear()
        self.stats["device_reboots"] += 1
        log.info("device restarted (clock went back to %d us); new clock segment after %.3f s", t_us, elapsed / 1e9)
        events.append(Gap(stream="imu", missing=0, reason="device reboot", t_ns=resume_ns, duration_ns=elapsed))

    def _check_seq(self, stream: int, seq: int, n: int, t_ns: int, events: list[Event]) -> None:
        expected = self._next_seq.get(stream)
        self._next_seq[stream] = (seq + n) & 0xFFFF
        if expected is None or seq == expected:
            return
        missing = (seq - expected) & 0xFFFF
        if missing >= _HALF_SEQ:  # backwards: a device restart or a duplicate, not a loss
            log.info("stream %d sequence went back from %d to %d (device restart?)", stream, expected, seq)
            return
        name = "imu" if stream == p.FrameType.IMU else "thermal"
        self.stats["seq_gaps"] += 1
        self.stats["samples_lost" if name == "imu" else "thermal_frames_lost"] += missing
        events.append(Gap(stream=name, missing=missing, reason="sequence gap", t_ns=t_ns))

    def _sync_thermal(self, count: int, t_ns: int, events: list[Event]) -> None:
        """An IMU frame (v2) says how many THERMAL frames were sent before it: frames not seen were lost."""
        expected = self._next_seq.get(p.FrameType.THERMAL)
        if expected is None:
            self._next_seq[p.FrameType.THERMAL] = count  # history before we listened is unknown
            return
        missing = (count - expected) & 0xFFFF
        if 0 < missing < _HALF_SEQ:
            self._next_seq[p.FrameType.THERMAL] = count
            self.stats["seq_gaps"] += 1
            self.stats["thermal_frames_lost"] += missing
            events.append(Gap(stream="thermal", missing=missing, reason="thermal count in IMU frame", t_ns=t_ns))

    def _decode_body(self, h: p.Header, body: bytes, host_t_ns: int, events: list[Event]) -> Any:
        if h.type == p.FrameType.IMU:
            return self._decode_imu(h, body, host_t_ns, events)
        if h.type == p.FrameType.THERMAL:
            return self._decode_thermal(h, body, host_t_ns, events)
        if h.type == p.FrameType.INFO:
            return self._decode_info(h, body, host_t_ns, events)
        if h.type == p.FrameType.LOG:
            (level,) = p.LOG.unpack_from(body)
            self.stats["log_messages"] += 1
            name = p.LOG_LEVELS[min(level, len(p.LOG_LEVELS) - 1)]
            return LogMessage(t_ns=self._device_ns(h.t_us), level=name, text=body[p.LOG.size :].decode("utf-8"))
        self.stats["unknown_types"] += 1
        return None

    def _decode_info(self, h: p.Header, body: bytes, host_t_ns: int, events: list[Event]) -> DeviceInfo:
        acc, gyr, imu_hz, th_hz, fs_g, fs_dps, flags, _ = p.INFO.unpack_from(body)
        strings, pos = [], p.INFO.size
        for _ in range(3):
            n = body[pos]
            strings.append(body[pos + 1 : pos + 1 + n].decode("utf-8"))
            pos += 1 + n
        if pos > len(body) or not acc > 0:
            raise ValueError("INFO frame truncated or accel scale not positive")
        counters = p.INFO_COUNTERS.unpack_from(body, pos) if len(body) >= pos + p.INFO_COUNTERS.size else None
        self._lsb6 = np.array([acc] * 3 + [gyr] * 3, dtype=np.float32)
        self._lsb3 = self._lsb6[:3]
        if self._went_back(h.t_us):  # the INFO a device sends after (re)booting, stamped before our last frame
            self._reboot(h.t_us, host_t_ns, events)
        if counters is not None:  # v2: where the streams stand, so losses before the first frame count too
            for stream, nxt in zip((p.FrameType.IMU, p.FrameType.THERMAL), counters, strict=True):
                self._next_seq.setdefault(stream, nxt)
        self.info = DeviceInfo(
            firmware=strings[0], imu_sensor=strings[1], thermal_sensor=strings[2],
            imu_rate_hz=float(imu_hz), thermal_rate_hz=float(th_hz),
            extra={
                "format": "binary", "protocol_version": h.version, "accel_lsb_mps2": float(acc),
                "gyro_lsb_rads": float(gyr), "accel_fs_g": fs_g, "gyro_fs_dps": fs_dps,
                "has_gyro": bool(flags & p.INFO_HAS_GYRO), "has_thermal": bool(flags & p.INFO_HAS_THERMAL),
                "t_ns": self._device_ns(h.t_us),
            },
        )
        return self.info

    def _decode_imu(self, h: p.Header, body: bytes, host_t_ns: int, events: list[Event]) -> _ImuFrame | None:
        n, flags, dt_us = p.IMU.unpack_from(body)
        has_gyro = bool(flags & p.IMU_HAS_GYRO)
        channels = 6 if has_gyro else 3
        start = p.IMU.size
        thermal_count = None
        if flags & p.IMU_HAS_THERMAL_COUNT:
            (thermal_count,) = p.IMU_THERMAL_COUNT.unpack_from(body, start)
            start += p.IMU_THERMAL_COUNT.size
        if n == 0 or len(body) != start + n * channels * 2:
            raise ValueError(f"IMU body is {len(body)} B for {n} samples")
        expected = self._next_seq.get(p.FrameType.IMU)
        if expected is not None and (h.seq - expected) & 0xFFFF >= _HALF_SEQ and self._went_back(h.t_us):
            self._reboot(h.t_us, host_t_ns, events)  # no INFO seen, but clock and sequence both started over
        t0_ns = self._device_ns(h.t_us)
        self._check_seq(p.FrameType.IMU, h.seq, n, t0_ns, events)
        if thermal_count is not None:
            self._sync_thermal(thermal_count, t0_ns, events)
        if self.info is None:
            self.stats["imu_before_info"] += n
            return None
        self.stats["imu_samples"] += n
        dt_ns = dt_us * 1000
        self._last_ns = max(self._last_ns, t0_ns + (n - 1) * dt_ns)  # a reboot's new segment starts after it
        return _ImuFrame(t0_ns, dt_ns, n, body[start:], self._lsb6 if has_gyro else self._lsb3, has_gyro,
                         host_t_ns)

    def _decode_thermal(self, h: p.Header, body: bytes, host_t_ns: int, events: list[Event]) -> ThermalFrame:
        _sensor, enc, w, hgt, scale, offset = p.THERMAL.unpack_from(body)
        dtype = np.dtype(p.PIXEL_DTYPES[p.PixelEncoding(enc)])
        if w * hgt == 0 or len(body) != p.THERMAL.size + w * hgt * dtype.itemsize:
            raise ValueError(f"THERMAL body is {len(body)} B for {w}x{hgt} pixels")
        t_ns = self._device_ns(h.t_us)
        self._check_seq(p.FrameType.THERMAL, h.seq, 1, t_ns, events)
        raw = np.frombuffer(body, dtype=dtype, offset=p.THERMAL.size).reshape(hgt, w)  # (H, W) row-major
        temp_c = (raw.astype(np.float64) * scale + offset).astype(np.float32)
        self.stats["thermal_frames"] += 1
        return ThermalFrame(t_ns=t_ns, temp_c=temp_c, host_t_ns=host_t_ns)
