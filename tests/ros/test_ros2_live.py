"""Live ROS 2 topics over DDS, each against a real second process (tests/ros/dds_peer.py) on a random domain, loopback
only: ``stream ros2:/imu/data`` labels a 200 Hz publisher; ``stream PORT --ros2`` is heard by a subscriber whose every
payload equals rosbags' CDR of the same message; a wrong topic or type gets one line naming what the domain has."""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("cyclonedds", reason="the ros2 extra (pip install 'edgebind[ros2]') is not installed")
pytest.importorskip("rosbags", reason="rosbags (the dev extra) checks the CDR bytes")

from test_ros2_types import jazzy_with_ours, ros_msg

from edgebind.bridge.recording import Recording
from edgebind.bridge.remix import trim
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.cli import cli
from edgebind.ros import msgdefs, ros2types
from edgebind.ros.messages import image_message, imu_message, label_message

ROOT = Path(__file__).parents[2]
PEER = Path(__file__).with_name("dds_peer.py")
DEMO = str(ROOT / "edgebind" / "data" / "demo" / "bundle")
DOMAIN_ID = random.Random().randint(1, 100)  # a random domain per run (no cross-talk); <= 100 keeps its ports
# below Linux's ephemeral range (32768+), as the ROS 2 "domain ID" page advises


@pytest.fixture(scope="module", autouse=True)
def ros2_env() -> Iterator[None]:
    """This process and its peers on DOMAIN_ID with edgebind's loopback-only discovery."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROS_DOMAIN_ID", str(DOMAIN_ID))
        for name in ("CYCLONEDDS_URI", "ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_LOCALHOST_ONLY"):
            mp.delenv(name, raising=False)
        mp.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        yield


class Peer:
    """tests/ros/dds_peer.py in a subprocess; its JSON lines collected."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, str(PEER), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(x) for x in self.proc.stdout], daemon=True).start()  # type: ignore[union-attr]
        first = self.lines.get(timeout=30)
        assert json.loads(first) == {"ready": True}, first

    def finish(self, timeout_s: float = 30.0, stop: bool = False) -> list[dict[str, Any]]:
        """Its lines, once it exited 0 (or, with ``stop``, once it is stopped now)."""
        try:
            if stop:
                self.proc.terminate()
                self.proc.wait(timeout=timeout_s)
            else:
                assert self.proc.wait(timeout=timeout_s) == 0
        finally:
            self.proc.kill()
        time.sleep(0.1)
        out = []
        while not self.lines.empty():
            line = self.lines.get()
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                raise AssertionError(f"peer printed: {line}") from None
        return out


def pad4(cdr: bytes) -> bytes:
    """What goes on the wire: the CDR padded with zeros to a multiple of 4 bytes (Cyclone DDS sends whole words)."""
    return cdr + b"\0" * (-len(cdr) % 4)


def stamp_of(store: Any, cdr: bytes, ros_type: str) -> int:
    s = store.deserialize_cdr(cdr, ros_type).header.stamp
    return int(s.sec) * 10**9 + int(s.nanosec)


def test_stream_labels_a_live_200hz_ros2_imu_topic() -> None:
    """A separate process publishes sensor_msgs/msg/Imu at 200 Hz, best effort (rosbags' CDR, as a driver would);
    ``edgebind stream ros2:/imu/data --bundle DEMO --json`` labels it."""
    pub = Peer("pub-imu", "/imu/data", "--rate", "200", "--seconds", "60")
    try:  # --duration, not --max-windows: a slow start on a loaded machine cannot hang the test
        result = CliRunner().invoke(cli, ["stream", "ros2:/imu/data", "--bundle", DEMO, "--json", "--duration", "8",
                                          "--hop", "0.5", "--wait", "20"])
    finally:
        out = pub.finish(stop=True)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.strip().splitlines()]
    labels, summary = lines[:-1], lines[-1]["summary"]
    assert len(labels) >= 2 and {x["modality"] for x in labels} == {"imu"} and summary["windows"] == len(labels)
    assert all(x["label"] in {"Standing", "Running", "Walking", "Badminton"} for x in labels)
    # the windows' device time is the publisher's header.stamp: ROS time, so within seconds of now
    assert all(abs(x["t_end_s"] - time.time()) < 15 for x in labels)
    assert np.diff([x["t_end_s"] for x in labels]) == pytest.approx(0.5, abs=0.006)
    assert summary["samples_lost"] == 0 and summary["sample_gaps"] == 0
    # our reader announced Jazzy's type hash, as rosbags computes it
    readers = [x for x in out if "reader" in x]
    assert readers == [{"reader": "/imu/data", "type": "sensor_msgs/msg/Imu",
                        "typehash": jazzy_with_ours().hash_rihs01("sensor_msgs/msg/Imu")}]


