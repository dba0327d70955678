"""Example-based labels: IMU windows a user recorded stand for a label instead of (or beside) words.

A labels.txt line ``walking: @walk.npz | a person walking`` names an example file (relative to labels.txt). The
label's row in the bank is the prototype of its examples: each window is embedded by the IMU encoder, the unit
embeddings are averaged and normalised again (the prototype of prototypical networks, Snell et al. 2017). When the
line also gives prompt text, the row is ``unit((1 - w) * prototype + w * text_row)`` with ``w = TEXT_WEIGHT``.

An example file is an ``.npz`` (no pickles) with ``windows`` (K, 6, num_samples) float32 in the IMU contract's units,
as ``edgebind labels teach`` writes it; a Recording ``.npz`` works too (cut into windows every ``window_s``).
This module does not embed text: text rows come from :mod:`edgebind.zeroshot` / :mod:`edgebind.stream.labels`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import ConfigError, InputError
from edgebind.preprocess.imu import DEFAULT_IMU_CONTRACT, ImuContract
from edgebind.zeroshot import LabelBank, LabelSpec, unit_rows

log = logging.getLogger(__name__)

TEXT_WEIGHT = 0.5
"""Weight of the text row beside the example prototype in an ``examples+text`` label (both unit vectors)."""

EmbedWindows = Callable[[np.ndarray], np.ndarray]


def example_path(spec_file: str, labels_path: str | Path) -> Path:
    """An ``@file`` of labels.txt resolved against the labels file's folder."""
    p = Path(spec_file).expanduser()
    return p if p.is_absolute() else Path(labels_path).parent / p


def load_examples(path: str | Path, contract: ImuContract = DEFAULT_IMU_CONTRACT) -> np.ndarray:
    """The example windows of one file.

    Args:
        path: an examples ``.npz`` (``windows`` array) or a Recording ``.npz``.
        contract: the IMU contract the windows must follow. Defaults to 6 x 2000 at 400 Hz.

    Returns:
        (K, 6, num_samples) float32, K >= 1.

    Raises:
        InputError: the file is missing, holds no windows, or windows of another shape.
    """
    from edgebind.bridge.recording import Recording
    from edgebind.preprocess.imu import check_imu_input, windows_from_recording

    path = Path(path)
    if not path.is_file():
        raise InputError(f"example file {path} does not exist; record examples with "
                         f"'edgebind labels teach PORT LABEL --seconds 10' or fix the '@' path in labels.txt.")
    with np.load(path, allow_pickle=False) as z:
        files = set(z.files)
        windows = z["windows"] if "windows" in files else None
    if windows is None:
        if not {"imu", "imu_t_ns"} <= files:
            raise InputError(f"example file {path} has neither 'windows' nor a Recording's 'imu'/'imu_t_ns' "
                             f"(it has {sorted(files)}); write it with 'edgebind labels teach'.")
        windows = windows_from_recording(Recording.load(path), contract.window_s, contract)[0]
    if len(windows) == 0:
        raise InputError(f"example file {path} holds no windows; teach the label again "
                         "('edgebind labels teach PORT LABEL --seconds 10').")
    return check_imu_input(windows, contract)


def append_examples(path: str | Path, windows: np.ndarray, meta: dict[str, Any] | None = None) -> int:
    """Add windows to an examples file (created if absent), replacing it atomically. Returns the total count.

    Raises:
        InputError: the new windows' shape differs from the file's.
    """
    path = Path(path)
    new = np.asarray(windows, dtype=np.float32)
    old_meta: dict[str, Any] = {}
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            old = z["windows"]
            old_meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
        if old.shape[1:] != new.shape[1:]:
            raise InputError(f"{path} holds windows of shape {old.shape[1:]}, the new ones are {new.shape[1:]}; "
                             "teach into another file (--examples) or delete the old one.")
        new = np.concatenate([old, new])
    from edgebind.atomicfile import atomic_write

    with atomic_write(path) as f:
        np.savez_compressed(f, windows=new, meta=np.array(json.dumps({**old_meta, **(meta or {})})))
    return len(new)


def unit_mean(embeddings: np.ndarray) -> np.ndarray:
    """(K, D) embeddings (any scale) -> (D,) the normalised mean of their unit vectors: a class prototype."""
    return unit_rows(unit_rows(np.asarray(embeddings, dtype=np.float32)).mean(axis=0))


def prototype(windows: np.ndarray, embed: EmbedWindows) -> np.ndarray:
    """(K, 6, T) windows -> (out_dim,) :func:`unit_mean` of their embeddings."""
    return unit_mean(embed(windows))


