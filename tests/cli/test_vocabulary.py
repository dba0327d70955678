"""One vocabulary: the same flag names on every command that reads a port (issue 21, part 3); old spellings work
for one release with a deprecation warning."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from edgebind.cli import COMMANDS, cli
from edgebind.cli.link_options import deprecated_alias

LINK = {"--format", "--rate", "--sensor", "--accel-unit", "--gyro-unit", "--baud"}
# commands that read an IMU from a port; those that cut windows also take --hop
IMU_PORT_READERS = {"record": LINK, "stream": LINK | {"--hop"}, "labels teach": LINK | {"--hop"},
                    "calibrate imu": LINK, "calibrate capture": LINK | {"--hop"}}
THERMAL_PORT_READERS = {"calibrate thermal": {"--format", "--baud", "--sensor"}}
OLD_SPELLINGS = {"--fmt", "--rate-hz", "--hop-s", "--hz", "--baudrate", "--accel-units", "--gyro-units"}


def _commands() -> dict[str, click.Command]:
    ctx = click.Context(cli)
    out: dict[str, click.Command] = {}
    for name in COMMANDS:
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        out[name] = cmd
        if isinstance(cmd, click.Group):
            out.update({f"{name} {sub}": c for sub, c in cmd.commands.items()})
    return out


def _visible(cmd: click.Command) -> set[str]:
    return {o for p in cmd.params if isinstance(p, click.Option) and not p.hidden for o in p.opts}


@pytest.mark.parametrize("name, wanted", sorted({**IMU_PORT_READERS, **THERMAL_PORT_READERS}.items()))
def test_port_readers_take_the_shared_flags(name: str, wanted: set[str]) -> None:
    assert wanted <= _visible(_commands()[name]), wanted - _visible(_commands()[name])


def test_no_command_shows_an_old_spelling() -> None:
    shown = {name: _visible(cmd) & OLD_SPELLINGS for name, cmd in _commands().items()}
    assert not any(shown.values()), shown


def test_deprecated_alias_passes_the_value_and_warns() -> None:
    @click.command()
    @click.option("--rate", "rate_hz", type=float, default=None)
    @deprecated_alias("--rate-hz", "--rate", "rate_hz", type=float)
    def show(rate_hz: float | None) -> None:
        click.echo(f"rate={rate_hz}")

    res = CliRunner().invoke(show, ["--rate-hz", "50"])
    assert res.exit_code == 0 and "rate=50.0" in res.output
    assert "--rate-hz is deprecated" in res.output and "use --rate" in res.output
    res = CliRunner().invoke(show, ["--rate", "40"])
    assert res.output.strip() == "rate=40.0"
    assert "--rate-hz" not in CliRunner().invoke(show, ["--help"]).output


def test_calibrate_capture_old_spellings_still_parse(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["calibrate", "capture", str(tmp_path / "ttyNOPE"), "--fmt", "csv", "--rate-hz",
                                   "100", "--hop-s", "2", "-o", str(tmp_path / "c.npz")])
    assert res.exit_code == 1 and "no such port" in res.output, res.output  # parsed, then the port is missing
    for old, new in (("--fmt", "--format"), ("--rate-hz", "--rate"), ("--hop-s", "--hop")):
        assert f"{old} is deprecated" in res.output and f"use {new}." in res.output
