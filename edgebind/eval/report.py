"""What ``eval`` reports: one row per method (figure, 95 % interval, chance), text, JSON and a confusion plot."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import ConfigError
from edgebind.eval.methods import Predictions
from edgebind.eval.metrics import bootstrap_ci, confusion, score


@dataclass
class MethodResult:
    """One method's figures on the scored windows.

    Attributes:
        method: ``text prompts`` (the bank holds words only), ``label bank`` (taught examples in it), ``k-shot``,
            ``probe``.
        k: examples per class (k-shot), else None.
        runs: seeds (k-shot) or 1.
        windows: scored windows per run (mean).
        accuracy, macro_f1: pooled over runs, fractions.
        accuracy_ci, macro_f1_ci: 95 % cluster-bootstrap intervals (None from a single group).
        seed_sd: standard deviation of per-run accuracy over seeds (k-shot), else 0.
        recall: true class -> recall.
        chance: one over the number of labels the method chooses from.
        confusion: (C, C) counts over the classes, rows true.
    """

    method: str
    k: int | None
    runs: int
    windows: float
    accuracy: float
    accuracy_ci: tuple[float, float] | None
    macro_f1: float
    macro_f1_ci: tuple[float, float] | None
    seed_sd: float
    recall: dict[str, float]
    chance: float
    confusion: list[list[float]] = field(repr=False, default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.method} k={self.k}" if self.k is not None else self.method


def summarise(method: str, preds: Predictions, classes: list[str], chance: float, k: int | None = None,
              seed: int = 0) -> MethodResult:
    """Figures and intervals of one method's pooled predictions."""
    s = score(preds.truth, preds.pred, classes)
    ci = bootstrap_ci(preds.truth, preds.pred, preds.groups, classes, seed=seed)
    runs = np.unique(preds.run)
    per_run = [float(np.mean(preds.truth[preds.run == r] == preds.pred[preds.run == r])) for r in runs]
    return MethodResult(method, k, len(runs), len(preds.truth) / len(runs), s.accuracy, ci["accuracy"], s.macro_f1,
                        ci["macro_f1"], float(np.std(per_run)) if len(runs) > 1 else 0.0, s.recall, chance,
                        confusion(preds.truth, preds.pred, classes).tolist())


@dataclass
class EvalReport:
    """All methods on the same windows, and what the windows were.

    Attributes:
        results: one per method.
        classes: the true classes scored (those labels.txt names).
        windows: windows scored (with a truth whose class is a label).
        skipped: windows cut but without a truth (straddling a label change, or unlabelled time).
        dropped: windows whose true class labels.txt does not name, per class.
        group_by: ``recording`` or ``segment``: the unit of splits, cross-validation and bootstrap.
        groups: how many groups.
        labels: label name -> kind (``text``, ``examples``, ``examples+text``).
        source: the model (bundle or checkpoint).
        hop_s: seconds between windows.
        seeds: the seeds of the k-shot runs.
        recordings: the data files.
    """

    results: list[MethodResult]
    classes: list[str]
    windows: int
    skipped: int
    dropped: dict[str, int]
    group_by: str
    groups: int
    labels: dict[str, str]
    source: str
    hop_s: float
    seeds: list[int]
    recordings: list[str]

    def to_json(self) -> dict[str, Any]:
        """JSON-able dict (fractions, not percentages)."""
        return asdict(self)

    def lines(self) -> list[str]:
        """The table and per-class recall, as ``edgebind eval`` prints them."""
        out = [f"{self.windows} windows of {len(self.recordings)} recording(s), hop {self.hop_s:g} s, classes "
               f"{', '.join(self.classes)}; {self.skipped} windows straddle a label change or unlabelled time"
               + (f"; not in labels.txt: {', '.join(f'{c} ({n})' for c, n in self.dropped.items())}"
                  if self.dropped else "")
               + f"; splits and intervals by {self.group_by} ({self.groups} groups)",
               f"{'method':<16}{'runs':>5}{'windows':>9}  {'top-1':>6} {'95 % interval':>15}  {'macro-F1':>8} "
               f"{'95 % interval':>15}  {'chance':>6}"]
        for r in self.results:
            sd = f"  (seed sd {100 * r.seed_sd:.1f})" if r.runs > 1 else ""
            out.append(f"{r.name:<16}{r.runs:>5}{r.windows:>9.0f}  {100 * r.accuracy:>5.1f}% "
                       f"{_pct(r.accuracy_ci):>15}  {100 * r.macro_f1:>7.1f}% {_pct(r.macro_f1_ci):>15}  "
                       f"{100 * r.chance:>5.1f}%{sd}")
        out.append("recall per class:")
        for r in self.results:
            out.append(f"  {r.name:<14}" + ", ".join(f"{c} {100 * v:.0f}%" for c, v in r.recall.items()))
        out.append(f"labels: {', '.join(f'{n} ({kind})' for n, kind in self.labels.items())}; model: {self.source}")
        return out

    def plot(self, path: str | Path) -> Path:
        """Write a PNG with one row-normalised confusion matrix per method.

        Raises:
            ConfigError: matplotlib is not installed.
        """
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise ConfigError("--plot needs matplotlib; pip install 'edgebind[plot]'.") from None
        n = len(self.results)
        fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.8), squeeze=False, layout="constrained")
        for ax, r in zip(axes[0], self.results, strict=True):
            cm = np.asarray(r.confusion)
            rows = np.maximum(cm.sum(axis=1, keepdims=True), 1)
            ax.imshow(cm / rows, vmin=0, vmax=1, cmap="Blues")
            ax.set_title(f"{r.name}\n{100 * r.accuracy:.1f} % top-1", fontsize=9)
            ax.set_xticks(range(len(self.classes)), self.classes, rotation=45, ha="right", fontsize=7)
            ax.set_yticks(range(len(self.classes)), self.classes if ax is axes[0][0] else [], fontsize=7)
            for (i, j), v in np.ndenumerate(cm):
                if v:
                    ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6)
        axes[0][0].set_ylabel("true")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return path


def _pct(ci: tuple[float, float] | None) -> str:
    return "n/a (1 group)" if ci is None else f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"
