"""The live Foxglove view: ``edgebind stream --foxglove`` serves the session over Foxglove's WebSocket protocol
(``foxglove-sdk``) so a robotics team watches IMU, thermal frames and labels next to their robot's other topics.

Channels (docs/robotics.md): ``/imu`` JSON (one message per sample: ``header.stamp``, ``t_ns``, ``accel_mps2``,
``gyro_rads``), ``/thermal/image`` ``foxglove.RawImage`` (``32FC1``, degrees C), ``/thermal/device_time`` JSON
(``t_ns``, ``stamp_ns`` per frame), ``/edgebind/labels`` JSON (a ``stream --json`` line).

Clocks: by default (``stamp="host"``) sensor messages are stamped in ROS time (the host's wall clock: device time
through the running clock estimate, :class:`edgebind.bridge.clock.RosClock`): log time = ``header.stamp`` (IMU) =
``timestamp`` (RawImage); ``t_ns`` is the device time. With ``stamp="device"`` the stamps are device time and log
time is the host's wall clock at arrival. Labels are logged at the host's clock when they are made; their
``t_end_s`` is device time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from edgebind.bridge.clock import RosClock
from edgebind.bridge.events import Event, ImuBatch, ThermalFrame
from edgebind.errors import ConfigError, SensorError
from edgebind.ros.bag_out import BagTopics
from edgebind.ros.deps import require

DEFAULT_ADDRESS = "127.0.0.1:8765"

_VEC3 = {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}
_TIME = {"type": "object", "properties": {"sec": {"type": "integer"}, "nsec": {"type": "integer"}}}
IMU_SCHEMA = {"type": "object", "title": "edgebind.ImuSample", "properties": {
    "header": {"type": "object", "properties": {"stamp": {**_TIME, "description": "ROS time (host clock) or, with "
                                                          "--stamp device, device time"},
                                                "frame_id": {"type": "string"}}},
    "t_ns": {"type": "integer", "description": "device time"},
    "accel_mps2": {**_VEC3, "description": "specific force incl. gravity (REP 145)"},
    "gyro_rads": {**_VEC3, "description": "angular rate"}}}
LABEL_SCHEMA = {"type": "object", "title": "edgebind.WindowLabel", "properties": {
    "t_end_s": {"type": "number"}, "modality": {"type": "string"}, "label": {"type": "string"},
    "top_k": {"type": "array", "items": {"type": "object", "properties": {
        "label": {"type": "string"}, "score": {"type": "number"}}}},
    "latency_ms": {"type": "number"}, "runner_ms": {"type": "number"},
    "drops": {"type": "object", "properties": {"windows_skipped": {"type": "integer"},
                                               "samples_lost": {"type": "integer"}}},
    "index": {"type": "integer"}}}
DEVICE_TIME_SCHEMA = {"type": "object", "title": "edgebind.DeviceTime", "properties": {
    "t_ns": {"type": "integer", "description": "device time of the frame"},
    "stamp_ns": {"type": "integer", "description": "its ROS time (host clock): the RawImage timestamp"}}}


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT``, ``HOST``, ``PORT`` or ``:PORT`` -> (host, port); the defaults are 127.0.0.1 and 8765.

    Raises:
        ConfigError: a port that is not an integer in 0..65535 (0 picks a free port).
    """
    default_host, default_port = DEFAULT_ADDRESS.split(":")
    host, sep, port = address.rpartition(":")
    if not sep:  # one part: a bare port or a bare host
        host, port = ("", address) if address.isdigit() else (address, default_port)
    try:
        port_n = int(port)
    except ValueError:
        port_n = -1
    if not 0 <= port_n <= 65535:
        raise ConfigError(f"bad --foxglove address '{address}': port '{port}' is not 0..65535; e.g. "
                          f"--foxglove {DEFAULT_ADDRESS}.")
    return host or default_host, port_n


