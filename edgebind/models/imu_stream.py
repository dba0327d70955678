"""A streaming IMU student: tokens computed once per hop and cached, a light pooling head over the cache.

One patch is one hop. A patch of ``patch_size`` new samples becomes a token (stem, then ``depth`` per-token residual
MLP blocks), and the token becomes cached keys and values, one pair per pooling round. The cache holds the window's
``num_patches`` tokens, oldest first: the *state*. Each hop drops the oldest token and appends the new one, then the
head pools the cache: ``num_queries`` queries attend over the cached keys with a learned bias per cache slot (the
token's position in the window) and read the cached values plus a learned offset per slot. The first round's queries
are learned; each later round's come from the previous round's summary. The flattened summary goes through
ImageBind's head (LayerNorm, Linear to ``out_dim``) and is normalised x logit scale like every encoder.

``forward(window)`` computes every token of the window and runs the head; ``step(samples, state)`` computes the
tokens of k new patches and runs the head once. After steps over all ``num_patches`` patches of a window from any
state, the two are the same function: a window that continues the previous one by k whole patches costs k tokens and
one head, in one call (:mod:`edgebind.runtime` carries the state; a gap resets it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from edgebind.config import ImuStreamConfig
from edgebind.models.imu import ImuStem
from edgebind.models.layers import EmbeddingHead, Encoder, Mlp, _init_jax


class TokenBlock(nn.Module):
    """x + MLP(LN(x)), per token (no mixing across time)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mlp(self.norm(x))


