"""ImageBind's text encoder (SPEC.md §5): (B, 77) CLIP token ids -> (B, 1024)."""

from __future__ import annotations

import torch
from torch import nn

from edgebind.config import TextEncoderConfig
from edgebind.models.layers import EmbeddingHead, Encoder, Trunk


class TextEncoder(Encoder):
    """Text encoder with a causal mask; the head reads the EOT token (the largest id, 49407)."""

    modality = "text"

    def __init__(self, cfg: TextEncoderConfig) -> None:
        super().__init__(cfg, cfg.logit_scale, learnable_scale=True)
        self.cfg: TextEncoderConfig = cfg
        D, L = cfg.embed_dim, cfg.context_length
        self.token_embedding = nn.Embedding(cfg.vocab_size, D)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, L, D) * 0.01)
        # additive causal mask, 0 on and below the diagonal, -inf above; persistent as in the checkpoint
        self.register_buffer("mask", torch.full((L, L), float("-inf")).triu(1))
        self.trunk = Trunk(D, cfg.depth, cfg.num_heads, cfg.mlp_dim, cfg.add_bias_kv, cfg.drop_path)
        self.head = EmbeddingHead(D, cfg.out_dim)

    def attn_mask(self) -> torch.Tensor:
        return self.get_buffer("mask")

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        return self.token_embedding(x) + self.pos_embed  # (B, 77, D)

    def pool(self, x: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        # EOT position = argmax of the ids (first occurrence on ties, as torch does)
        eot = inputs.argmax(dim=-1)  # (B,)
        return x[torch.arange(x.shape[0], device=x.device), eot]  # (B, D)
