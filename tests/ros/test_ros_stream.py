"""``edgebind stream --mcap`` on a simulated device, read back by ``mcap_ros2``; the Foxglove view, read by a real
WebSocket client."""

from __future__ import annotations

import asyncio
import json
import struct
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.bridge.recording import Recording
from edgebind.bridge.remix import trim
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.cli import cli
from edgebind.ros.bag_in import iter_bag_labels, read_bag

LABELS = "Standing\nRunning\nWalking\nBadminton: playing badminton | a badminton match\n"


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    p = tmp_path / "labels.txt"
    p.write_text(LABELS)
    return p


@pytest.fixture(scope="module")
def session_rec(imu_400: Recording) -> Recording:
    """10 s of the 400 Hz IMU with the real Lepton clip shrunk to MLX90640 size (32x24) beside it."""
    from edgebind.bridge.convert import convert
    from edgebind.bridge.remix import mlx_sized, with_thermal

    clip = convert(Path(__file__).parents[1] / "data" / "thermal" / "20240507-074536.cptv")
    return with_thermal(trim(imu_400, 10.0), mlx_sized(clip))


@pytest.fixture
def device(session_rec: Recording):  # type: ignore[no-untyped-def]
    with SimulatedDevice(session_rec, fmt="binary", speed=4.0) as sim:
        yield sim


def read_ros2(path: Path) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from mcap_ros2.reader import read_ros2_messages

        return list(read_ros2_messages(str(path), log_time_order=False))


def test_stream_mcap_logs_raw_messages_and_labels_matching_json(device: SimulatedDevice, tiny_ckpt: Path,
                                                                 labels_file: Path, session_rec: Recording,
                                                                 tmp_path: Path) -> None:
    bag = tmp_path / "session.mcap"
    result = CliRunner().invoke(cli, ["stream", str(device.link), "--checkpoint", str(tiny_ckpt), "--labels",
                                      str(labels_file), "--json", "--max-windows", "3", "--hop", "0.5", "--mcap",
                                      str(bag), "--mcap-embeddings"])
    assert result.exit_code == 0, result.output
    assert f"mcap: logging the session to {bag}" in result.stderr
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()][:-1]
    msgs = read_ros2(bag)
    topics = {m.channel.topic: m.schema.name for m in msgs}
    assert topics == {"/imu": "sensor_msgs/msg/Imu", "/thermal/image": "sensor_msgs/msg/Image",
                      "/edgebind/labels": "edgebind_msgs/msg/WindowLabel",
                      "/edgebind/embeddings": "edgebind_msgs/msg/Embedding",
                      "/imu/device_time": "sensor_msgs/msg/TimeReference",
                      "/thermal/device_time": "sensor_msgs/msg/TimeReference"}
    assert list(iter_bag_labels(bag)) == lines and sum(line["modality"] == "imu" for line in lines) == 3
    emb = [m.ros_msg for m in msgs if m.channel.topic == "/edgebind/embeddings"]
    assert [(e.modality, e.index) for e in emb] == [(x["modality"], x["index"]) for x in lines]
    assert len(emb[0].data) == 1024
    np.testing.assert_allclose([np.linalg.norm(e.data) for e in emb], 1.0, atol=1e-5)
    imu = [m.ros_msg for m in msgs if m.channel.topic == "/imu"]
    stamps = np.array([m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in imu])
    assert np.all(np.diff(stamps) > 0) and stamps[0] > 1_600_000_000 * 10**9  # ROS time: the host's wall clock
    assert [m.log_time_ns for m in msgs if m.channel.topic == "/imu"] == stamps.tolist()  # log time = header.stamp
    refs = [m.ros_msg for m in msgs if m.channel.topic == "/imu/device_time"]
    t = np.array([r.time_ref.sec * 10**9 + r.time_ref.nanosec for r in refs])  # device time, beside each stamp
    assert [r.header.stamp.sec * 10**9 + r.header.stamp.nanosec for r in refs] == stamps.tolist()
    assert len(imu) >= 2000 and np.all(np.diff(t) == 2_500_000)  # every sample the windows saw, none lost
    got = np.array([[m.linear_acceleration.x, m.angular_velocity.z] for m in imu])
    np.testing.assert_allclose(got, session_rec.imu[: len(imu)][:, [0, 5]], atol=0.01)  # int16 link quantisation
    assert max(x["t_end_s"] for x in lines) * 1e9 <= t[-1]
    frames = sum(m.channel.topic == "/thermal/image" for m in msgs)
    assert (f"mcap: wrote {bag} ({len(imu)} IMU samples, {frames} thermal frames, {len(lines)} labels, {len(emb)} "
            "embeddings)") in result.stderr
    back = read_bag(bag)  # a session bag reads back as a Recording: its thermal unit is recorded in the bag
    assert back.thermal is not None and session_rec.thermal is not None and back.thermal_t_ns is not None
    assert back.thermal.shape[1:] == (24, 32) and len(back.imu) == len(imu)
    th_refs = [m.ros_msg for m in msgs if m.channel.topic == "/thermal/device_time"]
    th_device = np.array([r.time_ref.sec * 10**9 + r.time_ref.nanosec for r in th_refs])  # in stamp order
    k = np.searchsorted(session_rec.thermal_t_ns, th_device)  # type: ignore[arg-type]
    np.testing.assert_allclose(back.thermal, session_rec.thermal[k], atol=0.01)  # centi-degree link quantisation