class FoxgloveView:
    """A Foxglove WebSocket server for one live session; a stream observer like :class:`SessionBag`.

    Args:
        address: ``HOST:PORT`` to bind. Defaults to 127.0.0.1:8765 (this machine only; pass 0.0.0.0:8765 to let
            other machines connect).
        topics: topic names and frame ids. Defaults to ``BagTopics()``.
        stamp: ``host`` (ROS time) or ``device``; see the module docstring. Defaults to host.
        ros_clock: the device -> ROS time mapping, shared with other outputs. Defaults to a new one fed by
            :meth:`on_event`.

    Raises:
        SensorError: the address cannot be bound (port in use).

    The SDK's server speaks the ``foxglove.sdk.v1`` WebSocket subprotocol only: a client that offers only
    ``foxglove.websocket.v1`` gets HTTP 400 (docs/robotics.md names the clients that connect).
    """

    def __init__(self, address: str = DEFAULT_ADDRESS, topics: BagTopics | None = None, stamp: str = "host",
                 ros_clock: RosClock | None = None) -> None:
        from edgebind.ros.bag_out import check_stamp

        self.ros_clock = (ros_clock or RosClock()) if check_stamp(stamp) == "host" else None
        require("foxglove")
        import foxglove
        from foxglove.channels import RawImageChannel

        self.host, port = parse_address(address)
        self.topics = tp = topics or BagTopics()
        self.context = foxglove.Context()
        try:
            self.server = foxglove.start_server(name="edgebind", host=self.host, port=port, context=self.context)
        except (RuntimeError, OSError) as exc:  # the SDK raises RuntimeError("FoxgloveError: Failed to bind ...")
            raise SensorError(f"cannot serve Foxglove on {self.host}:{port} ({exc}); pick a free port, e.g. "
                              f"--foxglove {self.host}:0 (any free port).") from None
        self.imu = foxglove.Channel(tp.imu, schema=IMU_SCHEMA, message_encoding="json", context=self.context)
        self.thermal = RawImageChannel(tp.thermal, context=self.context)
        self.labels = foxglove.Channel(tp.labels, schema=LABEL_SCHEMA, message_encoding="json", context=self.context)
        self.thermal_time = (foxglove.Channel(tp.thermal_device_time, schema=DEVICE_TIME_SCHEMA,
                                              message_encoding="json", context=self.context)
                             if self.ros_clock is not None else None)
        self._lock = threading.Lock()
        self.counts = {"imu": 0, "thermal": 0, "labels": 0}

    @property
    def port(self) -> int:
        """The bound port (the free one chosen when asked for 0)."""
        return int(self.server.port)

    @property
    def url(self) -> str:
        """The WebSocket URL to open in Foxglove (Open connection -> Foxglove WebSocket)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def app_url(self) -> str:
        """A Foxglove web-app link that opens this connection."""
        return str(self.server.app_url() or "")

    def __enter__(self) -> FoxgloveView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def on_event(self, event: Event) -> None:
        """Publish the IMU samples and thermal frames of one source event (reader thread)."""
        now, rc, tp = time.time_ns(), self.ros_clock, self.topics
        ros = rc.stamps(event) if rc is not None else None  # paired and mapped once for every output
        if isinstance(event, ImuBatch):
            device = event.t_ns.tolist()
            stamps = device if ros is None else ros.tolist()
            with self._lock:
                for t, s, a, g in zip(device, stamps, event.accel_mps2.tolist(), event.gyro_rads.tolist(),
                                      strict=True):
                    sec, nsec = divmod(max(int(s), 0), 1_000_000_000)
                    self.imu.log({"header": {"stamp": {"sec": sec, "nsec": nsec}, "frame_id": tp.imu_frame},
                                  "t_ns": t, "accel_mps2": a, "gyro_rads": g}, log_time=now if rc is None else s)
                self.counts["imu"] += len(event.t_ns)
        elif isinstance(event, ThermalFrame):
            from foxglove.messages import RawImage, Timestamp

            frame = np.ascontiguousarray(event.temp_c, dtype="<f4")
            h, w = frame.shape
            s = int(event.t_ns) if ros is None else int(ros[0])
            sec, nsec = divmod(max(s, 0), 1_000_000_000)
            img = RawImage(timestamp=Timestamp(sec, nsec), frame_id=tp.thermal_frame, width=w, height=h,
                           encoding="32FC1", step=4 * w, data=frame.tobytes())
            with self._lock:
                self.thermal.log(img, log_time=now if rc is None else s)
                if self.thermal_time is not None:
                    self.thermal_time.log({"t_ns": int(event.t_ns), "stamp_ns": s}, log_time=s)
                self.counts["thermal"] += 1

    def on_result(self, result: Any) -> None:
        """Publish one ``LabelResult`` as its ``stream --json`` line."""
        with self._lock:
            self.labels.log(result.to_json(), log_time=time.time_ns())
            self.counts["labels"] += 1

    def close(self) -> None:
        """Stop the server (clients see the connection close)."""
        self.server.stop()
