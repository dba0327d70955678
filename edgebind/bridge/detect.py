"""Format auto-detection: ``AutoDecoder`` sniffs the first bytes, then hands everything to the right decoder."""

from __future__ import annotations

from edgebind.bridge import lines as ln
from edgebind.bridge import protocol as p
from edgebind.bridge.binary import BinaryDecoder
from edgebind.bridge.events import DeviceInfo, Event
from edgebind.bridge.text import TEXT_FORMATS, TextDecoder
from edgebind.bridge.units import UnitOptions
from edgebind.errors import ConfigError, suggest

FORMATS = ("auto", "binary", *TEXT_FORMATS)
_PROBE_BYTES = 4096

Decoder = BinaryDecoder | TextDecoder


def _text_line(line: bytes) -> bool:
    text = line.strip(b"\r \t").decode("ascii", errors="replace")
    if not text:
        return False
    return ln.is_separator(text) or ln.parse_any(text) is not None


def sniff(data: bytes) -> str | None:
    """``binary`` if ``data`` holds a CRC-valid frame, ``text`` if it holds 3 lines of a known text format (CSV,
    plotter, Teleplot, SparkFun, i2cdevlib, MLX90640 rows), else None."""
    blocks = data.split(p.DELIMITER)
    for block in blocks[1:-1]:  # complete blocks only: the first may be a partial frame
        if block:
            try:
                p.parse_frame(block)
                return "binary"
            except p.FrameError:
                pass
    lines = data.split(b"\n")[1:-1]  # the first line may be cut
    if sum(1 for line in lines if _text_line(line)) >= 3:
        return "text"
    return None


class AutoDecoder:
    """Buffers up to a few kB until :func:`sniff` decides, then delegates to a Binary or Text decoder.

    Args:
        rate_hz: passed to the text decoder for lines without timestamps.
        units: unit flags and sensor profile for text lines.
    """

    fmt = "auto"

    def __init__(self, rate_hz: float | None = None, units: UnitOptions | None = None) -> None:
        self.rate_hz = rate_hz
        self.units = units
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
                f"{self._bytes_in} bytes arrived that are neither edgebind binary frames nor text lines of a known "
                "format (CSV, Serial Plotter label:value, Teleplot, SparkFun, i2cdevlib, MLX90640 rows): the baud "
                "rate is probably wrong; try --baud 115200 or 921600, or --format to force one."
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
        self.inner = BinaryDecoder() if fmt == "binary" else TextDecoder(rate_hz=self.rate_hz, units=self.units)
        dropped = self._bytes_in - len(self._probe)
        self.inner.stats["bytes_discarded"] += dropped
        self.inner.stats["bytes_in"] += dropped
        probe, self._probe = bytes(self._probe), bytearray()
        return self.inner.feed(probe, host_t_ns)

    def flush(self, host_t_ns: int = 0) -> list[Event]:
        """End of stream: let a text decoder emit what it still holds."""
        if isinstance(self.inner, TextDecoder):
            return self.inner.flush(host_t_ns)
        return []


def make_decoder(fmt: str = "auto", rate_hz: float | None = None,
                 units: UnitOptions | None = None) -> BinaryDecoder | TextDecoder | AutoDecoder:
    """The decoder for ``fmt`` (``auto``, ``binary`` or a text format of :data:`FORMATS`).

    Raises:
        ConfigError: unknown format, with a did-you-mean.
    """
    if fmt == "binary":
        return BinaryDecoder()
    if fmt in TEXT_FORMATS:
        return TextDecoder(fmt, rate_hz=rate_hz, units=units)
    if fmt == "auto":
        return AutoDecoder(rate_hz=rate_hz, units=units)
    raise ConfigError(f"unknown stream format '{fmt}'.{suggest(fmt, FORMATS)} Use --format {'|'.join(FORMATS)}.")
