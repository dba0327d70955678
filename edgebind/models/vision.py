"""ImageBind's vision encoder, OpenCLIP ViT-H/14 (SPEC.md §6): a frozen anchor for training, not for devices."""

from __future__ import annotations

import torch
from torch import nn

from edgebind.config import VisionEncoderConfig
from edgebind.models.layers import EmbeddingHead, Encoder, Trunk

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class VisionEncoder(Encoder):
    """Vision encoder. Input (B, 3, 224, 224) CLIP-normalised; output unit-norm (vision has no logit scale)."""

    modality = "vision"

    def __init__(self, cfg: VisionEncoderConfig) -> None:
        super().__init__(cfg, 1.0, persistent_scale=False)
        self.cfg: VisionEncoderConfig = cfg
        D, P, T = cfg.embed_dim, cfg.patch_size, cfg.temporal_patch
        self.stem = nn.Conv3d(3, D, kernel_size=(T, P, P), stride=(T, P, P), bias=False)
        self.cls_token = nn.Parameter(torch.randn(1, 1, D) * D**-0.5)
        self.pos_embed = nn.Parameter(torch.randn(1, cfg.num_tokens, D) * D**-0.5)
        self.trunk = Trunk(D, cfg.depth, cfg.num_heads, cfg.mlp_dim, False, cfg.drop_path, pre_norm=True)
        self.head = EmbeddingHead(D, cfg.out_dim)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        # PadIm2Video(repeat, 2): an image becomes two identical frames. (B, 3, H, W) -> (B, 3, T, H, W)
        x = x.unsqueeze(2).expand(-1, -1, self.cfg.temporal_patch, -1, -1)
        x = self.stem(x).flatten(2).transpose(1, 2)  # (B, N, D)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        return x + self.pos_embed
