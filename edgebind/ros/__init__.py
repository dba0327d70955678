"""Adapters to the robotics world at the edge: ROS 2 bags (MCAP) in and out, a live Foxglove view.

Nothing else in edgebind imports this package at module level; its third-party libraries (``mcap``,
``mcap-ros2-support``, ``foxglove-sdk``: the ``edgebind[ros]`` extra) are imported only when a ``.mcap`` file is
read or written or a Foxglove view is served. Modules:

* :mod:`edgebind.ros.msgdefs`  ROS 2 message definitions (the standard ones we read and write, and ours).
* :mod:`edgebind.ros.messages` pure conversions between ROS messages and arrays in SI units / degrees C.
* :mod:`edgebind.ros.bag_in`   a bag -> a :class:`~edgebind.bridge.recording.Recording`, streamed.
* :mod:`edgebind.ros.bag_out`  a Recording -> a bag; a live session -> a bag (:class:`SessionBag`).
* :mod:`edgebind.ros.live`     the live Foxglove WebSocket view (:class:`FoxgloveView`).
* :mod:`edgebind.ros.session`  the bag and the view as one stream observer (``stream --mcap/--foxglove``).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebind.ros.deps import require

if TYPE_CHECKING:
    from edgebind.bridge.recording import Recording

BAG_SUFFIXES = (".mcap",)


def is_bag(path: str | Path) -> bool:
    """True for a path that names an MCAP bag (by its extension)."""
    return Path(path).suffix.lower() in BAG_SUFFIXES


def load_recording(path: str | Path, options: Any = None,
                   modalities: Collection[str] = ("imu", "thermal", "labels")) -> Recording:
    """A Recording from a ``.npz`` or, through :func:`edgebind.ros.bag_in.read_bag`, a ``.mcap`` bag.

    Args:
        path: the file.
        options: a :class:`~edgebind.ros.bag_in.BagOptions` for bags (topics, thermal unit). Defaults to found.
        modalities: what to read from a bag. Defaults to all.

    Raises:
        SensorError: see ``Recording.load`` and ``read_bag``.
    """
    if is_bag(path):
        from edgebind.ros.bag_in import read_bag

        return read_bag(path, options, modalities)
    from edgebind.bridge.recording import Recording

    return Recording.load(path)


def save_recording(rec: Recording, path: str | Path) -> Path:
    """Write ``rec`` as a ``.mcap`` bag (:func:`edgebind.ros.bag_out.write_recording_bag`) or a ``.npz``."""
    if is_bag(path):
        from edgebind.ros.bag_out import write_recording_bag

        return write_recording_bag(rec, path)
    return rec.save(path)


__all__ = ["BAG_SUFFIXES", "is_bag", "load_recording", "require", "save_recording"]