def with_examples(text_bank: LabelBank | None, specs: Sequence[LabelSpec], labels_path: str | Path,
                  embed: EmbedWindows | None, contract: ImuContract = DEFAULT_IMU_CONTRACT,
                  logit_scale: float = 5.0) -> LabelBank:
    """The bank for ``specs``: text rows from ``text_bank`` (matched by name), example labels from their windows.

    Args:
        text_bank: rows for every spec that is ``text`` or ``examples+text`` (None when all are ``examples``).
        specs: the parsed labels, in order.
        labels_path: labels.txt, against whose folder ``@`` files are resolved.
        embed: the IMU encoder ((K, 6, T) -> (K, out_dim)); needed when a spec has examples.
        contract: the encoder's IMU contract.
        logit_scale: the bank's scale when ``text_bank`` is None. Defaults to 5.0 (IMU).

    Raises:
        ConfigError: example labels but no IMU encoder, or embeddings wider than the text rows.
        InputError: an example file is missing or empty.
    """
    needs_examples = [s for s in specs if s.examples]
    if needs_examples and embed is None:
        raise ConfigError(f"labels {', '.join(s.name for s in needs_examples[:5])} are defined by examples but no "
                          "IMU encoder is at hand to embed them; use a bundle or checkpoint with an IMU encoder.")
    text_rows = {n.lower(): row for n, row in zip(text_bank.names, text_bank.embeddings, strict=True)} \
        if text_bank is not None else {}
    rows, kinds, counts = [], [], {}
    for spec in specs:
        text_row = text_rows.get(spec.name.lower())
        if not spec.examples:
            assert text_row is not None, spec.name
            rows.append(text_row)
        else:
            assert embed is not None
            windows = np.concatenate([load_examples(example_path(f, labels_path), contract) for f in spec.examples])
            proto = prototype(windows, embed)
            counts[spec.name] = len(windows)
            if spec.prompts:
                assert text_row is not None, spec.name
                if len(text_row) != len(proto):
                    raise ConfigError(f"label '{spec.name}': the IMU encoder embeds at width {len(proto)} but the "
                                      f"text rows have width {len(text_row)}; use text and encoder of one space.")
                proto = unit_rows((1 - TEXT_WEIGHT) * proto + TEXT_WEIGHT * text_row)
            rows.append(proto)
        kinds.append(spec.kind)
    if text_bank is None:
        return LabelBank([s.name for s in specs], np.stack(rows), logit_scale=logit_scale,
                         meta={"examples": counts}, kinds=kinds)
    return LabelBank([s.name for s in specs], np.stack(rows), text_bank.templates, text_bank.logit_scale,
                     {**text_bank.meta, "examples": counts}, kinds)


@dataclass
class TaughtLabel:
    """What :func:`teach_label` did.

    Attributes:
        label: the label taught.
        examples: the examples file written.
        added: windows added now.
        total: windows in the file now.
        new_label: the label was not in labels.txt before.
    """

    label: str
    examples: Path
    added: int
    total: int
    new_label: bool


