"""What ``edgebind stream --mcap/--foxglove`` attaches to a live session: one observer that fans each source event
and each label out to a :class:`SessionBag` and a :class:`FoxgloveView`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from edgebind.bridge.events import Event
from edgebind.errors import ConfigError

FLUSH_EVERY_S = 1.0  # most seconds of a session bag that a kill or a power cut can lose


class SessionOutputs:
    """The session's bag and live view, as one stream observer (``on_event``, ``on_result``, ``close``).

    Args:
        mcap: the session bag to write. Defaults to None (no bag).
        embeddings: also log embeddings into the bag. Defaults to False.
        foxglove: ``HOST:PORT`` to serve the live view on. Defaults to None (no server).
        ros2: the namespace to publish live ROS 2 topics under (``stream --ros2``). Defaults to None (none).
        stamp: ``host`` (ROS time: device time through one running clock estimate that the bag and the view
            share) or ``device``. Defaults to host.
        flush_every_s: the bag is flushed (chunk ended, file fsynced) this often, so that after a kill or a power
            cut it holds all but about this many seconds; ``edgebind convert`` reads such a bag. Defaults to 1.0.

    Raises:
        ConfigError: ``embeddings`` without ``mcap``.
        SensorError: the Foxglove address cannot be bound, or Cyclone DDS cannot start.
    """

    def __init__(self, mcap: str | Path | None = None, embeddings: bool = False, foxglove: str | None = None,
                 ros2: str | None = None, stamp: str = "host", flush_every_s: float = FLUSH_EVERY_S) -> None:
        if embeddings and mcap is None:
            raise ConfigError("--mcap-embeddings logs into the session bag; pass --mcap session.mcap too.")
        from edgebind.bridge.clock import RosClock
        from edgebind.ros.bag_out import check_stamp

        self.stamp = check_stamp(stamp)
        self.ros_clock = RosClock() if stamp == "host" else None
        self.bag: Any = None
        self.view: Any = None
        self.ros2: Any = None
        self.closed = False
        self._stop_flush = threading.Event()
        self._flusher: threading.Thread | None = None
        if foxglove is not None:
            from edgebind.ros.live import FoxgloveView

            self.view = FoxgloveView(foxglove, stamp=stamp, ros_clock=self.ros_clock)
        if mcap is not None:
            from edgebind.ros.bag_out import SessionBag

            try:
                self.bag = SessionBag(mcap, embeddings=embeddings, stamp=stamp, ros_clock=self.ros_clock)
            except BaseException:
                self.close()
                raise
        if ros2 is not None:
            from edgebind.ros.ros2_out import Ros2Publisher

            try:
                self.ros2 = Ros2Publisher(ros2, ros_clock=self.ros_clock)  # ROS 2 topics: always ROS time
            except BaseException:
                self.close()
                raise
        self._sinks = [s for s in (self.bag, self.view, self.ros2) if s is not None]
        if self.bag is not None:
            self._flusher = threading.Thread(target=self._flush_every, args=(flush_every_s,),
                                             name="edgebind-bag-flush", daemon=True)
            self._flusher.start()

    def _flush_every(self, every_s: float) -> None:
        """The bag on disk at least every ``every_s``: a kill or a power cut loses at most that much."""
        while not self._stop_flush.wait(every_s):
            self.bag.flush()

    def __enter__(self) -> SessionOutputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def on_event(self, event: Event) -> None:
        """Hand a source event to each output (reader thread)."""
        for sink in self._sinks:
            sink.on_event(event)

    def on_result(self, result: Any) -> None:
        """Hand a ``LabelResult`` to each output (inference thread)."""
        for sink in self._sinks:
            sink.on_result(result)

    def lines(self) -> list[str]:
        """What the user should know: which URL to open and where the bag goes; after :meth:`close`, what it holds."""
        out = []
        if self.view is not None and not self.closed:
            out.append(f"foxglove: open {self.view.url} in Foxglove (Open connection -> Foxglove WebSocket), or "
                       f"{self.view.app_url}")
        if self.bag is not None and not self.closed:
            out.append(f"mcap: logging the session to {self.bag.path}")
        elif self.bag is not None:
            c = self.bag.counts
            out.append(f"mcap: wrote {self.bag.path} ({c['imu']} IMU samples, {c['thermal']} thermal frames, "
                       f"{c['labels']} labels, {c['embeddings']} embeddings); next: edgebind convert {self.bag.path} "
                       "-o session.npz")
        if self.ros2 is not None:
            out.extend(self.ros2.lines())
        return out

    def close(self) -> None:
        """Finish the bag and stop the server."""
        self.closed = True
        self._stop_flush.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join()
        if self.bag is not None:
            self.bag.close()
        if self.view is not None:
            self.view.close()
        if self.ros2 is not None:
            self.ros2.close()
