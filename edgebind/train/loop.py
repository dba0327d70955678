"""The optimisation loop shared by ``distill`` and ``train``: one process or DDP, accumulation, bf16, resume.

Determinism: the global batch of step ``s`` is a pure function of ``(seed, s)`` (epoch-wise permutations of the
training items), each rank takes its contiguous slice of it, and views are rebuilt from ``(seed, window, view)``.
So a run under ``torchrun --nproc_per_node N`` sees the same global batches as one process, and a resumed run
continues the same sequence.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from edgebind.errors import CheckpointError, ConfigError
from edgebind.train.dist import DistEnv, all_reduce_mean, barrier

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Attributes:
        steps: optimizer steps. Defaults to 300.
        batch_size: global batch per optimizer step, over all ranks and accumulation micro-steps. Defaults to 32.
        grad_accum: micro-steps per optimizer step. Defaults to 1.
        lr: peak AdamW learning rate. Defaults to 5e-4.
        weight_decay: AdamW decay on matrices (not norms, biases, tokens). Defaults to 0.05.
        warmup_steps: linear warm-up, then cosine decay to 10 %. Defaults to -1 (5 % of steps).
        seed: seeds the student's init, batch order, views and dropout. Defaults to 0.
        num_views: views per window in the frozen-embedding pool (view 0 is clean). Defaults to 4.
        eval_every: evaluate every n steps (0: only at start and end). Defaults to 0.
        save_every: write the checkpoint and resume state every n steps (0: only at the end). Defaults to 0.
        device: "auto", "cpu", "cuda". Defaults to "auto".
        bf16: autocast the student to bfloat16 on CUDA (ignored on CPU). Defaults to True.
        grad_clip: max gradient norm (0: off). Defaults to 1.0.
    """

    steps: int = 300
    batch_size: int = 32
    grad_accum: int = 1
    lr: float = 5e-4
    weight_decay: float = 0.05
    warmup_steps: int = -1
    seed: int = 0
    num_views: int = 4
    eval_every: int = 0
    save_every: int = 0
    device: str = "auto"
    bf16: bool = True
    grad_clip: float = 1.0

    def __post_init__(self) -> None:
        if self.steps < 0 or self.batch_size < 1 or self.grad_accum < 1 or self.num_views < 1:
            raise ConfigError(f"training needs steps >= 0, batch_size >= 1, grad_accum >= 1, num_views >= 1: {self}.")
        if self.lr <= 0:
            raise ConfigError(f"learning rate must be positive, got {self.lr}.")

    def check_world(self, world_size: int) -> int:
        """Rows per rank per micro-step.

        Raises:
            ConfigError: the global batch does not split evenly.
        """
        parts = world_size * self.grad_accum
        if self.batch_size % parts:
            ok = parts * max(1, round(self.batch_size / parts))
            raise ConfigError(
                f"--batch-size {self.batch_size} does not split over {world_size} rank(s) x {self.grad_accum} "
                f"accumulation step(s); use a multiple of {parts}, e.g. {ok}."
            )
        return self.batch_size // parts

    @property
    def warmup(self) -> int:
        return self.warmup_steps if self.warmup_steps >= 0 else max(1, self.steps // 20)


class Task(Protocol):
    """What the loop needs from a recipe (distillation or InfoNCE alignment)."""

    num_items: int

    def batch(self, items: np.ndarray, device: torch.device) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Inputs (b, ...) and targets for training items ``items``."""
        ...

    def loss(self, student_unit: torch.Tensor, targets: dict[str, torch.Tensor], env: DistEnv
             ) -> tuple[torch.Tensor, dict[str, float]]:
        """Loss of this rank's micro-batch, scaled so that DDP's mean gradient equals the one-process gradient."""
        ...

    def evaluate(self, student: nn.Module, device: torch.device) -> dict[str, float]:
        """Held-out metrics with the student in eval mode."""
        ...


def global_batch(seed: int, step: int, num_items: int, batch_size: int) -> np.ndarray:
    """Item indices of step ``step``'s global batch: consecutive slices of per-epoch permutations."""
    pos = np.arange(step * batch_size, (step + 1) * batch_size, dtype=np.int64)
    epochs = pos // num_items
    out = np.empty_like(pos)
    for e in np.unique(epochs):
        perm = np.random.default_rng([seed, int(e), 0xBA7C]).permutation(num_items)
        sel = epochs == e
        out[sel] = perm[pos[sel] % num_items]
    return out


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups: decay on weight matrices, none on norms, biases, CLS and positional tokens."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "pos_embed" in name or "cls_token" in name or "bias_" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def lr_lambda(cfg: TrainConfig) -> Callable[[int], float]:
    """Linear warm-up to 1, then cosine to 0.1."""

    def f(step: int) -> float:
        if step < cfg.warmup:
            return (step + 1) / cfg.warmup
        t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))

    return f


