"""Every piece of advice the CLI prints names an option that exists on the command it names (issue 21, part 2).

Two sources of advice are collected:

* ``edgebind CMD [SUB] ... --flag`` in the package source (string literals), README.md and docs/*.md: each flag
  is checked against that command's click parameters;
* "pass/use/add/try/set/override with --flag" in the captured output of the main error paths, run through the real
  CLI: each flag is checked against the command that printed it. In ``edgebind/cli/<module>.py`` the same phrases
  are checked against the module's own commands, and elsewhere against the union of all commands.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.cli import COMMANDS, cli
from edgebind.demo import demo_dir

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "edgebind"
DATA = REPO / "tests" / "data"
DEMO_REC = demo_dir() / "basicmotions_test.npz"

# the phrase that advises a flag to the command that printed it
ADVICE = re.compile(r"\b(?:pass|use|add|try|set|override with|rerun with|give)\s+['`\"]?(--[a-z][a-z0-9-]*)")
# one shell word of a suggested command line that ends it: prose, a comment, a closing parenthesis, a sentence end
_STOP_WORDS = {"or", "and", "then", "to", "for", "with", "if", "is", "in", "on", "the", "a", "an", "from", "|", "&&"}
EDGEBIND_CMD = re.compile(r"\bedgebind ([a-z][a-z-]*)")


def _options(cmd: click.Command) -> set[str]:
    """The visible option names of ``cmd`` (hidden ones are deprecated spellings; advice must not name them)."""
    names = {"--help", "-h"}
    for p in cmd.params:
        if isinstance(p, click.Option) and not p.hidden:
            names.update(p.opts)
            names.update(p.secondary_opts)
    return names


def command_options() -> dict[str, set[str]]:
    """``"export"`` / ``"calibrate capture"`` -> option names, walked from the click group."""
    ctx = click.Context(cli)
    out: dict[str, set[str]] = {}
    for name in COMMANDS:
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        if isinstance(cmd, click.Group):
            out[name] = _options(cmd)
            for sub_name, sub in cmd.commands.items():
                out[f"{name} {sub_name}"] = _options(sub)
        else:
            out[name] = _options(cmd)
    out[""] = _options(cli)
    return out


OPTIONS = command_options()
ALL_OPTIONS = set().union(*OPTIONS.values())


def suggested_flags(text: str) -> list[tuple[str, str]]:
    """``(command, flag)`` for each flag in each ``edgebind CMD [SUB] ...`` command line written in ``text``."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        for m in EDGEBIND_CMD.finditer(line):
            words = line[m.end():].split()
            name = m.group(1)
            if name not in COMMANDS:
                continue
            if words and f"{name} {words[0]}" in OPTIONS:
                name = f"{name} {words[0]}"
                words = words[1:]
            for w in words:
                if w.lower() in _STOP_WORDS or w.startswith(("#", "(")) or w in ("or", "--"):
                    break
                flag = re.match(r"(--?[a-zA-Z][a-zA-Z0-9-]*)", w)
                if flag:
                    found.append((name, flag.group(1)))
                if w.endswith((",", ";", ")", "'", '"', "`", ":")) or (w.endswith(".") and not w.endswith("...")):
                    break
    return found


