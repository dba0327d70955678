"""Click options shared by the commands that read a sensor link (record, stream, calibrate, labels teach): one
vocabulary (``--format``, ``--rate``, ``--hop``, ``--sensor``, ``--accel-unit``, ``--gyro-unit``, ``--baud``), and
the old spellings kept for one release with a deprecation warning."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from edgebind.bridge.lines import IMU_FORMATS
from edgebind.bridge.units import ACCEL_CHOICES, GYRO_CHOICES, UnitOptions

LINK_FORMATS = ("auto", "binary", *IMU_FORMATS)


def format_option(name: str = "--format") -> Callable[[Any], Any]:
    """``--format``: auto, binary or a text format."""
    return click.option(name, "fmt", type=click.Choice(LINK_FORMATS), default="auto", show_default=True,
                        help="Stream format: auto-detected, the binary protocol, or a text format (csv, plotter "
                             "label:value, teleplot, sparkfun ICM-20948, i2cdevlib MPU6050_raw counts).")


def deprecated_alias(old: str, new: str, dest: str, **option: Any) -> Callable[[Any], Any]:
    """Keep ``old`` (e.g. ``--fmt``) working for one release as a hidden spelling of ``new`` (``--format``, whose
    value goes to ``dest``): the value is passed on as ``new``'s, with a warning on stderr naming ``new``.

    Put it under the ``@click.command`` decorator, like an option. ``option``: the old option's click keywords
    (``type``); ``help`` is not needed since it is hidden.
    """
    hidden_dest = f"_deprecated_{dest}_{old.lstrip('-').replace('-', '_')}"

    def decorate(f: Any) -> Any:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            value = kwargs.pop(hidden_dest, None)
            if value is not None:
                click.echo(f"Warning: {old} is deprecated and will be removed in the next release; use {new}.",
                           err=True)
                kwargs[dest] = value
            return f(*args, **kwargs)

        return click.option(old, hidden_dest, hidden=True, default=None, **option)(wrapper)

    return decorate


def unit_options(sensor: bool = True) -> Callable[[Any], Any]:
    """``--accel-unit``, ``--gyro-unit`` (and ``--sensor``, ``--accel-range``, ``--gyro-range`` when ``sensor``)."""

    def decorate(f: Any) -> Any:
        if sensor:
            f = click.option("--gyro-range", default=None, help="Gyroscope range of a raw-count sketch, e.g. "
                             "500dps [the profile's default].")(f)
            f = click.option("--accel-range", default=None, help="Accelerometer range of a raw-count sketch, e.g. "
                             "4g [the profile's default].")(f)
            f = click.option("--sensor", default=None, help="IMU profile that scales raw counts (i2cdevlib "
                             "MPU6050_raw), e.g. mpu6050.")(f)
        f = click.option("--gyro-unit", type=click.Choice(GYRO_CHOICES), default="auto", show_default=True,
                         help="Unit of printed gyroscope values (auto: as the line names it, else rad/s).")(f)
        f = click.option("--accel-unit", type=click.Choice(ACCEL_CHOICES), default="auto", show_default=True,
                         help="Unit of printed accelerometer values (auto: as the line names it, else from the "
                              "gravity magnitude: ~1 g, ~9.8 m/s^2, ~1000 mg).")(f)
        return f

    return decorate


def make_units(**flags: Any) -> UnitOptions:
    """The :class:`UnitOptions` of the flags :func:`unit_options` added (accel_unit, gyro_unit, sensor, ranges)."""
    return UnitOptions(**flags)


def describe_units(meta: dict[str, Any]) -> str:
    """``accelerometer g (detected ...), gyroscope dps (named in the lines)`` from a Recording's meta."""
    u = meta.get("units") or {}
    if u.get("accel_unit") == "counts":
        return f"raw {u.get('unit_source', 'counts')}"
    acc = f"accelerometer {u.get('accel_unit', 'mps2')}" + (f" ({u['accel_unit_source']})"
                                                             if u.get("accel_unit_source") else "")
    gyr = f"gyroscope {u.get('gyro_unit', 'rads')}" + (f" ({u['gyro_unit_source']})" if u.get("gyro_unit_source")
                                                        else "")
    return f"{acc}, {gyr}"
