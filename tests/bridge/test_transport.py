"""Transport errors that name the fix (real ports: missing, busy, no permission), FTDI hint, queue policy."""

from __future__ import annotations

import os

import pytest

from edgebind.bridge.transport import SerialTransport, ftdi_latency_hint, open_port
from edgebind.errors import ConfigError, SensorError


@pytest.fixture
def pty_path():  # type: ignore[no-untyped-def]
    """A real pseudo-terminal slave path whose master stays open for the test."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    os.close(slave)
    yield path
    os.close(master)


def test_missing_port_lists_what_to_do(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SensorError, match="no such port") as exc:
        open_port(str(tmp_path / "ttyACM7"), 921600)
    assert "edgebind demo" in str(exc.value) and "loop://" not in str(exc.value) and "\n" not in str(exc.value)


def test_busy_port(pty_path: str) -> None:
    first = open_port(pty_path, 921600)
    try:
        with pytest.raises(SensorError, match="busy"):
            open_port(pty_path, 921600)
    finally:
        first.close()


def test_permission_denied_names_the_dialout_group(pty_path: str) -> None:
    os.chmod(pty_path, 0o600)
    if os.geteuid() != 0:
        os.chmod(pty_path, 0o000)
        with pytest.raises(SensorError, match="dialout") as exc:
            open_port(pty_path, 921600)
        assert "usermod -aG dialout" in str(exc.value)
        return
    # root may open anything: try as 'nobody' in a forked child (the kernel answers EACCES)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.setgid(65534)
            os.setuid(65534)
            open_port(pty_path, 921600)
            msg = b"opened"
        except SensorError as err:
            msg = str(err).encode()
        except BaseException as err:
            msg = repr(err).encode()
        os.write(write_fd, msg)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        msg = f.read().decode()
    os.waitpid(pid, 0)
    assert "permission denied" in msg and "usermod -aG dialout" in msg, msg


def test_ftdi_latency_hint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dev = tmp_path / "ttyUSB0"
    dev.mkdir()
    (dev / "latency_timer").write_text("16\n")
    hint = ftdi_latency_hint("ttyUSB0", sysfs=tmp_path)
    assert hint is not None and "16 ms" in hint and "echo 1 | sudo tee" in hint
    (dev / "latency_timer").write_text("1\n")
    assert ftdi_latency_hint("ttyUSB0", sysfs=tmp_path) is None
    assert ftdi_latency_hint("ttyACM0", sysfs=tmp_path) is None


def test_queue_drops_oldest_and_counts() -> None:
    t = SerialTransport("loop://", queue_bytes=1000)
    for i in range(10):
        t._put(bytes([i + 1]) * 300)
    chunks = t.read(0.0)
    assert [c[1][0] for c in chunks] == [8, 9, 10]  # the newest survive
    assert t.stats["queue_dropped_bytes"] == 7 * 300 and t.stats["queue_dropped_chunks"] == 7


def test_loop_transport_moves_bytes_and_stops() -> None:
    t = SerialTransport("loop://", reconnect=False).start()
    try:
        t.write(b"hello\x00world")
        got = b""
        while len(got) < 11:
            chunks = t.read(1.0)
            assert chunks, "no bytes came back through loop://"
            got += b"".join(c for _, c in chunks)
        assert got == b"hello\x00world" and t.stats["bytes_read"] == 11
    finally:
        t.close()
    assert t.closed
    with pytest.raises(SensorError, match="cannot write to loop://"):
        t.write(b"x")



def test_write_whose_flush_fails_on_a_gone_pty_is_a_sensor_error(pty_path: str) -> None:
    """pyserial's flush() on a pty whose other side has gone raises termios.error (EIO), which is not an OSError; it
    escaped from the stream's closing thread as a traceback. It must be the one-line SensorError."""
    import termios

    class GonePty:
        def write(self, data: bytes) -> int:
            return len(data)

        def flush(self) -> None:
            raise termios.error(5, "Input/output error")

        def close(self) -> None:
            pass

    t = SerialTransport(pty_path, reconnect=False)
    t._ser = GonePty()  # the state a pty is in once its device side has closed
    with pytest.raises(SensorError, match=r"cannot write to .*Input/output error.*still connected"):
        t.write(b"\x00stop\x00")


def test_read_every_gathers_bytes_into_fewer_reads() -> None:
    import threading
    import time

    t = SerialTransport("loop://", reconnect=False, read_every_s=0.1).start()
    try:
        def write() -> None:
            for _ in range(40):  # 40 pieces over about 0.2 s
                t.write(b"x" * 10)
                time.sleep(0.005)

        writer = threading.Thread(target=write)
        started = time.monotonic()
        writer.start()
        writer.join()
        got = 0
        while got < 400:
            got += sum(len(c) for _, c in t.read(1.0))
        elapsed = time.monotonic() - started
    finally:
        t.close()
    assert got == 400
    assert t.stats["chunks_read"] <= elapsed / 0.1 + 2  # one read per 0.1 s at most, not one per piece


def test_read_every_must_not_be_negative() -> None:
    with pytest.raises(ConfigError, match="--read-every"):
        SerialTransport("loop://", read_every_s=-1.0)
