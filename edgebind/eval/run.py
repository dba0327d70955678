"""``evaluate``: labelled recordings + a model + labels.txt -> every method's figures on the same windows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import ConfigError, InputError
from edgebind.eval.data import GROUP_BY, load_windows, pick_group_by
from edgebind.eval.methods import bank_predictions, kshot_predictions, probe_predictions
from edgebind.eval.report import EvalReport, MethodResult, summarise

DEFAULT_KS = (1, 5, 10)
DEFAULT_SEEDS = 10


def evaluate(data: Sequence[str | Path], labels: str | Path | None = None, *, bundle: str | Path | None = None,
             checkpoint: str | Path | None = None, overrides: Mapping[str, Any] | None = None,
             truth: Sequence[str | Path] = (), support: Sequence[str | Path] = (),
             support_truth: Sequence[str | Path] = (), ks: Sequence[int] = DEFAULT_KS, seeds: int = DEFAULT_SEEDS,
             seed: int = 0, hop_s: float = 1.0, group_by: str = "auto", probe: bool = True,
             backend: str | None = None, threads: int | None = None) -> EvalReport:
    """Score labelled recordings with the label bank, k-shot prototypes and a linear probe, on the same windows.

    A bundle runs without torch (ONNX Runtime or TensorRT); only the linear probe needs scikit-learn.

    Args:
        data: Recording files with a label track (or ``truth`` CSVs).
        labels: labels.txt (text prompts and taught examples). Defaults to the bundle's label bank.
        bundle: an exported bundle. Defaults to ``$EDGEBIND_BUNDLE`` or the last export, unless ``checkpoint``.
        checkpoint: a checkpoint run with torch.
        overrides: ``--set`` values for the checkpoint.
        truth: ``start_s,end_s,label`` CSVs, one per data file, replacing their label tracks.
        support: recordings to draw k-shot examples from instead of a split of ``data``.
        support_truth: truth CSVs for ``support``, one per file.
        ks: examples per class for k-shot; 0 entries are skipped. Defaults to 1, 5, 10.
        seeds: k-shot runs, each with its own draw of examples. Defaults to 10.
        seed: the first seed (runs use ``seed .. seed + seeds - 1``); also seeds the bootstrap. Defaults to 0.
        hop_s: seconds between windows, as ``stream --hop``. Defaults to 1.0.
        group_by: ``recording``, ``segment`` (one label-track entry) or ``auto``. Defaults to ``auto``: recording
            when every class occurs in two recordings or more.
        probe: run the linear probe. Defaults to True.
        backend, threads: the bundle runner.

    Raises:
        ConfigError: scikit-learn is not installed and ``probe`` is set.
        EdgebindError: bad data, truth, labels or k; each message names the fix.
    """
    import importlib.util

    from edgebind.errors import check_known
    from edgebind.paths import find_bundle, find_checkpoint
    from edgebind.stream.encoders import open_encoders
    from edgebind.stream.labels import label_source_for

    if probe and importlib.util.find_spec("sklearn") is None:  # only the linear probe fits with scikit-learn
        raise ConfigError("the linear probe needs scikit-learn, which is not installed: pip install 'edgebind[eval]', "
                          "or pass --no-probe.")
    check_known("--group-by", [group_by], GROUP_BY)
    if seeds < 1 or any(k < 0 for k in ks):
        raise ConfigError(f"--seeds ({seeds}) must be at least 1 and every --k ({list(ks)}) at least 0 (0: no k-shot).")
    ks = [k for k in ks if k > 0]
    if set(map(str, data)) & set(map(str, support)):
        raise InputError("a file is both in DATA and in --support; examples and scored windows must come from "
                         "different recordings.")
    if bundle is not None and checkpoint is not None:
        raise ConfigError("pass either --bundle or --checkpoint, not both.")
    bundle_dir = find_bundle(bundle) if checkpoint is None else None
    ckpt = find_checkpoint(checkpoint) if checkpoint is not None else None
    with open_encoders(bundle_dir, ckpt, overrides, backend, threads) as enc:
        imu = enc.model("imu")
        bank = label_source_for(labels, enc).bank
        windows = load_windows(data, imu.embed, imu.contract, hop_s, truth)
        sup = load_windows(support, imu.embed, imu.contract, hop_s, support_truth) if support else None
        source = enc.source
    named = {n.lower() for n in bank.names}
    classes = sorted(c for c in set(windows.truth.tolist()) if c.lower() in named)
    dropped = {c: int(np.sum(windows.truth == c)) for c in sorted(set(windows.truth.tolist())) if c not in classes}
    if not classes:
        raise InputError(f"none of the true labels ({', '.join(dropped)}) is a label in labels.txt "
                         f"({', '.join(bank.names)}); name the recordings' classes there.")
    windows = windows.subset(np.isin(windows.truth, classes))
    by = pick_group_by(windows, group_by)
    groups = windows.groups(by)
    zero_shot = all(kind == "text" for kind in bank.kinds)
    results: list[MethodResult] = [summarise("text prompts" if zero_shot else "label bank",
                                             bank_predictions(bank, windows, groups), classes, 1 / len(bank.names),
                                             seed=seed)]
    run_seeds = list(range(seed, seed + seeds))
    for k in ks:
        preds = kshot_predictions(windows, groups, classes, k, run_seeds,
                                  sup.subset(np.isin(sup.truth, classes)) if sup is not None else None, by)
        results.append(summarise("k-shot", preds, classes, 1 / len(classes), k=k, seed=seed))
    if probe:
        results.append(summarise("probe", probe_predictions(windows, groups, seed), classes, 1 / len(classes),
                                 seed=seed))
    return EvalReport(results, classes, len(windows), windows.skipped, dropped, by, len(np.unique(groups)),
                      dict(zip(bank.names, bank.kinds, strict=True)), source, hop_s, run_seeds,
                      [str(p) for p in data])
