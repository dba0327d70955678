"""The systemd notify protocol of ``edgebind.stream.notify`` over real AF_UNIX datagram sockets bound by the test."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from notifykit import NotifyListener

from edgebind.errors import ConfigError
from edgebind.stream.notify import Notifier, ServiceNotify, socket_address, watchdog_interval_s


@pytest.fixture(params=["path", "abstract"])
def listener(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    address = str(tmp_path / "notify") if request.param == "path" else f"@edgebind-test-{uuid.uuid4().hex}"
    got = NotifyListener(address)
    yield got
    got.close()


def test_one_datagram_of_key_value_lines(listener: NotifyListener) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": listener.address})
    assert notifier is not None
    assert notifier.send("READY=1", "STATUS=streaming /dev/ttyACM0")
    assert listener.wait_for("READY=1", 5.0) is not None
    assert listener.messages[0][1] == ["READY=1", "STATUS=streaming /dev/ttyACM0"]
    notifier.close()


def test_no_socket_no_notifier_and_bad_values_name_the_fix(tmp_path: Path) -> None:
    assert Notifier.from_env({}) is None
    assert ServiceNotify.from_env("/dev/ttyACM0", {}) is None
    assert socket_address("@x") == b"\0x" and socket_address("/run/systemd/notify") == "/run/systemd/notify"
    with pytest.raises(ConfigError, match="AF_UNIX"):
        ServiceNotify.from_env("/dev/ttyACM0", {"NOTIFY_SOCKET": "vsock:2:1234"})
    with pytest.raises(ConfigError, match="WatchdogSec"):
        ServiceNotify.from_env("/dev/ttyACM0", {"NOTIFY_SOCKET": str(tmp_path / "n"), "WATCHDOG_USEC": "soon"})
    # a socket nobody listens on: warned once, never raised (the service goes on)
    notifier = Notifier(str(tmp_path / "nobody"))
    assert not notifier.send("WATCHDOG=1") and notifier.sent == 0


def test_watchdog_is_this_process_s_only_when_watchdog_pid_says_so() -> None:
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000"}) == 2.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}) == 2.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid() + 1)}) is None


def received(listener: NotifyListener, n: int) -> list[list[str]]:
    """The first ``n`` datagrams the listener got (waiting up to 5 s for them)."""
    deadline = time.monotonic() + 5.0
    while len(listener.messages) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return [fields for _, fields in listener.messages]


def test_ready_once_watchdog_every_quarter_and_only_while_alive(listener: NotifyListener) -> None:
    now = [100.0]
    service = ServiceNotify(Notifier(listener.address), "/dev/ttyACM0", watchdog_s=2.0, clock=lambda: now[0])
    service.beat("waiting", alive=True)
    assert received(listener, 1) == [["WATCHDOG=1", "EXTEND_TIMEOUT_USEC=2000000", "STATUS=waiting for /dev/ttyACM0"]]
    now[0] += 0.25
    service.beat("waiting", alive=True)  # nothing due: no message at all
    now[0] += 0.25
    service.beat("streaming", alive=True, detail="0 labels")
    assert received(listener, 2)[1] == ["READY=1", "WATCHDOG=1", "STATUS=streaming /dev/ttyACM0: 0 labels"]
    for _ in range(4):  # a stalled inference thread: no pings however long
        now[0] += 0.5
        service.beat("streaming", alive=False)
    now[0] += 0.5
    service.beat("streaming", alive=True)
    service.stopping("SIGTERM")
    got = received(listener, 4)
    assert got[2:] == [["WATCHDOG=1"], ["STOPPING=1", "STATUS=stopping: SIGTERM"]]
    assert service.pings == 3 and sum("READY=1" in f for f in got) == 1
