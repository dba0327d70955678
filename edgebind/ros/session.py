"""What ``edgebind stream --mcap/--foxglove`` attaches to a live session: one observer that fans each source event
and each label out to a :class:`SessionBag` and a :class:`FoxgloveView`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgebind.bridge.events import Event
from edgebind.errors import ConfigError


class SessionOutputs:
    """The session's bag and live view, as one stream observer (``on_event``, ``on_result``, ``close``).

    Args:
        mcap: the session bag to write. Defaults to None (no bag).
        embeddings: also log embeddings into the bag. Defaults to False.
        foxglove: ``HOST:PORT`` to serve the live view on. Defaults to None (no server).
        ros2: the namespace to publish live ROS 2 topics under (``stream --ros2``). Defaults to None (none).

    Raises:
        ConfigError: ``embeddings`` without ``mcap``.
        SensorError: the Foxglove address cannot be bound, or Cyclone DDS cannot start.
    """

    def __init__(self, mcap: str | Path | None = None, embeddings: bool = False, foxglove: str | None = None,
                 ros2: str | None = None) -> None:
        if embeddings and mcap is None:
            raise ConfigError("--mcap-embeddings logs into the session bag; pass --mcap session.mcap too.")
        self.bag: Any = None
        self.view: Any = None
        self.ros2: Any = None
        self.closed = False
        if foxglove is not None:
            from edgebind.ros.live import FoxgloveView

            self.view = FoxgloveView(foxglove)
        if mcap is not None:
            from edgebind.ros.bag_out import SessionBag

            try:
                self.bag = SessionBag(mcap, embeddings=embeddings)
            except BaseException:
                self.close()
                raise
        if ros2 is not None:
            from edgebind.ros.ros2_out import Ros2Publisher

            try:
                self.ros2 = Ros2Publisher(ros2)
            except BaseException:
                self.close()
                raise
        self._sinks = [s for s in (self.bag, self.view, self.ros2) if s is not None]

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
        if self.bag is not None:
            self.bag.close()
        if self.view is not None:
            self.view.close()
        if self.ros2 is not None:
            self.ros2.close()
