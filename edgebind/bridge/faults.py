"""Fault injection for the simulator: what a bad cable, a wrong baud rate or a flaky USB hub does to bytes.

A spec is ``name=value`` pairs separated by commas, e.g. ``bitflip=0.01,drop_frames=0.02,seed=3``:

==================  =====================================================================================
``bitflip=P``       each byte has one random bit flipped with probability P (1 % of bytes: ``bitflip=0.01``)
``drop_bytes=P``    each byte is lost with probability P
``drop_frames=P``   each frame or line is not sent with probability P
``truncate=P``      each text line loses its last column(s) with probability P (CSV; the newline stays)
``garbage=P``       before each frame or line, with probability P, 8-64 bytes of wrong-baud garbage
``wrong_baud=R``    every byte is what a UART at 1/R of the device's baud rate reads (R = 8: device at 921 600,
                    host at 115 200); applied after the other faults
``disconnect=T``    once, at recording time T seconds, the device drops off the bus and comes back
``seed=N``          random seed (default 0)
==================  =====================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from edgebind.errors import ConfigError, suggest

FAULT_COUNTERS = ("units_sent", "units_touched", "units_dropped", "bytes_flipped", "bytes_dropped",
                  "delimiter_hits", "lines_truncated", "garbage_bytes")


@dataclass(frozen=True)
class FaultSpec:
    """Probabilities and times of the injected faults (all off by default)."""

    bitflip: float = 0.0
    drop_bytes: float = 0.0
    drop_frames: float = 0.0
    truncate: float = 0.0
    garbage: float = 0.0
    wrong_baud: float = 0.0
    disconnect: float = -1.0
    seed: int = 0

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        """Parse ``"bitflip=0.01,seed=2"``; an empty or None spec means no faults.

        Raises:
            ConfigError: unknown fault name (with a suggestion) or a value out of range.
        """
        if not spec:
            return cls()
        names = {f.name: f.type for f in fields(cls)}
        values: dict[str, float | int] = {}
        for item in spec.split(","):
            name, _, raw = item.strip().partition("=")
            if name not in names:
                raise ConfigError(f"unknown fault '{name}' in '{spec}'.{suggest(name, names)}")
            try:
                values[name] = int(raw) if name == "seed" else float(raw)
            except ValueError:
                raise ConfigError(f"fault '{name}' needs a number, got '{raw}' (e.g. {name}=0.01).") from None
            if name == "wrong_baud" and not values[name] >= 0:
                raise ConfigError(f"fault 'wrong_baud={raw}' is a baud ratio; use e.g. 8 (921600 vs 115200).")
            if name not in ("seed", "disconnect", "wrong_baud") and not 0.0 <= values[name] <= 1.0:
                raise ConfigError(f"fault '{name}={raw}' is a probability; use a value in [0, 1].")
        return cls(**values)  # type: ignore[arg-type]

    @property
    def any(self) -> bool:
        """True when some fault is enabled."""
        return self != FaultSpec(seed=self.seed)


class FaultInjector:
    """Apply a :class:`FaultSpec` to frames or lines one at a time; counts what it did in ``stats``."""

    def __init__(self, spec: FaultSpec, text: bool = False) -> None:
        self.spec = spec
        self.text = text
        self.rng = np.random.default_rng(spec.seed)
        self.stats: dict[str, int] = dict.fromkeys(FAULT_COUNTERS, 0)

    def apply(self, unit: bytes) -> tuple[bytes, bool]:
        """Corrupt one encoded frame (with its 0x00) or one line (with its newline).

        Returns:
            The bytes to send, and whether the unit was touched (changed, prefixed with garbage or dropped).
        """
        s, rng = self.spec, self.rng
        self.stats["units_sent"] += 1
        if s.drop_frames and rng.random() < s.drop_frames:
            self.stats["units_dropped"] += 1
            return b"", True
        out = bytearray(unit)
        touched = False
        if self.text and s.truncate and rng.random() < s.truncate:
            cut = out.rfind(b",", 0, len(out) - 1)
            if cut > 0:
                out = out[:cut] + b"\n"
                self.stats["lines_truncated"] += 1
                touched = True
        if s.bitflip:
            hits = np.flatnonzero(rng.random(len(out)) < s.bitflip)
            for i in hits:
                out[i] ^= 1 << int(rng.integers(8))
            if len(hits):
                touched = True
                self.stats["bytes_flipped"] += len(hits)
                self.stats["delimiter_hits"] += int(hits[-1] == len(out) - 1)
        if s.drop_bytes:
            keep = rng.random(len(out)) >= s.drop_bytes
            if not keep.all():
                touched = True
                self.stats["bytes_dropped"] += int((~keep).sum())
                self.stats["delimiter_hits"] += int(not keep[-1])
                out = bytearray(np.frombuffer(bytes(out), np.uint8)[keep].tobytes())
        if s.garbage and rng.random() < s.garbage:
            junk = rng.integers(1, 256, size=int(rng.integers(8, 65)), dtype=np.uint8).tobytes()
            if self.text:  # a wrong baud rate in text mode yields mostly non-printable bytes, no newline
                junk = bytes(b | 0x80 for b in junk)
            out = bytearray(junk) + out
            self.stats["garbage_bytes"] += len(junk)
            touched = True
        if s.wrong_baud and s.wrong_baud != 1.0:
            out = bytearray(uart_misread(bytes(out), s.wrong_baud))
            touched = True
        self.stats["units_touched"] += int(touched)
        return bytes(out), touched


def uart_misread(data: bytes, ratio: float) -> bytes:
    """The bytes a UART receiver decodes from ``data`` sent as 8N1 when its bit time is ``ratio`` sender bit times.

    ``ratio`` = sender baud / receiver baud (8.0: sent at 921 600, read at 115 200). The receiver waits for a
    falling edge (start bit), samples the 8 data bits (LSB first) at their middles and resumes looking for a start
    bit after the stop bit, as a real UART does; framing errors are delivered as the byte read. ``ratio == 1``
    returns ``data`` unchanged.
    """
    if not data:
        return b""
    bits = np.ones((len(data), 10), np.uint8)  # (n, 10): start bit, 8 data bits LSB first, stop bit
    bits[:, 0] = 0
    bits[:, 1:9] = np.unpackbits(np.frombuffer(data, np.uint8)[:, None], axis=1, bitorder="little")
    line = np.concatenate([bits.ravel(), np.ones(int(12 * max(ratio, 1.0)) + 2, np.uint8)])  # idle high after
    starts = np.flatnonzero((line[1:] == 0) & (line[:-1] == 1)) + 1
    starts = np.concatenate([[0], starts]) if line[0] == 0 else starts
    out = bytearray()
    t = 0.0
    for edge in starts:
        if edge < t:
            continue
        sample = (edge + ratio * (1.5 + np.arange(8))).astype(np.int64)  # middles of the 8 data bits
        if sample[-1] >= len(line):
            break
        out.append(int(np.packbits(line[sample], bitorder="little")[0]))
        t = edge + ratio * 9.5  # the middle of the stop bit; the next falling edge after it starts a byte
    return bytes(out)
