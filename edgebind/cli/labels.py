"""``edgebind labels``: teach a label from live examples, and list the label bank."""

from __future__ import annotations

import json
from typing import Any

import click

from edgebind.cli.link_options import format_option, make_units, unit_options


@click.group()
def labels() -> None:
    """Teach labels by example and list the label bank.

    \b
    Example:
      edgebind labels teach /dev/ttyUSB0 "opening the door" --seconds 10 --labels labels.txt
      edgebind labels show --labels labels.txt
    """


@labels.command()
@click.argument("port", envvar="EDGEBIND_PORT")
@click.argument("label")
@click.option("--labels", "labels_path", type=click.Path(dir_okay=False), default="labels.txt", show_default=True,
              help="labels.txt to add the examples to (created if absent).")
@click.option("--seconds", type=float, default=10.0, show_default=True, help="Seconds to record.")
@click.option("--examples", type=click.Path(dir_okay=False), help="Examples file [examples/<label>.npz beside "
              "labels.txt].")
@click.option("--hop", "hop_s", type=float, default=1.0, show_default=True, help="Seconds between windows.")
@format_option()
@click.option("--baud", type=int, default=921600, show_default=True, help="Line rate (USB-CDC ignores it).")
@click.option("--rate", "rate_hz", type=float, help="IMU rate in Hz for text lines without timestamps [measured "
              "from arrival times].")
@click.option("--calibration", type=click.Path(exists=True, dir_okay=False), help="Calibration profile JSON.")
@unit_options()
def teach(port: str, label: str, labels_path: str, seconds: float, examples: str | None, hop_s: float, fmt: str,
          baud: int, rate_hz: float | None, calibration: str | None, **units: Any) -> None:
    """Record LABEL live from PORT and append the windows to the label's examples.

    PORT may also be a recorded file, taught whole (--seconds does not apply): a ROS 2 bag (rosbag2 directory,
    .db3, .mcap; IMU topic found by type) or a Recording .npz.

    The label's line in labels.txt gains '@examples/<label>.npz' (a new label gets 'LABEL: @...'); a running
    'edgebind stream --labels labels.txt' picks the taught label up at its next window. Ctrl-C, SIGTERM or SIGHUP
    end the recording early and teach the windows recorded so far (exit status 0).

    \b
    Example:
      edgebind labels teach /dev/ttyUSB0 walking --seconds 10
      edgebind labels teach /dev/ttyUSB0 waving --baud 115200 --sensor mpu6050   # a raw-count sketch
      edgebind labels teach run1/ walking            # a rosbag2 directory recorded on the robot
    """
    from edgebind.errors import InputError
    from edgebind.exemplars import teach as teach_label
    from edgebind.lifecycle import StopSignals
    from edgebind.ros import is_bag

    if is_bag(port) or port.lower().endswith(".npz"):
        click.echo(f"reading '{label}' from {port} ...", err=True)
    else:
        click.echo(f"recording '{label}' from {port} for {seconds:g} s ...", err=True)
    with StopSignals() as stop:
        try:
            done = teach_label(port, label, labels_path, seconds, examples=examples, hop_s=hop_s, fmt=fmt, baud=baud,
                               rate_hz=rate_hz, calibration=calibration, units=make_units(**units), stop=stop.event)
        except InputError as exc:
            if not stop.is_set():
                raise
            click.echo(f"stopped by {stop.name}: {exc} Nothing was taught; {labels_path} is unchanged.")
            return
    if stop.is_set():
        click.echo(f"stopped by {stop.name}; teaching the windows recorded so far")
    click.echo(f"taught '{done.label}': {done.added} windows added to {done.examples} ({done.total} in all)"
               + ("; new label in " if done.new_label else "; ") + f"{labels_path}")
    click.echo(f"next: edgebind eval DATA.npz --labels {labels_path}   # or stream with --labels {labels_path}")


@labels.command()
@click.option("--labels", "labels_path", type=click.Path(dir_okay=False), help="labels.txt to list [the bundle's "
              "label bank].")
@click.option("--bundle", type=click.Path(file_okay=False), help="Bundle whose bank to list [$EDGEBIND_BUNDLE, else "
              "the last export].")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per label.")
def show(labels_path: str | None, bundle: str | None, as_json: bool) -> None:
    """List the labels: name, kind (text, examples, examples+text), prompt text and example windows.

    \b
    Example:
      edgebind labels show --labels labels.txt
    """
    from edgebind.exemplars import describe_bank, describe_labels

    rows = describe_labels(labels_path) if labels_path else describe_bank(bundle)
    for row in rows:
        if as_json:
            click.echo(json.dumps(row))
            continue
        ex = ", ".join(f"{f} ({n} windows)" for f, n in row["examples"].items())
        prompts = " | ".join(row["prompts"])
        click.echo(f"{row['name']:<20} {row['kind']:<14} {prompts}{'  ' if prompts and ex else ''}{ex}")
