"""Every shell block in README.md and docs/*.md runs as written in CI, or says what hardware it needs and why.

Blocks run in a fresh folder with the substitutes of tests/doccheck/sandbox.py (the one declared place for them) and the
repository's own folders linked in; ``pip install`` lines are checked against pyproject's extras instead of run (the
environment already holds them). Blocks that need hardware are not run, but every ``edgebind`` command in them is
parsed by the real CLI, so a renamed or missing flag fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from doccheck.blocks import REPO, Block, blocks, edgebind_argv
from doccheck.sandbox import environment, make_sandbox

BLOCKS = blocks()
RUN = [b for b in BLOCKS if b.needs is None and not b.by_ci]
LINKED = ("edgebind", "tests", "scripts", "firmware_bridge", "benchmarks", "export", "pyproject.toml")
PIP = re.compile(r"^pip install\b")
NEEDS_LINE = re.compile(r"^# needs ")


def resolve(argv: list[str]) -> tuple[click.Command, list[str], str]:
    """The click command an ``edgebind`` argv names (through groups), its remaining args, and its path."""
    from edgebind.cli import cli

    cmd: click.Command = cli
    path = "edgebind"
    args = list(argv)
    while isinstance(cmd, click.Group) and args and not args[0].startswith("-"):
        sub = cmd.get_command(click.Context(cmd), args[0])
        assert sub is not None, f"'{path} {args[0]}' is no edgebind command"
        cmd, path, args = sub, f"{path} {args[0]}", args[1:]
    return cmd, args, path


def check_parses(argv: list[str]) -> None:
    """Parse ``argv`` with the command's real option parser (names and arities; files need not exist)."""
    cmd, args, path = resolve(argv)
    ctx = click.Context(cmd, info_name=path)
    try:
        cmd.make_parser(ctx).parse_args(args=args)
    except click.UsageError as exc:
        raise AssertionError(f"'{path} {' '.join(args)}': {exc.format_message()}") from None


def extras() -> set[str]:
    try:
        import tomllib  # novermin (3.11+; the except branch is 3.10)
    except ModuleNotFoundError:
        import tomli as tomllib
    return set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def test_blocks_found_and_classified() -> None:
    ids = {b.id for b in BLOCKS}
    assert "README.md#quick-start.1" in {b.id for b in RUN}, "the quick start's demo runs in CI"
    assert len(BLOCKS) >= 20 and len(ids) == len(BLOCKS)
    by_ci = [b for b in BLOCKS if b.by_ci]
    # only the README's test command is run by .ci/run itself
    assert [b.id for b in by_ci] == ["README.md#quick-start.2"]
    ci = (REPO / ".ci" / "run").read_text()
    for b in by_ci:  # ... and .ci/run really runs it (the command after the install)
        test_cmd = b.commands()[-1]
        assert test_cmd.startswith("python -m pytest") and "python -m pytest" in ci


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.id)
def test_every_edgebind_command_parses(block: Block) -> None:
    for command in block.commands():
        argv = edgebind_argv(command)
        if argv is not None:
            check_parses(argv)
        elif PIP.match(command):
            for extra in re.findall(r"\[([^\]]+)\]", command):
                missing = set(extra.split(",")) - extras()
                assert not missing, f"{block.id}: no extra {missing} in pyproject.toml"


def test_parse_check_catches_a_bad_flag() -> None:
    with pytest.raises(AssertionError, match="No such option '--calib'"):
        check_parses(["export", "--int8", "--calib", "x.npz"])
    with pytest.raises(AssertionError, match="no edgebind command"):
        check_parses(["frobnicate"])


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_sandbox(tmp_path_factory.mktemp("docs"))
    for name in LINKED:
        (root / name).symlink_to(REPO / name)
    return root


def run_block(text: str, sandbox: Path, tmp_path: Path, block_id: str) -> None:
    lines = ["set -euo pipefail"]
    for line in re.sub(r"\\\n\s*", " ", text).splitlines():
        if NEEDS_LINE.match(line):
            continue
        # the environment already holds every extra (checked above); everything else runs as written
        lines.append(" && ".join("true" if PIP.match(c.strip()) else c for c in line.split("&&")))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "EDGEBIND_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO), **environment(sandbox)}
    proc = subprocess.run(["bash", "-c", "\n".join(lines)], cwd=sandbox, env=env, capture_output=True, text=True,
                          timeout=900, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{block_id} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


# What a block's make targets need from apt (the firmware runs on emulated microcontrollers): missing, the block
# is skipped with the install line, as tests/test_firmware.py does, except in CI (EDGEBIND_REQUIRE_TOOLCHAINS=1).
TOOLS = {"qemu-record": [("arm-none-eabi-gcc", "gcc-arm-none-eabi"), ("qemu-system-arm", "qemu-system-arm")],
         "simavr-record": [("avr-gcc", "gcc-avr avr-libc"), ("simavr", "simavr libsimavr-dev")],
         "footprint": [("arm-none-eabi-gcc", "gcc-arm-none-eabi"), ("avr-gcc", "gcc-avr avr-libc")]}


def require_tools(text: str) -> None:
    missing = sorted({pkg for target, tools in TOOLS.items() if f" {target}" in text
                      for tool, pkg in tools if shutil.which(tool) is None})
    if missing:
        msg = f"the block's firmware targets need: apt-get install {' '.join(missing)}"
        if os.environ.get("EDGEBIND_REQUIRE_TOOLCHAINS") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.mark.parametrize("block", RUN, ids=lambda b: b.id)
def test_block_runs_as_written(block: Block, sandbox: Path, tmp_path: Path) -> None:
    require_tools(block.text)
    run_block(block.text, sandbox, tmp_path, block.id)


# Blocks marked as needing a GPU only for their training time run here at test size: the same commands, with
# fewer steps appended to the training command.
AT_TEST_SIZE = {
    "README.md#8-smaller-models-distil-align-and-students-on-the-device.3": ("edgebind distill", "--steps 5"),
}


@pytest.mark.parametrize("block_id", sorted(AT_TEST_SIZE))
def test_training_recipe_runs_at_test_size(block_id: str, sandbox: Path, tmp_path: Path) -> None:
    (block,) = [b for b in BLOCKS if b.id == block_id]
    assert block.needs and block.needs.startswith("a GPU")
    command, extra = AT_TEST_SIZE[block_id]
    text = re.sub(r"\\\n\s*", " ", block.text)
    assert command in text
    text = "\n".join(f"{line.split('  #')[0]} {extra}" if line.startswith(command) else line
                     for line in text.splitlines())
    run_block(text, sandbox, tmp_path, block_id)