def test_wrong_type_or_silent_topic_names_what_the_domain_has() -> None:
    pub = Peer("pub-string", "/imu/data", "--rate", "20", "--seconds", "12")
    try:
        runner = CliRunner()
        wrong = runner.invoke(cli, ["stream", "ros2:/imu/data", "--bundle", DEMO, "--json", "--wait", "5"])
        assert wrong.exit_code != 0
        assert "/imu/data is published as std_msgs/msg/String, not sensor_msgs/msg/Imu" in wrong.output
        assert f"ROS 2 domain {DOMAIN_ID} (loopback only)" in wrong.output
        silent = runner.invoke(cli, ["stream", "ros2:/robot/imu", "--bundle", DEMO, "--json", "--wait", "1"])
        assert silent.exit_code != 0
        msg = [x for x in silent.output.splitlines() if "nothing published" in x]
        assert len(msg) == 1, silent.output
        assert "nothing published on /robot/imu (sensor_msgs/msg/Imu) within 1 s" in msg[0]
        assert "seen: " in msg[0] and "/imu/data (std_msgs/msg/String)" in msg[0] and "--wait" in msg[0]
    finally:
        pub.proc.kill()


@pytest.fixture(scope="module")
def device_rec(imu_400: Recording) -> Recording:
    """6.5 s of the real 400 Hz IMU with the real Lepton clip shrunk to MLX90640 size (32x24) beside it."""
    from edgebind.bridge.convert import convert
    from edgebind.bridge.remix import mlx_sized, with_thermal

    clip = convert(ROOT / "tests" / "data" / "thermal" / "20240507-074536.cptv")
    return with_thermal(trim(imu_400, 6.5), mlx_sized(clip))


