"""Parity: does the exported artifact reproduce the fp32 PyTorch encoder? (STYLE.md §4, Polygraphy's
``OutputCompareResult``).

Three figures per input split (seeded inputs; held-out calibration windows where int8 was calibrated):
cosine similarity to the fp32 PyTorch output (worst sample), max absolute difference of the unit-normalised
embeddings, and zero-shot top-1 agreement on the bundle's label bank. Thresholds per precision live in ONE
table, :data:`TOLERANCES`. A failing export raises :class:`ParityError` with the figures and the tolerance that
would have passed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgebind.errors import ConfigError, ParityError, suggest

PARITY = "parity.npz"
"""The bundle file holding each encoder's parity inputs and fp32 PyTorch references (written at export, read by
build-engine and the engine check)."""


@dataclass(frozen=True)
class Tolerance:
    """Pass criteria for one precision.

    Attributes:
        min_cosine: worst per-sample cosine similarity to the fp32 PyTorch output.
        max_abs: largest absolute difference of any element of the unit-normalised embeddings.
        min_top1: fraction of samples whose best label (label bank) matches PyTorch's; unchecked without labels.
    """

    min_cosine: float
    max_abs: float
    min_top1: float

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


# The one threshold table. max_abs is on unit vectors (an element is ~0.03 for out_dim 1024).
TOLERANCES: dict[str, Tolerance] = {
    "fp32": Tolerance(min_cosine=0.99999, max_abs=1e-4, min_top1=1.0),
    "fp16": Tolerance(min_cosine=0.999, max_abs=5e-3, min_top1=0.9),
    "int8": Tolerance(min_cosine=0.98, max_abs=5e-2, min_top1=0.75),
}
SEEDED_SAMPLES = 8
"""Seeded inputs parity always runs (plus any held-out calibration windows)."""
MAX_HELDOUT = 32


def tolerance_for(precision: str, overrides: Mapping[str, float] | None = None) -> Tolerance:
    """The table's tolerance for ``precision``, with named fields replaced (``--tolerance min_cosine=0.97``).

    Raises:
        ConfigError: unknown precision or field name.
    """
    if precision not in TOLERANCES:
        raise ConfigError(f"no parity tolerance for precision '{precision}'.{suggest(precision, TOLERANCES)}")
    tol = TOLERANCES[precision]
    names = {f.name for f in dataclasses.fields(Tolerance)}
    for k in overrides or {}:
        if k not in names:
            raise ConfigError(f"unknown tolerance '{k}'.{suggest(k, names)} Use e.g. --tolerance min_cosine=0.97.")
    return dataclasses.replace(tol, **dict(overrides or {}))


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def compare(actual: np.ndarray, reference: np.ndarray, bank: Any = None) -> dict[str, Any]:
    """Figures for one split.

    Args:
        actual: (N, D) artifact outputs (any scale).
        reference: (N, D) fp32 PyTorch outputs.
        bank: a LabelBank of width D, or None (top-1 then is None).

    Returns:
        ``{"samples", "min_cosine", "mean_cosine", "max_abs", "max_abs_scaled", "top1_agreement"}``.
    """
    a, r = _unit(actual), _unit(reference)
    cos = (a * r).sum(-1)
    top1 = None
    if bank is not None and len(bank.names) > 1:
        top1 = float(np.mean(bank.top1(actual) == bank.top1(reference)))
    return {
        "samples": len(a),
        "min_cosine": float(cos.min()),
        "mean_cosine": float(cos.mean()),
        "max_abs": float(np.abs(a - r).max()),
        "max_abs_scaled": float(np.abs(np.asarray(actual, np.float64) - np.asarray(reference, np.float64)).max()),
        "top1_agreement": top1,
    }


def _failures(fig: Mapping[str, Any], tol: Tolerance) -> list[str]:
    out = []
    if fig["min_cosine"] < tol.min_cosine:
        out.append(f"min cosine {fig['min_cosine']:.6f} < {tol.min_cosine}")
    if fig["max_abs"] > tol.max_abs:
        out.append(f"max abs {fig['max_abs']:.3g} > {tol.max_abs:g}")
    if fig["top1_agreement"] is not None and fig["top1_agreement"] < tol.min_top1:
        out.append(f"top-1 agreement {fig['top1_agreement']:.3f} < {tol.min_top1}")
    return out


def measure_parity(
    run: Callable[[np.ndarray], np.ndarray],
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
    precision: str,
    bank: Any = None,
    overrides: Mapping[str, float] | None = None,
    artifact: str = "onnxruntime",
) -> dict[str, Any]:
    """Run the artifact on every split and compare with the reference outputs.

    Args:
        run: (N, ...) inputs -> (N, D) artifact outputs (a Runner's ``embed``).
        splits: name -> (inputs, fp32 PyTorch outputs), e.g. ``seeded`` and ``heldout``.
        precision: selects the row of :data:`TOLERANCES`.
        bank: the bundle's LabelBank for top-1 agreement, or None.
        overrides: tolerance fields to replace.
        artifact: what ran (recorded in the report).

    Returns:
        The report stored in the manifest: ``{"artifact", "precision", "reference", "tolerance", "splits",
        "passed", "failures"}``.
    """
    tol = tolerance_for(precision, overrides)
    figures: dict[str, Any] = {}
    failures: list[str] = []
    for name, (inputs, reference) in splits.items():
        fig = compare(run(inputs), reference, bank)
        figures[name] = fig
        failures += [f"{name}: {f}" for f in _failures(fig, tol)]
    return {
        "artifact": artifact,
        "precision": precision,
        "reference": "edgebind PyTorch encoder, fp32 eager",
        "tolerance": tol.to_dict(),
        "labels": None if bank is None else len(bank.names),
        "splits": figures,
        "passed": not failures,
        "failures": failures,
    }


def would_pass(report: Mapping[str, Any]) -> dict[str, float]:
    """The loosest figures measured over all splits: the tolerance that would have passed."""
    figs = list(report["splits"].values())
    out = {"min_cosine": min(f["min_cosine"] for f in figs), "max_abs": max(f["max_abs"] for f in figs)}
    top = [f["top1_agreement"] for f in figs if f["top1_agreement"] is not None]
    if top:
        out["min_top1"] = min(top)
    return out


def check_parity(report: Mapping[str, Any], modality: str) -> None:
    """Raise if ``report`` failed.

    Raises:
        ParityError: naming every failed figure, the tolerance that would have passed, and what to try.
    """
    if report["passed"]:
        return
    loose = would_pass(report)
    flags = " ".join(f"--tolerance {k}={_floor(k, v)}" for k, v in loose.items())
    hint = {
        "int8": "try --calibration-method percentile or entropy, more calibration windows, or --fp16",
        "fp16": "check the fp32 export first (--target cpu without --fp16); fp16 should lose < 1e-3",
        "fp32": "the export itself is wrong; report it with the bundle's manifest.json",
    }[report["precision"]]
    raise ParityError(
        f"{modality} {report['precision']} {report['artifact']} export failed parity against PyTorch fp32: "
        f"{'; '.join(report['failures'])}. It would have passed with {flags}; {hint}."
    )


def _floor(name: str, value: float) -> str:
    """A tolerance value rounded outward so that it passes (cosine down, max_abs up)."""
    if name == "max_abs":
        return f"{float(np.format_float_positional(value * 1.0001, precision=4, unique=False, fractional=False)):g}"
    return f"{np.floor(value * 1e6) / 1e6:.6f}"


__all__ = ["PARITY", "TOLERANCES", "Tolerance", "check_parity", "compare", "measure_parity", "tolerance_for",
           "would_pass"]
