"""The journal ``edgebind record -o OUT`` writes beside OUT while it records (``OUT.partial``): every sample kept, as
it arrives, flushed and fsynced at least every second. A clean stop writes OUT and deletes the journal; after a
kill or a power cut the journal holds every sample up to about a second before, and ``edgebind convert
OUT.partial -o OUT`` (:func:`read_journal`) turns it back into a Recording.

Format (little-endian, no third-party library, so a device install can write and read it):

* the magic ``EBJOURNAL1\\n``;
* records ``kind (1 byte) | payload length (u32) | CRC-32 of the payload (u32) | payload``, where kind is
  ``M`` (meta, JSON), ``C`` (counters so far, JSON), ``I`` (IMU batch: u8 has_gyro, u32 n, n int64 device ns,
  n x 6 float32) or ``T`` (thermal frame: int64 device ns, u16 H, u16 W, H x W float32 degrees C).

A torn last record (the process died mid-write) fails its length or CRC check; the reader stops there.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import threading
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bridge.recording import Recording
from edgebind.errors import SensorError

log = logging.getLogger(__name__)

MAGIC = b"EBJOURNAL1\n"
SUFFIX = ".partial"
RECORD = struct.Struct("<cII")
IMU_HEAD = struct.Struct("<BI")
THERMAL_HEAD = struct.Struct("<qHH")
FLUSH_EVERY_S = 1.0
KINDS = (b"M", b"C", b"I", b"T")


def journal_path(output: str | Path) -> Path:
    """``OUT.partial``: where ``record -o OUT`` journals while it runs."""
    output = Path(output)
    return output.with_name(output.name + SUFFIX)


def is_journal(path: str | Path) -> bool:
    """True for a file that starts with the journal's magic (whatever its name)."""
    try:
        with Path(path).open("rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


class Journal:
    """Append samples to ``path`` as they arrive; a helper thread flushes and fsyncs every ``flush_every_s``.

    Args:
        path: the journal file (replaced if it exists).
        meta: what to record first (source, URL, format); JSON-serialisable.
        flush_every_s: most seconds a sample waits in memory before it is on disk. Defaults to 1.0.
    """

    def __init__(self, path: str | Path, meta: dict[str, Any], flush_every_s: float = FLUSH_EVERY_S) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")
        self._buf = bytearray(MAGIC)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.flushes = 0
        self._record(b"M", json.dumps(meta, sort_keys=True, default=str).encode())
        self.flush()
        self._ticker = threading.Thread(target=self._tick, args=(flush_every_s,), name="edgebind-journal",
                                        daemon=True)
        self._ticker.start()

    def _record(self, kind: bytes, payload: bytes) -> None:
        with self._lock:
            self._buf += RECORD.pack(kind, len(payload), zlib.crc32(payload)) + payload

    def add_imu(self, t_ns: np.ndarray, imu: np.ndarray, has_gyro: bool) -> None:
        """Journal IMU samples ((n,) int64 device ns, (n, 6) float32 SI units)."""
        n = len(t_ns)
        if n:
            self._record(b"I", IMU_HEAD.pack(int(has_gyro), n) + np.ascontiguousarray(t_ns, "<i8").tobytes()
                         + np.ascontiguousarray(imu, "<f4").tobytes())

    def add_thermal(self, t_ns: int, temp_c: np.ndarray) -> None:
        """Journal one thermal frame ((H, W) degrees C)."""
        h, w = temp_c.shape
        self._record(b"T", THERMAL_HEAD.pack(int(t_ns), h, w) + np.ascontiguousarray(temp_c, "<f4").tobytes())

    def add_counters(self, counters: dict[str, Any]) -> None:
        """Journal the link counters so far (the last one read back goes into the recovered meta)."""
        self._record(b"C", json.dumps(counters, sort_keys=True, default=str).encode())

    def flush(self) -> None:
        """Write what is buffered and fsync it (the power-cut guarantee)."""
        with self._lock:
            if self._file.closed:
                return
            if self._buf:
                self._file.write(self._buf)
                self._buf.clear()
            self._file.flush()
            os.fsync(self._file.fileno())
            self.flushes += 1

    def _tick(self, every_s: float) -> None:
        while not self._closed.wait(every_s):
            try:
                self.flush()
            except OSError as exc:  # a full disk: say so once per second, keep recording in memory
                log.error("journal %s: %s", self.path, exc)

    def close(self, remove: bool = False) -> None:
        """Flush and close; ``remove`` deletes the journal (the final output was written). Idempotent."""
        self._closed.set()
        if self._ticker.is_alive() and self._ticker is not threading.current_thread():
            self._ticker.join()
        self.flush()
        with self._lock:
            self._file.close()
        if remove:
            self.path.unlink(missing_ok=True)


def read_journal(path: str | Path) -> Recording:
    """The Recording a journal holds, up to its last complete record.

    Raises:
        SensorError: a missing file, or one that is not a journal.
    """
    path = Path(path)
    if not path.is_file():
        raise SensorError(f"journal {path} does not exist; 'edgebind record PORT -o OUT' writes OUT{SUFFIX} while "
                          "it runs and removes it when OUT is written.")
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise SensorError(f"{path} is not an edgebind record journal (it does not start with {MAGIC!r}); pass the "
                          f"OUT{SUFFIX} file 'edgebind record' left.")
    meta: dict[str, Any] = {}
    counters: dict[str, Any] = {}
    imu, imu_t, frames, frame_t = [], [], [], []
    has_gyro = True
    pos, records = len(MAGIC), 0
    while pos + RECORD.size <= len(data):
        kind, length, crc = RECORD.unpack_from(data, pos)
        payload = data[pos + RECORD.size: pos + RECORD.size + length]
        if kind not in KINDS or len(payload) < length or zlib.crc32(payload) != crc:
            break  # a torn or zero-filled tail (kill, power cut)
        pos += RECORD.size + length
        records += 1
        if kind == b"M":
            meta = json.loads(payload)
        elif kind == b"C":
            counters = json.loads(payload)
        elif kind == b"I":
            gyro, n = IMU_HEAD.unpack_from(payload)
            off = IMU_HEAD.size
            imu_t.append(np.frombuffer(payload, "<i8", n, off))
            imu.append(np.frombuffer(payload, "<f4", n * 6, off + 8 * n).reshape(n, 6))
            has_gyro &= bool(gyro)
        elif kind == b"T":
            t, h, w = THERMAL_HEAD.unpack_from(payload)
            frame_t.append(t)
            frames.append(np.frombuffer(payload, "<f4", h * w, THERMAL_HEAD.size).reshape(h, w))
    torn = len(data) - pos
    if torn:
        log.warning("%s: the last %d bytes are a torn record (the recorder was killed mid-write); read %d records "
                    "before them", path, torn, records)
    meta = dict(meta)
    meta["counters"] = {**meta.get("counters", {}), **counters}
    meta["has_gyro"] = has_gyro
    meta["recovered_from"] = {"journal": str(path), "records": records, "torn_bytes": torn}
    return Recording(imu=np.concatenate(imu) if imu else np.zeros((0, 6), np.float32),
                     imu_t_ns=np.concatenate(imu_t) if imu_t else np.zeros((0,), np.int64),
                     thermal=np.stack(frames) if frames else None,
                     thermal_t_ns=np.array(frame_t, np.int64) if frames else None, meta=meta)
