"""``edgebind convert``: public recordings (BasicMotions, Daphnet, CPTV) to Recording .npz files."""

from __future__ import annotations

import click

from edgebind.cli.link_options import format_option, make_units, unit_options


@click.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Recording .npz to write.")
@click.option("--kind", type=click.Choice(["auto", "basicmotions", "daphnet", "cptv", "serial"]), default="auto",
              show_default=True, help="Input format (auto: from the extension; serial: a saved serial log, "
              ".log/.txt).")
@click.option("--position", type=click.Choice(["ankle", "leg", "trunk"]), default="ankle", show_default=True,
              help="Daphnet sensor position.")
@format_option()
@click.option("--rate", "rate_hz", type=float, default=None, help="Serial log: IMU rate of lines without timestamps.")
@unit_options()
def convert(source: str, output: str, kind: str, position: str, fmt: str, rate_hz: float | None,
            **units: str | None) -> None:
    """Convert SOURCE (BasicMotions .ts, Daphnet .csv, CPTV clip) to a Recording.

    Units and caveats (BasicMotions: 10 Hz, gravity removed; Daphnet: milli-g, no gyroscope; CPTV: Lepton
    counts read as centi-kelvin) are written into the recording's meta. A serial log (--kind serial) is decoded
    as 'edgebind record' decodes the port; --format, --rate and the unit flags apply to it only.

    \b
    Example:
      edgebind convert ../shared/data/imu/BasicMotions_TRAIN.ts -o basicmotions.npz
      edgebind convert monitor.log --rate 100 --accel-unit g --gyro-unit dps -o walk.npz
    """
    from edgebind.bridge.convert import convert as convert_file
    from edgebind.errors import ConfigError

    serial = kind == "serial" or (kind == "auto" and source.lower().endswith((".log", ".txt")))
    given = {k: v for k, v in units.items() if v not in (None, "auto")}
    if not serial and (given or fmt != "auto" or rate_hz is not None):
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in given) or ("--format" if fmt != "auto" else "--rate")
        raise ConfigError(f"{flags}: only for a serial log (--kind serial, .log/.txt); the converters of the "
                          "public recordings know their units. Drop the flag, or pass --kind serial.")
    kwargs: dict[str, object] = {"position": position} if kind == "daphnet" or source.lower().endswith(".csv") else {}
    if serial:
        kwargs = {"fmt": fmt, "rate_hz": rate_hz, "units": make_units(**units)}
    rec = convert_file(source, kind=kind, **kwargs)
    path = rec.save(output)
    thermal = "" if rec.thermal is None else f", {len(rec.thermal)} thermal frames {rec.thermal.shape[1:]}"
    click.echo(f"wrote {path}: {len(rec.imu)} IMU samples ({rec.imu_rate_hz:.1f} Hz){thermal}; "
               f"source: {rec.meta['source']}")
    if serial:
        from edgebind.cli.link_options import describe_units

        click.echo(f"units: {describe_units(rec.meta)}")
    click.echo(f"next: edgebind simulate {path} --speed 10")

