"""ImageBind's IMU encoder (SPEC.md §3): (B, 6, 2000) accel+gyro -> (B, 1024)."""

from __future__ import annotations

import torch
from torch import nn

from edgebind.config import ImuEncoderConfig
from edgebind.models.layers import EmbeddingHead, Encoder, Trunk


class ImuStem(nn.Module):
    """Linear(C*P -> D, no bias) then LayerNorm with the default eps 1e-5 (not 1e-6)."""

    def __init__(self, in_features: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_features, dim, bias=False)
        self.norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x))


class ImuEncoder(Encoder):
    """IMU encoder. Input (B, in_channels, num_samples) float32: accel x,y,z (m/s^2) then gyro x,y,z (rad/s)."""

    modality = "imu"

    def __init__(self, cfg: ImuEncoderConfig) -> None:
        super().__init__(cfg, cfg.logit_scale)
        self.cfg: ImuEncoderConfig = cfg
        D = cfg.embed_dim
        self.stem = ImuStem(cfg.patch_features, D)
        self.cls_token = nn.Parameter(torch.randn(1, 1, D) * D**-0.5)
        self.pos_embed = nn.Parameter(torch.randn(1, cfg.num_tokens, D) * 0.01)
        self.trunk = Trunk(D, cfg.depth, cfg.num_heads, cfg.mlp_dim, cfg.add_bias_kv, cfg.drop_path)
        self.head = EmbeddingHead(D, cfg.out_dim, dropout=cfg.head_dropout)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        B = x.shape[0]
        # The official code drops a remainder of T not divisible by the patch (T = 2000..2007 all work).
        x = x[:, :, : cfg.num_samples]
        # Patchify as ImageBind's unfold does, feature = channel * P + t: (B, C, T) -> (B, N, C*P)
        x = x.reshape(B, cfg.in_channels, cfg.num_patches, cfg.patch_size).permute(0, 2, 1, 3)
        x = x.reshape(B, cfg.num_patches, cfg.patch_features)
        x = self.stem(x)  # (B, N, D)
        x = torch.cat([self.cls_token.expand(B, -1, -1), x], dim=1)  # (B, N+1, D)
        return x + self.pos_embed
