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
