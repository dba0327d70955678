"""ImageBind's recipe for a new modality: symmetric InfoNCE against frozen anchor embeddings.

Anchors are computed once and cached, so training touches only the encoder being aligned:

* ``text``: each window's label (or its prompt text from a labels file) through a frozen text model, averaged
  over prompt templates as the LabelBank does. Windows that share a label share an anchor (soft targets, see
  :func:`edgebind.train.losses.symmetric_infonce`). Held-out score: closed-set top-1 accuracy on true labels.
* ``vision``: the RGB frame nearest each window in device time through ImageBind's vision encoder. Held-out
  score: window -> frame retrieval top-1 among the held-out frames.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from edgebind.checkpoint import load_encoder, save_checkpoint
from edgebind.config import EncoderConfig, replace
from edgebind.errors import ConfigError, InputError
from edgebind.models import Encoder
from edgebind.train.anchors import load_pairs, load_text_model, pair_by_time, vision_inputs
from edgebind.train.augment import Augment, augment_to_dict, make_batch
from edgebind.train.common import build_student, default_augment, load_windows, resolve_student_config
from edgebind.train.data import WindowSet, describe
from edgebind.train.dist import DistEnv, gather_rows, init_distributed, shutdown
from edgebind.train.embeddings import cached_array
from edgebind.train.evaluate import embed_unit, label_accuracy
from edgebind.train.loop import StepFn, TrainConfig, TrainResult, fit
from edgebind.train.losses import symmetric_infonce
from edgebind.zeroshot import DEFAULT_TEMPLATES, LabelBank, LabelSpec, build_label_bank, read_labels

logger = logging.getLogger(__name__)


@dataclass
class AlignResult:
    """Outcome of :func:`train_aligned`.

    Attributes:
        out: the checkpoint written.
        train: loop outcome (held-out history, speed).
        data: summary of training and held-out windows.
        config: the trained encoder's config dict.
        bank: the text label bank (text anchors only), also saved as ``labels_out`` when given.
    """

    out: Path
    train: TrainResult
    data: dict[str, Any]
    config: dict[str, Any]
    bank: LabelBank | None = None
    anchors: dict[str, Any] = field(default_factory=dict)


class AlignTask:
    """Items are (window, view) pairs; each window has one frozen anchor row and an anchor id."""

    def __init__(self, train: WindowSet, anchors: np.ndarray, ids: np.ndarray, held: WindowSet, aug: Augment,
                 seed: int, views: int, temperature: float, evaluate_fn: Any) -> None:
        self.train, self.held, self.aug, self.seed, self.views = train, held, aug, seed, views
        self.anchors, self.ids = torch.from_numpy(anchors), torch.from_numpy(ids)
        self.num_items = len(train) * views
        self.temperature = temperature
        self.evaluate_fn = evaluate_fn
        self.held_inputs = make_batch(held.raw, held.modality, held.contract, aug, seed, np.arange(len(held)),
                                      np.zeros(len(held), np.int64))

    def batch(self, items: np.ndarray, device: torch.device) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        idx, view = items // self.views, items % self.views
        x = make_batch(self.train.raw, self.train.modality, self.train.contract, self.aug, self.seed, idx, view)
        t = torch.from_numpy(idx)
        return torch.from_numpy(x).to(device), {"anchor": self.anchors[t].to(device), "ids": self.ids[t].to(device)}

    def loss(self, student_unit: torch.Tensor, targets: dict[str, torch.Tensor], env: DistEnv
             ) -> tuple[torch.Tensor, dict[str, float]]:
        x = gather_rows(student_unit, env)  # the contrastive set is the whole global micro-batch
        a, ids = gather_rows(targets["anchor"], env), gather_rows(targets["ids"], env)
        loss, logs = symmetric_infonce(x, a, self.temperature, ids)
        return loss * env.world_size, logs

    def evaluate(self, student: nn.Module, device: torch.device) -> dict[str, float]:
        return dict(self.evaluate_fn(embed_unit(student, self.held_inputs, device)))


def text_label_bank(windows: WindowSet, text_model: str, labels: str | Path | None, logit_scale: float,
                    env: DistEnv) -> tuple[LabelBank, dict[str, Any]]:
    """Label bank over the data's labels (prompt text from ``labels`` where given), cached by content.

    Raises:
        InputError: the data has no labels, or a data label is missing from the labels file.
    """
    names = windows.label_names
    if not names:
        raise InputError("--anchors text needs labelled recordings (a 'labels' array), but the data has none; "
                         "label the recording or use --anchors vision with paired frames.")
    specs: list[LabelSpec] = read_labels(labels) if labels else [LabelSpec(n) for n in names]
    spelling = {n.lower(): n for n in names}  # labels match case-insensitively, as in eval and stream
    specs = [dataclasses.replace(s, name=spelling.get(s.name.lower(), s.name)) for s in specs]
    missing = sorted(set(names) - {s.name for s in specs})
    if missing:
        raise InputError(f"labels {missing} occur in the data but not in {labels}; add a line for each "
                         f"(e.g. '{missing[0]}: prompt text').")
    tm = load_text_model(text_model)
    key = {"kind": "text-anchors", "model": tm.identity, "labels": [[s.name, *s.prompts] for s in specs],
           "templates": list(DEFAULT_TEMPLATES)}
    emb = cached_array(key, lambda: build_label_bank(specs, tm.embed).embeddings, env)
    bank = LabelBank([s.name for s in specs], emb, DEFAULT_TEMPLATES, logit_scale,
                     {"text_model": tm.identity, "recipe": "edgebind train --anchors text"})
    return bank, tm.identity


def _label_ids(windows: WindowSet, bank: LabelBank, what: str) -> np.ndarray:
    index = {n.lower(): i for i, n in enumerate(bank.names)}
    ids = np.array([index.get(str(x).lower(), -1) if x else -1 for x in windows.labels], dtype=np.int64)
    if (ids < 0).all():
        raise InputError(f"no {what} window carries a label of the bank {bank.names}.")
    return ids


def train_aligned(
    modality: str,
    anchors: str,
    data: list[str | Path],
    out: str | Path,
    student: str | None = None,
    init: str | Path | None = None,
    out_dim: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    text_model: str = "minilm",
    labels: str | Path | None = None,
    labels_out: str | Path | None = None,
    pairs: list[str | Path] | None = None,
    vision_checkpoint: str | Path | None = None,
    max_pair_dt_s: float = 0.5,
    temperature: float = 0.07,
    cfg: TrainConfig | None = None,
    augment: Augment | None = None,
    eval_data: list[str | Path] | None = None,
    holdout: float = 0.2,
    hop_s: float = 1.0,
    frame_stride: int = 1,
    resume: bool = False,
    on_step: StepFn | None = None,
    env: DistEnv | None = None,
) -> AlignResult:
    """Align an IMU or thermal encoder to frozen text or image embeddings with symmetric InfoNCE.

    Args:
        modality: "imu" or "thermal".
        anchors: "text" (labels through ``text_model``) or "vision" (``pairs`` through the vision encoder).
        data: Recording ``.npz`` files.
        out: checkpoint to write.
        student: preset or JSON config of a fresh encoder (one of ``student``/``init``).
        init: a checkpoint to start from instead (e.g. a distilled student); ``overrides`` apply to it.
        out_dim: replace the encoder's output width (a fresh student only); must equal the anchors' width.
        overrides: parsed ``--set`` values for ``init``.
        text_model: "minilm" or a checkpoint with ImageBind's text encoder. Defaults to "minilm".
        labels: labels.txt giving prompt text per data label. Defaults to the label names themselves.
        labels_out: where to save the label bank (text anchors). Defaults to not saving.
        pairs: paired-frame ``.npz`` files (vision anchors).
        vision_checkpoint: checkpoint with ImageBind's vision encoder (vision anchors).
        max_pair_dt_s: largest window-to-frame time distance for a pair. Defaults to 0.5 s.
        temperature: InfoNCE tau. Defaults to 0.07.
        cfg: optimisation settings. Defaults to ``TrainConfig()``.
        augment: sensor augmentations. Defaults to the modality's defaults.
        eval_data: held-out recordings; defaults to a segment-wise ``holdout`` split.
        holdout: fraction of segments held out. Defaults to 0.2.
        hop_s: seconds between IMU windows. Defaults to 1.0.
        frame_stride: keep every n-th thermal frame. Defaults to 1.
        resume: continue from the state beside ``out``.
        on_step: progress callback on rank 0.
        env: a distributed env; defaults to joining torchrun's group when present.

    Raises:
        ConfigError: bad anchors kind, no/both of student and init, or a width that differs from the anchors'.
        InputError: unlabelled data (text), no pairs (vision), data too short for one window.
    """
    if anchors not in ("text", "vision"):
        raise ConfigError(f"--anchors must be 'text' or 'vision', got '{anchors}'.")
    if (student is None) == (init is None):
        raise ConfigError("give exactly one of --student PRESET|CONFIG.json (fresh) and --init CKPT (continue).")
    cfg = cfg or TrainConfig()
    own_env = env is None
    env = env or init_distributed(cfg.device)
    try:
        cfg.check_world(env.world_size)  # fail before anchors are computed
        aug = augment or default_augment(modality)
        train, held = load_windows(data, modality, eval_data, holdout, cfg.seed, hop_s, frame_stride)
        if student is not None:
            scfg: EncoderConfig = resolve_student_config(student, modality)
            if out_dim is not None:
                scfg = replace(scfg, out_dim=out_dim)
            model = build_student(scfg, cfg.seed, env.rank)
        else:
            if out_dim is not None:
                raise ConfigError("--out-dim applies to a fresh --student; an --init checkpoint keeps its width.")
            model = load_encoder(str(init), modality, overrides=overrides)
            scfg = model.cfg  # type: ignore[assignment]
        scale = float(model.logit_scale())
        bank = None
        ident: dict[str, Any]
        if anchors == "text":
            bank, ident = text_label_bank(train, text_model, labels, scale, env)
            tr_ids, he_ids = _label_ids(train, bank, "training"), _label_ids(held, bank, "held-out")
            train, tr_ids = train.subset(np.flatnonzero(tr_ids >= 0)), tr_ids[tr_ids >= 0]
            held = held.subset(np.flatnonzero(he_ids >= 0))
            anchor_rows = bank.embeddings[tr_ids]
            ids = tr_ids
            eval_bank = bank

            def evaluate_fn(unit: np.ndarray) -> dict[str, float]:
                return label_accuracy(unit, eval_bank, held.labels)
        else:
            if vision_checkpoint is None:
                raise ConfigError("--anchors vision needs --vision-checkpoint (imagebind_huge.pth or a file with the "
                                  "vision branch).")
            pi = load_pairs(list(pairs or []))
            vision = load_encoder(vision_checkpoint, "vision").to(env.device)
            ident = {"vision_checkpoint": Path(vision_checkpoint).name, "pairs": pi.content_hash()[:16]}
            from edgebind.checkpoint import file_sha256

            vkey = {"kind": "vision-anchors", "file": file_sha256(vision_checkpoint), "pairs": pi.content_hash()}

            def compute() -> np.ndarray:
                from edgebind.train.evaluate import embed_unit as emb

                return emb(vision, vision_inputs(pi.images, vision.cfg.img_size), env.device, 8)  # type: ignore[attr-defined]

            image_emb = cached_array(vkey, compute, env)
            train, tr_pick = _paired(train, pi.t_ns, max_pair_dt_s, "training")
            held, he_pick = _paired(held, pi.t_ns, max_pair_dt_s, "held-out")
            anchor_rows, ids = image_emb[tr_pick], tr_pick.astype(np.int64)
            held_imgs = np.unique(he_pick)

            def evaluate_fn(unit: np.ndarray) -> dict[str, float]:
                sims = unit @ image_emb[held_imgs].T  # (N, n_images)
                hit = held_imgs[sims.argmax(-1)] == he_pick
                return {"retrieval_top1": float(hit.mean()),
                        "cosine_to_anchor": float((unit * image_emb[he_pick]).sum(-1).mean()),
                        "chance": 1.0 / len(held_imgs)}
        width = int(anchor_rows.shape[1])
        if int(scfg.out_dim) != width:
            raise ConfigError(
                f"the encoder outputs {scfg.out_dim}-d embeddings but the {anchors} anchors are {width}-d; "
                f"pass --out-dim {width} for a fresh student (or use anchors of width {scfg.out_dim})."
            )
        task = AlignTask(train, np.ascontiguousarray(anchor_rows, np.float32), ids, held, aug, cfg.seed,
                         cfg.num_views, temperature, evaluate_fn)
        recipe = {"recipe": f"train --anchors {anchors}", "anchors": ident, "config": scfg.to_dict(),
                  "data": train.content_hash()[:16], "held": held.content_hash()[:16], "temperature": temperature,
                  "augment": augment_to_dict(aug), "init": str(init) if init else None}

        def save(m: nn.Module, step: int, history: list[dict[str, float]]) -> None:
            assert isinstance(m, Encoder)
            save_checkpoint(m, out, {"edgebind_recipe": json.dumps({**recipe, "step": step, "seed": cfg.seed,
                                                                      "eval": history[-1] if history else {}})})

        if bank is not None and labels_out is not None and env.is_main:
            bank.save(labels_out)
        result = fit(model, task, cfg, env, out, resume, recipe, on_step, save)
        return AlignResult(Path(out), result, {"train": describe(train), "held_out": describe(held)},
                           scfg.to_dict(), bank, {"kind": anchors, **ident, "cfg": asdict(cfg)})
    finally:
        if own_env:
            shutdown(env)


def _paired(windows: WindowSet, image_t_ns: np.ndarray, max_dt_s: float, what: str) -> tuple[WindowSet, np.ndarray]:
    """Windows with a frame within ``max_dt_s`` of their middle, and that frame's index."""
    mid = windows.t_ns
    if windows.modality == "imu":
        mid = windows.t_ns - np.int64(round(windows.contract.window_s * 5e8))  # type: ignore[union-attr]
    pick = pair_by_time(mid, image_t_ns, max_dt_s)
    keep = np.flatnonzero(pick >= 0)
    if len(keep) == 0:
        raise InputError(f"no {what} window has a paired frame within {max_dt_s} s; check that the frames' "
                         "image_t_ns use the recording's device clock, or raise --max-pair-dt.")
    return windows.subset(keep), pick[keep]
