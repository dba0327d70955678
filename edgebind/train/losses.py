"""Losses: distillation on the final embedding, and ImageBind's symmetric InfoNCE against frozen anchors.

Both work on unit vectors (the encoders' outputs divided by their logit scale), so a student matches the teacher's
direction in the joint space, which is all that zero-shot scores and retrieval use (SPEC.md §1: cosine is the
right raw comparison).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from edgebind.errors import ConfigError


@dataclass(frozen=True)
class DistillLoss:
    """Weights of the distillation terms.

    Attributes:
        cosine: weight of ``1 - cos(student, teacher)``. Defaults to 1.0.
        mse: weight of the MSE between the final (scaled) embeddings, per dimension. Defaults to 1.0.
        relational: weight of the MSE between the student's and the teacher's in-batch cosine matrices
            (relational KD, Park et al. 2019): keeps the geometry between windows. Defaults to 0.0.
        contrastive: weight of an InfoNCE that picks each window's own teacher embedding among the batch's.
            Defaults to 0.0.
        temperature: of the contrastive term. Defaults to 0.07.
        centred: weight of ``1 - cos(student - mean, teacher - mean)``, the mean being the teacher's mean unit
            embedding of the clean training windows: the held-out *centred cosine* as a loss. Where a teacher maps
            every window to almost one direction (a random-init one: constant baseline 0.999), ``cosine`` and ``mse``
            are near zero once that direction is learnt and barely see the part that moves. Defaults to 0.0.
    """

    cosine: float = 1.0
    mse: float = 1.0
    relational: float = 0.0
    contrastive: float = 0.0
    temperature: float = 0.07
    centred: float = 0.0

    def __post_init__(self) -> None:
        if min(self.cosine, self.mse, self.relational, self.contrastive, self.centred) < 0 or self.temperature <= 0:
            raise ConfigError(f"distillation loss weights must be >= 0 and temperature > 0, got {self}.")
        if self.cosine + self.mse + self.relational + self.contrastive + self.centred == 0:
            raise ConfigError("every distillation loss weight is 0; set at least --cosine-weight > 0.")

    @property
    def per_sample(self) -> bool:
        """True when the loss is a mean of per-window terms (so sharding a batch across ranks is exact)."""
        return self.relational == 0 and self.contrastive == 0


def distill_loss(student_unit: torch.Tensor, teacher_unit: torch.Tensor, scale: float,
                 weights: DistillLoss, centre: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Distillation loss on the final embedding.

    Args:
        student_unit: (B, D) unit student embeddings.
        teacher_unit: (B, D) unit teacher embeddings (no grad).
        scale: the modality's logit scale (IMU 5, thermal 10): the final embedding is ``scale * unit``.
        weights: term weights.
        centre: (D,) the teacher's mean unit embedding of the training windows, for ``weights.centred``.

    Returns:
        The scalar loss (mean over the batch) and its terms as floats.

    Raises:
        ConfigError: ``weights.centred`` > 0 without ``centre``.
    """
    s, t = student_unit.float(), teacher_unit.float()
    cos = (s * t).sum(-1)  # (B,)
    terms: dict[str, torch.Tensor] = {"cos_loss": (1 - cos).mean()}
    terms["mse"] = F.mse_loss(scale * s, scale * t)
    loss = weights.cosine * terms["cos_loss"] + weights.mse * terms["mse"]
    if weights.relational > 0:
        terms["relational"] = F.mse_loss(s @ s.T, t @ t.T)
        loss = loss + weights.relational * terms["relational"]
    if weights.contrastive > 0:
        logits = s @ t.T / weights.temperature  # (B, B)
        terms["contrastive"] = F.cross_entropy(logits, torch.arange(len(s), device=s.device))
        loss = loss + weights.contrastive * terms["contrastive"]
    if weights.centred > 0:
        if centre is None:
            raise ConfigError("the centred distillation term needs the teacher's mean training embedding; pass "
                              "centre=, or set centred=0.")
        mu = centre.to(s.device, s.dtype)
        terms["centred_loss"] = (1 - F.cosine_similarity(s - mu, t - mu, dim=-1, eps=1e-8)).mean()
        loss = loss + weights.centred * terms["centred_loss"]
    logs = {k: float(v.detach()) for k, v in terms.items()}
    logs["cosine"] = float(cos.detach().mean())
    return loss, logs


def _soft_targets(ids_rows: torch.Tensor, ids_cols: torch.Tensor) -> torch.Tensor:
    """(R, C) rows summing to 1 over the columns whose anchor id equals the row's."""
    same = (ids_rows[:, None] == ids_cols[None, :]).float()
    return same / same.sum(-1, keepdim=True)


def symmetric_infonce(
    x_unit: torch.Tensor,
    anchor_unit: torch.Tensor,
    temperature: float,
    anchor_ids: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """ImageBind's loss L(I, M) + L(M, I) between a modality batch and its frozen anchors.

    ``L(M, I) = -1/B sum_i log softmax_j(m_i . a_j / tau)[i]`` and ``L(I, M)`` the same with the roles swapped.
    Where several rows share one anchor (windows of the same label against its text embedding), ``anchor_ids``
    marks them and each row's target spreads uniformly over every column with its id, so equal anchors are not
    pushed apart as false negatives; with distinct ids it is exactly the paper's loss.

    Args:
        x_unit: (B, D) unit embeddings of the trained encoder (rows may be gathered from all ranks).
        anchor_unit: (B, D) unit anchor embeddings, frozen.
        temperature: tau. ImageBind/CLIP start at 0.07.
        anchor_ids: (B,) int64 anchor identity per row; defaults to all distinct.

    Returns:
        The scalar loss and logs: the two halves and the batch's top-1 retrieval accuracy (modality -> anchor).
    """
    x, a = x_unit.float(), anchor_unit.float()
    ids = anchor_ids if anchor_ids is not None else torch.arange(len(x), device=x.device)
    logits = x @ a.T / temperature  # (B, B): row i = window i against every anchor
    target = _soft_targets(ids, ids)
    loss_m_i = -(target * logits.log_softmax(-1)).sum(-1).mean()
    loss_i_m = -(target.T * logits.T.log_softmax(-1)).sum(-1).mean()
    hit = ids[logits.argmax(-1)] == ids
    return loss_m_i + loss_i_m, {"loss_m_i": float(loss_m_i.detach()), "loss_i_m": float(loss_i_m.detach()),
                                 "batch_top1": float(hit.float().mean())}
