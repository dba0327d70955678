"""The three ways ``eval`` labels the same windows: the label bank (zero-shot text prompts, or taught examples),
k-shot prototypes, and a linear probe. Each returns predictions for the windows it scores.

Leakage is impossible by construction: k-shot support windows come from whole groups (recordings or label
segments, which never share device time) that are then removed from the query windows, or from separate
``--support`` recordings; the probe is cross-validated by the same groups, never by window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgebind.errors import InputError
from edgebind.eval.data import LabelledWindows
from edgebind.exemplars import unit_mean
from edgebind.zeroshot import LabelBank

PROBE_MAX_LOGO_GROUPS = 10  # up to this many groups the probe leaves one out; above, 5 stratified group folds


@dataclass
class Predictions:
    """One method's predictions, pooled over its runs (seeds or folds).

    Attributes:
        truth, pred: (P,) labels of every scored window of every run.
        groups: (P,) group of each, for the cluster bootstrap.
        run: (P,) run (seed) index of each.
    """

    truth: np.ndarray
    pred: np.ndarray
    groups: np.ndarray
    run: np.ndarray


def bank_predictions(bank: LabelBank, windows: LabelledWindows, groups: np.ndarray) -> Predictions:
    """Each window's best label in ``bank`` (spelled as the truth spells it where the names match)."""
    spelling = {c.lower(): c for c in np.unique(windows.truth)}
    names = np.array([spelling.get(n.lower(), n) for n in bank.names])
    pred = names[bank.top1(windows.embeddings)]
    return Predictions(windows.truth, pred, groups, np.zeros(len(pred), np.int64))


def support_split(windows: LabelledWindows, groups: np.ndarray, classes: Sequence[str], k: int, seed: int,
                  group_name: str = "group") -> tuple[np.ndarray, np.ndarray]:
    """Seeded k-shot split: ``k`` support windows per class drawn from whole groups; the query is every window of
    every other group.

    Returns:
        (support, query) index arrays into ``windows``.

    Raises:
        InputError: a class in fewer than two groups, fewer than ``k`` windows outside a class's last group, or a
            class left without query windows.
    """
    rng = np.random.default_rng(seed)
    used: list[int] = []
    support: list[int] = []
    for c in classes:
        idx = np.flatnonzero(windows.truth == c)
        own = np.unique(groups[idx])
        if len(own) < 2:
            raise InputError(f"class '{c}' occurs in only one {group_name}; k-shot needs two (one for examples, one "
                             "to score) so that no window is both. Add recordings, or pass --support FILE.")
        reused = np.isin(own, used)  # already out of the query for an earlier class: draw from these first
        fresh = rng.permutation(own[~reused])
        if len(fresh) == 0:
            raise InputError(f"with k={k}, class '{c}' has no {group_name} left to score after drawing examples of "
                             "the classes before it; use a smaller --k or add recordings.")
        taken, n = [], 0
        for g in [*rng.permutation(own[reused]), *fresh[:-1]]:  # one fresh group stays for the query
            taken.append(g)
            n += int(np.sum(groups[idx] == g))
            if n >= k:
                break
        if n < k:
            raise InputError(f"k={k} is larger than the {n} windows of class '{c}' that can serve as examples "
                             f"(all its {group_name}s but one); use --k {n} or less, or add recordings.")
        pool = idx[np.isin(groups[idx], taken)]
        support.extend(np.sort(rng.choice(pool, k, replace=False)).tolist())
        used.extend(g for g in taken if g not in used)
    query = np.flatnonzero(~np.isin(groups, used))
    missing = [c for c in classes if not np.any(windows.truth[query] == c)]
    if missing:
        raise InputError(f"with k={k}, class(es) {', '.join(missing)} have no {group_name} left to score after "
                         "drawing examples; use a smaller --k or add recordings.")
    sup = np.array(support, dtype=np.int64)
    if windows.overlaps(sup, query):  # cannot happen: groups never share device time
        raise AssertionError("a support window overlaps a query window")
    return sup, query


def draw_support(support: LabelledWindows, classes: Sequence[str], k: int, seed: int) -> np.ndarray:
    """``k`` seeded windows per class from a separate support set.

    Raises:
        InputError: a class missing from the support set, or fewer than ``k`` windows of one.
    """
    rng = np.random.default_rng(seed)
    out = []
    for c in classes:
        idx = np.flatnonzero(support.truth == c)
        if len(idx) == 0:
            have = ", ".join(sorted(set(support.truth.tolist())))
            raise InputError(f"the --support set has no window of class '{c}' (it has {have}); record examples of "
                             f"'{c}' into it, or leave --support out to draw examples from the data.")
        if len(idx) < k:
            raise InputError(f"k={k} is larger than the {len(idx)} --support windows of class '{c}'; use --k "
                             f"{len(idx)} or less, or record more examples.")
        out.extend(np.sort(rng.choice(idx, k, replace=False)).tolist())
    return np.array(out, dtype=np.int64)


def prototypes(embeddings: np.ndarray, truth: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """(C, D) prototype of each class, as an example-based label's row (:func:`edgebind.exemplars.unit_mean`)."""
    return np.stack([unit_mean(embeddings[truth == c]) for c in classes])


def kshot_predictions(windows: LabelledWindows, groups: np.ndarray, classes: Sequence[str], k: int,
                      seeds: Sequence[int], support: LabelledWindows | None = None,
                      group_name: str = "group") -> Predictions:
    """Nearest-prototype labels from ``k`` examples per class, one run per seed.

    Args:
        windows: the labelled windows to score.
        groups: their groups (recording or segment).
        classes: the classes to tell apart.
        k: examples per class.
        seeds: one run per seed; each draws its own examples.
        support: a separate set to draw examples from; None draws them from ``windows`` by group.
        group_name: what a group is, for messages.
    """
    parts = []
    for run, seed in enumerate(seeds):
        if support is None:
            sup, query = support_split(windows, groups, classes, k, seed, group_name)
            protos = prototypes(windows.embeddings[sup], windows.truth[sup], classes)
        else:
            sup = draw_support(support, classes, k, seed)
            query = np.arange(len(windows))
            protos = prototypes(support.embeddings[sup], support.truth[sup], classes)
        pred = np.asarray(classes)[np.argmax(windows.embeddings[query] @ protos.T, axis=1)]
        parts.append((windows.truth[query], pred, groups[query], np.full(len(query), run)))
    t, p, g, r = (np.concatenate(x) for x in zip(*parts, strict=True))
    return Predictions(t, p, g, r)


def probe_predictions(windows: LabelledWindows, groups: np.ndarray, seed: int = 0) -> Predictions:
    """Out-of-fold labels of a logistic regression on the embeddings, cross-validated by group.

    Up to ``PROBE_MAX_LOGO_GROUPS`` groups leave one group out at a time (leave-one-subject-out when each recording
    is one subject); more use 5 stratified group folds. A window is never in the fold that trained on its group.

    Raises:
        InputError: fewer than two groups, or a fold that trains on a single class.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise InputError("the linear probe needs windows from at least two groups to cross-validate; add "
                         "recordings or label segments.")
    cv = LeaveOneGroupOut() if n_groups <= PROBE_MAX_LOGO_GROUPS else \
        StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    try:
        pred = cross_val_predict(model, windows.embeddings, windows.truth, groups=groups, cv=cv)
    except ValueError as exc:  # a training fold with a single class
        raise InputError(f"the linear probe cannot train on one of its folds ({exc}); every class must occur in "
                         "at least two groups. Add recordings.") from None
    return Predictions(windows.truth, np.asarray(pred, dtype=str), groups, np.zeros(len(pred), np.int64))
