"""Boot the synthetic-sensor firmware in QEMU with its UART on a pseudo-terminal and record it with
``edgebind record``.

    python emu/qemu_record.py build/qemu/edgebind-synth.elf --seconds 10 --out synth.npz

Used by ``make qemu-record`` and by tests/test_firmware.py. QEMU prints the pty it made
("char device redirected to /dev/pts/N (label serial0)"); the recorder opens it like any serial port.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

PTY_LINE = re.compile(rb"char device redirected to (\S+) \(label serial0\)")


@contextlib.contextmanager
def boot(elf: Path, machine: str = "mps2-an385", timeout_s: float = 20.0) -> Iterator[str]:
    """Run ``elf`` on QEMU's ``machine`` and yield the pty of its UART; QEMU is stopped on exit."""
    qemu = shutil.which("qemu-system-arm")
    if qemu is None:
        raise SystemExit("qemu-system-arm not found: apt-get install qemu-system-arm")
    proc = subprocess.Popen([qemu, "-M", machine, "-display", "none", "-monitor", "none", "-serial", "pty",
                             "-kernel", str(elf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        line = b""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            match = PTY_LINE.search(line)
            if match:
                yield match.group(1).decode()
                return
            if not line and proc.poll() is not None:
                break
        raise SystemExit(f"QEMU did not report its serial pty (last output: {line!r}, exit {proc.poll()})")
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("elf", type=Path)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--machine", default="mps2-an385")
    args = ap.parse_args(argv)
    with boot(args.elf, args.machine) as pty:
        print(f"{args.machine} booted {args.elf}; UART on {pty}", flush=True)
        cmd = [sys.executable, "-c", "from edgebind.cli import main; main()", "record", pty, "-o", str(args.out),
               "--duration", str(args.seconds)]
        return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
