"""The ``edgebind`` command group. Each command lives in its own module and is imported only when used."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from edgebind import __version__

# command name -> "module:function". Modules load lazily so `edgebind --help` stays fast (no torch import).
COMMANDS: dict[str, str] = {
    "export": "edgebind.cli.export:export",
    "build-engine": "edgebind.cli.build_engine:build_engine",
    "bench": "edgebind.cli.bench:bench",
    "calibrate": "edgebind.cli.calibrate:calibrate",
    "distill": "edgebind.cli.distill:distill",
    "embed": "edgebind.cli.embed:embed",
    "extract": "edgebind.cli.extract:extract",
    "info": "edgebind.cli.info:info",
    "record": "edgebind.cli.record:record",
    "simulate": "edgebind.cli.simulate:simulate",
    "train": "edgebind.cli.train:train",
    "convert": "edgebind.cli.convert:convert",
    "stream": "edgebind.cli.stream:stream",
    "demo": "edgebind.cli.demo:demo",
    "eval": "edgebind.cli.eval:eval_cmd",
    "labels": "edgebind.cli.labels:labels",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            from edgebind.errors import suggest

            raise click.UsageError(f"no command '{name}'.{suggest(name, COMMANDS)}", ctx)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        from edgebind.errors import EdgebindError

        try:
            return super().invoke(ctx)
        except EdgebindError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            raise click.ClickException(str(exc)) from exc
        except ModuleNotFoundError as exc:  # a device install has no torch; say which extra brings it
            if (ctx.obj and ctx.obj.get("debug")) or exc.name is None or exc.name.split(".")[0] != "torch":
                raise
            from edgebind.deps import torch_missing

            what = f"edgebind {ctx.invoked_subcommand}" if ctx.invoked_subcommand else "this command"
            raise click.ClickException(str(torch_missing(what))) from exc


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgebind")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug).")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int) -> None:
    """ImageBind IMU and thermal encoders on robots: embed, export, stream.

    \b
    Start here:
      edgebind demo                                  # simulated device, live labels, no hardware
      edgebind export --target jetson --fp16         # a Jetson bundle from imagebind_huge.pth
      edgebind stream /dev/ttyUSB0 --labels labels.txt
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="edgebind")
