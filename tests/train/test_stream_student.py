"""The streaming IMU student (imu-stream): step path == window path, state carried, distilled end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from edgebind.checkpoint import load_encoder
from edgebind.config import get_config
from edgebind.models import build_encoder
from edgebind.models.imu_stream import StreamImuEncoder, stream_embed
from edgebind.train.distill import distill
from edgebind.train.loop import TrainConfig


def _windows(model: StreamImuEncoder, shifts: list[int], seed: int = 0) -> torch.Tensor:
    T = model.cfg.num_samples
    g = torch.Generator().manual_seed(seed)
    signal = torch.randn(6, T + max(shifts), generator=g)
    return torch.stack([signal[:, s : s + T] for s in shifts])


def _trained_like(seed: int = 0) -> StreamImuEncoder:
    """A tiny streaming student with every parameter moved off its init (the slot biases and offsets start at zero,
    which would hide a token stored in the wrong cache slot)."""
    torch.manual_seed(seed)
    model = build_encoder(get_config("tiny_imu_stream"))
    assert isinstance(model, StreamImuEncoder)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return model


def test_step_path_equals_the_window_and_carries_the_state() -> None:
    model = _trained_like()
    assert isinstance(model, StreamImuEncoder)
    P = model.cfg.patch_size
    wins = _windows(model, [k * P for k in range(12)])
    with torch.inference_mode():
        full = model(wins)
        streamed, resets = stream_embed(model, wins)
    assert resets == 1  # only the first window is stepped through from scratch
    assert (full - streamed).abs().max() <= 2e-6  # measured 4.8e-7


def test_a_gap_resets_the_state() -> None:
    model = _trained_like()
    P = model.cfg.patch_size
    # windows 0, P, 2P, then a jump by half a patch (a gap or a misaligned hop), then whole patches again
    shifts = [0, P, 2 * P, 2 * P + P // 2, 3 * P + P // 2]
    wins = _windows(model, shifts)
    with torch.inference_mode():
        full = model(wins)
        streamed, resets = stream_embed(model, wins)
    assert resets == 2
    assert (full - streamed).abs().max() <= 2e-6


def test_distil_the_streaming_student(tiny_teacher: Path, bm_small: dict, tmp_path: Path) -> None:
    out = tmp_path / "stream.safetensors"
    cfg = TrainConfig(steps=25, batch_size=16, num_views=2, lr=3e-3, device="cpu")
    r = distill(tiny_teacher, "tiny_imu_stream", [bm_small["train"]], out, eval_data=[bm_small["test"]], cfg=cfg,
                hop_s=0.5)
    first, last = r.train.history[0], r.train.history[-1]
    print(f"\nheld-out centred cosine {first['centred_cosine']:.3f} -> {last['centred_cosine']:.3f} "
          f"(p5 {last['centred_cosine_p5']:.3f}), cosine {first['cosine']:.3f} -> {last['cosine']:.3f}, "
          f"resets {last['stream_resets']:.0f} of {r.data['held_out']}")
    # measured: cosine 0.022 -> 0.863, centred 0.711 (p5 0.544) after 25 steps
    assert first["cosine"] < 0.1 and last["cosine"] >= 0.8 and last["centred_cosine"] >= 0.6
    assert last["centred_cosine_p5"] <= last["centred_cosine"]
    # the evaluation ran through the step path: one reset per held-out case (4), every other window carried on
    assert last["stream_resets"] == 4
    student = load_encoder(out, "imu")
    assert isinstance(student, StreamImuEncoder) and student.cfg == get_config("tiny_imu_stream")


def test_stream_config_flops_grow_with_the_hop_not_the_window() -> None:
    from edgebind.config import replace

    cfg = get_config("imu-stream")
    longer = replace(cfg, num_samples=4000)
    assert longer.token_flops() == cfg.token_flops()  # a new patch costs the same whatever the window
    assert cfg.step_flops() < cfg.flops() / 5
    with pytest.raises(Exception, match="arch"):
        replace(cfg, arch="vit")
