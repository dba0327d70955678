"""Run ``edgebind simulate`` as a separate process and ``edgebind record`` from its link, as a user would in two
terminals. Shared by the bridge and ROS tests."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner

from edgebind.cli import cli


def simulate_then_record(source: Path, link: Path, out: Path, first_line_timeout_s: float = 30.0) -> str:
    """``edgebind simulate SOURCE --link LINK --speed 10 --format csv --exit-when-done`` in a subprocess, then
    ``edgebind record LINK -o OUT`` in this one; asserts both exit 0 and returns the first line simulate printed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from edgebind.cli import main; main()", "simulate", str(source), "--link", str(link),
         "--speed", "10", "--format", "csv", "--exit-when-done"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        first = lines.get(timeout=first_line_timeout_s)
        result = CliRunner().invoke(cli, ["record", str(link), "-o", str(out), "--idle", "0.5", "--duration", "15"])
        assert result.exit_code == 0, result.output
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
    return first


EDGEBIND = [sys.executable, "-c", "from edgebind.cli import main; main()"]


def edgebind_proc(*args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.Popen[str]:
    """``edgebind ARGS`` in a subprocess (stdout and stderr piped apart), as a user or systemd runs it."""
    return subprocess.Popen([*EDGEBIND, *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class SimulatorProcess:
    """``edgebind simulate REC --link LINK ...`` in a subprocess; a context manager that waits for its first line
    and, on exit, stops it with SIGTERM, asserts that it exits 0 with its counters, and keeps them in ``sent``."""

    def __init__(self, recording: Path, link: Path, *extra: str) -> None:
        self.proc = edgebind_proc("simulate", str(recording), "--link", str(link), *extra)
        self.link = link
        self.sent: dict[str, int] = {}
        self.output = ""

    def __enter__(self) -> SimulatorProcess:
        first = self.proc.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("simulated device on"), first + self.proc.stderr.read()  # type: ignore[union-attr]
        return self

    def stop(self) -> dict[str, int]:
        """SIGTERM; the simulator's ``sent:`` counters (it must exit 0 and say it was stopped)."""
        import json
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=10)
        self.output = out + err
        assert self.proc.returncode == 0, self.output
        assert "stopped by SIGTERM" in out, self.output
        self.sent = json.loads(next(x for x in out.splitlines() if x.startswith("sent: "))[6:])
        return self.sent

    def __exit__(self, *exc: object) -> None:
        try:
            if not self.sent and exc[0] is None:
                self.stop()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
