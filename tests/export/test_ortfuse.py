"""ONNX Runtime CPU fusions (edgebind/export/ortfuse.py): same outputs, fewer kernels, only where ORT runs them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


def _ops(path: Path) -> Counter[str]:
    return Counter(n.op_type for n in onnx.load(str(path)).graph.node)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min())


@pytest.fixture(scope="module")
def tiny_imu(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, np.ndarray]:
    """tiny_imu with every weight and bias random (a fresh init has zero biases, which the exporter folds away),
    its fp32 ONNX, and 3 real BasicMotions windows."""
    from officialref import make_calib_npz

    from edgebind.config import get_config
    from edgebind.export.onnx import export_onnx
    from edgebind.models import build_encoder

    cfg = get_config("tiny_imu")
    enc = build_encoder(cfg).eval()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in enc.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    d = tmp_path_factory.mktemp("fuse")
    path = export_onnx(enc, d / "imu.onnx", batch_max=4)
    windows = np.load(make_calib_npz(d))["imu"].astype(np.float32)
    return path, cfg, windows


def test_gelu_fusion_keeps_the_outputs(tiny_imu: tuple[Path, Any, np.ndarray], tmp_path: Path) -> None:
    from edgebind.export.ortfuse import fuse_gelu

    src, cfg, windows = tiny_imu
    x = windows[:3]
    ref = _run(src, x)
    exact = fuse_gelu(src, tmp_path / "exact.onnx", cfg.num_heads, cfg.embed_dim, approximate=False)
    assert exact == {"BiasGelu": cfg.depth}
    assert _ops(tmp_path / "exact.onnx")["Erf"] == 0 and _ops(src)["Erf"] == cfg.depth
    # measured 1.8e-7 of a unit-norm x logit_scale 5 output: the same function up to float rounding
    np.testing.assert_allclose(_run(tmp_path / "exact.onnx", x), ref, atol=1e-6)
    fast = fuse_gelu(src, tmp_path / "fast.onnx", cfg.num_heads, cfg.embed_dim, approximate=True)
    assert fast == {"FastGelu": cfg.depth}
    y = _run(tmp_path / "fast.onnx", x)
    assert 0 < np.abs(y - ref).max() < 1e-4  # the tanh form differs a little, measured 3.6e-5
    assert _cos(y, ref) > 0.99999


def test_matmul_bias_fusion_is_exact(tiny_imu: tuple[Path, Any, np.ndarray], tmp_path: Path) -> None:
    import shutil

    from edgebind.export.ortfuse import fuse_matmul_bias
    from edgebind.export.quantize import quantize_int8

    src, cfg, windows = tiny_imu
    q = tmp_path / "int8.onnx"
    quantize_int8(src, q, windows[:16])
    fused = shutil.copy(q, tmp_path / "fused.onnx")
    n = fuse_matmul_bias(fused)
    before, after = _ops(q), _ops(Path(fused))
    # qkv, out_proj, fc1, fc2 per block; the head's Gemm is not a MatMul
    assert n == 4 * cfg.depth
    assert after["MatMulIntegerToFloat"] == n and after["Add"] == before["Add"] - n
    assert after["DequantizeLinear"] == before["DequantizeLinear"] - 2 * n
    x = windows[:3]
    np.testing.assert_allclose(_run(Path(fused), x), _run(q, x), atol=1e-5)


def test_cpu_bundles_are_fused_and_tensorrt_onnx_is_not(tmp_path: Path) -> None:
    from officialref import make_calib_npz

    from edgebind.bundle import load_bundle
    from edgebind.export import export_bundle

    calib = make_calib_npz(tmp_path)
    cpu = export_bundle(tmp_path / "cpu", target="cpu", precision="int8", modalities="imu", random_init=True,
                        preset="tiny", calibration=calib, remember=False)
    entry = load_bundle(tmp_path / "cpu").encoder("imu")
    assert entry.graph == cpu.encoders["imu"].graph
    assert entry.graph is not None and entry.graph["fused"]["FastGelu"] == 2
    ops = _ops(tmp_path / "cpu" / entry.file)
    assert ops["FastGelu"] == 2 and ops["Erf"] == 0
    assert entry.parity["passed"] and entry.parity["splits"]["heldout"]["min_cosine"] > 0.999
    jetson = export_bundle(tmp_path / "jetson", target="jetson", precision="fp16", modalities="imu",
                           random_init=True, preset="tiny", fmt="onnx", remember=False)
    assert jetson.encoders["imu"].graph is None
    domains = {n.domain for n in onnx.load(str(tmp_path / "jetson" / "imu.onnx")).graph.node}
    assert domains <= {"", "ai.onnx"}, domains
