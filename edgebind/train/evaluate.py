"""Held-out evaluation: how close a student stays to its teacher, and how often a label bank names windows right.

Besides the plain mean cosine, two numbers keep the figure honest: the *constant baseline* (the cosine a student
would reach by always answering the teacher's mean training embedding; high for random-init teachers, whose outputs
all point one way) and the *centred* cosine (both embeddings minus that mean), which only rewards following how the
teacher's output moves from window to window.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from edgebind.zeroshot import LabelBank, unit_rows


@torch.inference_mode()
def embed_unit(model: nn.Module, inputs: np.ndarray, device: torch.device, batch_size: int = 32) -> np.ndarray:
    """(N, D) float32 unit embeddings of ``inputs`` with ``model`` in eval mode (its mode is restored after)."""
    was_training = model.training
    model.eval()
    out = []
    for i in range(0, len(inputs), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(inputs[i : i + batch_size])).to(device)
        out.append(torch.nn.functional.normalize(model(x).float(), dim=-1).cpu().numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


@torch.inference_mode()
def stream_embed_unit(model: nn.Module, inputs: np.ndarray, device: torch.device) -> tuple[np.ndarray, int]:
    """(N, D) unit embeddings of consecutive windows through a streaming student's step path, the state carried
    from each window to the next that continues it (:func:`edgebind.models.imu_stream.stream_embed`), and the
    number of windows that reset the state."""
    from edgebind.models.imu_stream import StreamImuEncoder, stream_embed

    assert isinstance(model, StreamImuEncoder)
    was_training = model.training
    model.eval()
    emb, resets = stream_embed(model, torch.from_numpy(np.ascontiguousarray(inputs)).to(device))
    model.train(was_training)
    return torch.nn.functional.normalize(emb.float(), dim=-1).cpu().numpy(), resets


def teacher_agreement(
    student_unit: np.ndarray,
    teacher_unit: np.ndarray,
    teacher_train_mean: np.ndarray | None = None,
    bank: LabelBank | None = None,
) -> dict[str, float]:
    """Student-vs-teacher metrics on held-out windows.

    Args:
        student_unit: (N, D) student embeddings (any scale; normalised here).
        teacher_unit: (N, D) teacher embeddings.
        teacher_train_mean: (D,) mean teacher embedding over the training windows, for the constant baseline
            and the centred cosine. Defaults to None (both omitted).
        bank: label bank of the teacher's space for zero-shot top-1 agreement. Defaults to None (omitted).

    Returns:
        ``cosine`` (mean), ``cosine_min``, and where possible ``constant_baseline``, ``centred_cosine``,
        ``top1_agreement`` and ``teacher_top1_share`` (share of windows on the teacher's commonest label).
    """
    s, t = unit_rows(student_unit.astype(np.float64)), unit_rows(teacher_unit.astype(np.float64))
    cos = (s * t).sum(-1)
    out = {"cosine": float(cos.mean()), "cosine_min": float(cos.min())}
    if teacher_train_mean is not None:
        mu = unit_rows(teacher_train_mean.astype(np.float64))
        out["constant_baseline"] = float((t @ mu).mean())
        cs, ct = unit_rows(s - teacher_train_mean), unit_rows(t - teacher_train_mean)
        centred = (cs * ct).sum(-1)
        out["centred_cosine"] = float(centred.mean())
        out["centred_cosine_p5"] = float(np.percentile(centred, 5))
    if bank is not None:
        ts, tt = bank.top1(s.astype(np.float32)), bank.top1(t.astype(np.float32))
        out["top1_agreement"] = float((ts == tt).mean())
        out["teacher_top1_share"] = float(np.bincount(tt, minlength=len(bank.names)).max() / len(tt))
    return out


def label_accuracy(unit: np.ndarray, bank: LabelBank, true_labels: np.ndarray) -> dict[str, float]:
    """Top-1 accuracy of ``bank`` on (N, D) embeddings against true label names (windows without one skipped).

    Zero-shot only if the model never saw these labels in training; after ``--anchors text`` it is closed-set.

    Returns:
        ``accuracy``, ``windows`` scored and per-label ``acc/<label>``.
    """
    spelling = {n.lower(): n for n in bank.names}  # case-insensitive, as eval and stream match labels
    true_labels = np.array([spelling.get(str(t).lower(), str(t)) for t in true_labels])
    known = np.isin(true_labels, bank.names)
    if not known.any():
        return {"accuracy": float("nan"), "windows": 0.0}
    pred = np.array(bank.names)[bank.top1(unit[known].astype(np.float32))]
    truth = true_labels[known]
    out = {"accuracy": float((pred == truth).mean()), "windows": float(known.sum())}
    for name in bank.names:
        sel = truth == name
        if sel.any():
            out[f"acc/{name}"] = float((pred[sel] == name).mean())
    return out