def read_bag(path: Path) -> dict[str, list[Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from mcap_ros2.reader import read_ros2_messages

        out: dict[str, list[Any]] = {}
        for m in read_ros2_messages(str(path)):
            out.setdefault(m.channel.topic, []).append(m.ros_msg)
        return out


def test_stream_ros2_is_heard_by_a_separate_subscriber(device_rec: Recording, tmp_path: Path) -> None:
    """``stream PORT --ros2`` on a simulated serial device (real time): a separate DDS subscriber hears label_text,
    labels, imu and thermal; every payload equals rosbags' CDR of the same message; stamps are host time."""
    store = jazzy_with_ours()
    sub = Peer("sub", "/edgebind/label_text", msgdefs.STRING, "reliable", "/edgebind/labels", msgdefs.WINDOW_LABEL,
               "reliable", "/edgebind/imu", msgdefs.IMU, "sensor", "/edgebind/thermal", msgdefs.IMAGE, "sensor",
               "--depth", "5000", "--seconds", "40", "--count", "2")
    bag = tmp_path / "session.mcap"  # the same session's raw values, to rebuild every message independently
    with SimulatedDevice(device_rec, fmt="binary", speed=1.0) as sim:  # the real CLI in its own process, bounded
        proc = subprocess.run([sys.executable, "-c", "from edgebind.cli import main; main()", "stream", str(sim.link),
                               "--bundle", DEMO, "--json", "--max-windows", "2", "--hop", "0.5", "--ros2", "--mcap",
                               str(bag), "--stamp", "device"],  # the bag in device time; ROS 2 topics: host time
                              capture_output=True, text=True, timeout=90)
        # the host wall-clock time (ns) at which the simulator sent device time 0: device t is sent at wall0 + t
        wall0 = round(sim._clock_start * 1e9) + time.time_ns() - time.monotonic_ns()
    got = sub.finish()
    assert proc.returncode == 0, proc.stderr
    assert "ros2: publishing /edgebind/imu, /edgebind/thermal, /edgebind/labels, /edgebind/label_text" in proc.stderr
    lines = [json.loads(x) for x in proc.stdout.strip().splitlines()][:-1]
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for x in got:
        by_topic.setdefault(x.get("topic", "writers"), []).append(x)

    # label_text: the --json lines, byte for byte as rosbags serializes std_msgs/msg/String
    text = by_topic["/edgebind/label_text"]
    assert [bytes.fromhex(x["cdr"]) for x in text] == [
        pad4(bytes(store.serialize_cdr(store.types[msgdefs.STRING](data=json.dumps(line)), msgdefs.STRING)))
        for line in lines]
    # labels: WindowLabel of the same lines, stamped with the host clock at the window's end
    for x, line in zip(by_topic["/edgebind/labels"], lines, strict=True):
        cdr = bytes.fromhex(x["cdr"])
        t = stamp_of(store, cdr, msgdefs.WINDOW_LABEL)
        want = ros_msg(store, msgdefs.WINDOW_LABEL, label_message(line, t, "imu_link"))
        assert cdr == pad4(bytes(store.serialize_cdr(want, msgdefs.WINDOW_LABEL)))
        assert abs(t - (wall0 + round(line["t_end_s"] * 1e9))) < 100_000_000  # the window's end, on the host clock

    raw = read_bag(bag)
    for topic, bag_topic, ros_type in (("/edgebind/imu", "/imu", msgdefs.IMU),
                                       ("/edgebind/thermal", "/thermal/image", msgdefs.IMAGE)):
        heard, logged = by_topic[topic], raw[bag_topic]
        assert len(heard) >= 0.95 * len(logged), (topic, len(heard), len(logged))
        j, stamps, errors, delays = 0, [], [], []
        for x in heard:  # each payload is the next logged message with the host-clock stamp, as rosbags writes it
            cdr = bytes.fromhex(x["cdr"])
            t = stamp_of(store, cdr, ros_type)
            while True:
                m = logged[j]
                j += 1
                if ros_type == msgdefs.IMU:
                    a, g = m.linear_acceleration, m.angular_velocity
                    value = imu_message(t, np.array([a.x, a.y, a.z, g.x, g.y, g.z]), "imu_link")
                else:
                    frame = np.frombuffer(bytes(m.data), "<f4").reshape(m.height, m.width)
                    value = image_message(t, frame, "thermal_optical_frame")
                if pad4(bytes(store.serialize_cdr(ros_msg(store, ros_type, value), ros_type))) == cdr:
                    break
                assert j < len(logged), f"{topic}: a payload matches no logged message"
            stamps.append(t)
            errors.append((t - (wall0 + m.header.stamp.sec * 10**9 + m.header.stamp.nanosec)) / 1e9)
            delays.append((x["recv_ns"] - t) / 1e9)
        # every stamp is the host clock when the device sent the sample (within 0.1 s), never after the subscriber
        # got the message
        assert max(np.abs(errors)) < 0.1 and min(delays) > -0.005, (topic, min(errors), max(errors), min(delays))
        print(f"{topic}: {len(heard)} heard of {len(logged)} sent; stamp - send time {min(errors) * 1e3:.1f}.."
              f"{max(errors) * 1e3:.1f} ms (median {np.median(errors) * 1e3:.1f} ms)")
        if ros_type == msgdefs.IMU:  # 400 Hz device samples, mapped onto the host clock
            assert np.median(np.diff(stamps)) == pytest.approx(2_500_000, rel=0.02)
    writers = {x["writer"]: x["typehash"] for x in by_topic["writers"]}
    assert writers == {f"/edgebind/{n}": store.hash_rihs01(t) for n, t in (
        ("imu", msgdefs.IMU), ("thermal", msgdefs.IMAGE), ("labels", msgdefs.WINDOW_LABEL),
        ("label_text", msgdefs.STRING))}


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2) to list a process's sockets")
def test_discovery_stays_on_loopback() -> None:
    """A participant with edgebind's default configuration sends only from 127.0.0.1 and joins no multicast group."""
    sub = Peer("sub", "/edgebind/label_text", msgdefs.STRING, "reliable", "--seconds", "3")
    try:
        rows = subprocess.run(["ss", "-uanpH"], capture_output=True, text=True, check=True).stdout.splitlines()
        mine = [r.split() for r in rows if f"pid={sub.proc.pid}," in r]
        assert mine, rows
        base = 7400 + 250 * DOMAIN_ID  # RTPS: the domain's ports, where Cyclone listens on every address
        for cols in mine:
            addr, port = cols[3].rsplit(":", 1)
            assert addr == "127.0.0.1" or (addr in ("0.0.0.0", "*") and base <= int(port) < base + 250), cols
        assert any(c[3].startswith("127.0.0.1:") for c in mine)  # the one socket it sends from
        igmp = Path("/proc/net/igmp")
        if igmp.exists():  # SPDP's multicast group 239.255.0.1 (EFFF0001) is joined on no interface
            assert "010000EF" not in igmp.read_text().upper()
    finally:
        sub.finish()


def test_namespace_and_type_names() -> None:
    from edgebind.errors import ConfigError
    from edgebind.ros.ros2_out import check_namespace

    assert check_namespace("/robot1/edgebind/") == "/robot1/edgebind"
    with pytest.raises(ConfigError, match="--ros2-namespace 'edgebind'"):
        check_namespace("edgebind")
    assert ros2types.dds_type(msgdefs.WINDOW_LABEL) == "edgebind_msgs::msg::dds_::WindowLabel_"


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_stream_ros2_in_and_out_under_signals(sig: str) -> None:
    """``edgebind stream ros2:/imu/data --ros2`` in a subprocess, stopped by a signal once it labels: Ctrl-C and
    SIGTERM end it cleanly with the summary and what was published (edgebind.lifecycle); SIGKILL ends it at once (no
    DDS thread keeps it alive)."""
    import signal

    pub = Peer("pub-imu", "/imu/data", "--rate", "200", "--seconds", "60")
    proc = subprocess.Popen([sys.executable, "-c", "from edgebind.cli import main; main()", "stream", "ros2:/imu/data",
                             "--bundle", DEMO, "--json", "--hop", "0.5", "--wait", "20", "--ros2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(90, proc.kill)  # a stream that never labels cannot hang the test
    watchdog.start()
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())  # the first label: it is running
        assert first["modality"] == "imu"
        proc.send_signal(getattr(signal, sig))
        out, err = proc.communicate(timeout=15)
    finally:
        watchdog.cancel()
        proc.kill()
        pub.finish(stop=True)
    if sig in ("SIGINT", "SIGTERM"):
        assert proc.returncode == 0, err
        assert "summary" in json.loads(out.strip().splitlines()[-1])
        assert f"stopped by {sig}" in err and "ros2: published" in err and "labels on ROS 2 domain" in err
    else:
        assert proc.returncode == -getattr(signal, sig)
