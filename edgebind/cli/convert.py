"""``edgebind convert``: public recordings (BasicMotions, Daphnet, CPTV) and ROS 2 bags to Recordings."""

from __future__ import annotations

from typing import Any

import click

from edgebind.cli._bag import bag_input_options, bag_options
from edgebind.cli.link_options import format_option, make_units, unit_options


@click.command()
@click.argument("source", type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Recording .npz (or ROS 2 bag .mcap) to write.")
@click.option("--kind", type=click.Choice(["auto", "basicmotions", "daphnet", "cptv", "serial"]), default="auto",
              show_default=True, help="Input format (auto: from the extension; serial: a saved serial log, "
              ".log/.txt).")
@click.option("--position", type=click.Choice(["ankle", "leg", "trunk"]), default="ankle", show_default=True,
              help="Daphnet sensor position.")
@format_option()
@click.option("--rate", "rate_hz", type=float, default=None, help="Serial log: IMU rate of lines without timestamps.")
@unit_options()
@bag_input_options()
def convert(source: str, output: str, kind: str, position: str, fmt: str, rate_hz: float | None,
            **flags: Any) -> None:
    """Convert SOURCE (BasicMotions .ts, Daphnet .csv, CPTV clip, serial log, ROS 2 bag .mcap, Recording .npz) to a
    Recording.

    A bag cut off by a kill or a power cut (no summary section) is read up to where it ends. The journal
    OUT.partial that a killed 'edgebind record -o OUT' leaves is read back too.

    Units and caveats (BasicMotions: 10 Hz, gravity removed; Daphnet: milli-g, no gyroscope; CPTV: Lepton
    counts read as centi-kelvin) are written into the recording's meta. A serial log (--kind serial) is decoded
    as 'edgebind record' decodes the port; --format, --rate and the unit flags apply to it only.

    \b
    Example:
      edgebind convert ../shared/data/imu/BasicMotions_TRAIN.ts -o basicmotions.npz
      edgebind convert monitor.log --rate 100 --accel-unit g --gyro-unit dps -o walk.npz
      edgebind convert robot.mcap --imu-topic /imu/data --thermal-unit kelvin_x100 -o robot.npz
      edgebind convert walk.npz.partial -o walk.npz      # after 'record -o walk.npz' was killed
    """
    from edgebind.errors import ConfigError
    from edgebind.ros import is_bag, load_recording, save_recording

    units = {k: flags.pop(k) for k in ("accel_unit", "gyro_unit", "sensor", "accel_range", "gyro_range")}
    options = bag_options(flags)
    serial = kind == "serial" or (kind == "auto" and source.lower().endswith((".log", ".txt")))
    given = {k: v for k, v in units.items() if v not in (None, "auto")}
    if not serial and (given or fmt != "auto" or rate_hz is not None):
        names = ", ".join(f"--{k.replace('_', '-')}" for k in given) or ("--format" if fmt != "auto" else "--rate")
        raise ConfigError(f"{names}: only for a serial log (--kind serial, .log/.txt); the converters of the "
                          "public recordings know their units. Drop the flag, or pass --kind serial.")
    if is_bag(source) or source.lower().endswith((".npz", ".partial")):
        rec = load_recording(source, options)
    else:
        from edgebind.bridge.convert import convert as convert_file

        kwargs: dict[str, Any] = {"position": position} if kind == "daphnet" or source.lower().endswith(".csv") else {}
        if serial:
            kwargs = {"fmt": fmt, "rate_hz": rate_hz, "units": make_units(**units)}
        rec = convert_file(source, kind=kind, **kwargs)
    path = save_recording(rec, output)
    thermal = "" if rec.thermal is None else f", {len(rec.thermal)} thermal frames {rec.thermal.shape[1:]}"
    click.echo(f"wrote {path}: {len(rec.imu)} IMU samples ({rec.imu_rate_hz:.1f} Hz){thermal}; "
               f"source: {rec.meta.get('source', source)}")
    if serial:
        from edgebind.cli.link_options import describe_units

        click.echo(f"units: {describe_units(rec.meta)}")
    click.echo(f"next: edgebind simulate {path} --speed 10")

