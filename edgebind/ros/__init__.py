"""Adapters to the robotics world at the edge: ROS 2 bags (rosbag2 directories, sqlite3 ``.db3``, MCAP) in and out,
a live Foxglove view.

Nothing else in edgebind imports this package at module level; its third-party libraries (``rosbags``, ``mcap``,
``mcap-ros2-support``, ``foxglove-sdk``: the ``edgebind[ros]`` extra) are imported only when a bag is read or
written or a Foxglove view is served. Modules:

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
from edgebind.ros.deps import require

if TYPE_CHECKING:
    from edgebind.bridge.recording import Recording

BAG_SUFFIXES = (".mcap", ".db3", ".bag")  # .bag (ROS 1) is recognised to say how to convert it


def is_bag(path: str | Path) -> bool:
    """True for a path that names a bag: a ``.mcap``/``.db3`` file (by its extension) or a directory (rosbag2 keeps a
    bag as a directory with ``metadata.yaml``; any other directory is refused by the reader with the fix)."""
    p = Path(path)
    return p.suffix.lower() in BAG_SUFFIXES or p.is_dir()


def load_recording(path: str | Path, options: Any = None,
                   modalities: Collection[str] = ("imu", "thermal", "labels")) -> Recording:
    """A Recording from a ``.npz``, through :func:`edgebind.ros.bag_in.read_bag` a bag (directory, ``.db3``,
    ``.mcap``; an ``.mcap`` cut off by a kill is recovered first, :mod:`edgebind.ros.recover`), or the journal
    ``OUT.partial`` a killed ``edgebind record`` left (:func:`edgebind.bridge.journal.read_journal`).

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


def check_rosbag2_output(path: str | Path) -> None:
    """Raise ConfigError unless ``path`` can become a new rosbag2 directory (no file extension, not there yet)."""
    if Path(path).suffix.lower() in (".npz", ".mcap", ".db3"):
        raise ConfigError(f"--rosbag2 writes a directory (metadata.yaml + MCAP); pass -o DIR without an extension "
                          f"(not '{path}'), or drop --rosbag2 for a single file.")
    if Path(path).exists():
        raise ConfigError(f"{path} exists; a rosbag2 bag is a new directory: pass another -o DIR or remove it.")


def save_recording(rec: Recording, path: str | Path, *, rosbag2: bool = False, ros_t_ns: Any = None) -> Path:
    """Write ``rec`` as a bag (:func:`edgebind.ros.bag_out.write_recording_bag`: a ``.mcap``, or with ``rosbag2`` a
    rosbag2 directory; ``ros_t_ns`` are the samples' ROS times) or a ``.npz``. A ``.mcap`` and a ``.npz`` are
    written atomically (a temp file beside it, fsync, rename: never half a file at ``path``).

    Raises:
        ConfigError: ``rosbag2`` with a ``.npz``/``.mcap`` path, or a directory that exists.
    """
    if rosbag2:
        check_rosbag2_output(path)
    suffix = Path(path).suffix.lower()
    if suffix in (".db3", ".bag"):
        raise ConfigError(f"edgebind writes bags as .mcap (or, with record --rosbag2, a rosbag2 directory), not "
                          f"'{suffix}'; pass -o {Path(path).with_suffix('.mcap')}.")
    if rosbag2:  # an existing directory is not an output bag
        from edgebind.ros.bag_out import write_recording_bag

        return write_recording_bag(rec, path, rosbag2=True, ros_t_ns=ros_t_ns)
    if suffix == ".mcap":
        from edgebind.atomicfile import atomic_path
        from edgebind.ros.bag_out import write_recording_bag

        with atomic_path(path) as tmp:  # the bag appears at ``path`` only once it is complete
            write_recording_bag(rec, tmp, ros_t_ns=ros_t_ns)
        return Path(path)
    return rec.save(path)


__all__ = ["BAG_SUFFIXES", "is_bag", "load_recording", "require", "save_recording"]
