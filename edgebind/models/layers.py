"""The transformer trunk ImageBind shares across modalities (SPEC.md §2), written for export.

Batch-first throughout. The official code runs ``nn.MultiheadAttention`` sequence-first; the maths is identical
(packed q/k/v projection, learned ``bias_k``/``bias_v`` appended after the last key, scaling 1/sqrt(head_dim)).
No data-dependent Python control flow in ``forward``, so the graph exports to ONNX as traced.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    """Multi-head self-attention with ImageBind's parameter layout.

    Parameters ``in_proj_weight`` (3D, D) stacks q, k, v; ``bias_k``/``bias_v`` (1, 1, D) exist when ``add_bias_kv``.
    """

    def __init__(self, dim: int, num_heads: int, add_bias_kv: bool) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.bias_k: nn.Parameter | None = None
        self.bias_v: nn.Parameter | None = None
        if add_bias_kv:
            self.bias_k = nn.Parameter(nn.init.xavier_normal_(torch.empty(1, 1, dim)))
            self.bias_v = nn.Parameter(nn.init.xavier_normal_(torch.empty(1, 1, dim)))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        B, L, D = x.shape
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)  # 3 x (B, L, D)
        if self.bias_k is not None and self.bias_v is not None:
            # one extra learned key/value after the last token: every query attends over L + 1 keys
            k = torch.cat([k, self.bias_k.expand(B, 1, D)], dim=1)  # (B, L+1, D)
            v = torch.cat([v, self.bias_v.expand(B, 1, D)], dim=1)
            if attn_mask is not None:
                attn_mask = F.pad(attn_mask, (0, 1))
        q = q.reshape(B, L, self.num_heads, self.head_dim).transpose(1, 2)  # (B, H, L, hd)
        k = k.reshape(B, -1, self.num_heads, self.head_dim).transpose(1, 2)  # (B, H, Lk, hd)
        v = v.reshape(B, -1, self.num_heads, self.head_dim).transpose(1, 2)
        attn = (q * self.head_dim**-0.5) @ k.transpose(-2, -1)  # (B, H, L, Lk)
        if attn_mask is not None:
            attn = attn + attn_mask
        attn = attn.softmax(dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(B, L, D)  # (B, H, L, hd) -> (B, L, D)
        return self.out_proj(out)


class Mlp(nn.Module):
    """Linear(D, 4D) -> exact (erf) GELU -> Linear(4D, D)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class DropPath(nn.Module):
    """Stochastic depth per sample; identity in eval mode and when ``p == 0``."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p:.3f}"


class Block(nn.Module):
    """Pre-norm block: x + DropPath(Attn(LN(x))), then x + DropPath(MLP(LN(x))). LN eps 1e-6."""

    def __init__(self, dim: int, num_heads: int, mlp_dim: int, add_bias_kv: bool, drop_path: float) -> None:
        super().__init__()
        self.norm_1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads, add_bias_kv)
        self.norm_2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp_dim)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm_1(x), attn_mask))
        return x + self.drop_path(self.mlp(self.norm_2(x)))


class Trunk(nn.Module):
    """``depth`` blocks with progressive drop-path ``linspace(0, drop_path, depth)``; optional pre-LN (vision)."""

    def __init__(
        self,
        dim: int,
        depth: int,
        num_heads: int,
        mlp_dim: int,
        add_bias_kv: bool,
        drop_path: float,
        pre_norm: bool = False,
    ) -> None:
        super().__init__()
        self.pre_norm: nn.Module = nn.LayerNorm(dim, eps=1e-6) if pre_norm else nn.Identity()
        rates = [drop_path * i / (depth - 1) if depth > 1 else 0.0 for i in range(depth)]  # linspace(0, p, depth)
        self.blocks = nn.ModuleList(Block(dim, num_heads, mlp_dim, add_bias_kv, r) for r in rates)
        self.apply(_init_jax)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.pre_norm(x)
        for block in self.blocks:
            x = block(x, attn_mask)
        return x


def _init_jax(m: nn.Module) -> None:
    """ImageBind's ``weight_init_style="jax"``: xavier-uniform Linear weights, zero biases."""
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


class EmbeddingHead(nn.Module):
    """LayerNorm(eps 1e-6) -> dropout -> Linear(D, out_dim, bias=False). Token selection is done by the caller."""

    def __init__(self, dim: int, out_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(dim, out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.dropout(self.norm(x)))


class Encoder(nn.Module):
    """Base of the four encoders: ``tokens`` -> ``trunk`` -> ``head`` -> normalise x logit scale.

    ``forward`` returns what the official ``ImageBindModel.forward`` returns for the modality: the L2-normalised
    embedding times ``min(exp(log_logit_scale), 100)`` (vision: scale 1). ``unit=True`` skips the scale.
    """

    modality = ""

    def __init__(
        self, cfg: object, logit_scale: float, learnable_scale: bool = False, persistent_scale: bool = True
    ) -> None:
        super().__init__()
        self.cfg = cfg
        log_scale = torch.tensor(float(logit_scale)).log()
        if learnable_scale:
            self.log_logit_scale: torch.Tensor = nn.Parameter(log_scale)
        else:  # a buffer, persistent in the checkpoint for imu/thermal; vision has none (normalise only)
            self.register_buffer("log_logit_scale", log_scale, persistent=persistent_scale)
        self.unit = False

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def attn_mask(self) -> torch.Tensor | None:
        """Additive attention mask for the trunk (text: causal); None elsewhere."""
        return None

    def pool(self, x: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """The token the head projects: CLS (index 0) except for text."""
        return x[:, 0]

    def head_out(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk_and_head(x)[1]

    def trunk_and_head(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        trunk_out = self.trunk(self.tokens(x), self.attn_mask())
        return trunk_out, self.head(self.pool(trunk_out, x))

    def logit_scale(self) -> torch.Tensor:
        return self.log_logit_scale.exp().clamp(max=100.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        emb = F.normalize(self.head_out(x), dim=-1)
        return emb if self.unit else emb * self.logit_scale()

    trunk: Trunk
    head: nn.Module
