"""``edgebind distill``: a huge ImageBind encoder -> a small student in the same embedding space."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

# Options shared with `edgebind train` (cli/train.py imports them).
SHARED_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--modality", type=click.Choice(["imu", "thermal"]), default="imu", show_default=True),
    click.option("--data", "data", multiple=True, metavar="REC.npz", help="Recording(s); repeat, or list several "
                 "after one --data."),
    click.option("--eval-data", multiple=True, metavar="REC.npz", help="Held-out recording(s) [a split of --data]."),
    click.option("--holdout", type=float, default=0.2, show_default=True, help="Share of segments held out."),
    click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Checkpoint to write."),
    click.option("--steps", type=int, default=300, show_default=True),
    click.option("--batch-size", type=int, default=32, show_default=True, help="Global batch (all ranks)."),
    click.option("--grad-accum", type=int, default=1, show_default=True),
    click.option("--lr", type=float, default=5e-4, show_default=True),
    click.option("--views", type=int, default=4, show_default=True, help="Augmented views per window (0 is clean)."),
    click.option("--seed", type=int, default=0, show_default=True),
    click.option("--hop", "hop_s", type=float, default=1.0, show_default=True, help="Seconds between IMU windows."),
    click.option("--frame-stride", type=int, default=1, show_default=True, help="Keep every n-th thermal frame."),
    click.option("--no-augment", is_flag=True, help="Train on clean windows only."),
    click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda."),
    click.option("--no-bf16", is_flag=True, help="Keep fp32 on CUDA (bf16 autocast is the default there)."),
    click.option("--eval-every", type=int, default=0, help="Evaluate every n steps [start and end]."),
    click.option("--save-every", type=int, default=0, help="Checkpoint + resume state every n steps [end]."),
    click.option("--resume", is_flag=True, help="Continue from OUTPUT.state.pt."),
    click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
    click.argument("extra_data", nargs=-1, type=click.Path(dir_okay=False)),
]


def shared_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Apply :data:`SHARED_OPTIONS` to a command function."""
    for opt in reversed(SHARED_OPTIONS):
        f = opt(f)
    return f


def train_config(kw: dict[str, Any]) -> Any:
    """A TrainConfig from the shared options."""
    from edgebind.train.loop import TrainConfig

    return TrainConfig(steps=kw["steps"], batch_size=kw["batch_size"], grad_accum=kw["grad_accum"], lr=kw["lr"],
                       seed=kw["seed"], num_views=kw["views"], eval_every=kw["eval_every"],
                       save_every=kw["save_every"], device=kw["device"], bf16=not kw["no_bf16"])


def augment_for(kw: dict[str, Any]) -> Any:
    """The modality's default augmentation, or none with --no-augment."""
    from edgebind.train.augment import no_augment
    from edgebind.train.common import default_augment

    aug = default_augment(kw["modality"])
    return no_augment(aug) if kw["no_augment"] else aug


class Progress:
    """A rich progress bar on rank 0 (the library calls ``step``/``cache``; only the CLI prints)."""

    def __init__(self, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.quiet = quiet
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                            console=Console(stderr=True), disable=quiet, transient=False)
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def _update(self, name: str, done: int, total: int, info: str) -> None:
        if name not in self.tasks:
            self.tasks[name] = self.bar.add_task(name, total=total, info="")
        self.bar.update(self.tasks[name], completed=done, total=total, info=info)

    def cache(self, done: int, total: int) -> None:
        self._update("frozen embeddings", done, total, "")

    def step(self, step: int, total: int, logs: dict[str, float]) -> None:
        shown = {k: v for k, v in logs.items() if k in ("cosine", "cos_loss", "loss_m_i", "batch_top1", "lr")}
        self._update("training", step, total, "  ".join(f"{k} {v:.3g}" for k, v in shown.items()))


SHORT = {"cosine": "cos", "centred_cosine": "centred cos", "centred_cosine_p5": "centred p5",
         "constant_baseline": "const. baseline", "top1_agreement": "top-1 agree",
         "teacher_top1_share": "teacher top label"}


def print_history(history: list[dict[str, float]], keys: list[str]) -> None:
    """A table of held-out metrics per evaluation step (only the columns present), with a legend."""
    from rich.console import Console
    from rich.table import Table

    cols = [k for k in keys if any(k in h for h in history)]
    table = Table(title="held-out evaluation")
    table.add_column("step", justify="right")
    for k in cols:
        table.add_column(SHORT.get(k, k), justify="right")
    for h in history:
        table.add_row(str(int(h["step"])), *[f"{h[k]:.4f}" if k in h else "" for k in cols])
    Console().print(table)
    if "constant_baseline" in cols:
        Console().print("const. baseline: cosine of a student that always answers the teacher's mean embedding; "
                        "centred cos: cosine after removing that mean; teacher top label: share of windows on the "
                        "teacher's commonest label.")