@dataclass
class TrainResult:
    """What a run did.

    Attributes:
        steps: optimizer steps done in total (resumed runs count earlier steps).
        history: evaluation dicts, each with "step".
        last_logs: training logs of the last step.
        seconds: wall time of the optimisation steps in this process.
        steps_per_s: optimizer steps per second.
        peak_mem_mib: peak CUDA memory (0 on CPU).
        world_size: ranks that trained together.
    """

    steps: int
    history: list[dict[str, float]] = field(default_factory=list)
    last_logs: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    steps_per_s: float = 0.0
    peak_mem_mib: float = 0.0
    world_size: int = 1


def state_path(out: str | Path) -> Path:
    """Resume state beside the checkpoint: ``student.safetensors`` -> ``student.safetensors.state.pt``."""
    out = Path(out)
    return out.with_name(out.name + ".state.pt")


def fingerprint(parts: dict[str, Any]) -> str:
    """Short hash of everything a resumed run must share with the run it continues."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


StepFn = Callable[[int, int, dict[str, float]], None]
SaveFn = Callable[[nn.Module, int, list[dict[str, float]]], None]


def fit(
    student: nn.Module,
    task: Task,
    cfg: TrainConfig,
    env: DistEnv,
    out: str | Path | None = None,
    resume: bool = False,
    run_fingerprint: dict[str, Any] | None = None,
    on_step: StepFn | None = None,
    on_save: SaveFn | None = None,
) -> TrainResult:
    """Train ``student`` on ``task``.

    Args:
        student: the encoder to train (moved to ``env.device``); its forward returns scaled embeddings.
        task: batches, loss and evaluation.
        cfg: optimisation settings.
        env: from :func:`edgebind.train.dist.init_distributed`.
        out: checkpoint path; the resume state goes to :func:`state_path` beside it (rank 0 writes).
        resume: continue from the state beside ``out``.
        run_fingerprint: settings that must match when resuming (recipe, data hash, teacher hash).
        on_step: called on rank 0 after each step with (step, total, logs).
        on_save: called on rank 0 to write the checkpoint itself (the recipe knows its metadata).

    Returns:
        A :class:`TrainResult`; ``history`` holds the evaluations (rank 0; empty on other ranks).

    Raises:
        CheckpointError: ``resume`` without a state, or a state from a different run.
    """
    rows = cfg.check_world(env.world_size)
    fp = fingerprint({**(run_fingerprint or {}), "cfg": {k: v for k, v in asdict(cfg).items()
                                                          if k not in ("steps", "eval_every", "save_every")},
                      "world_batch": cfg.batch_size})
    student.to(env.device)
    model: nn.Module = student
    if env.distributed:
        from torch.nn.parallel import DistributedDataParallel as DDP

        model = DDP(student, device_ids=[env.device.index] if env.device.type == "cuda" else None)
    opt = torch.optim.AdamW(param_groups(student, cfg.weight_decay), lr=cfg.lr, betas=(0.9, 0.98), eps=1e-6)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(cfg))
    start = 0
    history: list[dict[str, float]] = []
    spath = state_path(out) if out is not None else None
    if resume:
        start, history = _load_state(spath, student, opt, sched, fp, env)
    use_bf16 = cfg.bf16 and env.device.type == "cuda"
    if env.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(env.device)
    if start == 0 and env.is_main:
        history.append({"step": 0, **task.evaluate(student, env.device)})
    logs: dict[str, float] = {}
    t0 = time.perf_counter()
    for step in range(start, cfg.steps):
        model.train()
        items = global_batch(cfg.seed, step, task.num_items, cfg.batch_size)
        micro = items.reshape(cfg.grad_accum, env.world_size, rows)  # (A, W, b)
        opt.zero_grad(set_to_none=True)
        step_logs: list[dict[str, float]] = []
        for a in range(cfg.grad_accum):
            x, targets = task.batch(micro[a, env.rank], env.device)
            sync = contextlib.nullcontext()
            if env.distributed and a < cfg.grad_accum - 1:
                sync = model.no_sync()  # type: ignore[operator]
            with sync:
                with torch.autocast(env.device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    out_emb = model(x)
                unit = torch.nn.functional.normalize(out_emb.float(), dim=-1)
                loss, lg = task.loss(unit, targets, env)
                (loss / cfg.grad_accum).backward()
            step_logs.append(lg)
        gnorm = torch.nn.utils.clip_grad_norm_(student.parameters(), cfg.grad_clip or float("inf"))
        opt.step()
        sched.step()
        logs = {k: float(np.mean([lg[k] for lg in step_logs])) for k in step_logs[0]}
        logs |= {"lr": float(sched.get_last_lr()[0]), "grad_norm": float(gnorm)}
        logs = all_reduce_mean(logs, env)
        done = step + 1
        if env.is_main and cfg.eval_every and done % cfg.eval_every == 0 and done < cfg.steps:
            history.append({"step": done, **task.evaluate(student, env.device)})
        if cfg.save_every and done % cfg.save_every == 0 and done < cfg.steps:
            _checkpoint(student, opt, sched, done, history, fp, spath, env, on_save)
        if env.is_main and on_step is not None:
            on_step(done, cfg.steps, logs)
    seconds = time.perf_counter() - t0
    if env.is_main and (start < cfg.steps or not history or history[-1]["step"] != cfg.steps):
        history.append({"step": cfg.steps, **task.evaluate(student, env.device)})
    _checkpoint(student, opt, sched, cfg.steps, history, fp, spath, env, on_save)
    peak = torch.cuda.max_memory_allocated(env.device) / 2**20 if env.device.type == "cuda" else 0.0
    n = cfg.steps - start
    return TrainResult(cfg.steps, history, logs, seconds, n / seconds if seconds > 0 and n else 0.0, peak,
                       env.world_size)


def _checkpoint(student: nn.Module, opt: torch.optim.Optimizer, sched: Any, step: int,
                history: list[dict[str, float]], fp: str, spath: Path | None, env: DistEnv,
                on_save: SaveFn | None) -> None:
    if env.is_main:
        if on_save is not None:
            on_save(student, step, history)
        if spath is not None:
            state = {"step": step, "fingerprint": fp, "student": student.state_dict(), "optimizer": opt.state_dict(),
                     "scheduler": sched.state_dict(), "torch_rng": torch.get_rng_state(),
                     "history": json.dumps(history)}
            tmp = spath.with_name(spath.name + ".tmp")
            spath.parent.mkdir(parents=True, exist_ok=True)
            torch.save(state, tmp)
            tmp.replace(spath)
    barrier(env)


def _load_state(spath: Path | None, student: nn.Module, opt: torch.optim.Optimizer, sched: Any, fp: str,
                env: DistEnv) -> tuple[int, list[dict[str, float]]]:
    if spath is None or not spath.is_file():
        raise CheckpointError(f"--resume: no training state at {spath}; run without --resume to start afresh.")
    state = torch.load(spath, map_location="cpu", weights_only=True)
    if state["fingerprint"] != fp:
        raise CheckpointError(
            f"--resume: {spath} was written by a run with other settings, data or teacher (fingerprint "
            f"{state['fingerprint']} vs {fp}); resume with the same options, or start afresh without --resume."
        )
    student.load_state_dict(state["student"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    logger.info("resumed from %s at step %d", spath, state["step"])
    return int(state["step"]), list(json.loads(state["history"]))