class PoolRound(nn.Module):
    """One pooling round: queries attend over cached keys (+ slot bias), read cached values (+ slot offset)."""

    def __init__(self, cfg: ImuStreamConfig, first: bool) -> None:
        super().__init__()
        D, M, H, N = cfg.embed_dim, cfg.num_queries, cfg.num_heads, cfg.num_patches
        self.heads, self.head_dim = H, D // H
        self.query: nn.Parameter | None = nn.Parameter(torch.randn(1, M, D) * D**-0.5) if first else None
        self.query_norm: nn.Module = nn.Identity() if first else nn.LayerNorm(D, eps=1e-6)
        self.query_proj: nn.Module = nn.Identity() if first else nn.Linear(D, D)
        self.slot_bias = nn.Parameter(torch.zeros(1, H, 1, N))
        self.slot_value = nn.Parameter(torch.zeros(1, N, D))
        self.out_proj = nn.Linear(D, D)
        self.norm = nn.LayerNorm(D, eps=1e-6)
        self.mlp = Mlp(D, cfg.mlp_dim)

    def forward(self, summary: torch.Tensor | None, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """summary (B, M, D) or None (first round); k, v (B, N, D) -> (B, M, D)."""
        B, N, D = k.shape
        if self.query is not None:
            q = self.query.expand(B, -1, -1)
        else:
            assert summary is not None
            q = self.query_proj(self.query_norm(summary))
        M = q.shape[1]
        qh = q.reshape(B, M, self.heads, self.head_dim).transpose(1, 2)  # (B, H, M, hd)
        kh = k.reshape(B, N, self.heads, self.head_dim).transpose(1, 2)  # (B, H, N, hd)
        vh = (v + self.slot_value).reshape(B, N, self.heads, self.head_dim).transpose(1, 2)
        attn = ((qh * self.head_dim**-0.5) @ kh.transpose(-2, -1) + self.slot_bias).softmax(dim=-1)  # (B, H, M, N)
        out = self.out_proj((attn @ vh).transpose(1, 2).reshape(B, M, D))
        x = out if summary is None else summary + out
        return x + self.mlp(self.norm(x))


class StreamParts(nn.Module):
    """The student's own modules: per-token blocks, the key/value projection, the pooling rounds."""

    def __init__(self, cfg: ImuStreamConfig) -> None:
        super().__init__()
        D = cfg.embed_dim
        self.blocks = nn.ModuleList(TokenBlock(D, cfg.mlp_dim) for _ in range(cfg.depth))
        self.kv_norm = nn.LayerNorm(D, eps=1e-6)
        self.kv = nn.Linear(D, cfg.state_features)
        self.rounds = nn.ModuleList(PoolRound(cfg, first=r == 0) for r in range(cfg.rounds))
        self.apply(_init_jax)


class StreamImuEncoder(Encoder):
    """Streaming IMU student. ``forward`` takes (B, 6, num_samples) like every IMU encoder; ``step`` takes
    (B, 6, k * patch_size) new samples and the state (B, num_patches, state_features) and returns both."""

    modality = "imu"

    def __init__(self, cfg: ImuStreamConfig) -> None:
        super().__init__(cfg, cfg.logit_scale)
        self.cfg: ImuStreamConfig = cfg
        D = cfg.embed_dim
        self.stem = ImuStem(cfg.patch_features, D)
        self.stream = StreamParts(cfg)
        self.head = EmbeddingHead(cfg.num_queries * D, cfg.out_dim, dropout=cfg.head_dropout)

    def token_state(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, L, C*P) patches -> (B, L, state_features) cached keys/values."""
        x = self.stem(patches)
        for block in self.stream.blocks:
            x = block(x)
        return self.stream.kv(self.stream.kv_norm(x))

    def pool_state(self, state: torch.Tensor) -> torch.Tensor:
        """(B, N, state_features) cache -> (B, out_dim) head output (before normalisation)."""
        D = self.cfg.embed_dim
        summary: torch.Tensor | None = None
        for r, round_ in enumerate(self.stream.rounds):
            k = state[..., 2 * r * D : (2 * r + 1) * D]
            v = state[..., (2 * r + 1) * D : (2 * r + 2) * D]
            summary = round_(summary, k, v)
        assert summary is not None
        return self.head(summary.flatten(1))

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, L*P) samples -> (B, L, C*P) patches, feature = channel * P + t as the IMU stem reads them."""
        cfg = self.cfg
        B, C, T = x.shape
        L = T // cfg.patch_size
        x = x[:, :, : L * cfg.patch_size].reshape(B, C, L, cfg.patch_size).permute(0, 2, 1, 3)
        return x.reshape(B, L, C * cfg.patch_size)

    def window_state(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, num_samples) window -> (B, num_patches, state_features): the state after stepping through it."""
        return self.token_state(self.patches(x[:, :, : self.cfg.num_samples]))

    def head_out(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool_state(self.window_state(x))

    def _scale(self, out: torch.Tensor) -> torch.Tensor:
        emb = F.normalize(out, dim=-1)
        return emb if self.unit else emb * self.logit_scale()

    def step(self, samples: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """k hops at once: (B, C, k * patch_size) new samples (1 <= k <= num_patches) and the state -> (embedding
        (B, out_dim), new state). The k tokens are computed, the k oldest cached ones dropped, and the head runs
        once: the same embedding and state as k single-hop steps, whose first k - 1 embeddings nobody reads."""
        new = self.token_state(self.patches(samples))  # (B, k, S)
        state = torch.cat([state[:, new.shape[1]:], new], dim=1)
        return self._scale(self.pool_state(state)), state

    def initial_state(self, batch: int = 1) -> torch.Tensor:
        """A zero state; ``num_patches`` steps replace every slot."""
        return torch.zeros(batch, self.cfg.num_patches, self.cfg.state_features)


class StepModule(nn.Module):
    """``encoder.step`` as a module (what ``edgebind export`` writes to ONNX for a streaming student)."""

    def __init__(self, encoder: StreamImuEncoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.cfg = encoder.cfg

    def forward(self, samples: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder.step(samples, state)


def stream_embed(model: StreamImuEncoder, windows: torch.Tensor, hop_samples: int | None = None
                 ) -> tuple[torch.Tensor, int]:
    """Embed consecutive windows through :meth:`StreamImuEncoder.step`, carrying the state across them.

    A window that continues the previous one by whole patches costs one step over its new patches; any other window
    (the first, or one after a gap) resets the state and steps through the whole window at once. The same calls the
    exported step model gets from :class:`edgebind.runtime.streaming.StepStream`.

    Returns:
        (N, out_dim) embeddings and the number of resets.
    """
    P, N = model.cfg.patch_size, model.cfg.num_patches
    outs: list[torch.Tensor] = []
    state, prev, resets = model.initial_state(1).to(windows), None, 0
    for w in windows:
        w = w[:, : model.cfg.num_samples]
        shift = continuation(prev, w, P, hop_samples) if prev is not None else None
        if shift is None:
            state, shift, resets = model.initial_state(1).to(w), N * P, resets + 1
        emb, state = model.step(w[None, :, w.shape[1] - shift :], state)  # every new patch in one step
        outs.append(emb[0])
        prev = w
    return torch.stack(outs), resets


def continuation(prev: torch.Tensor, new: torch.Tensor, patch: int, hint: int | None = None) -> int | None:
    """Samples by which ``new`` (C, T) continues ``prev`` (C, T), a whole number of patches, or None."""
    T = new.shape[1]
    shifts = [s for s in range(patch, T, patch) if s != hint]
    for s in ([hint] if hint else []) + shifts:
        if torch.equal(prev[:, s:], new[:, : T - s]):
            return s
    return None


__all__ = ["StepModule", "StreamImuEncoder", "continuation", "stream_embed"]