@click.command()
@click.option("--teacher", required=True, type=click.Path(dir_okay=False), help="Checkpoint with the modality.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Teacher constructor args (imu_num_heads=8).")
@click.option("--student", required=True, help="Preset (imu-small, imu-tiny, imu-stream, thermal-small) or "
              "CONFIG.json.")
@click.option("--labels", type=click.Path(dir_okay=False), help="labels.txt or labels.npz for zero-shot agreement "
              "[the data's labels].")
@click.option("--text-checkpoint", type=click.Path(dir_okay=False), help="Text encoder for --labels [the teacher].")
@click.option("--cosine-weight", type=float, default=1.0, show_default=True)
@click.option("--mse-weight", type=float, default=1.0, show_default=True)
@click.option("--relational-weight", type=float, default=0.0, show_default=True)
@click.option("--contrastive-weight", type=float, default=0.0, show_default=True)
@click.option("--centred-weight", type=float, default=0.0, show_default=True, help="Weight of 1 - cosine after "
              "removing the teacher's mean training embedding (the held-out centred cosine as a loss).")
@shared_options
def distill(**kw: Any) -> None:
    """Distil the teacher's IMU or thermal encoder into a small student.

    Teacher embeddings of every window and augmented view are computed once and cached; the loss is on the final
    embedding (cosine + MSE, optional relational/contrastive terms). Held-out windows report the student's cosine
    to the teacher and zero-shot top-1 agreement. Runs under torchrun --nproc_per_node N as well.

    \b
    Example:
      edgebind convert ../shared/data/imu/BasicMotions_TRAIN.ts -o bm.npz
      edgebind distill --teacher imagebind_huge.pth --student imu-small --data bm.npz -o imu-small.safetensors
    """
    from edgebind.config import parse_overrides
    from edgebind.errors import ConfigError
    from edgebind.train.distill import distill as run
    from edgebind.train.losses import DistillLoss

    data = [*kw["data"], *kw["extra_data"]]
    if not data:
        raise ConfigError("no training data: pass --data REC.npz (convert files with 'edgebind convert').")
    loss = DistillLoss(cosine=kw["cosine_weight"], mse=kw["mse_weight"], relational=kw["relational_weight"],
                       contrastive=kw["contrastive_weight"], centred=kw["centred_weight"])
    with Progress(kw["as_json"]) as bar:
        result = run(kw["teacher"], kw["student"], data, kw["output"], kw["modality"], parse_overrides(kw["sets"]),
                     train_config(kw), loss, augment_for(kw), list(kw["eval_data"]) or None, kw["holdout"],
                     kw["hop_s"], kw["frame_stride"], kw["labels"], kw["text_checkpoint"], kw["resume"],
                     on_step=bar.step, on_cache=bar.cache)
    import os

    if int(os.environ.get("RANK", "0")) != 0:
        return
    summary = {"output": str(result.out), "history": result.train.history, "data": result.data,
               "steps_per_s": result.train.steps_per_s, "world_size": result.train.world_size,
               "peak_mem_mib": result.train.peak_mem_mib, "labels": result.labels,
               "student_gflops": _gflops(result.student_config), "teacher_gflops": _gflops(result.teacher_config)}
    if kw["as_json"]:
        click.echo(json.dumps(summary, default=str))
        return
    print_history(result.train.history, ["cosine", "centred_cosine", "centred_cosine_p5", "constant_baseline",
                                         "top1_agreement", "teacher_top1_share"])
    click.echo(f"student {summary['student_gflops']:.3f} GFLOPs vs teacher {summary['teacher_gflops']:.3f} GFLOPs; "
               f"{result.train.steps_per_s:.2f} steps/s"
               + (f", peak GPU memory {result.train.peak_mem_mib:.0f} MiB" if result.train.peak_mem_mib else ""))
    click.echo(f"wrote {result.out}\nnext: edgebind embed {kw['modality']} INPUT --checkpoint {result.out} -o emb.npy")


def _gflops(cfg: dict[str, Any]) -> float:
    from edgebind.config import config_from_dict

    return config_from_dict(cfg).flops() / 1e9
