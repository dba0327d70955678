"""Options shared by the commands that read ROS 2 bags (.mcap): convert, embed, simulate, calibrate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

BAG_OPTION_NAMES = ("imu_topic", "thermal_topic", "label_topic", "thermal_unit", "thermal_sensor")


_OPTIONS = {
    "imu_topic": click.option("--imu-topic", help="Bag input: sensor_msgs/msg/Imu topic [the only one in the bag]."),
    "thermal_topic": click.option("--thermal-topic", help="Bag input: sensor_msgs/msg/Image or CompressedImage (PNG) "
                                  "topic [the only one]."),
    "label_topic": click.option("--label-topic", help="Bag input: std_msgs/msg/String topic of truth labels, or "
                                "'none' [the only String topic]."),
    "thermal_unit": click.option("--thermal-unit", type=click.Choice(["celsius", "kelvin_x100", "counts"]),
                                 help="Bag input: unit of the thermal image values (ROS has no standard) [from an "
                                 "edgebind bag]."),
    "thermal_sensor": click.option("--thermal-sensor", help="Bag input: sensor profile that converts counts, e.g. "
                                   "lepton3.5, mlx90640, amg8833."),
}


def bag_input_options(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the bag input options ``names`` (default: all of :data:`BAG_OPTION_NAMES`) to a command."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        for name in reversed(names or BAG_OPTION_NAMES):
            f = _OPTIONS[name](f)
        return f

    return decorate


def bag_options(kwargs: dict[str, Any]) -> Any:
    """Pop the bag options out of a command's keyword arguments into a ``BagOptions``."""
    from edgebind.ros.bag_in import BagOptions

    return BagOptions(**{name: kwargs.pop(name, None) for name in BAG_OPTION_NAMES})
