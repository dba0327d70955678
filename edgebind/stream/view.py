"""What people see while ``stream`` runs: a rich renderable over the latest labels and counters (no printing here;
``cli/`` puts it in a ``rich.live.Live``)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from edgebind.stream.pipeline import LabelResult
from edgebind.stream.stats import StreamStats

BAR_WIDTH = 12


def _bar(p: float) -> str:
    filled = round(max(0.0, min(1.0, p)) * BAR_WIDTH)
    return "█" * filled + "·" * (BAR_WIDTH - filled)


class StreamView:
    """Latest result per modality, a short history and the run's counters, rendered as a rich table.

    Args:
        stats: the run's live counters.
        idle_s: returns seconds since bytes last arrived (for "waiting for the device").
        title: headline. Defaults to "edgebind stream".
        history: recent labels kept per modality. Defaults to 8.
    """

    def __init__(self, stats: StreamStats, idle_s: Callable[[], float] | None = None,
                 title: str = "edgebind stream", history: int = 8) -> None:
        self.stats, self.idle_s, self.title = stats, idle_s, title
        self._latest: dict[str, LabelResult] = {}
        self._history: dict[str, deque[str]] = {}
        self._keep = history
        self._lock = threading.Lock()

    def update(self, result: LabelResult) -> None:
        """Record a result (any thread)."""
        with self._lock:
            self._latest[result.modality] = result
            self._history.setdefault(result.modality, deque(maxlen=self._keep)).append(result.label)

    def __rich__(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            latest = dict(self._latest)
            history = {m: list(h) for m, h in self._history.items()}
        table = Table(title=self.title, expand=False, show_lines=False)
        table.add_column("stream")
        table.add_column("label", style="bold")
        table.add_column("top labels (smoothed probability)")
        table.add_column("latency", justify="right")
        table.add_column("count", justify="right")
        summary = self.stats.summary()
        for modality, res in latest.items():
            top = "\n".join(f"{_bar(p)} {p:5.2f} {name}" for name, p in res.decision.top_k)
            counts = summary.modalities.get(modality, {})
            lat = counts.get("latency", {}).get("p99_ms")
            latency = f"{res.latency_ms:6.1f} ms\np99 {lat:.1f} ms" if lat is not None else f"{res.latency_ms:.1f} ms"
            count = f"{counts.get('labelled', 0)} labelled\n{counts.get('skipped', 0)} skipped"
            label = Text(res.label, style="yellow" if res.label == "unknown" else "green")
            table.add_row(f"{modality}\nt={res.t_end_ns / 1e9:.1f} s", label, top, latency, count)
            table.add_row("", Text(" ".join(history.get(modality, [])[-self._keep :]), style="dim"), "", "", "")
        if not latest:
            table.add_row("-", Text("waiting for the first window", style="dim"), "", "", "")
        idle = self.idle_s() if self.idle_s is not None else 0.0
        link = (f"{summary.decode_errors} decode errors, {summary.samples_lost} samples lost, "
                f"{len(summary.disconnects)} disconnects")
        if idle > 1.0 and idle != float("inf"):
            link = f"no data for {idle:.0f} s, waiting for the device... " + link
        table.caption = link
        return table
