"""CLIP BPE tokenizer, id-for-id identical to ImageBind's ``SimpleTokenizer`` (SPEC.md §5).

ImageBind (``imagebind/models/multimodal_preprocessors.py``) uses OpenAI CLIP's byte-level BPE with the
first 48,894 merges of ``bpe_simple_vocab_16e6.txt.gz``: 256 byte tokens + 256 ``</w>`` variants + merges +
SOT + EOT = 49,408 ids. Text is cleaned with ``ftfy.fix_text``, HTML-unescaped twice, whitespace-collapsed
and lowercased. Output is ``[SOT] + bpe(text)`` cut to ``context_length - 1`` with EOT always appended
(ImageBind commit 1125e1e), zero-padded, int64. This module needs numpy, ftfy and regex, not torch.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import html
import logging
import warnings
from collections.abc import Sequence
from importlib import resources

import numpy as np

from edgebind.errors import ConfigError, InputError

logger = logging.getLogger(__name__)

VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
VOCAB_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
NUM_MERGES = 48_894  # merges[1 : 49152 - 256 - 2 + 1] in CLIP's simple_tokenizer.py
VOCAB_SIZE = 49_408
SOT_TOKEN = 49_406
EOT_TOKEN = 49_407
CONTEXT_LENGTH = 77
SOT_TEXT = "<|startoftext|>"
EOT_TEXT = "<|endoftext|>"

# CLIP's pre-tokenizer: the two special strings, English contractions, letter runs, single digits, and runs of
# anything else that is neither space, letter nor digit. ImageBind compiles it with re.IGNORECASE.
_PRE_TOKEN_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def _byte_to_unicode() -> dict[int, str]:
    """Reversible byte -> printable unicode character map used by GPT-2/CLIP byte-level BPE."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            # Unprintable bytes go to code points 256.. so every byte has a visible, non-space stand-in.
            table[b] = chr(256 + extra)
            extra += 1
    return table


def clean_text(text: str) -> str:
    """ImageBind's cleaning: ftfy, double HTML unescape, whitespace collapse, strip, lowercase."""
    import ftfy
    import regex

    text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text)).strip()
    text = regex.sub(r"\s+", " ", text).strip()
    return text.lower()


def _read_merges(vocab_bytes: bytes | None = None) -> list[tuple[str, str]]:
    """Parse the first NUM_MERGES merge rules from the gzipped vocabulary (package data unless given)."""
    if vocab_bytes is None:
        vocab_bytes = resources.files("edgebind").joinpath("data").joinpath(VOCAB_FILE).read_bytes()
    digest = hashlib.sha256(vocab_bytes).hexdigest()
    if digest != VOCAB_SHA256:
        raise ConfigError(
            f"BPE vocabulary {VOCAB_FILE} has sha256 {digest[:12]}…, expected {VOCAB_SHA256[:12]}…; "
            "the package data is corrupt or was replaced. "
            "Reinstall edgebind (pip install --force-reinstall edgebind)."
        )
    lines = gzip.decompress(vocab_bytes).decode("utf-8").split("\n")
    rules = lines[1 : NUM_MERGES + 1]  # line 0 is a version header
    return [(a, b) for a, b in (rule.split() for rule in rules)]


