"""Format auto-detection: ``AutoDecoder`` sniffs the first bytes, then hands everything to the right decoder."""

from __future__ import annotations

import re

from edgebind.bridge import protocol as p
from edgebind.bridge.binary import BinaryDecoder
from edgebind.bridge.events import DeviceInfo, Event
from edgebind.bridge.text import CsvDecoder
from edgebind.errors import ConfigError, suggest

FORMATS = ("auto", "binary", "csv")
_PROBE_BYTES = 4096
_NUMERIC_LINE = re.compile(rb"^[ \t]*[-+0-9.eE]+(?:[ ,\t]+[-+0-9.eE]+){2,}[ \t\r]*$")

Decoder = BinaryDecoder | CsvDecoder


def sniff(data: bytes) -> str | None:
    """``binary`` if ``data`` holds a CRC-valid frame, ``csv`` if it holds 3 numeric text lines, else None."""
    blocks = data.split(p.DELIMITER)
    for block in blocks[1:-1]:  # complete blocks only: the first may be a partial frame
        if block:
            try:
                p.parse_frame(block)
                return "binary"
            except p.FrameError:
                pass
    lines = data.split(b"\n")[1:-1]  # the first line may be cut
    if sum(1 for line in lines if _NUMERIC_LINE.match(line)) >= 3:
        return "csv"
    return None


class AutoDecoder:
    """Buffers up to a few kB until :func:`sniff` decides, then delegates to a Binary or Csv decoder.

    Args:
        rate_hz: passed to the CSV decoder for lines without timestamps.
    """

    fmt = "auto"

    def __init__(self, rate_hz: float | None = None) -> None:
        self.rate_hz = rate_hz
        self.inner: Decoder | None = None
        self._probe = bytearray()
        self._probe_host_ns = 0
        self._bytes_in = 0

    @property
    def info(self) -> DeviceInfo | None:
        """The device info of the chosen decoder (None until known)."""
        return self.inner.info if self.inner is not None else None

    @property
    def stats(self) -> dict[str, int]:
        """Counters of the chosen decoder, plus ``probe_bytes_discarded`` while undecided."""
        if self.inner is not None:
            return self.inner.stats
        return {"bytes_in": self._bytes_in, "bytes_discarded": max(0, self._bytes_in - len(self._probe))}

    def reset(self) -> None:
        """Forget partial input (after a reconnect)."""
        if self.inner is not None:
            self.inner.reset()
        else:
            self._probe.clear()

    def problem(self) -> str | None:
        """A diagnosis when the stream is neither protocol (else the chosen decoder's diagnosis)."""
        if self.inner is not None:
            return self.inner.problem()
        if self._bytes_in >= _PROBE_BYTES:
            return (
                f"{self._bytes_in} bytes arrived that are neither edgebind binary frames nor numeric text lines: "
                "the baud rate is probably wrong; try --baud 115200 or 921600, or --format csv/binary to force one."
            )
        return None

    def feed(self, data: bytes, host_t_ns: int = 0) -> list[Event]:
        """Buffer ``data`` until the format is known; afterwards the same as the inner decoder's ``feed``."""
        if self.inner is not None:
            return self.inner.feed(data, host_t_ns)
        self._bytes_in += len(data)
        if not self._probe:
            self._probe_host_ns = host_t_ns
        self._probe += data
        fmt = sniff(bytes(self._probe))
        if fmt is None:
            if len(self._probe) > _PROBE_BYTES:
                del self._probe[: len(self._probe) - _PROBE_BYTES]
            return []
        self.inner = BinaryDecoder() if fmt == "binary" else CsvDecoder(rate_hz=self.rate_hz)
        dropped = self._bytes_in - len(self._probe)
        self.inner.stats["bytes_discarded"] += dropped
        self.inner.stats["bytes_in"] += dropped
        probe, self._probe = bytes(self._probe), bytearray()
        return self.inner.feed(probe, host_t_ns)

    def flush(self, host_t_ns: int = 0) -> list[Event]:
        """End of stream: let a CSV decoder emit what it still holds."""
        if isinstance(self.inner, CsvDecoder):
            return self.inner.flush(host_t_ns)
        return []


def make_decoder(fmt: str = "auto", rate_hz: float | None = None) -> BinaryDecoder | CsvDecoder | AutoDecoder:
    """The decoder for ``fmt`` (``auto``, ``binary`` or ``csv``).

    Raises:
        ConfigError: unknown format, with a did-you-mean.
    """
    if fmt == "binary":
        return BinaryDecoder()
    if fmt == "csv":
        return CsvDecoder(rate_hz=rate_hz)
    if fmt == "auto":
        return AutoDecoder(rate_hz=rate_hz)
    raise ConfigError(f"unknown stream format '{fmt}'.{suggest(fmt, FORMATS)} Use --format auto|binary|csv.")
