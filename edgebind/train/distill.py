"""Teacher -> student distillation on the final embedding, so the student stays in ImageBind's joint space.

The teacher runs once per (window, view) of a fixed pool and its unit embeddings are cached
(:mod:`edgebind.train.embeddings`); each step then runs only the student. The student is written with
:func:`edgebind.checkpoint.save_checkpoint` (official key layout, config embedded), so ``load_encoder`` and every
command that reads checkpoints takes it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from edgebind.checkpoint import Checkpoint, file_sha256, load_checkpoint, load_encoder, save_checkpoint
from edgebind.errors import ConfigError, InputError
from edgebind.models import Encoder
from edgebind.train.augment import Augment, augment_to_dict, make_batch
from edgebind.train.common import build_student, check_contract, default_augment, load_windows, resolve_student_config
from edgebind.train.data import WindowSet, describe
from edgebind.train.dist import DistEnv, init_distributed, shutdown
from edgebind.train.embeddings import ProgressFn, view_embeddings
from edgebind.train.evaluate import embed_unit, stream_embed_unit, teacher_agreement
from edgebind.train.loop import StepFn, TrainConfig, TrainResult, fit
from edgebind.train.losses import DistillLoss, distill_loss
from edgebind.zeroshot import LabelBank, build_label_bank, imagebind_text_embedder, read_labels

logger = logging.getLogger(__name__)


@dataclass
class DistillResult:
    """Outcome of :func:`distill`.

    Attributes:
        out: the student checkpoint written.
        train: loop outcome (history of held-out evaluations, speed).
        data: summary of training and held-out windows.
        student_config: the student's config dict.
        teacher_config: the teacher's config dict.
        labels: label names of the agreement bank ([] when none).
    """

    out: Path
    train: TrainResult
    data: dict[str, Any]
    student_config: dict[str, Any]
    teacher_config: dict[str, Any]
    labels: list[str] = field(default_factory=list)


class DistillTask:
    """Items are (train window, view) pairs; targets are the cached teacher unit embeddings."""

    def __init__(self, train: WindowSet, teacher_emb: np.ndarray, held: WindowSet, held_teacher: np.ndarray,
                 aug: Augment, seed: int, scale: float, weights: DistillLoss, bank: LabelBank | None) -> None:
        self.train, self.held, self.aug, self.seed = train, held, aug, seed
        self.teacher_emb = torch.from_numpy(teacher_emb)  # (K, V, D)
        self.views = teacher_emb.shape[1]
        self.num_items = len(train) * self.views
        self.scale, self.weights, self.bank = scale, weights, bank
        self.held_teacher = held_teacher
        self.train_mean = teacher_emb[:, 0].mean(0)
        self.centre = torch.from_numpy(self.train_mean)  # (D,) for the centred loss term
        self.held_inputs = make_batch(held.raw, held.modality, held.contract, aug, seed,
                                      np.arange(len(held)), np.zeros(len(held), np.int64))

    def batch(self, items: np.ndarray, device: torch.device) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        idx, view = items // self.views, items % self.views
        x = make_batch(self.train.raw, self.train.modality, self.train.contract, self.aug, self.seed, idx, view)
        target = self.teacher_emb[torch.from_numpy(idx), torch.from_numpy(view)]
        return torch.from_numpy(x).to(device), {"teacher": target.to(device)}

    def loss(self, student_unit: torch.Tensor, targets: dict[str, torch.Tensor], env: DistEnv
             ) -> tuple[torch.Tensor, dict[str, float]]:
        if self.weights.per_sample or not env.distributed:
            return distill_loss(student_unit, targets["teacher"], self.scale, self.weights, self.centre)
        from edgebind.train.dist import gather_rows

        loss, logs = distill_loss(gather_rows(student_unit, env), gather_rows(targets["teacher"], env), self.scale,
                                  self.weights, self.centre)
        return loss * env.world_size, logs

    def evaluate(self, student: nn.Module, device: torch.device) -> dict[str, float]:
        from edgebind.models.imu_stream import StreamImuEncoder

        inner = getattr(student, "module", student)  # DDP wraps the student
        if isinstance(inner, StreamImuEncoder):  # through the step path, state carried across hops
            s, resets = stream_embed_unit(inner, self.held_inputs, device)
            return {**teacher_agreement(s, self.held_teacher, self.train_mean, self.bank),
                    "stream_resets": float(resets)}
        s = embed_unit(student, self.held_inputs, device)
        return teacher_agreement(s, self.held_teacher, self.train_mean, self.bank)


def teacher_key(ckpt: Checkpoint, modality: str, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Identity of a frozen encoder for cache keys: file sha256, modality, overrides."""
    return {"file": file_sha256(ckpt.path), "modality": modality, "overrides": dict(overrides or {})}


