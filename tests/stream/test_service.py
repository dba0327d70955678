"""``edgebind stream --wait-for-device`` as systemd runs it: the real CLI in a subprocess, a device that appears
after the stream started, is unplugged and comes back, and the notify protocol on a real socket bound by the test
(``$NOTIFY_SOCKET``, ``$WATCHDOG_USEC``), ended by SIGTERM."""

from __future__ import annotations

import itertools
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO

from notifykit import NotifyListener
from streamkit import PluggableDevice, retime, trim

from edgebind.bridge.recording import Recording

WATCHDOG_USEC = 2_000_000


def lines_of(stream: IO[str]) -> queue.Queue[tuple[float, str]]:
    """Each line of ``stream`` with its arrival time, from a reader thread."""
    out: queue.Queue[tuple[float, str]] = queue.Queue()

    def read() -> None:
        for line in stream:
            out.put((time.monotonic(), line))

    threading.Thread(target=read, daemon=True).start()
    return out


def take_labels(lines: queue.Queue[tuple[float, str]], n: int, timeout_s: float) -> list[dict]:
    got: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < n:
        try:
            _, line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"only {len(got)} of {n} labels in {timeout_s} s") from None
        got.append(json.loads(line))
    return got


def wait_stderr(err: list[str], text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not any(text in line for line in err):
        assert time.monotonic() < deadline, f"no '{text}' on stderr in {timeout_s} s:\n{''.join(err)}"
        time.sleep(0.05)


def test_waits_streams_survives_an_unplug_and_stops_on_sigterm(basicmotions: Recording, tmp_path: Path) -> None:
    from edgebind.demo import demo_dir

    port = tmp_path / "ttyEDGE0"
    listener = NotifyListener(f"@edgebind-test-{uuid.uuid4().hex}")  # an abstract address, as systemd may use
    env = {**os.environ, "NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": str(WATCHDOG_USEC),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from edgebind.cli import main; main()", "stream", str(port), "--bundle",
         str(demo_dir() / "bundle"), "--json", "--hop", "0.5", "--wait-for-device"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out = lines_of(proc.stdout)  # type: ignore[arg-type]
    err: list[str] = []
    threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True).start()  # type: ignore[arg-type]
    device = PluggableDevice(trim(retime(basicmotions, 400.0), 60.0), port, fmt="binary", speed=4.0)
    try:
        wait_stderr(err, "waiting for", 60.0)  # the models are loaded; no device yet
        time.sleep(2.0)
        assert listener.times("READY=1") == [] and proc.poll() is None
        assert "waiting for " + str(port) in listener.values("STATUS")[0]

        t_plug = time.monotonic()
        device.plug()
        t_ready = listener.wait_for("READY=1", 20.0)
        assert t_ready is not None and t_ready > t_plug
        take_labels(out, 3, 30.0)

        device.unplug()  # the port vanishes: reads fail, then reopening finds no such port
        t_unplug = time.monotonic()
        wait_stderr(err, "disconnected", 10.0)
        time.sleep(3.0)
        while not out.empty():  # labels of windows already in flight when the cable went
            out.get()
        device.plug()
        take_labels(out, 3, 30.0)
        t_back = time.monotonic()

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, "".join(err)
    finally:
        if proc.poll() is None:
            proc.kill()
        device.unplug()
        listener.close()
    rest = []
    while not out.empty():
        rest.append(out.get()[1])
    summary = json.loads(rest[-1])["summary"]

    # said once that it waits, naming the port; once that the device went; streamed before and after
    assert sum("waiting for " + str(port) in line for line in err) == 1, "".join(err)
    assert sum("disconnected" in line for line in err) == 1, "".join(err)
    assert any("stopped by SIGTERM" in line for line in err), "".join(err)
    assert len(summary["disconnects"]) == 1 and summary["disconnects"][0] >= 3.0
    assert summary["link"]["device_wait_ms"] >= 2000 + 3000 and summary["link"]["reconnects"] == 1
    assert summary["windows"] >= 6 and summary["samples_lost"] == 0 and summary["decode_errors"] == 0

    # systemd heard: READY once, after the device appeared; WATCHDOG=1 every <= 1.5 s from start to stop, through
    # the wait and the outage; STATUS while waiting again; STOPPING=1 at the end
    assert len(listener.times("READY=1")) == 1
    pings = listener.times("WATCHDOG=1")
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert pings[0] < t_plug and pings[-1] > t_back - 1.5, (pings[0], pings[-1])
    assert max(gaps) <= 1.5, max(gaps)
    assert any(t_unplug < t < t_unplug + 3.0 for t in pings)
    statuses = listener.values("STATUS")
    assert [s.split(":")[0] for s in statuses if s.startswith(("waiting", "streaming"))][:4] == [
        f"waiting for {port}", f"streaming {port}", f"waiting for {port}", f"streaming {port}"]
    assert listener.times("STOPPING=1") and listener.times("STOPPING=1")[0] >= pings[-1]


def test_a_stalled_inference_thread_withholds_the_watchdog(basicmotions: Recording, tmp_path: Path) -> None:
    """``on_result`` runs on the inference thread: one that takes 3 s stalls it, and the pings stop until it
    returns (systemd would kill a stream stuck longer than WatchdogSec)."""
    from edgebind.bridge.simulator import SimulatedDevice
    from edgebind.demo import demo_dir
    from edgebind.stream.notify import Notifier, ServiceNotify
    from edgebind.stream.pipeline import StreamOptions
    from edgebind.stream.session import run_stream

    listener = NotifyListener(str(tmp_path / "notify"))
    stall: list[float] = []

    def on_result(result: object) -> None:
        if not stall:
            stall.append(time.monotonic())
            time.sleep(3.0)
            stall.append(time.monotonic())

    try:
        with SimulatedDevice(trim(retime(basicmotions, 400.0), 60.0), fmt="binary", speed=4.0) as sim:
            service = ServiceNotify(Notifier(listener.address), str(sim.link), watchdog_s=WATCHDOG_USEC / 1e6)
            summary = run_stream(str(sim.link), bundle=demo_dir() / "bundle", options=StreamOptions(
                hop_s=0.5, max_windows=4), on_result=on_result, service=service)
    finally:
        listener.close()
    assert summary.windows == 4
    pings = listener.times("WATCHDOG=1")
    during = [t for t in pings if stall[0] + 1.2 < t < stall[1]]  # half the watchdog (1 s) after the stall began
    assert not during, [round(t - stall[0], 2) for t in pings]
    assert any(t < stall[0] for t in pings) and any(t > stall[1] for t in pings)
