"""Fixtures for the ROS 2 adapters: bags from real recordings in tests/data (BasicMotions re-timed to 400 Hz, a
Lepton 3.5 clip's raw TLinear counts), written by roskit.BagWriter as rosbag2 would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from roskit import BagWriter, image_msg, imu_msg

from edgebind.bridge.convert import convert
from edgebind.bridge.recording import Recording
from edgebind.bridge.remix import retime, trim

pytest.importorskip("mcap_ros2", reason="the ros extra (pip install 'edgebind[ros]') is not installed")


@pytest.fixture(scope="session")
def imu_400() -> Recording:
    """12 s of real BasicMotions motion re-timed to 400 Hz (4801 samples), with its class labels."""
    return trim(retime(convert(Path(__file__).parents[1] / "data" / "imu" / "BasicMotions_TEST.ts"), 400.0), 12.0)


@pytest.fixture(scope="session")
def lepton_counts() -> tuple[np.ndarray, np.ndarray]:
    """(frames (M, 120, 160) uint16 raw TLinear centi-kelvin counts, t_ns) of a real Lepton 3.5 clip, first 12."""
    from edgebind.preprocess.thermal import load_cptv

    frames, t_ns = load_cptv(Path(__file__).parents[1] / "data" / "thermal" / "20240507-074536.cptv")
    return frames[:12].astype(np.uint16), t_ns[:12]


@pytest.fixture(scope="session")
def robot_bag(tmp_path_factory: pytest.TempPathFactory, imu_400: Recording,
              lepton_counts: tuple[np.ndarray, np.ndarray]) -> Path:
    """A robot's bag: /imu/data (400 Hz, frame imu_link), /thermal/image_raw (16UC1 counts), /activity (String)."""
    path = tmp_path_factory.mktemp("bags") / "robot.mcap"
    bag = BagWriter(path)
    t0 = 1_700_000_000_000_000_000  # ROS time: the epoch clock, as a robot's bag has
    for t, row in zip(imu_400.imu_t_ns.tolist(), imu_400.imu, strict=True):
        bag.write("/imu/data", "sensor_msgs/msg/Imu", imu_msg(t0 + t, row), t0 + t + 1_000_000)
    frames, frame_t = lepton_counts
    for t, frame in zip(frame_t.tolist(), frames, strict=True):
        bag.write("/thermal/image_raw", "sensor_msgs/msg/Image", image_msg(t0 + t, frame, "16UC1"), t0 + t)
    assert imu_400.labels is not None and imu_400.label_t_ns is not None
    for t, label in zip(imu_400.label_t_ns.tolist(), imu_400.labels.tolist(), strict=True):
        if t <= imu_400.imu_t_ns[-1]:
            bag.write("/activity", "std_msgs/msg/String", {"data": label}, t0 + t)
    bag.close()
    return path


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded tiny IMU + thermal + text encoders (random weights) in edgebind's checkpoint format."""
    import torch

    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config
    from edgebind.models import build_encoder

    torch.manual_seed(0)
    encoders = [build_encoder(get_config(n)).eval() for n in ("tiny_imu", "tiny_thermal", "tiny_text")]
    return save_checkpoint(encoders, tmp_path_factory.mktemp("ckpt") / "tiny.safetensors")


ROBOT_T0 = 1_700_000_000_000_000_000  # ROS time (the epoch clock), as a robot's bag has
ROBOT_LABELS = ["Standing", "Walking", "Running", "Walking", "Standing", "Badminton"]


@pytest.fixture(scope="session")
def robot_data(imu_400: Recording, lepton_counts: tuple[np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    """What the robot bags below hold, in ROS time: 30 s of 100 Hz IMU (real BasicMotions motion, 3000 samples),
    16UC1 centi-kelvin Lepton frames at 4 Hz (120: the real clip's 12 frames in turn) and a String label every 5 s."""
    n_imu, n_frames = 3000, 120
    return {"imu": imu_400.imu[:n_imu], "imu_t_ns": ROBOT_T0 + np.arange(n_imu, dtype=np.int64) * 10_000_000,
            "counts": np.stack([lepton_counts[0][i % 12] for i in range(n_frames)]),
            "thermal_t_ns": ROBOT_T0 + 5_000_000 + np.arange(n_frames, dtype=np.int64) * 250_000_000,
            "labels": np.array(ROBOT_LABELS), "label_t_ns": ROBOT_T0 + np.arange(6, dtype=np.int64) * 5 * 10**9}


ROBOT_BAGS = {  # name: (distro, storage, compression, split)
    "humble_sqlite3": ("humble", "sqlite3", "none", False),
    "jazzy_sqlite3": ("jazzy", "sqlite3", "none", False),
    "jazzy_mcap": ("jazzy", "mcap", "none", False),
    "humble_sqlite3_zstd_message": ("humble", "sqlite3", "message", False),
    "jazzy_mcap_zstd_file_split": ("jazzy", "mcap", "file", True),
}


@pytest.fixture(scope="session")
def robot_bags(tmp_path_factory: pytest.TempPathFactory, robot_data: dict[str, np.ndarray]) -> dict[str, Path]:
    """rosbag2 directories written by rosbags' Writer (see roskit.write_rosbag2), built once per session."""
    pytest.importorskip("rosbags", reason="the ros extra (pip install 'edgebind[ros]') is not installed")
    from roskit import rosbags_messages, write_rosbag2

    d = robot_data
    root = tmp_path_factory.mktemp("rosbag2")
    out = {}
    for name, (distro, storage, compression, split) in ROBOT_BAGS.items():
        ts, msgs = rosbags_messages(distro, d["imu"], d["imu_t_ns"], d["counts"], d["thermal_t_ns"],
                                    d["labels"].tolist(), d["label_t_ns"])
        out[name] = write_rosbag2(root / name, distro, storage, msgs, ts, compression,
                                  split_at=len(msgs) // 2 if split else None)
    return out
