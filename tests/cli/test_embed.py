"""``edgebind embed``, ``extract`` and ``info`` through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from officialref import Reference

from edgebind.cli import cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def ref_path(reference_tiny: Reference) -> Path:
    return reference_tiny.path


# Max |embed - official|, about 3x the figures tests/models/test_parity.py measures (tests/officialref.py).
EMBED_MAX_ABS = {"tiny": {"imu": 1.3e-6, "thermal": 3e-6, "text": 4e-7},
                 "small": {"imu": 1.2e-6, "thermal": 1.7e-6, "text": 1e-7}}


@pytest.mark.parametrize("modality", ["imu", "thermal"])
def test_embed_npy_matches_official(tmp_path: Path, reference: Reference, modality: str) -> None:
    x = tmp_path / f"{modality}.npy"
    np.save(x, reference.input(modality).numpy())
    code, out = run("embed", modality, str(x), "--checkpoint", str(reference.path), *reference.set_args,
                    "-o", str(tmp_path / "e.npy"))
    assert code == 0, out
    emb = np.load(tmp_path / "e.npy")
    want = reference.output(f"{modality}.final").numpy()
    assert emb.shape == want.shape and emb.dtype == np.float32
    assert np.abs(emb - want).max() <= EMBED_MAX_ABS[reference.name][modality]


def test_embed_text_unit(tmp_path: Path, reference: Reference) -> None:
    code, out = run("embed", "text", *reference.sentences, "--checkpoint", str(reference.path), *reference.set_args,
                    "--unit", "-o", str(tmp_path / "t.npy"))
    assert code == 0, out
    emb = np.load(tmp_path / "t.npy")
    want = reference.output("text.unit_embedding").numpy()
    assert emb.shape == want.shape and np.abs(emb - want).max() <= EMBED_MAX_ABS[reference.name]["text"]


def test_embed_imu_wrong_shapes(tmp_path: Path, ref_path: Path) -> None:
    for shape in [(3, 2000), (6, 1000)]:
        x = tmp_path / "bad.npy"
        np.save(x, np.zeros(shape, np.float32))
        code, out = run("embed", "imu", str(x), "--checkpoint", str(ref_path), "-o", str(tmp_path / "e.npy"))
        assert code == 1
        assert "Error:" in out and str(shape[0] if shape[0] == 3 else shape[1]) in out
        assert "Traceback" not in out


def test_embed_thermal_256(tmp_path: Path, ref_path: Path) -> None:
    x = tmp_path / "bad.npy"
    np.save(x, np.zeros((1, 1, 256, 256), np.float32))
    code, out = run("embed", "thermal", str(x), "--checkpoint", str(ref_path), "-o", str(tmp_path / "e.npy"))
    assert code == 1 and "256" in out and "224" in out


def test_embed_long_text_warns(tmp_path: Path, ref_path: Path) -> None:
    long_text = " ".join(["walking"] * 120)
    with pytest.warns(UserWarning, match="truncated"):
        code, out = run("embed", "text", long_text, "--checkpoint", str(ref_path), "--set", "text_num_heads=2",
                        "-o", str(tmp_path / "t.npy"))
    assert code == 0, out


def test_embed_unknown_set_suggests(tmp_path: Path, ref_path: Path) -> None:
    code, out = run("embed", "text", "hi", "--checkpoint", str(ref_path), "--set", "text_num_head=2",
                    "-o", str(tmp_path / "t.npy"))
    assert code == 1 and "Did you mean 'text_num_heads'" in out


def test_embed_without_checkpoint_says_what_to_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run("embed", "text", "hi", "-o", str(tmp_path / "t.npy"))
    assert code == 1 and "--checkpoint PATH" in out and "EDGEBIND_CHECKPOINT" in out


def test_embed_finds_checkpoint_from_env(tmp_path: Path, ref_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEBIND_CHECKPOINT", str(ref_path))
    code, out = run("embed", "text", "hi", "--set", "text_num_heads=2", "-o", str(tmp_path / "t.npy"))
    assert code == 0, out


def test_embed_checkpoint_without_modality(tmp_path: Path, ref_path: Path) -> None:
    sub = tmp_path / "imu_only.safetensors"
    code, out = run("extract", str(ref_path), "--modalities", "imu", "-o", str(sub))
    assert code == 0, out
    code, out = run("embed", "text", "hi", "--checkpoint", str(sub), "-o", str(tmp_path / "t.npy"))
    assert code == 1 and "has no text weights" in out


def test_extract_and_info(tmp_path: Path, ref_path: Path) -> None:
    out_path = tmp_path / "edge.safetensors"
    code, out = run("extract", str(ref_path), "--modalities", "imu,thermal", "--dtype", "fp16", "-o", str(out_path))
    assert code == 0, out
    assert "imu 37 tensors, thermal 37 tensors, fp16" in out
    code, out = run("info", str(out_path), "--json")
    assert code == 0, out
    import json

    d = json.loads(out)
    assert set(d["modalities"]) == {"imu", "thermal"}
    assert d["modalities"]["imu"]["dtypes"] == {"float16": 37}  # reference_tiny's buffers are fp16 already
    assert d["modalities"]["imu"]["config"]["embed_dim"] == 128
    assert len(d["sha256"]) == 64


def test_corrupt_checkpoint_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"PK\x03\x04 definitely not a zip")
    code, out = run("embed", "text", "hi", "--checkpoint", str(bad), "-o", str(tmp_path / "t.npy"))
    assert code == 1 and "truncated or corrupt" in out and "Traceback" not in out


def test_unknown_command_suggests() -> None:
    code, out = run("embedd")
    assert code == 2 and "Did you mean 'embed'" in out


def test_torch_not_imported_by_help() -> None:
    import subprocess
    import sys

    code = "import sys; from edgebind.cli import cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert torch  # the suite itself uses torch


def test_info_on_a_bundle() -> None:
    import json

    bundle = Path(__file__).resolve().parents[2] / "edgebind" / "data" / "demo" / "bundle"
    code, out = run("info", str(bundle), "--json")
    assert code == 0, out
    d = json.loads(out)
    assert d["kind"] == "bundle" and "imu.onnx" in d["files"] and "manifest.json" in d["files"]
    assert d["manifest"]["encoders"]["imu"]["config"]["out_dim"] == 384
    code, out = run("info", str(bundle))
    assert code == 0 and "imu.onnx" in out and "precision: fp32" in out


def test_info_on_a_plain_directory(tmp_path: Path) -> None:
    code, out = run("info", str(tmp_path))
    assert code == 1 and "not a bundle" in out
