"""``SimulatedDevice``: a sensor device on a pseudo-terminal that replays a Recording.

The rule for when it streams (documented in firmware_bridge/PROTOCOL.md, "Session"):

* it waits until the host opens the port (the pty master stops reporting hang-up);
* ``fmt="binary"``: then it waits for a START command, answers with an INFO frame and streams; STOP pauses,
  GET_INFO resends INFO, SET_RATE is acknowledged with a LOG frame (a replay keeps the recorded rate);
* ``fmt="csv"``: it streams as soon as the port is open (hobby firmware ignores the host);
* when the host closes the port it pauses (samples due meanwhile are lost, as on a real device) and waits again.

Streaming follows the recording's device clock divided by ``speed``. The thread stops through an Event.
"""

from __future__ import annotations

import logging
import os
import select
import tempfile
import threading
import time
import tty
from pathlib import Path

from edgebind.bridge import protocol as p
from edgebind.bridge.budget import recording_bits_per_s
from edgebind.bridge.encode import ImuScale, Unit, binary_units, csv_units, info_frame, next_seqs
from edgebind.bridge.faults import FaultInjector, FaultSpec
from edgebind.bridge.recording import Recording
from edgebind.errors import ConfigError, SensorError

log = logging.getLogger(__name__)

SIM_COUNTERS = ("frames_sent", "imu_samples_sent", "thermal_frames_sent", "bytes_sent", "commands",
                "host_opens", "host_closes", "reconnects", "samples_skipped_offline", "units_skipped_offline", "loops")



def open_raw_pty() -> tuple[int, str]:
    """A pseudo-terminal for a device: ``(master fd, slave path)``. The slave is set raw before the host opens it (no
    echo, no newline translation; kept while the master lives) and closed here, so the host's open is the only one."""
    master, slave = os.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    os.close(slave)
    return master, port

