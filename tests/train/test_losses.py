"""Distillation loss and ImageBind's symmetric InfoNCE."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from edgebind.errors import ConfigError
from edgebind.train.losses import DistillLoss, distill_loss, symmetric_infonce


def _unit(*shape: int, seed: int = 0) -> torch.Tensor:
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_distill_loss_is_zero_at_the_teacher_and_grows_away() -> None:
    t = _unit(8, 16)
    loss, logs = distill_loss(t.clone(), t, 5.0, DistillLoss(relational=1.0))
    assert float(loss) == pytest.approx(0.0, abs=1e-6) and logs["cosine"] == pytest.approx(1.0)
    loss2, _ = distill_loss(_unit(8, 16, seed=1), t, 5.0, DistillLoss(relational=1.0, contrastive=1.0))
    assert float(loss2) > 0.5


def test_distill_mse_is_on_the_scaled_final_embedding() -> None:
    s, t = _unit(4, 8), _unit(4, 8, seed=2)
    _, logs = distill_loss(s, t, 5.0, DistillLoss())
    assert logs["mse"] == pytest.approx(float(((5 * s - 5 * t) ** 2).mean()), rel=1e-5)


def test_infonce_matches_the_paper_formula_with_distinct_anchors() -> None:
    x, a, tau = _unit(6, 8), _unit(6, 8, seed=3), 0.07
    loss, _ = symmetric_infonce(x, a, tau)
    logits = x @ a.T / tau
    target = torch.arange(6)
    expect = F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)
    assert float(loss) == pytest.approx(float(expect), rel=1e-5)


def test_infonce_shared_anchors_are_not_negatives() -> None:
    a = _unit(2, 8, seed=4)[[0, 0, 1, 1]]  # two labels, two windows each
    ids = torch.tensor([0, 0, 1, 1])
    loss_perfect, logs = symmetric_infonce(a.clone(), a, 0.07, ids)
    loss_wrong, _ = symmetric_infonce(a[[2, 3, 0, 1]], a, 0.07, ids)
    assert logs["batch_top1"] == 1.0 and float(loss_perfect) < float(loss_wrong)
    assert float(loss_perfect) == pytest.approx(2 * torch.log(torch.tensor(2.0)).item(), abs=1e-3)


def test_bad_weights() -> None:
    with pytest.raises(ConfigError, match="at least"):
        DistillLoss(cosine=0, mse=0)


def test_centred_term_sees_the_residual_a_shared_direction_hides() -> None:
    """A teacher whose outputs all point one way (as the random-init thermal teacher's do): a student that gets the
    direction but not the window-to-window residual has a near-zero cosine loss and a centred loss near 1."""
    mu = _unit(1, 64, seed=5)[0]
    t = F.normalize(mu + 0.03 * _unit(8, 64, seed=6), dim=-1)
    s = F.normalize(mu + 0.03 * _unit(8, 64, seed=7), dim=-1)  # right direction, unrelated residual
    weights = DistillLoss(centred=1.0)
    _, logs = distill_loss(s, t, 10.0, weights, centre=t.mean(0))
    assert logs["cos_loss"] < 1e-3 and logs["centred_loss"] > 0.5
    loss, logs = distill_loss(t.clone(), t, 10.0, weights, centre=t.mean(0))
    assert float(loss) == pytest.approx(0.0, abs=1e-5) and logs["centred_loss"] == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ConfigError, match="centre="):
        distill_loss(s, t, 10.0, weights)
    with pytest.raises(ConfigError, match=">= 0"):
        DistillLoss(centred=-1.0)