def default_examples_file(labels_path: str | Path, label: str) -> Path:
    """``<labels dir>/examples/<label>.npz`` with the label made file-name safe."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", label.strip()).strip("_").lower() or "label"
    return Path(labels_path).parent / "examples" / f"{slug}.npz"


def teach_label(labels_path: str | Path, label: str, windows: np.ndarray, examples: str | Path | None = None,
                meta: dict[str, Any] | None = None) -> TaughtLabel:
    """Append example windows for ``label`` and make labels.txt name the examples file.

    The label's line gains ``@file`` (its prompt text stays, so it becomes ``examples+text``); a label not in the
    file gets a new line ``label: @file``. labels.txt is replaced atomically, so a running stream re-reads it whole,
    and left alone when it already names the file (the stream then re-reads because the examples file changed).

    Args:
        labels_path: labels.txt (created if absent).
        label: the label name.
        windows: (K, 6, num_samples) float32 windows to add.
        examples: the examples file. Defaults to :func:`default_examples_file`.
        meta: provenance stored with the windows (port, seconds, time).

    Raises:
        InputError: no windows, a bad label name, or windows of another shape than the file's.
    """
    from edgebind.zeroshot import parse_labels

    labels_path = Path(labels_path)
    name = label.strip()
    if not name or any(c in name for c in ":#|@\n"):
        raise InputError(f"label {label!r} cannot be a labels.txt name; use letters, digits and spaces.")
    if len(windows) == 0:
        raise InputError(f"no windows were recorded for '{name}'; record longer (--seconds) than one window.")
    ex_path = Path(examples) if examples is not None else default_examples_file(labels_path, name)
    total = append_examples(ex_path, windows, meta)
    try:
        ref = ex_path.resolve().relative_to(labels_path.parent.resolve()).as_posix()
    except ValueError:
        ref = str(ex_path.resolve())
    text = labels_path.read_text(encoding="utf-8-sig") if labels_path.is_file() else ""
    lines, found = text.splitlines(), False
    for i, raw in enumerate(lines):
        body, hash_, comment = raw.partition("#")
        if not body.strip() or body.partition(":")[0].strip().lower() != name.lower():
            continue
        found = True
        spec = parse_labels(body, str(labels_path))[0]
        if ref not in spec.examples:
            items = [*(f"@{e}" for e in (*spec.examples, ref)), *spec.prompts]
            lines[i] = f"{spec.name}: {' | '.join(items)}" + (f"  {hash_}{comment}" if hash_ else "")
    if not found:
        lines.append(f"{name}: @{ref}")
    new_text = "\n".join(lines) + "\n"
    if new_text != text:  # unchanged: a stream notices the examples file itself
        tmp = labels_path.with_name(labels_path.name + ".tmp")
        labels_path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(new_text, encoding="utf-8")
        tmp.replace(labels_path)
    log.info("taught '%s': %d windows added to %s (%d in all)", name, len(windows), ex_path, total)
    return TaughtLabel(name, ex_path, len(windows), total, not found)


def describe_labels(labels_path: str | Path, contract: ImuContract = DEFAULT_IMU_CONTRACT) -> list[dict[str, Any]]:
    """One dict per label of labels.txt: name, kind, prompts, examples ({file: windows}); no model needed.

    Raises:
        InputError: a bad labels file, or a missing or empty example file.
    """
    from edgebind.zeroshot import read_labels

    out = []
    for spec in read_labels(labels_path):
        files = {f: len(load_examples(example_path(f, labels_path), contract)) for f in spec.examples}
        out.append({"name": spec.name, "kind": spec.kind, "prompts": list(spec.prompts), "examples": files})
    return out


def teach(port: str, label: str, labels_path: str | Path, seconds: float = 10.0, *,
          examples: str | Path | None = None, hop_s: float = 1.0, contract: ImuContract = DEFAULT_IMU_CONTRACT,
          fmt: str = "auto", baud: int = 921600, rate_hz: float | None = None, idle_s: float = 2.0,
          calibration: str | Path | None = None, units: Any = None, stop: Any = None) -> TaughtLabel:
    """Record ``seconds`` of live IMU data from ``port``, cut it into windows and teach them as ``label``.

    Args:
        port: serial device, simulator pty or pyserial URL; or a recorded file, taught whole: a ROS 2 bag (rosbag2
            directory, ``.db3``, ``.mcap``) or a Recording ``.npz``.
        label: the label the windows show.
        labels_path: labels.txt to update (created if absent).
        seconds: how long to record. Defaults to 10 (six 5 s windows at a 1 s hop).
        examples: the examples file. Defaults to ``examples/<label>.npz`` beside labels.txt.
        hop_s: seconds between windows. Defaults to 1.0.
        contract: the IMU contract of the windows. Defaults to 6 x 2000 at 400 Hz.
        fmt, baud, rate_hz: the link (see ``edgebind record``).
        idle_s: stop early once the link is silent this long. Defaults to 2.0.
        calibration: a calibration profile applied before windowing.
        units: ``UnitOptions`` of text lines (``--sensor`` for raw counts, ``--accel-unit``, ``--gyro-unit``).
        stop: a ``threading.Event`` that ends the recording early (SIGINT/SIGTERM/SIGHUP through
            ``edgebind.lifecycle.StopSignals``); the windows recorded so far are taught. Defaults to None.

    Raises:
        SensorError: the port cannot be opened.
        InputError: the recording is shorter than one window (the message says how long to record).
    """
    import time

    from edgebind.bridge.record import record
    from edgebind.preprocess.imu import windows_from_recording
    from edgebind.ros import is_bag, load_recording

    if is_bag(port) or port.lower().endswith(".npz"):  # a recording: its IMU, whole
        rec = load_recording(port, modalities=("imu",))
    else:
        rec = record(port, duration_s=seconds, fmt=fmt, baud=baud, rate_hz=rate_hz, idle_s=idle_s, units=units,
                     stop=stop)
    if calibration is not None:
        from edgebind.calibration.apply import calibrate_recording

        rec = calibrate_recording(rec, calibration)
    windows = windows_from_recording(rec, hop_s, contract)[0]
    meta = {"label": label, "port": port, "taught_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "sensor": rec.meta.get("imu_sensor", ""), "hop_s": hop_s}
    return teach_label(labels_path, label, windows, examples, {f"teach_{int(time.time())}": meta})


def describe_bank(bundle: str | Path | None = None) -> list[dict[str, Any]]:
    """:func:`describe_labels` rows for a bundle's label bank (``$EDGEBIND_BUNDLE`` or the last export by default).

    Raises:
        BundleError: no bundle, or a bundle without a label bank.
    """
    from edgebind.bundle import load_bundle
    from edgebind.errors import BundleError
    from edgebind.paths import find_bundle

    path = find_bundle(bundle)
    bank = load_bundle(path).label_bank()
    if bank is None:
        raise BundleError(f"bundle {path} has no label bank; pass --labels labels.txt, or re-export it with --labels.")
    counts = bank.meta.get("examples", {})
    return [{"name": n, "kind": k, "prompts": [], "examples": {"(in bank)": counts[n]} if n in counts else {}}
            for n, k in zip(bank.names, bank.kinds, strict=True)]
