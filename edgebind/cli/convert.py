"""``edgebind convert``: public recordings (BasicMotions, Daphnet, CPTV) and ROS 2 bags to Recordings."""

from __future__ import annotations

from typing import Any

import click

from edgebind.cli._bag import bag_input_options, bag_options


@click.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Recording .npz (or ROS 2 bag .mcap) to write.")
@click.option("--kind", type=click.Choice(["auto", "basicmotions", "daphnet", "cptv"]), default="auto",
              show_default=True, help="Input format (auto: from the extension).")
@click.option("--position", type=click.Choice(["ankle", "leg", "trunk"]), default="ankle", show_default=True,
              help="Daphnet sensor position.")
@bag_input_options()
def convert(source: str, output: str, kind: str, position: str, **bag: Any) -> None:
    """Convert SOURCE (BasicMotions .ts, Daphnet .csv, CPTV clip, ROS 2 bag .mcap, Recording .npz) to a Recording.

    Units and caveats (BasicMotions: 10 Hz, gravity removed; Daphnet: milli-g, no gyroscope; CPTV: Lepton
    counts read as centi-kelvin) are written into the recording's meta.

    \b
    Example:
      edgebind convert ../shared/data/imu/BasicMotions_TRAIN.ts -o basicmotions.npz
      edgebind convert robot.mcap --imu-topic /imu/data --thermal-unit kelvin_x100 -o robot.npz
    """
    from edgebind.ros import is_bag, load_recording, save_recording

    options = bag_options(bag)
    if is_bag(source) or source.lower().endswith(".npz"):
        rec = load_recording(source, options)
    else:
        from edgebind.bridge.convert import convert as convert_file

        kwargs = {"position": position} if kind == "daphnet" or source.lower().endswith(".csv") else {}
        rec = convert_file(source, kind=kind, **kwargs)
    path = save_recording(rec, output)
    thermal = "" if rec.thermal is None else f", {len(rec.thermal)} thermal frames {rec.thermal.shape[1:]}"
    click.echo(f"wrote {path}: {len(rec.imu)} IMU samples ({rec.imu_rate_hz:.1f} Hz){thermal}; "
               f"source: {rec.meta.get('source', source)}")
    click.echo(f"next: edgebind simulate {path} --speed 10")
