"""``edgebind eval``: how well the labels work on your labelled recordings (text prompts, k-shot, linear probe)."""

from __future__ import annotations

import json

import click


@click.command("eval")
@click.argument("data", nargs=-1, required=True, type=click.Path())
@click.option("--labels", type=click.Path(dir_okay=False), help="labels.txt (words and '@examples.npz') [the "
              "bundle's labels].")
@click.option("--bundle", type=click.Path(file_okay=False), help="Exported bundle [$EDGEBIND_BUNDLE, else the last "
              "export].")
@click.option("--checkpoint", type=click.Path(dir_okay=False), help="Run a checkpoint with torch instead of a bundle.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Checkpoint config, e.g. imu_num_heads=8.")
@click.option("--truth", multiple=True, type=click.Path(dir_okay=False), help="CSV of start_s,end_s,label "
              "intervals, one per DATA file in order [each recording's label track].")
@click.option("--support", multiple=True, type=click.Path(dir_okay=False), help="Recordings to draw k-shot "
              "examples from [a seeded split of DATA by recording or segment].")
@click.option("--support-truth", multiple=True, type=click.Path(dir_okay=False), help="Truth CSVs for --support.")
@click.option("--k", "ks", multiple=True, type=int, default=(1, 5, 10), show_default=True,
              help="Examples per class for k-shot prototypes (repeat; 0: none).")
@click.option("--seeds", type=int, default=10, show_default=True, help="k-shot runs, each a new draw of examples.")
@click.option("--seed", type=int, default=0, show_default=True, help="First seed (k-shot draws, folds, bootstrap).")
@click.option("--hop", "hop_s", type=float, default=1.0, show_default=True, help="Seconds between windows, as "
              "stream --hop.")
@click.option("--group-by", type=click.Choice(["auto", "recording", "segment"]), default="auto", show_default=True,
              help="Unit of k-shot splits, probe folds and bootstrap: a recording (one subject per file gives "
              "leave-one-subject-out) or one labelled segment.")
@click.option("--no-probe", is_flag=True, help="Skip the linear probe.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write confusion matrices to this PNG (needs the "
              "'plot' extra).")
@click.option("--backend", type=click.Choice(["onnxruntime", "tensorrt", "torch"]), help="Bundle runner.")
@click.option("--threads", type=int, help="CPU threads for the runner.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def eval_cmd(data: tuple[str, ...], labels: str | None, bundle: str | None, checkpoint: str | None,
             sets: tuple[str, ...], truth: tuple[str, ...], support: tuple[str, ...], support_truth: tuple[str, ...],
             ks: tuple[int, ...], seeds: int, seed: int, hop_s: float, group_by: str, no_probe: bool,
             plot: str | None, backend: str | None, threads: int | None, as_json: bool) -> None:
    """Score labelled recordings DATA: text prompts, k-shot prototypes and a linear probe on the same windows.

    Windows are cut as 'stream' cuts them; a window is scored when one label covers all of it. Each method prints
    top-1 accuracy and macro-F1 with a 95 % interval (bootstrap over recordings or segments), per-class recall and
    chance. The same seed gives the same figures.

    \b
    Example:
      edgebind eval walks.npz --labels labels.txt
      edgebind eval session.npz --truth session_labels.csv --bundle out/imu --plot confusion.png --json
    """
    from edgebind.config import parse_overrides
    from edgebind.eval import evaluate

    report = evaluate(data, labels, bundle=bundle, checkpoint=checkpoint, overrides=parse_overrides(sets),
                      truth=truth, support=support, support_truth=support_truth, ks=ks, seeds=seeds, seed=seed,
                      hop_s=hop_s, group_by=group_by, probe=not no_probe, backend=backend, threads=threads)
    if plot:
        report.plot(plot)
    if as_json:
        click.echo(json.dumps(report.to_json()))
        return
    click.echo("\n".join(report.lines()))
    if plot:
        click.echo(f"confusion matrices: {plot}")
    click.echo("next: teach a weak label by example: edgebind labels teach PORT LABEL --seconds 10 --labels "
               f"{labels or 'labels.txt'}")
