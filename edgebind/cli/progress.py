"""One progress helper for every long CLI step: a rich bar (or a spinner when the total is unknown) on a terminal,
nothing with ``--json`` or when stdout or stderr is not a terminal.

    with progress("exporting", total=None, quiet=as_json) as p:
        export_bundle(..., on_stage=p.stage)            # a spinner whose text follows the stages
    with progress("capturing", total=64, quiet=as_json) as p:
        capture(..., on_progress=lambda n: p.update(n))  # windows/total, elapsed and ETA
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Progress:
    """The handle a ``with progress(...)`` block gets; every method does nothing when the bar is not shown."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar, self._task = bar, task

    @property
    def shown(self) -> bool:
        """Whether a bar is drawn (a terminal, and not ``quiet``)."""
        return self._bar is not None

    def update(self, completed: float | None = None, total: float | None = None,
               description: str | None = None) -> None:
        """Set the completed count, the total or the text."""
        if self._bar is None:
            return
        kwargs: dict[str, Any] = {}
        if completed is not None:
            kwargs["completed"] = completed
        if total is not None:
            kwargs["total"] = total
        if description is not None:
            kwargs["description"] = description
        self._bar.update(self._task, **kwargs)

    def advance(self, steps: float = 1.0, description: str | None = None) -> None:
        """Add ``steps`` to the completed count (and change the text)."""
        if self._bar is None:
            return
        self._bar.update(self._task, advance=steps, **({"description": description} if description else {}))

    def stage(self, description: str) -> None:
        """A new stage of a step without a count (export's ONNX, quantize, parity ...): the text changes."""
        self.update(description=description)


def on_terminal() -> bool:
    """Whether both stdout and stderr are terminals (a pipe or a file gets no progress)."""
    return sys.stdout.isatty() and sys.stderr.isatty()


@contextmanager
def progress(description: str, total: float | None = None, *, quiet: bool = False, console: Any = None,
             transient: bool = True) -> Iterator[Progress]:
    """A progress bar on stderr for the block; yields a :class:`Progress`.

    Args:
        description: the text beside the bar.
        total: the number of steps (windows, runners, batches); None shows a spinner and the elapsed time.
        quiet: never show it (``--json``).
        console: a ``rich.console.Console`` to draw on. Defaults to stderr, shown only when stdout and stderr are
            both terminals; a given console is shown when it is a terminal (tests pass ``force_terminal=True``).
        transient: remove the bar when the block ends. Defaults to True.
    """
    if quiet or (console is None and not on_terminal()):
        yield Progress()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    console = console if console is not None else Console(stderr=True)
    if not console.is_terminal:
        yield Progress()
        return
    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    else:
        columns += [TimeElapsedColumn()]
    with RichProgress(*columns, console=console, transient=transient) as bar:
        yield Progress(bar, bar.add_task(description, total=total))
