"""The Bundle manifest: JSON round trip, hash verification, clear errors for edited or foreign folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebind.bundle import MANIFEST, SCHEMA_VERSION, Bundle, EncoderEntry, load_bundle
from edgebind.errors import BundleError


def _bundle(tmp_path: Path) -> Bundle:
    (tmp_path / "imu.onnx").write_bytes(b"\x08\x07not-a-real-model")
    (tmp_path / "labels.npz").write_bytes(b"labels")
    entry = EncoderEntry(modality="imu", config={"modality": "imu", "out_dim": 1024}, file="imu.onnx", format="onnx",
                         precision="fp16", input_shape=["batch", 6, 2000], input_dtype="float32",
                         output_shape=["batch", 1024], logit_scale=5.0, contract={"sample_rate_hz": 400.0})
    b = Bundle(target="jetson", precision="fp16", format="tensorrt", encoders={"imu": entry},
               source={"checkpoint": "/ckpt/imagebind_huge.pth", "sha256": "ab" * 32, "weights": None},
               random_init=False, tools={"edgebind": "0.1.0"}, command="edgebind export --target jetson --fp16 -o B",
               created="2026-01-01T00:00:00+00:00", labels={"file": "labels.npz", "names": ["walk"]})
    b.add_file("imu.onnx")
    b.add_file("labels.npz")
    b.save(tmp_path)
    return b


def test_round_trip(tmp_path: Path) -> None:
    b = _bundle(tmp_path)
    again = load_bundle(tmp_path)
    assert again == b and again.path == tmp_path
    assert Bundle.from_json(b.to_json()) == b
    assert again.bundle_id == b.compute_id() and len(b.bundle_id) == 64
    assert again.encoders["imu"].out_dim == 1024
    assert set(again.files) == {"imu.onnx", "labels.npz"}


def test_edited_file_names_the_file_and_how_to_reexport(tmp_path: Path) -> None:
    _bundle(tmp_path)
    (tmp_path / "imu.onnx").write_bytes(b"tampered")
    with pytest.raises(BundleError) as e:
        load_bundle(tmp_path)
    assert "imu.onnx was modified after export" in str(e.value)
    assert "re-export it: edgebind export --target jetson --fp16 -o B" in str(e.value)
    assert load_bundle(tmp_path, verify=False).precision == "fp16"


def test_edited_manifest_is_caught(tmp_path: Path) -> None:
    _bundle(tmp_path)
    d = json.loads((tmp_path / MANIFEST).read_text())
    d["encoders"]["imu"]["contract"]["sample_rate_hz"] = 200.0
    (tmp_path / MANIFEST).write_text(json.dumps(d))
    with pytest.raises(BundleError, match=r"manifest\.json was edited after export"):
        load_bundle(tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    _bundle(tmp_path)
    (tmp_path / "labels.npz").unlink()
    with pytest.raises(BundleError, match=r"missing labels\.npz; copy the whole folder"):
        load_bundle(tmp_path)


def test_not_a_bundle_and_bare_model(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"is not a bundle \(no manifest\.json\); create one with 'edgebind export"):
        load_bundle(tmp_path)
    (tmp_path / "m.onnx").write_bytes(b"x")
    with pytest.raises(BundleError, match="bare model file; edgebind runs bundles only"):
        load_bundle(tmp_path / "m.onnx")


def test_newer_schema_and_garbage(tmp_path: Path) -> None:
    _bundle(tmp_path)
    d = json.loads((tmp_path / MANIFEST).read_text())
    d["schema_version"] = SCHEMA_VERSION + 1
    (tmp_path / MANIFEST).write_text(json.dumps(d))
    with pytest.raises(BundleError, match="upgrade edgebind"):
        load_bundle(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"schema_version": 1, "encoders": {}}))
    with pytest.raises(BundleError, match="malformed"):
        load_bundle(tmp_path)


def test_unknown_encoder_says_how_to_add_it(tmp_path: Path) -> None:
    b = _bundle(tmp_path)
    with pytest.raises(BundleError, match=r"has no thermal encoder \(it has imu\); re-export with --modalities "
                                          r"imu,thermal"):
        b.encoder("thermal")