def label_bank_for(
    labels: str | Path | None,
    names_from_data: list[str],
    text_ckpt: Checkpoint | None,
    out_dim: int,
    logit_scale: float,
) -> LabelBank | None:
    """The label bank for zero-shot agreement, in the teacher's space.

    ``labels`` may be a saved ``labels.npz`` or a ``labels.txt`` embedded with ``text_ckpt``'s text encoder; without
    ``labels`` the data's own label names are embedded when a text encoder is at hand, else there is no bank.

    Raises:
        InputError: a labels.txt without a text encoder, or a bank whose width is not ``out_dim``.
    """
    if labels is not None and str(labels).endswith(".npz"):
        bank = LabelBank.load(labels)
    else:
        specs: list[Any] = read_labels(labels) if labels is not None else list(names_from_data)
        if not specs:
            return None
        if text_ckpt is None or "text" not in text_ckpt.modalities:
            if labels is None:
                logger.warning("no text encoder in the teacher checkpoint: zero-shot agreement is skipped; pass "
                               "--labels labels.npz or --text-checkpoint")
                return None
            raise InputError(
                f"--labels {labels} needs a text encoder to embed the labels, but the checkpoint has none; pass "
                "--text-checkpoint imagebind_huge.pth (or a file with the text branch), or a saved labels.npz."
            )
        text = load_encoder(text_ckpt, "text")
        bank = build_label_bank(specs, imagebind_text_embedder(text), logit_scale=logit_scale,
                                meta={"text_checkpoint": text_ckpt.path.name})
    if bank.dim != out_dim:
        raise InputError(f"label bank {labels} has width {bank.dim} but the teacher's embeddings have {out_dim}; "
                         "build the bank with the teacher's text encoder.")
    return bank


