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

from edgebind.errors import ConfigError

if TYPE_CHECKING:
    from edgebind.bridge.recording import Recording

BAG_SUFFIXES = (".mcap",)


def is_bag(path: str | Path) -> bool:
    """True for a path that names an MCAP bag (by its extension)."""
    return Path(path).suffix.lower() in BAG_SUFFIXES


def require(module: str) -> None:
    """Import ``module`` or raise a ConfigError naming the extra to install."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"{module} is not installed ({exc}); ROS bags and the Foxglove view need the ros extra: "
                          "pip install 'edgebind[ros]'.") from None


def load_recording(path: str | Path, options: Any = None,
                   modalities: Collection[str] = ("imu", "thermal", "labels")) -> Recording:
    """A Recording from a ``.npz``, a ``.mcap`` bag (:func:`edgebind.ros.bag_in.read_bag`, also one cut off by a
    kill) or the journal ``OUT.partial`` a killed ``edgebind record`` left
    (:func:`edgebind.bridge.journal.read_journal`).

    Args:
        path: the file.
        options: a :class:`~edgebind.ros.bag_in.BagOptions` for bags (topics, thermal unit). Defaults to found.
        modalities: what to read from a bag. Defaults to all.

    Raises:
        SensorError: see ``Recording.load`` and ``read_bag``.
    """
    if is_bag(path):
        from edgebind.ros.bag_in import read_bag
        from edgebind.ros.recover import is_cut_off, recovered_copy

        if is_cut_off(path):  # a killed 'stream --mcap': no summary, a torn last record
            with recovered_copy(path) as (fixed, report):
                rec = read_bag(fixed, options, modalities)
            rec.meta["recovered_from"] = report
            return rec
        return read_bag(path, options, modalities)
    from edgebind.bridge.journal import is_journal, read_journal

    if is_journal(path):  # what a killed 'edgebind record -o OUT' left: OUT.partial
        return read_journal(path)
    from edgebind.bridge.recording import Recording

    return Recording.load(path)


def save_recording(rec: Recording, path: str | Path) -> Path:
    """Write ``rec`` as a ``.mcap`` bag (:func:`edgebind.ros.bag_out.write_recording_bag`) or a ``.npz``, either
    atomically (a temp file beside it, fsync, rename: never half a file at ``path``)."""
    if is_bag(path):
        from edgebind.atomicfile import atomic_path
        from edgebind.ros.bag_out import write_recording_bag

        with atomic_path(path) as tmp:  # the bag appears at ``path`` only once it is complete
            write_recording_bag(rec, tmp)
        return Path(path)
    return rec.save(path)
