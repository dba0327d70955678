"""``edgebind train``: align an IMU or thermal encoder to frozen text or image embeddings (ImageBind's InfoNCE)."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from edgebind.cli.distill import Progress, augment_for, print_history, shared_options, train_config


@click.command()
@click.option("--anchors", required=True, type=click.Choice(["text", "vision"]), help="Frozen space to align to.")
@click.option("--student", help="Fresh encoder: preset (imu-tiny, imu-small, thermal-small) or CONFIG.json.")
@click.option("--init", type=click.Path(dir_okay=False), help="Start from this checkpoint instead of --student.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Constructor args for --init.")
@click.option("--out-dim", type=int, help="Output width of a fresh student (must equal the anchors').")
@click.option("--text-model", default="minilm", show_default=True, help="'minilm' (all-MiniLM-L6-v2, offline) or a "
              "checkpoint with ImageBind's text encoder.")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False), help="labels.txt: prompt text per data label.")
@click.option("--labels-out", type=click.Path(dir_okay=False), help="Save the label bank (labels.npz).")
@click.option("--pairs", multiple=True, type=click.Path(dir_okay=False), help="Paired RGB frames .npz (vision).")
@click.option("--vision-checkpoint", type=click.Path(dir_okay=False), help="Checkpoint with the vision encoder.")
@click.option("--max-pair-dt", type=float, default=0.5, show_default=True, help="Seconds between window and frame.")
@click.option("--temperature", type=float, default=0.07, show_default=True, help="InfoNCE tau.")
@shared_options
def train(**kw: Any) -> None:
    """Align an encoder to frozen anchors with ImageBind's symmetric InfoNCE, L(I,M) + L(M,I).

    Anchors are computed once and cached: text embeddings of each window's label, or vision embeddings of the RGB
    frame paired with it in time. Held-out windows report closed-set label accuracy (text) or retrieval top-1 (vision).

    \b
    Example:
      edgebind train --modality imu --anchors text --student imu-tiny --out-dim 384 \\
          --data bm_train.npz --eval-data bm_test.npz --labels labels.txt --labels-out labels.npz -o imu.safetensors
    """
    from edgebind.config import parse_overrides
    from edgebind.errors import ConfigError
    from edgebind.train.align import train_aligned

    data = [*kw["data"], *kw["extra_data"]]
    if not data:
        raise ConfigError("no training data: pass --data REC.npz (convert files with 'edgebind convert').")
    with Progress(kw["as_json"]) as bar:
        result = train_aligned(
            kw["modality"], kw["anchors"], data, kw["output"], student=kw["student"], init=kw["init"],
            out_dim=kw["out_dim"], overrides=parse_overrides(kw["sets"]), text_model=kw["text_model"],
            labels=kw["labels"], labels_out=kw["labels_out"], pairs=list(kw["pairs"]),
            vision_checkpoint=kw["vision_checkpoint"], max_pair_dt_s=kw["max_pair_dt"],
            temperature=kw["temperature"], cfg=train_config(kw), augment=augment_for(kw),
            eval_data=list(kw["eval_data"]) or None, holdout=kw["holdout"], hop_s=kw["hop_s"],
            frame_stride=kw["frame_stride"], resume=kw["resume"], on_step=bar.step)
    if int(os.environ.get("RANK", "0")) != 0:
        return
    if kw["as_json"]:
        click.echo(json.dumps({"output": str(result.out), "history": result.train.history, "data": result.data,
                               "steps_per_s": result.train.steps_per_s, "world_size": result.train.world_size},
                              default=str))
        return
    keys = sorted({k for h in result.train.history for k in h if k != "step"})
    print_history(result.train.history, keys)
    click.echo(f"wrote {result.out}" + (f" and {kw['labels_out']}" if kw["labels_out"] else ""))
    click.echo(f"next: edgebind embed {kw['modality']} INPUT --checkpoint {result.out} -o emb.npy")
