"""ImageBind's thermal encoder (SPEC.md §4): (B, 1, 224, 224) intensity in [0, 1] -> (B, 1024)."""

from __future__ import annotations

import torch
from torch import nn

from edgebind.config import ThermalEncoderConfig
from edgebind.models.layers import EmbeddingHead, Encoder, Trunk


class PatchStem(nn.Module):
    """Conv2d(C -> D, kernel = stride = patch, no bias), row-major flatten, LayerNorm eps 1e-5."""

    def __init__(self, in_channels: int, dim: int, patch: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch, stride=patch, bias=False)
        self.norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)  # (B, D, H/P, W/P)
        x = x.flatten(2).transpose(1, 2)  # (B, N, D), h outer, w inner
        return self.norm(x)


class ThermalEncoder(Encoder):
    """Thermal encoder. Input (B, 1, 224, 224) float32 in [0, 1]; no mean/std normalisation."""

    modality = "thermal"

    def __init__(self, cfg: ThermalEncoderConfig) -> None:
        super().__init__(cfg, cfg.logit_scale)
        self.cfg: ThermalEncoderConfig = cfg
        D = cfg.embed_dim
        self.stem = PatchStem(cfg.in_channels, D, cfg.patch_size)
        self.cls_token = nn.Parameter(torch.randn(1, 1, D) * D**-0.5)
        self.pos_embed = nn.Parameter(torch.randn(1, cfg.num_tokens, D) * D**-0.5)
        self.trunk = Trunk(D, cfg.depth, cfg.num_heads, cfg.mlp_dim, cfg.add_bias_kv, cfg.drop_path)
        self.head = EmbeddingHead(D, cfg.out_dim)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)  # (B, N+1, D)
        return x + self.pos_embed
