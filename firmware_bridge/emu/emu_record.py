"""Boot a synthetic-sensor firmware in an emulator with its UART on a pseudo-terminal and record it with
``edgebind record``.

    python emu/emu_record.py qemu build/qemu/fifo1-depth128-thermal2-baud921600-stall500/edgebind-synth.elf \\
        --seconds 10 --out synth.npz
    python emu/emu_record.py simavr build/avr/edgebind-synth.elf --seconds 10 --out synth.npz \\
        --simavr-pty build/simavr_pty

Used by ``make qemu-record`` / ``make simavr-record`` and by tests/test_firmware.py. Each emulator prints the pty
it made (QEMU: "char device redirected to /dev/pts/N (label serial0)"; simavr_pty.c: "uart pty: /dev/pts/N");
the recorder opens it like any serial port.
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

PTY_LINE = {"qemu": re.compile(rb"char device redirected to (\S+) \(label serial0\)"),
            "simavr": re.compile(rb"uart pty: (\S+)")}


def emulator_command(emulator: str, elf: Path, simavr_pty: Path | None = None) -> list[str]:
    """The command line that boots ``elf`` with its UART on a new pty."""
    if emulator == "qemu":
        qemu = shutil.which("qemu-system-arm")
        if qemu is None:
            raise SystemExit("qemu-system-arm not found: apt-get install qemu-system-arm")
        return [qemu, "-M", "mps2-an385", "-display", "none", "-monitor", "none", "-serial", "pty", "-kernel",
                str(elf)]
    if simavr_pty is None or not simavr_pty.is_file():
        raise SystemExit(f"simavr runner {simavr_pty} not built: make simavr-pty (apt-get install libsimavr-dev)")
    return [str(simavr_pty), str(elf)]


@contextlib.contextmanager
def boot(emulator: str, elf: Path, simavr_pty: Path | None = None, timeout_s: float = 20.0) -> Iterator[str]:
    """Run ``elf`` in ``emulator`` (qemu or simavr) and yield its UART's pty; the emulator is stopped on exit."""
    proc = subprocess.Popen(emulator_command(emulator, elf, simavr_pty), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        line = b""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            match = PTY_LINE[emulator].search(line)
            if match:
                yield match.group(1).decode()
                return
            if not line and proc.poll() is not None:
                break
        raise SystemExit(f"{emulator} did not report its UART pty (last output: {line!r}, exit {proc.poll()})")
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("emulator", choices=sorted(PTY_LINE))
    ap.add_argument("elf", type=Path)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--simavr-pty", type=Path, default=None, help="the simavr runner (make simavr-pty)")
    ap.add_argument("--rate", type=float, default=None, help="IMU rate to ask for (SET_RATE); default the image's")
    args = ap.parse_args(argv)
    with boot(args.emulator, args.elf, args.simavr_pty) as pty:
        print(f"{args.emulator} booted {args.elf}; UART on {pty}", flush=True)
        cmd = [sys.executable, "-c", "from edgebind.cli import main; main()", "record", pty, "-o", str(args.out),
               "--duration", str(args.seconds), *(["--rate", str(args.rate)] if args.rate else [])]
        return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