class Tokenizer:
    """ImageBind's text tokenizer. Thread-safe for reading; ``bpe`` results are memoised in an LRU cache.

    Args:
        context_length: tokens per text, SOT and EOT included. Defaults to 77 (ImageBind's text encoder
            needs exactly 77).
        cache_size: entries kept by the per-word BPE cache. Defaults to 65,536.
    """

    def __init__(self, context_length: int = CONTEXT_LENGTH, cache_size: int = 65_536) -> None:
        import regex

        if context_length < 2:
            raise ConfigError(f"context_length={context_length} leaves no room for SOT and EOT; use 77.")
        self.context_length = context_length
        self.byte_encoder = _byte_to_unicode()
        self.byte_decoder = {c: b for b, c in self.byte_encoder.items()}
        merges = _read_merges()
        symbols = list(self.byte_encoder.values())
        vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + [SOT_TEXT, EOT_TEXT]
        if len(vocab) != VOCAB_SIZE:
            raise ConfigError(f"BPE vocabulary has {len(vocab)} entries, expected {VOCAB_SIZE}; reinstall edgebind.")
        self.encoder: dict[str, int] = {tok: i for i, tok in enumerate(vocab)}
        self.decoder: dict[int, str] = dict(enumerate(vocab))
        self.bpe_ranks: dict[tuple[str, str], int] = {m: i for i, m in enumerate(merges)}
        self.sot_token = self.encoder[SOT_TEXT]
        self.eot_token = self.encoder[EOT_TEXT]
        self._pattern = regex.compile(_PRE_TOKEN_PATTERN, regex.IGNORECASE)
        # A per-instance cache (not @lru_cache on the method, which would keep every Tokenizer alive).
        self.bpe = functools.lru_cache(maxsize=cache_size)(self._bpe)

    def _bpe(self, token: str) -> str:
        """Merge one byte-encoded pre-token into space-separated BPE symbols (last one ends in ``</w>``)."""
        if token in (SOT_TEXT, EOT_TEXT):
            return token  # CLIP seeds its cache with the special strings, so they map to their own ids.
        word = [*token[:-1], token[-1] + "</w>"]
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if best not in self.bpe_ranks:
                break
            merged: list[str] = []
            i = 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        return " ".join(word)

    def encode(self, text: str) -> list[int]:
        """BPE ids of ``text`` after cleaning, without SOT/EOT."""
        ids: list[int] = []
        for pre_token in self._pattern.findall(clean_text(text)):
            encoded = "".join(self.byte_encoder[b] for b in pre_token.encode("utf-8"))
            ids.extend(self.encoder[sym] for sym in self.bpe(encoded).split(" "))
        return ids

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """Text for ``ids`` (padding zeros after EOT and the SOT/EOT markers are dropped)."""
        symbols = []
        for i in (int(x) for x in ids):
            if i == self.eot_token:
                break
            if i != self.sot_token:
                symbols.append(self.decoder[i])
        data = bytearray(self.byte_decoder[c] for c in "".join(symbols))
        return data.decode("utf-8", errors="replace").replace("</w>", " ").strip()

    def __call__(self, texts: str | Sequence[str], context_length: int | None = None) -> np.ndarray:
        """Token ids, as ImageBind's ``SimpleTokenizer.__call__`` but always batched and in numpy.

        Args:
            texts: one string or a sequence of N strings.
            context_length: tokens per row. Defaults to this tokenizer's ``context_length`` (77).

        Returns:
            (N, context_length) int64: ``[SOT] + bpe`` truncated to ``context_length - 1``, then EOT,
            then zeros.

        Raises:
            InputError: ``texts`` is not a string or a sequence of strings.

        A text longer than ``context_length - 2`` BPE tokens is truncated exactly as ImageBind does (the
        end is dropped, EOT kept) and a ``UserWarning`` names it.
        """
        length = context_length or self.context_length
        if length < 2:
            raise ConfigError(f"context_length={length} leaves no room for SOT and EOT; use 77.")
        if isinstance(texts, str):
            texts = [texts]
        if isinstance(texts, bytes) or not all(isinstance(t, str) for t in texts):
            bad = next((t for t in texts if not isinstance(t, str)), texts)
            raise InputError(
                f"tokenize expects str or a sequence of str, got {type(bad).__name__} {bad!r:.60}; "
                "decode bytes first (b.decode('utf-8'))."
            )
        out = np.zeros((len(texts), length), dtype=np.int64)
        for row, text in enumerate(texts):
            ids = [self.sot_token, *self.encode(text)]
            if len(ids) > length - 1:
                message = (
                    f"text {row} ({text[:40]!r}{'…' if len(text) > 40 else ''}) "
                    f"has {len(ids) - 1} BPE tokens, "
                    f"more than the {length - 2} that fit in {length}; it was truncated to the first "
                    f"{length - 2} tokens (EOT kept), as ImageBind does. Shorten it to keep its ending."
                )
                logger.warning(message)
                warnings.warn(message, UserWarning, stacklevel=2)
                ids = ids[: length - 1]
            ids.append(self.eot_token)
            out[row, : len(ids)] = ids
        return out


@functools.lru_cache(maxsize=1)
def default_tokenizer() -> Tokenizer:
    """The shared 77-token tokenizer (built on first use, ~0.3 s)."""
    return Tokenizer()


def tokenize(texts: str | Sequence[str], context_length: int = CONTEXT_LENGTH) -> np.ndarray:
    """Tokenise text for ImageBind's text encoder.

    Args:
        texts: one string or a sequence of N strings.
        context_length: tokens per row. Defaults to 77.

    Returns:
        (N, context_length) int64 token ids (N = 1 for a single string).
    """
    return default_tokenizer()(texts, context_length=context_length)
