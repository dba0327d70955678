"""The shell blocks of README.md and docs/*.md, and how each is meant to run.

A block runs in CI unless it says otherwise:
* a first line ``# needs <what>: <why>`` (visible to readers) marks one that needs hardware or a real ImageBind
  file: a serial sensor, a GPU, a Jetson, Docker, root on a robot. Its ``edgebind`` commands are still parsed with the
  real CLI, so their flags stay valid;
* an HTML comment ``<!-- run by .ci/run -->`` just before the fence marks the test command itself.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?:bash|sh|shell|console)\n(.*?)^```", re.S | re.M)
NEEDS = re.compile(r"^# needs ([^:\n]+):\s*(.+)$")
BY_CI = "<!-- run by .ci/run -->"


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    section: str  # the heading above it, as a slug, and its ordinal there: "quick-start.2"
    text: str
    needs: str | None  # what it needs besides this repository, or None: it runs in CI
    by_ci: bool  # the README's test command, which .ci/run runs

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO)}#{self.section}"

    def commands(self) -> list[str]:
        """Its commands: continuation lines joined, comments and blank lines dropped, ``&&`` chains split."""
        joined = re.sub(r"\\\n\s*", " ", self.text)
        out: list[str] = []
        for line in joined.splitlines():
            line = strip_comment(line).strip()
            if line:
                out += [c.strip() for c in line.split("&&") if c.strip()]
        return out


def strip_comment(line: str) -> str:
    """``cmd arg  # note`` -> ``cmd arg`` (a ``#`` inside quotes stays)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def blocks() -> list[Block]:
    found = []
    for path in DOCS:
        text = path.read_text()
        seen: dict[str, int] = {}
        for m in FENCE.finditer(text):
            body = m.group(1)
            first = body.splitlines()[0] if body.strip() else ""
            needs = NEEDS.match(first)
            above = text[: m.start()]
            heads = re.findall(r"^#+ (.+)$", FENCE.sub("", above), re.M)  # headings, not comments in code
            slug = re.sub(r"[^a-z0-9]+", "-", heads[-1].lower()).strip("-") if heads else "top"
            seen[slug] = seen.get(slug, 0) + 1
            before = above.rstrip().splitlines()[-1:] or [""]
            found.append(Block(path, above.count("\n") + 1, f"{slug}.{seen[slug]}", body,
                               f"{needs.group(1)}: {needs.group(2)}" if needs else None, before[0].strip() == BY_CI))
    return found


def edgebind_argv(command: str) -> list[str] | None:
    """The arguments of an ``edgebind`` command line (``edgebind ...``, a venv's ``.../bin/edgebind ...``, or
    ``torchrun ... $(which edgebind) ...``), with shell globs and ``$(...)`` left as words; None for other commands."""
    command = re.split(r"\s*[|>]\s*", command)[0]  # the pipe's or redirect's first command
    words = shlex.split(command.replace("$(which edgebind)", "edgebind"))
    if words[:1] == ["sudo"]:
        words = words[1:]
    if words and words[0] == "torchrun":
        words = words[words.index("edgebind"):] if "edgebind" in words else []
    if not words or Path(words[0]).name != "edgebind":
        return None
    return words[1:]