def _string_literals(path: Path) -> list[str]:
    """The string literals of a module; an f-string's fields become ``X`` so its text stays one string."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            out.append("".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "X"
                               for v in node.values))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
    return out


def _module_commands(path: Path) -> list[str]:
    """The commands a ``edgebind/cli/<module>.py`` defines (``calibrate`` -> calibrate and its subcommands)."""
    module = ".".join(path.relative_to(REPO).with_suffix("").parts)
    names = [n for n, target in COMMANDS.items() if target.split(":")[0] == module]
    return [key for key in OPTIONS for n in names if key == n or key.startswith(n + " ")]


def broken_source_hints() -> list[str]:
    broken = []
    for path in sorted(PACKAGE.rglob("*.py")):
        in_cli = path.parent.name == "cli" and path.parent.parent == PACKAGE
        own = set().union(*(OPTIONS[c] for c in _module_commands(path))) if in_cli else ALL_OPTIONS
        for text in _string_literals(path):
            for name, flag in suggested_flags(text):
                if flag not in OPTIONS[name]:
                    broken.append(f"{path.relative_to(REPO)}: 'edgebind {name}' has no {flag}: {text[:120]!r}")
            for flag in ADVICE.findall(text):
                if in_cli and own and flag not in own:
                    broken.append(f"{path.relative_to(REPO)}: advises {flag}, which its commands lack: {text[:120]!r}")
                elif flag not in ALL_OPTIONS:
                    broken.append(f"{path.relative_to(REPO)}: advises {flag}, which no command has: {text[:120]!r}")
    return broken


def broken_doc_hints() -> list[str]:
    broken = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for name, flag in suggested_flags(path.read_text(encoding="utf-8")):
            if flag not in OPTIONS[name]:
                broken.append(f"{path.relative_to(REPO)}: 'edgebind {name}' has no {flag}")
    return broken


def test_collector_finds_hints_and_stops_at_prose() -> None:
    """The collector itself: a flag of the named command is found; prose after the command line is not read."""
    text = ("Next: edgebind export --int8 --calibration calib.npz. Then pass --bundle to stream; "
            "edgebind calibrate capture PORT --profile robot.json -o calib.npz   # or use --windows")
    assert suggested_flags(text) == [("export", "--int8"), ("export", "--calibration"),
                                     ("calibrate capture", "--profile"), ("calibrate capture", "-o")]
    assert ("export", "--calib") in suggested_flags("edgebind export --int8 --calib calib.npz")
    assert "--calib" not in OPTIONS["export"]  # a prefix is not an option
    assert "--random-init" not in OPTIONS["embed"] and "--set" not in OPTIONS["info"]


def test_package_source_has_no_broken_hints() -> None:
    broken = broken_source_hints()
    assert not broken, "\n".join(broken)


def test_docs_have_no_broken_hints() -> None:
    broken = broken_doc_hints()
    assert not broken, "\n".join(broken)


def _tiny_npy(tmp_path: Path) -> str:
    p = tmp_path / "w.npy"
    np.save(p, np.zeros((6, 2000), np.float32))
    return str(p)


def _error_paths(tmp_path: Path, random_bundle: Path) -> list[tuple[str, list[str]]]:
    """(command key, argv) of the main error paths a new user meets."""
    raw = tmp_path / "raw.csv"
    raw.write_text("".join(f"{i},{i},{16384 + i},{i},{i},{i}\n" for i in range(50)))
    ref = str(DATA / "imagebind" / "reference_tiny.pt")
    return [
        ("embed", ["embed", "imu", _tiny_npy(tmp_path), "-o", str(tmp_path / "e.npy")]),  # no checkpoint
        ("embed", ["embed", "imu", _tiny_npy(tmp_path), "--checkpoint", ref, "-o", str(tmp_path / "e.npy")]),
        ("info", ["info", ref, "--no-hash"]),
        ("bench", ["bench", str(tmp_path / "missing")]),
        ("bench", ["bench"]),
        ("stream", ["stream", "/dev/ttyNOPE0", "--bundle", str(tmp_path / "missing")]),
        ("record", ["record", "/dev/ttyNOPE0", "-o", str(tmp_path / "r.npz")]),
        ("record", ["record", "loop://", "-o", str(tmp_path / "r.npz"), "--idle", "0.3"]),
        ("labels teach", ["labels", "teach", "/dev/ttyNOPE0", "walking", "--labels", str(tmp_path / "l.txt")]),
        ("calibrate capture", ["calibrate", "capture", "/dev/ttyNOPE0", "-o", str(tmp_path / "c.npz")]),
        ("convert", ["convert", str(raw), "-o", str(tmp_path / "c.npz")]),
        ("export", ["export", "--int8", "--random-init", "--modalities", "imu", "-o", str(tmp_path / "b")]),
        ("eval", ["eval", str(DEMO_REC), "--bundle", str(random_bundle), "--no-probe"]),
        ("stream", ["stream", "/dev/ttyNOPE0", "--bundle", str(random_bundle)]),
    ]


@pytest.fixture(scope="module")
def random_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny bundle exported with --random-init: stream and eval refuse it and say what to do."""
    from edgebind.export import export_bundle

    d = tmp_path_factory.mktemp("adv") / "rand"
    export_bundle(d, target="cpu", modalities="imu", random_init=True, preset="tiny", remember=False)
    return d


def test_error_paths_advise_flags_that_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             random_bundle: Path) -> None:
    monkeypatch.chdir(tmp_path)
    broken, seen = [], 0
    for key, argv in _error_paths(tmp_path, random_bundle):
        result = CliRunner().invoke(cli, argv, prog_name="edgebind")
        text = result.output + (str(result.exception) if result.exception else "")
        for name, flag in suggested_flags(text):
            seen += 1
            if flag not in OPTIONS[name]:
                broken.append(f"edgebind {' '.join(argv[:2])}: suggests 'edgebind {name} {flag}': {text.strip()}")
        for flag in ADVICE.findall(text):
            seen += 1
            if flag not in OPTIONS[key]:
                broken.append(f"edgebind {' '.join(argv[:2])}: advises {flag}, which '{key}' lacks: {text.strip()}")
        if re.search(r"\b(?:use|try|or) loop://", text):
            broken.append(f"edgebind {' '.join(argv[:2])}: suggests loop://, which echoes nothing: {text.strip()}")
    assert seen >= 8, "the error paths printed too little advice to check"
    assert not broken, "\n".join(broken)
