"""Must-show: exported reference weights reproduce the OFFICIAL ImageBind outputs (shared/imagebind/reference_small.pt)
at fp32 >= 0.99999, fp16 >= 0.999 and int8 >= 0.98 cosine; int8 calibrated on real data (a calib.npz)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

OV_REFERENCE = {"text_num_heads": 2, "thermal_num_heads": 4}  # reference_small.pt constructor (its meta)

MUST = {"fp32": 0.99999, "fp16": 0.999, "int8": 0.98}


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return (a * b).sum(-1)


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_official_outputs(precision: str, reference_ckpt: Path, calib_npz: Path,
                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from edgebind.export import export_bundle
    from edgebind.runtime import open_runner

    ref = torch.load(reference_ckpt, weights_only=True)
    calib = calib_npz if precision == "int8" else None
    bundle = export_bundle(tmp_path / precision, target="jetson", precision=precision, checkpoint=reference_ckpt,
                           overrides=OV_REFERENCE, calibration=calib, remember=False)
    assert bundle.format == "tensorrt" and not bundle.random_init
    for m in ("imu", "thermal"):
        with open_runner(bundle, m, backend="onnxruntime") as runner:
            got = runner.embed(ref["inputs"][m].numpy())
        want = ref["outputs"][f"{m}.final"].numpy()
        cos = _cos(got, want)
        with capsys.disabled():
            print(f"\n{m} {precision}: cosine to official outputs min {cos.min():.7f}, "
                  f"max|d| {np.abs(got - want).max():.3g}; export parity {bundle.encoders[m].parity['splits']}")
        assert cos.min() >= MUST[precision], (m, precision, cos)
        assert bundle.encoders[m].parity["passed"]
        if precision == "int8":
            assert bundle.encoders[m].parity["splits"]["heldout"]["samples"] >= 4
            assert bundle.encoders[m].calibration["calibration_windows"] >= 16