class SimulatedDevice:
    """Replay ``recording`` as a device on a pty. A context manager; see the module docstring for the rule.

    Args:
        recording: what to send (IMU, optional thermal).
        fmt: ``binary`` (the edgebind protocol) or ``csv`` (text lines ``t_us,ax,ay,az,gx,gy,gz``).
            Defaults to binary.
        speed: playback speed; 1.0 is real time, 100.0 is 100x faster. Defaults to 1.0.
        faults: a :class:`FaultSpec` or spec string (``"bitflip=0.01,seed=1"``). Defaults to none.
        baud: the line rate the device claims; a recording that needs more than 70 % of it is logged. A pty
            itself has no baud limit. Defaults to 921600.
        link: a symlink kept pointing at the current pty (it changes on a simulated disconnect).
            Defaults to a symlink in a private temporary folder.
        repeat: start over at the end of the recording. The device clock and the sequence numbers keep running
            across loops (each pass is re-encoded with the time and counts already sent), so a host sees one
            continuous stream: nothing goes backwards, nothing is dropped. Defaults to False.
        imu_batch: samples per IMU frame (binary). Defaults to about 100 frames/s.
    """

    def __init__(self, recording: Recording, fmt: str = "binary", speed: float = 1.0,
                 faults: FaultSpec | str | None = None, baud: int = 921600, link: str | Path | None = None,
                 repeat: bool = False, imu_batch: int | None = None) -> None:
        if fmt not in ("binary", "csv"):
            raise ConfigError(f"simulator format '{fmt}' is not binary or csv; use --format binary or csv.")
        if not speed > 0:
            raise ConfigError(f"speed must be > 0 (1.0 = real time), got {speed}.")
        if len(recording.imu) == 0 and (recording.thermal is None or fmt == "csv"):
            raise SensorError(f"the recording has nothing to replay as {fmt} (no IMU samples"
                              f"{'' if fmt == 'binary' else '; CSV carries IMU only'}); convert or record one first.")
        self.recording, self.fmt, self.speed, self.baud, self.repeat = recording, fmt, speed, baud, repeat
        self.spec = faults if isinstance(faults, FaultSpec) else FaultSpec.parse(faults)
        self.injector = FaultInjector(self.spec, text=fmt == "csv")
        self.scale: ImuScale | None = None
        self.imu_batch = imu_batch
        if fmt == "binary":
            self.units, self.scale = binary_units(recording, imu_batch)
        else:
            self.units = csv_units(recording)
        self._next_seqs = next_seqs(self.units)
        self._idx = 0
        need = recording_bits_per_s(self.units, self.units[-1].t_ns / 1e9 if self.units else 0.0)
        if need > 0.7 * baud:
            log.warning("the recording needs %.0f kbit/s, more than 70%% of %d baud; a real UART would drop data "
                        "(see the link budget in firmware_bridge/PROTOCOL.md)", need / 1e3, baud)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if link is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="edgebind-sim-")
            link = Path(self._tmp.name) / "tty"
        self.link = Path(link)
        self.stats: dict[str, int] = dict.fromkeys(SIM_COUNTERS, 0)
        self.started = threading.Event()  # set when streaming begins (host opened, and START for binary)
        self.finished = threading.Event()  # set when the whole recording has been sent
        self.host_closed = threading.Event()  # set each time the host closes the port (cleared on open)
        self._stop = threading.Event()
        self._master = -1
        self.port = ""
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._cmd_buf = bytearray()
        self._clock_start: float | None = None

    def __enter__(self) -> SimulatedDevice:
        self._open_pty()
        self._thread = threading.Thread(target=self._run_guarded, name="edgebind-simulator", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the thread and remove the pty and the symlink."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._close_pty()
        if self.link.is_symlink():
            self.link.unlink()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def wait_finished(self, timeout_s: float) -> bool:
        """Block until the recording was sent (True) or ``timeout_s`` passed (False); re-raises thread errors."""
        done = self.finished.wait(timeout_s)
        if self._error is not None:
            raise SensorError(f"simulator failed: {self._error}") from self._error
        return done

    @property
    def fault_stats(self) -> dict[str, int]:
        """What the fault injector did (units touched, bytes flipped, ...)."""
        return dict(self.injector.stats)

    # ------------------------------------------------------------------ pty handling
    def _open_pty(self) -> None:
        master, self.port = open_raw_pty()
        os.set_blocking(master, False)
        self._master = master
        tmp_link = self.link.with_name(self.link.name + ".new")
        if tmp_link.is_symlink():
            tmp_link.unlink()
        tmp_link.symlink_to(self.port)
        tmp_link.replace(self.link)

    def _close_pty(self) -> None:
        if self._master >= 0:
            os.close(self._master)
            self._master = -1

    def _host_present(self, timeout_s: float) -> tuple[bool, bytes]:
        """Poll the master: (host has the port open, bytes the host sent)."""
        poller = select.poll()
        poller.register(self._master, select.POLLIN)
        events = poller.poll(timeout_s * 1000)
        flags = events[0][1] if events else 0
        if flags & select.POLLHUP:
            if timeout_s > 0:
                self._stop.wait(min(timeout_s, 0.005))  # POLLHUP returns at once; do not spin
            return False, b""
        data = b""
        if flags & select.POLLIN:
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return False, b""
        return True, data

    # ------------------------------------------------------------------ streaming thread
    def _run_guarded(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # surfaced by wait_finished()
            self._error = exc
            log.error("simulator stopped: %s", exc)
            self.finished.set()

    def _run(self) -> None:
        self._cmd_buf = bytearray()
        out = bytearray()
        idx, offset_ns, connected, streaming, was_streaming = 0, 0, False, False, False
        self._clock_start = None  # host time of device time 0; keeps running while paused
        disconnect_ns = int(self.spec.disconnect * 1e9) if self.spec.disconnect >= 0 else None
        while not self._stop.is_set():
            present, data = self._host_present(0.002 if streaming else 0.02)
            if present and not connected:
                connected = True
                self.host_closed.clear()
                self.stats["host_opens"] += 1
                streaming = self.fmt == "csv"
            elif not present and connected:
                connected, streaming = False, False
                self.stats["host_closes"] += 1
                self.host_closed.set()
            self._idx = idx
            if data:
                streaming = self._handle_commands(data, out, streaming)
            if not streaming:
                was_streaming = False
                if not connected:
                    out.clear()
                continue
            if self._clock_start is None:
                self._clock_start = time.monotonic() - max(0, self._unit_t(idx, offset_ns)) / 1e9 / self.speed
                self.started.set()
                was_streaming = True
            now_dev = (time.monotonic() - self._clock_start) * self.speed * 1e9
            if not was_streaming:  # samples that fell due while paused are lost, as on a real device
                while idx < len(self.units) and self._unit_t(idx, offset_ns) < now_dev:
                    self.stats["units_skipped_offline"] += 1
                    self.stats["samples_skipped_offline"] += self.units[idx].samples
                    idx += 1
                was_streaming = True
            while idx < len(self.units) and self._unit_t(idx, offset_ns) <= now_dev and len(out) < (1 << 16):
                unit = self.units[idx]
                if disconnect_ns is not None and unit.t_ns >= disconnect_ns:
                    disconnect_ns = None
                    self._disconnect()
                    connected = streaming = False
                    out.clear()
                    break
                idx += 1
                if unit.kind != "info":  # INFO goes out on START
                    self._queue(unit, out)
            if idx >= len(self.units) and not out:
                if self.repeat:
                    offset_ns += self.units[-1].t_ns + int(1e9 / max(self.recording.imu_rate_hz, 1.0))
                    self._encode_pass(offset_ns)
                    idx = 0
                else:
                    self.finished.set()
            if connected:
                self._write(out)

    def _encode_pass(self, offset_ns: int) -> None:
        """The next pass of a looping replay: same due times, device time and sequence numbers continued."""
        self.stats["loops"] += 1
        start = self._next_seqs[-1]
        if self.fmt == "binary":
            self.units, _ = binary_units(self.recording, self.imu_batch, offset_ns, start)
        else:
            self.units = csv_units(self.recording, loop_t_ns=offset_ns)
        self._next_seqs = next_seqs(self.units, start)

    def _unit_t(self, idx: int, offset_ns: int) -> int:
        return (self.units[min(idx, len(self.units) - 1)].t_ns + offset_ns) if self.units else 0

    def _faulty(self, data: bytes) -> bytes:
        """``data`` after the fault injector (replies to commands cross the same bad link)."""
        return self.injector.apply(data)[0] if self.spec.any else data

    def _queue(self, unit: Unit, out: bytearray) -> None:
        out += self._faulty(unit.data)
        self.stats["frames_sent"] += 1
        self.stats["imu_samples_sent"] += unit.samples
        self.stats["thermal_frames_sent"] += unit.kind == "thermal"

    def _write(self, out: bytearray) -> None:
        if not out:
            return
        try:
            n = os.write(self._master, out)
        except BlockingIOError:
            n = 0
        except OSError:  # host went away mid-write
            out.clear()
            return
        self.stats["bytes_sent"] += n
        del out[:n]

    def _handle_commands(self, data: bytes, out: bytearray, streaming: bool) -> bool:
        """Act on START/STOP/GET_INFO/SET_RATE frames from the host; returns whether to stream."""
        if self.fmt == "csv":
            return streaming
        self._cmd_buf += data
        *blocks, rest = bytes(self._cmd_buf).split(p.DELIMITER)
        self._cmd_buf = bytearray(rest[-p.MAX_ENCODED_BYTES :])
        for block in blocks:
            try:
                header, body = p.parse_frame(block) if block else (None, b"")
            except p.FrameError:
                continue
            if header is None:
                continue
            self.stats["commands"] += 1
            if header.type == p.FrameType.START:
                out += self._faulty(p.DELIMITER + self._info())
                streaming = True
            elif header.type == p.FrameType.STOP:
                streaming = False
            elif header.type == p.FrameType.GET_INFO:
                out += self._faulty(self._info())
            elif header.type == p.FrameType.SET_RATE:
                stream, rate = p.CMD_SET_RATE.unpack_from(body)
                text = f"set_rate(stream {stream}, {rate:g} Hz) ignored: a replay keeps the recorded rate"
                out += self._faulty(p.encode_log(self.stats["commands"], 0, "warning", text))
        return streaming

    def _info(self) -> bytes:
        """INFO stamped with the current device time (so a host can tell a reconnect from a device reset)."""
        if self.scale is None:
            return b""
        t_us = int((time.monotonic() - self._clock_start) * self.speed * 1e6) if self._clock_start else 0
        nxt = self._next_seqs[min(self._idx, len(self._next_seqs) - 1)]
        return info_frame(self.recording, self.scale, max(0, t_us), nxt)

    def _disconnect(self) -> None:
        """Drop off the bus: close the pty, make a new one, repoint the link (the host must reopen it)."""
        log.info("simulated disconnect of %s", self.port)
        self._close_pty()
        self._open_pty()
        self.stats["reconnects"] += 1
