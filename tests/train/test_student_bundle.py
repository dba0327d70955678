"""A distilled student exported to a bundle carries its distillation report, and stream shows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebind.checkpoint import load_checkpoint
from edgebind.train.distill import distill
from edgebind.train.loop import TrainConfig


def test_student_bundle_reports_its_distance_to_the_teacher(tiny_teacher: Path, bm_small: dict,
                                                            tmp_path: Path) -> None:
    from edgebind.bundle import load_bundle
    from edgebind.export import export_bundle
    from edgebind.stream.encoders import open_encoders

    ckpt = tmp_path / "student.safetensors"
    distill(tiny_teacher, "tiny_imu", [bm_small["train"]], ckpt, eval_data=[bm_small["test"]],
            cfg=TrainConfig(steps=3, batch_size=8, num_views=1, device="cpu"))
    recipe = json.loads(load_checkpoint(ckpt).metadata["edgebind_recipe"])
    out = tmp_path / "bundle"
    export_bundle(out, target="cpu", precision="fp32", modalities="imu", checkpoint=ckpt, remember=False)
    report = load_bundle(out).source["distillation"]
    assert report["teacher"] == "tiny_imu" and report["step"] == 3
    assert report["teacher_sha256"] == recipe["teacher"]["file"]
    assert report["held_out_eval"]["cosine"] == pytest.approx(recipe["eval"]["cosine"])
    with open_encoders(bundle=out) as enc:
        line = enc.descriptions()["imu"]
    ev = recipe["eval"]
    assert line.startswith("tiny_imu (") and "on fp32 onnxruntime (threads default, no spin, cpus any)" in line
    assert line.endswith(f"student of tiny_imu (step 3), held out: cosine {ev['cosine']:.3f}, centred cosine "
                         f"{ev['centred_cosine']:.3f}, top-1 agreement {ev['top1_agreement']:.3f}")
    with open_encoders(checkpoint=ckpt) as enc:  # the checkpoint itself says the same
        assert "student of tiny_imu (step 3), held out: cosine" in enc.descriptions()["imu"]
    # the teacher is no student: no report
    teacher_bundle = export_bundle(tmp_path / "t", target="cpu", modalities="imu", checkpoint=tiny_teacher,
                                   remember=False)
    assert teacher_bundle.source["distillation"] is None
