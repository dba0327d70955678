"""``export --text-encoder``: ImageBind's text encoder ships as fp16 ONNX (fp32 islands) with its tokenizer, measured
against the torch text encoder and the official code's outputs on tests/data/imagebind/reference_tiny.pt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

# reference_tiny's constructor (reference_tiny_meta.json): head counts are not in the tensors
OV_TINY = {"imu_num_heads": 4, "thermal_num_heads": 4, "text_num_heads": 2}


@pytest.fixture(scope="module")
def text_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """reference_tiny's IMU at fp32 plus --text-encoder for a Jetson (ONNX), with a 4-label bank."""
    from edgebind.export import export_bundle

    ref = Path(__file__).resolve().parents[1] / "data" / "imagebind" / "reference_tiny.pt"
    d = tmp_path_factory.mktemp("text")
    (d / "labels.txt").write_text("walking\nrunning\nstanding\nplaying badminton\n")
    export_bundle(d / "b", target="jetson", fmt="onnx", precision="fp32", modalities="imu", checkpoint=ref,
                  overrides=OV_TINY, labels=d / "labels.txt", text_encoder=True, remember=False)
    return d / "b"


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return (a * b).sum(-1)


def test_text_encoder_is_fp16_with_fp32_islands_and_tokenizer(text_bundle: Path) -> None:
    from edgebind.bundle import load_bundle
    from edgebind.export.onnx import read_metadata

    b = load_bundle(text_bundle)
    assert (b.precision, b.encoders["imu"].precision, b.encoders["text"].precision) == ("fp32", "fp32", "fp16")
    plan = b.encoders["text"].precision_plan
    assert plan is not None and {"LayerNormalization", "Softmax"} <= set(plan["fp32_op_types"])
    assert read_metadata(text_bundle / "text.onnx")["edgebind.precision"] == "fp16"
    assert read_metadata(text_bundle / "imu.onnx")["edgebind.precision"] == "fp32"
    assert (text_bundle / "tokenizer" / "bpe_simple_vocab_16e6.txt.gz").is_file()
    assert "--text-encoder" in b.command and "--modalities imu " in b.command


def test_text_parity_report_has_real_prompts(text_bundle: Path) -> None:
    from edgebind.bundle import load_bundle
    from edgebind.tokenizer import tokenize

    report = load_bundle(text_bundle).encoders["text"].parity
    assert report["passed"] and report["precision"] == "fp16"
    prompts = report["splits"]["prompts"]
    # measured 1 - cos = 1.4e-7 (seeded ids) and 1.8e-7 (prompts) on reference_tiny; fp16's table allows 1e-3
    assert prompts["samples"] == 8 and prompts["min_cosine"] > 1 - 5e-7
    assert report["splits"]["seeded"]["min_cosine"] > 1 - 5e-7
    with np.load(text_bundle / "parity.npz") as z:
        ids = z["text.prompts.input"]
    assert np.array_equal(ids[0], tokenize("walking")[0])  # real prompts, tokenised as the device will


def test_text_onnx_matches_official_outputs(text_bundle: Path, data_dir: Path) -> None:
    import torch

    from edgebind.runtime import open_runner
    from edgebind.tokenizer import tokenize

    ref = torch.load(data_dir / "imagebind" / "reference_tiny.pt", weights_only=True)
    ids = tokenize(ref["sentences"])
    assert np.array_equal(ids, ref["inputs"]["text_tokens"].numpy())
    with open_runner(text_bundle, "text", backend="onnxruntime") as runner:
        got = runner.embed(ids)
    want = ref["outputs"]["text.final"].numpy()
    assert _cos(got, want).min() > 1 - 4e-7  # measured 1 - cos = 1.2e-7 (fp16 ONNX vs the official fp32 code)
    # the output keeps ImageBind's scale: unit vectors times the learned text logit scale (20 in this reference);
    # measured relative difference 6e-5
    np.testing.assert_allclose(np.linalg.norm(got, axis=-1), np.linalg.norm(want, axis=-1), rtol=2e-4)


def test_text_encoder_flag_conflicts(tmp_path: Path) -> None:
    from edgebind.errors import ConfigError
    from edgebind.export import export_bundle

    with pytest.raises(ConfigError, match="--modalities already lists text; drop one"):
        export_bundle(tmp_path / "b", target="cpu", modalities="imu,text", random_init=True, preset="tiny",
                      text_encoder=True, remember=False)
    with pytest.raises(ConfigError, match="add --text-encoder"):
        export_bundle(tmp_path / "b", target="cpu", precision="int8", modalities="imu,text", random_init=True,
                      preset="tiny", calibration=tmp_path / "c.npz", remember=False)


def test_new_labels_stream_through_the_onnx_text_encoder_without_torch(text_bundle: Path, tmp_path: Path) -> None:
    """The device side, torch refused: demo, stream, bench, embed, simulate, record, calibrate, and stream --labels
    with labels the bank lacks (embedded by text.onnx), through scripts/check_torch_free.py as CI runs it."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    labels = tmp_path / "new.txt"
    labels.write_text("walking\ncycling\nswimming underwater\n")  # 2 of 3 are not in the bank
    env = {**os.environ, "PYTHONPATH": str(repo)}
    proc = subprocess.run([sys.executable, str(repo / "scripts" / "check_torch_free.py"), "--text-bundle",
                           str(text_bundle), "--labels", str(labels)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    last = proc.stdout.rstrip().splitlines()[-1]  # the list of steps that ran (stream --ros2 joins it where
    # cyclonedds is installed): the text-encoder stream is the last of them
    assert last.endswith(", stream --labels (text encoder) ran without torch"), last


def test_stream_loads_the_text_encoder_only_for_new_labels(text_bundle: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import edgebind.runtime
    from edgebind.stream.encoders import open_encoders
    from edgebind.stream.labels import LabelSource

    opened: list[str] = []
    real = edgebind.runtime.open_runner

    def spy(bundle, modality, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(modality)
        return real(bundle, modality, **kwargs)

    monkeypatch.setattr(edgebind.runtime, "open_runner", spy)
    (tmp_path / "known.txt").write_text("Running\nwalking\n")
    (tmp_path / "new.txt").write_text("walking\ncycling\n")
    with open_encoders(bundle=text_bundle) as enc:
        known = LabelSource(tmp_path / "known.txt", enc.bank, enc.text_embed, enc.text_model)
        assert known.bank.names == ["running", "walking"] and opened == ["imu"]  # bank rows, no text model
        new = LabelSource(tmp_path / "new.txt", enc.bank, enc.text_embed, enc.text_model)
        assert opened == ["imu", "text"]
        # 'walking' embedded on the device by fp16 text.onnx vs at export by the fp32 torch text encoder
        cos = float(new.bank.embeddings[0] @ enc.bank.embeddings[enc.bank.names.index("walking")])
        assert cos > 1 - 2e-7, cos  # measured 1 - cos = 6e-8


def test_cpu_target_ships_the_text_encoder_in_fp32(tmp_path: Path) -> None:
    """The cpu target runs no fp16, so the text encoder goes in fp32 there (int8 has no prompt calibration)."""
    from edgebind.export import export_bundle

    b = export_bundle(tmp_path / "b", target="cpu", modalities="imu", random_init=True, preset="tiny",
                      text_encoder=True, remember=False)
    assert {m: e.precision for m, e in b.encoders.items()} == {"imu": "fp32", "text": "fp32"}
    assert b.encoders["text"].parity["passed"] and b.encoders["text"].precision_plan is None
