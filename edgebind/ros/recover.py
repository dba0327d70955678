"""A bag cut off by a kill or a power cut (a ``stream --mcap`` that never wrote its summary) made readable again, with
the ``mcap`` library's non-seeking reader: every record up to the torn one is copied into a finished temporary
bag, which any bag reader then opens. What ``mcap recover`` does, without the mcap CLI.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgebind.errors import SensorError
from edgebind.ros.deps import require

log = logging.getLogger(__name__)

MAGIC = b"\x89MCAP0\r\n"


def is_cut_off(path: str | Path) -> bool:
    """True for an MCAP file that starts with MCAP's magic but does not end with it (its writer never finished)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                return False
            f.seek(max(0, size - len(MAGIC)))
            return size < 2 * len(MAGIC) or f.read() != MAGIC
    except OSError:
        return False


def recover(path: str | Path, out: str | Path) -> dict[str, Any]:
    """Copy the schemas, channels, messages and metadata of the cut-off bag ``path`` into a finished bag ``out``,
    stopping at the first record that is torn or unreadable.

    Returns:
        ``{"bag": path, "messages": n, "torn_at_byte": offset or None, "reason": why it stopped}``.

    Raises:
        SensorError: not even one channel could be read (not a cut-off bag, or cut before its first channel).
    """
    require("mcap")
    from mcap.exceptions import McapError
    from mcap.records import Channel, DataEnd, Header, Message, Metadata, Schema
    from mcap.stream_reader import StreamReader
    from mcap.writer import CompressionType, Writer

    path = Path(path)
    schemas: dict[int, int] = {}
    channels: dict[int, int] = {}
    n, reason = 0, "end of file"
    with path.open("rb") as src, Path(out).open("wb") as dst:
        writer = Writer(dst, compression=CompressionType.NONE)
        started = False
        try:
            for record in StreamReader(src).records:
                if isinstance(record, Header):
                    writer.start(profile=record.profile, library=record.library)
                    started = True
                elif not started:
                    continue
                elif isinstance(record, Schema) and record.id not in schemas:  # writers may repeat them per chunk
                    schemas[record.id] = writer.register_schema(record.name, record.encoding, record.data)
                elif isinstance(record, Channel) and record.id not in channels:
                    channels[record.id] = writer.register_channel(record.topic, record.message_encoding,
                                                                  schemas.get(record.schema_id, 0), record.metadata)
                elif isinstance(record, Message) and record.channel_id in channels:
                    writer.add_message(channels[record.channel_id], record.log_time, record.data,
                                       record.publish_time, record.sequence)
                    n += 1
                elif isinstance(record, Metadata):
                    writer.add_metadata(record.name, dict(record.metadata))
                elif isinstance(record, DataEnd):
                    break
        except (McapError, struct.error, ValueError, EOFError, KeyError) as exc:
            reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        if not channels:
            raise SensorError(f"{path} is not a readable MCAP bag: it ends before its first channel record "
                              f"({reason}); nothing in it can be recovered.")
        writer.finish()
    log.warning("%s was cut off before its summary (the writer was killed); read its %d messages up to the torn "
                "record (%s)", path, n, reason)
    return {"bag": str(path), "messages": n, "stopped_at": reason}


@contextlib.contextmanager
def recovered_copy(path: str | Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """``with recovered_copy(bag) as (fixed, report):`` a finished copy of a cut-off bag in a temporary folder,
    removed after the block."""
    with tempfile.TemporaryDirectory(prefix="edgebind-recover-") as tmp:
        fixed = Path(tmp) / Path(path).name
        report = recover(path, fixed)
        yield fixed, report