def distill(
    teacher: str | Path,
    student: str,
    data: list[str | Path],
    out: str | Path,
    modality: str = "imu",
    overrides: Mapping[str, Any] | None = None,
    cfg: TrainConfig | None = None,
    loss: DistillLoss | None = None,
    augment: Augment | None = None,
    eval_data: list[str | Path] | None = None,
    holdout: float = 0.2,
    hop_s: float = 1.0,
    frame_stride: int = 1,
    labels: str | Path | None = None,
    text_checkpoint: str | Path | None = None,
    resume: bool = False,
    on_step: StepFn | None = None,
    on_cache: ProgressFn | None = None,
    env: DistEnv | None = None,
) -> DistillResult:
    """Distil ``teacher``'s ``modality`` encoder into a smaller ``student``.

    Args:
        teacher: checkpoint holding the modality (``imagebind_huge.pth``, extracted ``.safetensors``, ...).
        student: a preset name (``imu-small``) or a JSON config file; its ``out_dim`` must equal the teacher's.
        data: Recording ``.npz`` files.
        out: student checkpoint to write (``.safetensors`` or ``.pt``).
        modality: "imu" or "thermal". Defaults to "imu".
        overrides: parsed ``--set`` values for the teacher (e.g. head counts).
        cfg: optimisation settings. Defaults to ``TrainConfig()``.
        loss: loss weights. Defaults to cosine + MSE.
        augment: sensor augmentations. Defaults to the modality's defaults.
        eval_data: held-out recordings; defaults to a segment-wise ``holdout`` split of ``data``.
        holdout: fraction of segments held out when ``eval_data`` is absent. Defaults to 0.2.
        hop_s: seconds between IMU windows. Defaults to 1.0.
        frame_stride: keep every n-th thermal frame. Defaults to 1.
        labels: labels.txt or labels.npz for zero-shot agreement. Defaults to the data's label names.
        text_checkpoint: where the text encoder for ``labels`` comes from. Defaults to the teacher checkpoint.
        resume: continue from the state beside ``out``.
        on_step: progress callback (step, total, logs) on rank 0.
        on_cache: progress callback (done, total) while teacher embeddings are computed.
        env: a distributed env; defaults to joining torchrun's group when present.

    Returns:
        A :class:`DistillResult`.

    Raises:
        CheckpointError: the teacher lacks the modality. ConfigError: the student's width or input differs from
            the teacher's. InputError: the data is too short for one window.
    """
    cfg = cfg or TrainConfig()
    loss = loss or DistillLoss()
    own_env = env is None
    env = env or init_distributed(cfg.device)
    try:
        cfg.check_world(env.world_size)  # fail before the teacher runs
        scfg = resolve_student_config(student, modality)
        tckpt = load_checkpoint(teacher)
        tmodel = load_encoder(tckpt, modality, overrides=overrides)
        tcfg = tmodel.cfg
        if scfg.out_dim != tcfg.out_dim and not str(student).endswith(".json"):  # type: ignore[attr-defined]
            # a preset student shares whatever space its teacher has (ImageBind's is 1024-d; a smaller or
            # re-projected teacher may differ); a CONFIG.json says its out_dim on purpose and is checked below
            logger.info("student %s takes the teacher's %d-d output space (the preset has %d)", student,
                     tcfg.out_dim, scfg.out_dim)  # type: ignore[attr-defined]
            scfg = replace(scfg, out_dim=tcfg.out_dim)  # type: ignore[attr-defined]
        if scfg.out_dim != tcfg.out_dim:  # type: ignore[attr-defined]
            raise ConfigError(
                f"student '{student}' outputs {scfg.out_dim}-d embeddings but the teacher outputs "
                f"{tcfg.out_dim}-d; a student must share the teacher's space. Set \"out_dim\": "  # type: ignore[attr-defined]
                f"{tcfg.out_dim} in the student config."  # type: ignore[attr-defined]
            )
        check_contract(scfg, tcfg, "teacher")  # type: ignore[arg-type]
        aug = augment or default_augment(modality)
        train, held = load_windows(data, modality, eval_data, holdout, cfg.seed, hop_s, frame_stride)
        tkey = teacher_key(tckpt, modality, overrides)
        tmodel.to(env.device)
        t_train = view_embeddings(tmodel, train, aug, cfg.seed, cfg.num_views, tkey, env,
                                  autocast=cfg.bf16, progress=on_cache)
        t_held = view_embeddings(tmodel, held, aug, cfg.seed, 1, tkey, env, autocast=cfg.bf16)[:, 0]
        scale = float(tmodel.logit_scale())
        text_ckpt = load_checkpoint(text_checkpoint) if text_checkpoint else tckpt
        bank = label_bank_for(labels, train.label_names, text_ckpt, int(t_held.shape[1]), scale)
        del tmodel
        smodel = build_student(scfg, cfg.seed, env.rank)
        task = DistillTask(train, t_train, held, t_held, aug, cfg.seed, scale, loss, bank)
        recipe = {"recipe": "distill", "teacher": tkey, "teacher_config": tcfg.to_dict(),  # type: ignore[attr-defined]
                  "data": train.content_hash()[:16], "held": held.content_hash()[:16], "loss": asdict(loss),
                  "augment": augment_to_dict(aug), "student_config": scfg.to_dict()}

        def save(model: nn.Module, step: int, history: list[dict[str, float]]) -> None:
            assert isinstance(model, Encoder)
            meta = {"edgebind_recipe": json.dumps({**recipe, "step": step, "seed": cfg.seed,
                                                   "eval": history[-1] if history else {}}, default=str)}
            save_checkpoint(model, out, meta)

        result = fit(smodel, task, cfg, env, out, resume, recipe, on_step, save)
        return DistillResult(Path(out), result, {"train": describe(train), "held_out": describe(held)},
                             scfg.to_dict(), tcfg.to_dict(), bank.names if bank else [])  # type: ignore[attr-defined]
    finally:
        if own_env:
            shutdown(env)
