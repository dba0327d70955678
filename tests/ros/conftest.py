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
