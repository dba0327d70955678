"""TensorRT: the trtexec recipe written where TensorRT is absent (tested for real), engine compatibility checks,
and (marked gpu) a real engine build."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from edgebind.bundle import load_bundle
from edgebind.errors import BundleError
from edgebind.export.tensorrt import check_engine_compat, trt_version


@pytest.fixture(scope="module")
def agx_int8(tmp_path_factory: pytest.TempPathFactory, imu_rec: Path) -> Path:
    from edgebind.export import export_bundle

    d = tmp_path_factory.mktemp("agx") / "b"
    export_bundle(d, target="jetson-agx-orin", precision="int8", modalities="imu", random_init=True, preset="tiny",
                  calibration=imu_rec, dla_core=1, remember=False)
    return d


def test_recipe_script_and_manifest(agx_int8: Path) -> None:
    b = load_bundle(agx_int8)
    assert b.tensorrt is not None and b.tensorrt["mode"] == "recipe"
    if trt_version() is None:
        assert b.tensorrt["built_here"] is False and "tensorrt" in b.tensorrt["why_not"]
    script = (agx_int8 / "build_engine.sh").read_text()
    assert "build_engine.sh" in b.files
    subprocess.run(["bash", "-n", str(agx_int8 / "build_engine.sh")], check=True)  # valid bash
    cmd = shlex.split(b.tensorrt["commands"]["imu"])
    assert cmd[0] == "trtexec" and "--onnx=imu.onnx" in cmd and "--saveEngine=imu.engine" in cmd
    assert "--int8" in cmd and "--fp16" in cmd and "--precisionConstraints=obey" in cmd
    assert "--useDLACore=1" in cmd and "--allowGPUFallback" in cmd
    assert "--minShapes=input:1x6x2000" in cmd and "--maxShapes=input:16x6x2000" in cmd
    assert "--memPoolSize=workspace:4096M" in cmd and "--timingCacheFile=timing.cache" in cmd
    layer_flag = next(c for c in cmd if c.startswith("--layerPrecisions="))
    import onnx

    model = onnx.load(str(agx_int8 / "imu.onnx"), load_external_data=False)
    ln = [n.name for n in model.graph.node if n.op_type == "LayerNormalization"]
    assert ln and all(f"{n}:fp32" in layer_flag for n in ln)  # names trtexec will see exist in the ONNX
    assert " ".join(shlex.quote(c) for c in cmd[1:]) in script
    assert b.encoders["imu"].calibration is not None and b.encoders["imu"].calibration["activations"] == "int8"


def test_build_engine_here_says_why_not(agx_int8: Path) -> None:
    from click.testing import CliRunner

    from edgebind.cli import cli
    from edgebind.export.tensorrt import gpu_identity

    if gpu_identity() is not None:
        pytest.skip("a GPU is visible; the no-GPU message does not apply")
    res = CliRunner().invoke(cli, ["build-engine", str(agx_int8)])
    assert res.exit_code == 1
    assert "no NVIDIA GPU is visible here; run build-engine on the device" in res.output


def test_tensorrt_backend_without_engine(agx_int8: Path) -> None:
    from edgebind.runtime import open_runner

    with pytest.raises(BundleError, match=r"no TensorRT engine for imu \(only its recipe\); build it on the device"):
        open_runner(agx_int8, "imu", backend="tensorrt")


def test_engine_for_another_gpu_refuses_with_rebuild_message() -> None:
    rec = {"file": "imu.engine", "gpu": "Orin", "compute_capability": "8.7", "tensorrt": "10.3.0"}
    with pytest.raises(BundleError, match=r"built for sm_87 \(Orin\), this GPU is sm_89 \(RTX 4090\). Rebuild it "
                                          r"here: edgebind build-engine out/b"):
        check_engine_compat(rec, {"gpu": "RTX 4090", "compute_capability": "8.9"}, "10.3.0", "out/b")
    with pytest.raises(BundleError, match=r"built with TensorRT 10\.3\.0, this is TensorRT 10\.7\.0"):
        check_engine_compat(rec, {"gpu": "Orin", "compute_capability": "8.7"}, "10.7.0", "out/b")
    with pytest.raises(BundleError, match="no NVIDIA GPU is visible"):
        check_engine_compat(rec, None, None, "out/b")
    check_engine_compat(rec, {"gpu": "Orin", "compute_capability": "8.7"}, "10.3.0", "out/b")


def test_trtexec_version_parse() -> None:
    from edgebind.export.engine import trtexec_version

    assert trtexec_version("[11/27/2026-10:00:00] [I] TensorRT version: 10.3.0\n&&&& RUNNING TensorRT v100300") \
        == "10.3.0"
    assert trtexec_version("no version here") is None


@pytest.mark.gpu
def test_real_engine_build_and_parity(tmp_path: Path) -> None:
    pytest.importorskip("tensorrt", reason="TensorRT is not installed (pip install tensorrt on a CUDA machine)")
    from edgebind.export import export_bundle
    from edgebind.runtime import open_runner

    b = export_bundle(tmp_path / "b", target="x86-cuda", precision="fp16", modalities="imu", random_init=True,
                      preset="tiny", remember=False)
    entry = b.encoders["imu"]
    assert entry.engine is not None and entry.engine["parity"]["passed"]
    with open_runner(b, "imu") as r:
        assert r.backend == "tensorrt"


def test_build_engine_refuses_an_onnx_bundle(tiny_fp32: Path) -> None:
    from edgebind.export.engine import build_bundle_engines

    with pytest.raises(BundleError, match="was exported as onnx; re-export it with --format tensorrt"):
        build_bundle_engines(tiny_fp32)