def test_mcap_embeddings_needs_mcap(tiny_ckpt: Path) -> None:
    result = CliRunner().invoke(cli, ["stream", "loop://", "--checkpoint", str(tiny_ckpt), "--mcap-embeddings"])
    assert result.exit_code == 1 and "pass --mcap session.mcap too" in result.output


log_times: dict[str, list[int]] = {}  # topic -> log time of each message the client received


async def _foxglove_client(url: str, subscribed: threading.Event, want: int) -> tuple[list[dict[str, Any]],
                                                                                       dict[str, list[Any]]]:
    import websockets

    received: dict[str, list[Any]] = {}
    log_times.clear()
    async with websockets.connect(url, subprotocols=["foxglove.sdk.v1"]) as ws:  # type: ignore[list-item]
        channels: list[dict[str, Any]] = []
        while not channels:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if msg["op"] == "advertise":
                channels = msg["channels"]
        by_sub = {i: c for i, c in enumerate(channels)}
        await ws.send(json.dumps({"op": "subscribe", "subscriptions": [{"id": i, "channelId": c["id"]}
                                                                      for i, c in by_sub.items()]}))
        subscribed.set()
        def imu_labels() -> int:
            return sum(json.loads(p)["modality"] == "imu" for p in received.get("/edgebind/labels", []))

        while imu_labels() < want or not received.get("/thermal/image"):
            data = await asyncio.wait_for(ws.recv(), 60)
            if isinstance(data, bytes) and data[0] == 1:  # binary MessageData: op, subscription, log time, payload
                sub, log_time = struct.unpack_from("<IQ", data, 1)
                received.setdefault(by_sub[sub]["topic"], []).append(data[13:])
                log_times.setdefault(by_sub[sub]["topic"], []).append(log_time)
    return channels, received


def test_foxglove_client_receives_channels_imu_and_labels(device: SimulatedDevice, tiny_ckpt: Path,
                                                          labels_file: Path) -> None:
    pytest.importorskip("websockets", reason="the WebSocket client of this test (pip install websockets)")
    pytest.importorskip("foxglove", reason="the ros extra (pip install 'edgebind[ros]') is not installed")
    from edgebind.ros.session import SessionOutputs
    from edgebind.stream.pipeline import StreamOptions
    from edgebind.stream.session import run_stream

    results: list[dict[str, Any]] = []
    with SessionOutputs(foxglove="127.0.0.1:0") as outputs:
        assert outputs.view.url.startswith("ws://127.0.0.1:") and outputs.view.port > 0
        subscribed = threading.Event()
        box: dict[str, Any] = {}
        client = threading.Thread(target=lambda: box.update(out=asyncio.run(
            _foxglove_client(outputs.view.url, subscribed, want=2))))
        client.start()
        assert subscribed.wait(20)

        def on_result(r: Any) -> None:
            outputs.on_result(r)
            results.append(r.to_json())

        run_stream(str(device.link), checkpoint=tiny_ckpt, labels=str(labels_file), on_result=on_result,
                   on_event=outputs.on_event, options=StreamOptions(hop_s=0.5, max_windows=2))
        client.join(60)
    channels, received = box["out"]
    assert {c["topic"]: (c["encoding"], c["schemaName"]) for c in channels} == {
        "/imu": ("json", "edgebind.ImuSample"), "/thermal/image": ("protobuf", "foxglove.RawImage"),
        "/edgebind/labels": ("json", "edgebind.WindowLabel"), "/thermal/device_time": ("json", "edgebind.DeviceTime")}
    sent = [json.dumps(r, sort_keys=True) for r in results]  # IMU and thermal labels, from two inference threads
    got = [json.dumps(json.loads(p), sort_keys=True) for p in received["/edgebind/labels"]]
    assert len(got) >= 2 and all(g in sent for g in got)
    imu = [json.loads(p) for p in received["/imu"]]
    assert set(imu[0]) == {"header", "t_ns", "accel_mps2", "gyro_rads"}
    stamp = np.array([m["header"]["stamp"]["sec"] * 10**9 + m["header"]["stamp"]["nsec"] for m in imu])
    assert np.all(np.diff(stamp) > 0) and stamp[0] > 1_600_000_000 * 10**9  # ROS time (host clock), in order
    np.testing.assert_array_equal(log_times["/imu"], stamp)  # log time = header.stamp
    t = np.array([m["t_ns"] for m in imu])
    # 2200 of 2200 arrived in order when measured; the server may drop for a slow client (its backlog is 1024)
    assert len(imu) >= 1000 and np.all(np.diff(t) > 0) and np.all(t % 2_500_000 == 0)
    img = received["/thermal/image"][0]  # protobuf foxglove.RawImage: a 32x24 float32 frame and its encoding
    assert len(img) > 32 * 24 * 4 and b"32FC1" in img
