"""Exports of tiny configs end to end: files, manifest, precision plans, parity failures, students, text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgebind.bundle import load_bundle
from edgebind.errors import BundleError, ConfigError, ParityError


def test_fp32_bundle_contents(tiny_fp32: Path) -> None:
    from edgebind.export.onnx import read_metadata

    b = load_bundle(tiny_fp32)
    assert set(b.encoders) == {"imu", "thermal"} and b.random_init and b.precision == "fp32"
    assert sorted(b.files) == ["imu.onnx", "labels.npz", "parity.npz", "thermal.onnx", "weights.safetensors"]
    imu = b.encoders["imu"]
    assert imu.input_shape == ["batch", 6, 2000] and imu.output_shape == ["batch", 1024]
    assert imu.contract is not None and imu.contract["sample_rate_hz"] == 400.0
    assert b.encoders["thermal"].contract == {"size": 224, "mapping": "percentile", "low_percentile": 1.0,
                                              "high_percentile": 99.0, "min_temp_c": 0.0, "max_temp_c": 40.0}
    assert imu.parity["passed"] and imu.parity["splits"]["seeded"]["top1_agreement"] == 1.0
    assert imu.parity["splits"]["seeded"]["min_cosine"] >= 0.99999
    meta = read_metadata(tiny_fp32 / "imu.onnx")
    assert meta["edgebind.bundle_id"] == b.bundle_id and meta["edgebind.precision"] == "fp32"
    assert "--random-init" in b.command and "--preset tiny" in b.command
    bank = b.label_bank("thermal")
    assert bank.names == ["walking", "running", "standing"] and bank.logit_scale == pytest.approx(10.0)
    assert b.labels is not None and b.labels["logit_scale"] == {"imu": pytest.approx(5.0),
                                                                "thermal": pytest.approx(10.0)}


def test_opset_and_layernorm_is_one_op(tiny_fp32: Path) -> None:
    import onnx

    model = onnx.load(str(tiny_fp32 / "imu.onnx"))
    onnx.checker.check_model(model)
    assert {o.domain: o.version for o in model.opset_import}[""] >= 17
    ops = {n.op_type for n in model.graph.node}
    assert "LayerNormalization" in ops and "ReduceMean" not in ops


def test_fp16_plan_keeps_layernorm_softmax_and_tail_fp32(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto

    from edgebind.export import export_bundle

    b = export_bundle(tmp_path / "b", target="jetson", precision="fp16", modalities="imu", random_init=True,
                      preset="tiny", remember=False)
    entry = b.encoders["imu"]
    assert entry.parity["passed"] and entry.parity["splits"]["seeded"]["min_cosine"] >= 0.999
    model = onnx.shape_inference.infer_shapes(onnx.load(str(tmp_path / "b" / "imu.onnx")))
    types = {v.name: v.type.tensor_type.elem_type for v in [*model.graph.value_info, *model.graph.input,
                                                              *model.graph.output]}
    inits = {i.name: i.data_type for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type in ("LayerNormalization", "Softmax"):
            assert types.get(n.input[0], inits.get(n.input[0])) == TensorProto.FLOAT, n.name
        if n.op_type == "MatMul" and n.input[1] in inits:
            assert inits[n.input[1]] == TensorProto.FLOAT16, n.name
    assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert model.graph.output[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert entry.precision_plan is not None and entry.precision_plan["fp16_nodes"] > 0
    assert "--stronglyTyped" in b.tensorrt["commands"]["imu"]


def test_int8_from_recordings(tmp_path: Path, imu_rec: Path, thermal_rec: Path) -> None:
    from edgebind.bridge.recording import Recording
    from edgebind.export import export_bundle

    rec = Recording.load(imu_rec)  # the first 60 s of BasicMotions TEST
    short = Recording(rec.imu[:600], rec.imu_t_ns[:600], meta=rec.meta).save(tmp_path / "imu60.npz")
    b = export_bundle(tmp_path / "b", target="cpu", precision="int8", random_init=True, preset="tiny",
                      calibration=[short, thermal_rec], calibration_method="percentile", remember=False)
    for m in ("imu", "thermal"):
        e = b.encoders[m]
        assert e.calibration is not None and e.calibration["method"] == "percentile"
        assert e.calibration["activations"] == "uint8" and e.calibration["qdq_nodes"]["QuantizeLinear"] > 0
        assert e.calibration["float_nodes"], "the patch stem stays float"
        assert (tmp_path / "b" / f"{m}.calib.json").is_file() and f"{m}.calib.json" in b.files
        heldout = e.parity["splits"]["heldout"]
        assert heldout["samples"] >= 4 and heldout["min_cosine"] >= 0.98
    from edgebind.preprocess import windows_from_recording

    n = len(windows_from_recording(Recording.load(short), hop_s=1.0)[0])
    cal = b.encoders["imu"].calibration
    assert (cal["calibration_windows"], cal["heldout_windows"]) == (n - n // 5, n // 5)  # every 5th held out
    assert cal["windows"] == cal["calibration_windows"] // 8 * 8  # equal calibration batches of 8


def test_parity_failure_reports_figures_and_passing_tolerance(tmp_path: Path) -> None:
    from edgebind.export import export_bundle

    with pytest.raises(ParityError) as e:
        export_bundle(tmp_path / "b", target="jetson", precision="fp16", modalities="imu", random_init=True,
                      preset="tiny", tolerance={"max_abs": 1e-9}, remember=False)
    msg = str(e.value)
    assert "imu fp16 onnxruntime export failed parity" in msg and "max abs" in msg and "> 1e-09" in msg
    assert "It would have passed with --tolerance min_cosine=0.99" in msg and "--tolerance max_abs=" in msg
    assert (tmp_path / "b" / "manifest.failed.json").is_file()
    with pytest.raises(BundleError, match="not a bundle"):
        load_bundle(tmp_path / "b")


def test_student_with_own_label_bank(tmp_path: Path) -> None:
    """A distilled student with out_dim 64 whose labels come from another text model: --labels labels.npz."""
    import torch

    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config, replace
    from edgebind.export import export_bundle
    from edgebind.models import build_encoder
    from edgebind.runtime import open_runner
    from edgebind.zeroshot import LabelBank

    torch.manual_seed(1)
    student = build_encoder(replace(get_config("tiny_imu"), out_dim=64, patch_size=16))
    ckpt = save_checkpoint(student, tmp_path / "student.safetensors")
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(3, 64)).astype(np.float32)
    LabelBank(["sit", "walk", "run"], emb / np.linalg.norm(emb, axis=1, keepdims=True)).save(tmp_path / "l64.npz")
    b = export_bundle(tmp_path / "b", target="cpu", modalities="imu", checkpoint=ckpt, labels=tmp_path / "l64.npz",
                      remember=False)
    assert b.encoders["imu"].out_dim == 64 and b.encoders["imu"].config["patch_size"] == 16
    assert b.labels is not None and b.labels["dim"] == 64
    x = rng.normal(size=(2, 6, 2000)).astype(np.float32)
    with torch.inference_mode():
        want = student(torch.from_numpy(x)).numpy()
    with open_runner(tmp_path / "b", "imu", backend="torch") as r:
        np.testing.assert_allclose(r.embed(x), want, atol=1e-5)
    with open_runner(tmp_path / "b", "imu") as r:
        np.testing.assert_allclose(r.embed(x), want, atol=1e-4)
    LabelBank(["a", "b"], np.eye(2, 1024, dtype=np.float32)).save(tmp_path / "l1024.npz")
    with pytest.raises(ConfigError, match="has width 1024 but the imu encoder's out_dim is 64"):
        export_bundle(tmp_path / "c", target="cpu", modalities="imu", checkpoint=ckpt, labels=tmp_path / "l1024.npz",
                      remember=False)
    (tmp_path / "labels.txt").write_text("sit\nwalk\n")
    with pytest.raises((ConfigError, Exception), match="text"):
        export_bundle(tmp_path / "d", target="cpu", modalities="imu", checkpoint=ckpt, labels=tmp_path / "labels.txt",
                      remember=False)


def test_text_encoder_and_tokenizer(tmp_path: Path) -> None:
    from edgebind.export import export_bundle
    from edgebind.runtime import open_runner
    from edgebind.runtime.torch import load_bundle_encoder
    from edgebind.tokenizer import tokenize

    b = export_bundle(tmp_path / "b", target="cpu", modalities="text", random_init=True, preset="tiny",
                      remember=False)
    assert b.encoders["text"].input_dtype == "int64" and "tokenizer/bpe_simple_vocab_16e6.txt.gz" in b.files
    ids = tokenize(["a person walking", "a person cooking dinner in the kitchen"])
    import torch

    with torch.inference_mode():
        want = load_bundle_encoder(b, "text")(torch.from_numpy(ids)).numpy()
    with open_runner(b, "text") as r:
        np.testing.assert_allclose(r.embed(ids), want, atol=1e-4)
    with pytest.raises(ConfigError, match="no int8 calibration data"):
        export_bundle(tmp_path / "c", target="cpu", precision="int8", modalities="imu,text", random_init=True,
                      preset="tiny", calibration=tmp_path / "x.npz", remember=False)


def test_manifest_is_json_with_tool_versions(tiny_fp32: Path) -> None:
    d = json.loads((tiny_fp32 / "manifest.json").read_text())
    assert d["schema_version"] == 1 and d["tools"]["onnxruntime"] and d["tools"]["torch"]
    assert d["source"]["weights"] == "weights.safetensors" and d["random_init"] is True
