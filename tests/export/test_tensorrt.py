"""TensorRT without TensorRT: the strongly typed trtexec recipe, static DLA profiles and their refusals, the version
window, the trtexec output-JSON reader (against a file in TensorRT's documented layout), parity verdicts the runner
enforces, the cuda-python error path, a grep for weak-typing APIs, and (marked gpu) a real engine build."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgebind.bundle import Bundle, load_bundle
from edgebind.errors import BundleError, ConfigError, ParityError
from edgebind.export.targets import TARGETS
from edgebind.export.tensorrt import check_engine_compat, trt_version

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "tensorrt"
ORIN = {"gpu": "Orin", "compute_capability": "8.7"}


@pytest.fixture(scope="module")
def agx_int8(tmp_path_factory: pytest.TempPathFactory, imu_rec: Path) -> Path:
    from edgebind.export import export_bundle

    d = tmp_path_factory.mktemp("agx") / "b"
    export_bundle(d, target="jetson-agx-orin", precision="int8", modalities="imu", random_init=True, preset="tiny",
                  calibration=imu_rec, dla_core=1, remember=False)
    return d


def _with_engine(bundle_dir: Path, **record: object) -> Bundle:
    """The bundle with an engine record as build-engine writes it (unusable until parity is checked)."""
    from edgebind.export.tensorrt import engine_record, profile_batches

    b = load_bundle(bundle_dir)
    entry = b.encoders["imu"]
    entry.engine = engine_record(entry, ORIN, "10.3.0", 1, profile_batches(TARGETS["jetson-agx-orin"], 1), "trtexec",
                                 None)
    entry.engine.update(record)
    return b


def test_recipe_is_strongly_typed_with_a_static_dla_profile(agx_int8: Path) -> None:
    b = load_bundle(agx_int8)
    assert b.tensorrt is not None and b.tensorrt["mode"] == "recipe" and b.tensorrt["strongly_typed"]
    assert b.tensorrt["tensorrt_supported"] == ">=10.3,<12"
    if trt_version() is None:
        assert b.tensorrt["built_here"] is False and "tensorrt" in b.tensorrt["why_not"]
    assert b.tensorrt["batch"] == {"min": 1, "opt": 1, "max": 1}
    cmd = shlex.split(b.tensorrt["commands"]["imu"])
    assert cmd[0] == "trtexec" and "--onnx=imu.onnx" in cmd and "--saveEngine=imu.engine" in cmd
    assert "--stronglyTyped" in cmd
    assert not {"--int8", "--fp16", "--best"} & set(cmd)
    assert not [c for c in cmd if c.startswith(("--precisionConstraints", "--layerPrecisions", "--layerOutputTypes"))]
    assert "--useDLACore=1" in cmd and "--allowGPUFallback" in cmd
    for flag in ("--minShapes", "--optShapes", "--maxShapes"):
        assert f"{flag}=input:1x6x2000" in cmd  # DLA: min = opt = max
    assert "--memPoolSize=workspace:4096M" in cmd and "--timingCacheFile=timing.cache" in cmd
    assert "--exportLayerInfo=imu.layers.json" in cmd and "--profilingVerbosity=detailed" in cmd
    assert b.encoders["imu"].calibration is not None and b.encoders["imu"].calibration["activations"] == "int8"


def test_build_engine_script_calls_build_engine(agx_int8: Path) -> None:
    script = agx_int8 / "build_engine.sh"
    assert "build_engine.sh" in load_bundle(agx_int8).files
    subprocess.run(["bash", "-n", str(script)], check=True)  # valid bash
    lines = script.read_text().splitlines()
    assert lines[-1] == 'exec "${EDGEBIND:-edgebind}" build-engine . --trtexec --dla-core 1 --dla-batch 1 "$@"'
    cmd = load_bundle(agx_int8).tensorrt["commands"]["imu"]  # type: ignore[index]
    assert f"#   {cmd}" in lines  # the same settings, shown for reference
    from edgebind.cli import COMMANDS
    from edgebind.cli.build_engine import build_engine

    words = shlex.split(lines[-1])
    assert words[:3] == ["exec", "${EDGEBIND:-edgebind}", "build-engine"] and words[-1] == "$@"
    assert COMMANDS["build-engine"] == "edgebind.cli.build_engine:build_engine"
    ctx = build_engine.make_context("build-engine", words[3:-1])  # the real CLI parses the script's line
    assert ctx.params == {"bundle": ".", "dla_core": 1, "dla_batch": 1, "use_trtexec": True}


def test_gpu_profile_is_dynamic_and_dla_profile_static(agx_int8: Path) -> None:
    from edgebind.export.tensorrt import profile_batches
    from edgebind.export.trtexec import trtexec_command

    entry = load_bundle(agx_int8).encoders["imu"]
    agx = TARGETS["jetson-agx-orin"]
    assert profile_batches(agx, None) == {"min": 1, "opt": 1, "max": 16}
    assert profile_batches(agx, 0, 4) == {"min": 4, "opt": 4, "max": 4}
    gpu = trtexec_command(entry, agx, None)
    assert "--minShapes=input:1x6x2000" in gpu and "--maxShapes=input:16x6x2000" in gpu
    assert not [c for c in gpu if "DLA" in c or "GPUFallback" in c]
    dla = trtexec_command(entry, agx, 0, 4)
    assert [c for c in dla if "Shapes=" in c] == [f"--{k}Shapes=input:4x6x2000" for k in ("min", "opt", "max")]
    with pytest.raises(ConfigError, match="--dla-batch must be at least 1, not 0"):
        profile_batches(agx, 0, 0)


def test_dla_refuses_fp32_and_targets_without_dla(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from edgebind.cli import cli
    from edgebind.export import export_bundle
    from edgebind.export.tensorrt import check_dla

    with pytest.raises(ConfigError, match="DLA runs fp16 and int8 only, and this bundle is fp32; add --fp16 or "
                                          "--int8, or drop --dla-core"):
        export_bundle(tmp_path / "a", target="jetson-agx-orin", precision="fp32", dla_core=0, random_init=True,
                      preset="tiny", modalities="imu", remember=False)
    assert not (tmp_path / "a").exists()
    res = CliRunner().invoke(cli, ["export", "--target", "jetson-agx-orin", "--dla-core", "0", "--random-init",
                                   "--preset", "tiny", "-o", str(tmp_path / "b")])
    assert res.exit_code == 1 and "DLA runs fp16 and int8 only" in res.output
    with pytest.raises(ConfigError, match="has no DLA"):
        check_dla(TARGETS["jetson-orin-nano"], 0, "fp16")
    check_dla(TARGETS["jetson-agx-orin"], 1, "int8")
    check_dla(TARGETS["jetson-agx-orin"], None, "fp32")


def test_version_window_and_dla_on_tensorrt_11() -> None:
    from edgebind.export.tensorrt import check_dla_version, check_version

    assert check_version("10.3.0.30") == (10, 3, 0)
    assert check_version("11.1.0") == (11, 1, 0)
    with pytest.raises(BundleError, match=r"TensorRT 10\.2\.0 is too old: edgebind needs 10\.3 or newer"):
        check_version("10.2.0")
    with pytest.raises(BundleError, match=r"TensorRT 8\.6\.2 is too old"):
        check_version("8.6.2")
    with pytest.raises(BundleError, match=r"TensorRT 12\.0\.0 is newer than edgebind supports \(up to 11\.x\)"):
        check_version("12.0.0")
    with pytest.raises(BundleError, match="cannot read the TensorRT version 'unknown'"):
        check_version("unknown")
    with pytest.raises(BundleError, match=r"TensorRT 11\.0\.0 has no DLA support"):
        check_dla_version(0, (11, 0, 0))
    check_dla_version(0, (10, 3, 0))
    check_dla_version(None, (11, 0, 0))


@pytest.mark.parametrize(("version", "target", "ok"), [
    ((10, 3, 0), "jetson-orin-nx", True),  # JetPack 6
    ((10, 7, 0), "jetson-agx-orin", True),  # the last 10.x with DLA
    ((10, 8, 0), "jetson-agx-orin", False),
    ((11, 3, 0), "jetson-agx-orin", False),  # 11.0-11.3: no DLA anywhere
    ((11, 4, 0), "jetson-agx-orin", False),  # 11.4.0: Windows on ARM only
    ((11, 4, 1), "jetson-agx-orin", True),  # 11.4.1: AGX Orin with JetPack 7.2.2+
    ((11, 4, 1), "jetson-orin-nx-16gb", False),  # Orin NX is not on JetPack 7
    ((11, 5, 0), "jetson-agx-orin", False),  # 11.5 does not support JetPack
])
def test_dla_follows_nvidias_release_notes(version: tuple[int, int, int], target: str, ok: bool) -> None:
    from edgebind.export.tensorrt import check_dla_version, dla_supported

    assert dla_supported(version, target) is ok
    if ok:
        check_dla_version(0, version, target)
    else:
        with pytest.raises(BundleError, match=f"has no DLA support for {target}.*11\\.4\\.1"):
            check_dla_version(0, version, target)


def test_orin_nx_16gb_has_two_dla_cores() -> None:
    from edgebind.export.targets import TARGETS
    from edgebind.export.tensorrt import check_dla

    check_dla(TARGETS["jetson-orin-nx-16gb"], 1, "int8")
    with pytest.raises(ConfigError, match=r"DLA cores 0\.\.0, not 1"):
        check_dla(TARGETS["jetson-orin-nx"], 1, "int8")
    with pytest.raises(ConfigError, match="jetson-orin-nx-16gb"):  # the hint lists every target with DLA
        check_dla(TARGETS["jetson-orin-nano"], 0, "int8")


@pytest.mark.parametrize(("extra", "cuda_major", "first"), [("trt", 12, "10.3"), ("trt-cu13", 13, "10.13")])
def test_requirement_is_capped_at_the_supported_major(extra: str, cuda_major: int, first: str) -> None:
    """Each TensorRT extra pins TensorRT's CUDA flavour and cuda-bindings to one CUDA major (cuda-bindings 13 needs a
    CUDA 13 driver; the bare 'tensorrt' wheel follows NVIDIA's newest CUDA)."""
    try:
        import tomllib  # novermin (3.11+; the except branch is 3.10)
    except ModuleNotFoundError:  # Python 3.10 (JetPack 6): the same parser as a package
        import tomli as tomllib
    from packaging.requirements import Requirement

    from edgebind.export.tensorrt import MAX_MAJOR, MIN_VERSION, supported_range

    reqs = [Requirement(r) for r in tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"][extra]]
    by_name = {r.name: r.specifier for r in reqs}
    assert set(by_name) == {f"tensorrt-cu{cuda_major}", "cuda-bindings"}
    trt = by_name[f"tensorrt-cu{cuda_major}"]
    assert f"<{MAX_MAJOR + 1}" in str(trt) and trt.contains(f"{MAX_MAJOR}.4.1")
    assert not trt.contains(f"{MAX_MAJOR + 1}.0")
    assert trt.contains(first) and not trt.contains(".".join(map(str, (MIN_VERSION[0], MIN_VERSION[1] - 1))))
    assert supported_range().endswith(f"<{MAX_MAJOR + 1}")
    cuda = by_name["cuda-bindings"]
    assert cuda.contains(f"{cuda_major}.9.0") and not cuda.contains(f"{cuda_major + 1}.0.0")
    assert not cuda.contains(f"{cuda_major - 1}.9.0")


WEAK_TYPING = re.compile(
    r"BuilderFlag\.(FP16|INT8|BF16|FP8|INT4|FP4)\b|PRECISION_CONSTRAINTS|int8_calibrator|\.precision\s*=[^=]|"
    r"set_output_type|platform_has_fast|--layerPrecisions|--layerOutputTypes|--precisionConstraints|--best\b")
TRTEXEC_PRECISION = re.compile(r"""["']--(int8|fp16|bf16|fp8|calib=?)["']|--(int8|fp16)/""")


def test_no_weak_typing_api_remains() -> None:
    hits = []
    for path in sorted((REPO / "edgebind").rglob("*.py")):
        text = path.read_text()
        hits += [f"{path.relative_to(REPO)}: {m.group(0)}" for m in WEAK_TYPING.finditer(text)]
        if "trtexec" in text:  # edgebind's own --fp16/--int8 export flags are fine elsewhere
            hits += [f"{path.relative_to(REPO)}: {m.group(0)}" for m in TRTEXEC_PRECISION.finditer(text)]
    assert hits == []


def test_read_trtexec_output_in_trtexecs_own_layout(tmp_path: Path) -> None:
    """Files written the way trtexec writes them (C++ iostreams; tests/data/tensorrt/export_output.cpp follows
    exportJSONOutput in TensorRT's samples/common/sampleReporting.cpp): 6 significant digits, several outputs,
    and C's nan/inf spellings, which are not JSON."""
    from edgebind.export.trtexec import read_trtexec_output

    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:  # as tests/test_firmware.py treats its compilers: CI installs it, elsewhere a skip
        if os.environ.get("EDGEBIND_REQUIRE_TOOLCHAINS") == "1":
            pytest.fail("g++ not found: apt-get install g++")
        pytest.skip("g++ not found: apt-get install g++")
    exe = tmp_path / "export_output"
    subprocess.run([cxx, "-O1", "-o", str(exe), str(DATA / "export_output.cpp")], check=True)
    values = np.array([[0.125, -2.5, 3.14159265], [1e-7, -1.75e6, 123456.789]], dtype=np.float32)
    out = tmp_path / "out.json"
    subprocess.run([str(exe), str(out), "embedding", "2x3", *map(repr, values.ravel().tolist()),
                    "--", "inf_count", "1x4", "nan", "-inf", "inf", "-0"], check=True)
    text = out.read_text()
    assert text.startswith('[\n  { "name" : "embedding"\n  , "dimensions" : "2x3"\n') and "\n, { " in text
    got = read_trtexec_output(out, "embedding")
    assert got.shape == (2, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, values, rtol=5e-6)  # trtexec keeps 6 significant digits
    assert not np.array_equal(got, values)  # ... and so is not exact: 3.14159265 -> 3.14159
    special = read_trtexec_output(out, "inf_count")
    assert np.isnan(special[0, 0]) and special[0, 1] == -np.inf and special[0, 2] == np.inf and special[0, 3] == 0


def test_read_trtexec_output_recorded_file(tmp_path: Path) -> None:
    from edgebind.export.trtexec import read_trtexec_output

    out = read_trtexec_output(DATA / "trtexec_export_output.json", "embedding")
    assert out.shape == (2, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.float32([[0.125, -2.5, 3.14159, 1e-7], [-0.5, 0, 42, -1.75e6]]))
    with pytest.raises(BundleError, match=r"has no output 'logits' \(outputs: \['embedding'\]\)"):
        read_trtexec_output(DATA / "trtexec_export_output.json", "logits")
    short = json.loads((DATA / "trtexec_export_output.json").read_text())
    short[0]["values"] = short[0]["values"][:-1]
    (tmp_path / "short.json").write_text(json.dumps(short))
    with pytest.raises(BundleError, match="has 7 values for dimensions 2x4"):
        read_trtexec_output(tmp_path / "short.json", "embedding")
    with pytest.raises(BundleError, match="trtexec wrote no output file"):
        read_trtexec_output(tmp_path / "none.json", "embedding")


def _trtexec_json(name: str, x: np.ndarray) -> str:
    """``x`` in trtexec's --exportOutput layout, values printed as a C++ stream does (6 significant digits)."""
    values = ", ".join(f"{v:.6g}" for v in x.ravel())
    dims = "x".join(map(str, x.shape))
    return f'[\n  {{ "name" : "{name}"\n  , "dimensions" : "{dims}"\n  , "values" : [ {values} ]\n  }}\n]\n'


def test_trtexec_printed_outputs_meet_fp32_parity(tiny_fp32: Path, tmp_path: Path) -> None:
    """trtexec prints 6 significant digits: enough for the fp32 tolerance, and a dropped sample still fails."""
    from edgebind.export.engine import parity_splits
    from edgebind.export.parity import measure_parity
    from edgebind.export.trtexec import read_trtexec_output

    b = load_bundle(tiny_fp32)
    splits = parity_splits(b, "imu")
    ref = splits["seeded"][1]
    (tmp_path / "out.json").write_text(_trtexec_json("embedding", ref))
    printed = read_trtexec_output(tmp_path / "out.json", "embedding")
    assert measure_parity(lambda x: printed, splits, "fp32")["passed"]
    shifted = np.roll(printed, 1, axis=0)  # outputs of the wrong samples
    assert not measure_parity(lambda x: shifted, splits, "fp32")["passed"]


def test_trtexec_infer_command() -> None:
    from edgebind.export.trtexec import trtexec_infer_command

    class Entry:
        file, input_name, input_shape = "imu.onnx", "input", ["batch", 6, 2000]

    cmd = trtexec_infer_command(Entry(), 3, "/t/in.bin", "/t/out.json", None)
    assert cmd[:3] == ["trtexec", "--loadEngine=imu.engine", "--shapes=input:3x6x2000"]
    assert "--loadInputs=input:/t/in.bin" in cmd and "--exportOutput=/t/out.json" in cmd
    assert "--iterations=1" in cmd and not [c for c in cmd if "DLA" in c]
    assert trtexec_infer_command(Entry(), 1, "a", "b", 1)[-1] == "--useDLACore=1"


def test_dla_placement_per_layer() -> None:
    from edgebind.export.tensorrt import dla_placement

    info = {"Layers": [{"Name": "{ForeignNode[/blocks.0/attn/qkv/MatMul...]}", "LayerType": "DLA"},
                       {"Name": "/blocks.0/attn/MatMul", "LayerType": "MatrixMultiply"},
                       {"Name": "/norm/LayerNormalization", "LayerType": "Normalization"},
                       {"Name": "{ForeignNode[/blocks.1/attn/MatMul...]}", "LayerType": "Myelin"},  # GPU fusion
                       "/head/Reshape"],  # a layer named only (profiling verbosity below detailed)
            "Bindings": ["input", "embedding"]}
    assert dla_placement(info) == {"dla_layers": ["{ForeignNode[/blocks.0/attn/qkv/MatMul...]}"],
                                   "gpu_fallback_layers": ["/blocks.0/attn/MatMul", "/norm/LayerNormalization",
                                                           "{ForeignNode[/blocks.1/attn/MatMul...]}", "/head/Reshape"]}


def test_pad_batch_for_static_profiles() -> None:
    from edgebind.export.tensorrt import pad_batch

    x = np.ones((1, 6, 2000), np.float32)
    p = pad_batch(x, 4)
    assert p.shape == (4, 6, 2000) and p.dtype == np.float32
    np.testing.assert_array_equal(p[0], x[0])
    assert not p[1:].any()
    assert pad_batch(p, 4) is p


def test_engine_verdict() -> None:
    from edgebind.export.engine import engine_verdict

    assert engine_verdict(None, "trtexec is not on PATH") == (False, "parity not measured (trtexec is not on PATH)")
    assert engine_verdict({"passed": False, "failures": ["seeded: min cosine 0.9 < 0.999"]}) == (
        False, "failed parity: seeded: min cosine 0.9 < 0.999")
    assert engine_verdict({"passed": True, "failures": []}) == (True, None)


def test_runner_refuses_engines_without_a_passing_parity(agx_int8: Path, caplog: pytest.LogCaptureFixture) -> None:
    from edgebind.runtime import open_runner

    with pytest.raises(BundleError, match=r"is unusable: parity not measured yet\. Rebuild and check it on this "
                                          r"device \(edgebind build-engine"):
        open_runner(_with_engine(agx_int8), "imu", backend="tensorrt")
    failed = _with_engine(agx_int8, usable=False, unusable_reason="failed parity: seeded: min cosine 0.91 < 0.98")
    with pytest.raises(BundleError, match=r"is unusable: failed parity: seeded: min cosine 0\.91 < 0\.98"):
        open_runner(failed, "imu", backend="tensorrt")
    old = _with_engine(agx_int8)
    assert old.encoders["imu"].engine is not None
    for k in ("usable", "unusable_reason"):
        del old.encoders["imu"].engine[k]
    with pytest.raises(BundleError, match="is unusable: it has no parity verdict"):
        open_runner(old, "imu", backend="tensorrt")
    from edgebind.runtime import default_backend

    with caplog.at_level("WARNING", logger="edgebind.runtime"):
        assert default_backend(failed, "imu") == "onnxruntime"  # an unusable engine is never picked by default
    assert "the imu engine is unusable (failed parity: seeded: min cosine 0.91 < 0.98)" in caplog.text
    ok = _with_engine(agx_int8, usable=True, unusable_reason=None)
    runner = open_runner(ok, "imu", backend="tensorrt")  # accepted; running it needs the GPU it was built for
    if trt_version() is None:
        with pytest.raises(BundleError, match=r"no NVIDIA GPU is visible here|which does not import here"):
            runner.embed(np.zeros((6, 2000), np.float32))


def test_unmeasured_parity_leaves_the_engine_unusable(agx_int8: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgebind.export.engine import check_engine, parity_splits, raise_if_unusable

    if shutil.which("trtexec") or trt_version() is not None:
        pytest.skip("TensorRT is installed here; the unmeasured path needs it absent")
    monkeypatch.delenv("TRTEXEC", raising=False)
    b = _with_engine(agx_int8)
    splits = parity_splits(b, "imu")
    for via, why in (("trtexec", "trtexec is not on PATH"),
                     ("runner", "imu.engine is a TensorRT engine but no NVIDIA GPU is visible here")):
        assert check_engine(b, "imu", splits, via=via) is False
        rec = b.encoders["imu"].engine
        assert rec is not None and rec["usable"] is False and rec["parity"] is None
        assert rec["unusable_reason"].startswith(f"parity not measured ({why}")
        with pytest.raises(BundleError, match=r"imu engine imu\.engine: parity not measured .* marked unusable; the "
                                              "runtime refuses it"):
            raise_if_unusable(b)
    with pytest.raises(ConfigError, match="unknown parity path 'polygraphy'; use one of runner, trtexec"):
        check_engine(b, "imu", splits, via="polygraphy")
    rec["parity"] = {"passed": False, "failures": ["seeded: min cosine 0.5 < 0.98"], "precision": "int8",
                     "artifact": "trtexec", "splits": {"seeded": {"min_cosine": 0.5, "max_abs": 0.3,
                                                                  "top1_agreement": None}}}
    with pytest.raises(ParityError, match=r"min cosine 0\.5 < 0\.98.*marked unusable; the runtime refuses it"):
        raise_if_unusable(b)


def test_cuda_python_errors_name_the_call() -> None:
    pytest.importorskip("cuda.bindings", reason="cuda-python (cuda-bindings) is not installed")
    from edgebind.export.tensorrt import gpu_identity
    from edgebind.runtime.cuda import CudaStream

    if gpu_identity() is not None:
        pytest.skip("a GPU is visible; the no-driver error does not apply")
    with pytest.raises(BundleError, match=r"CUDA cudaStreamCreateWithFlags failed: cudaError\w+\. Check that the "
                                          "NVIDIA driver is loaded"):
        CudaStream()


def test_device_side_modules_import_no_torch() -> None:
    code = ("import sys; import edgebind.runtime.trt, edgebind.runtime.cuda, edgebind.export.engine, "
            "edgebind.export.trtexec, edgebind.export.tensorrt, edgebind.cli.build_engine; "
            "from edgebind.export.tensorrt import gpu_identity; gpu_identity(); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


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
        check_engine_compat(rec, ORIN, "10.7.0", "out/b")
    with pytest.raises(BundleError, match="no NVIDIA GPU is visible"):
        check_engine_compat(rec, None, None, "out/b")
    check_engine_compat(rec, ORIN, "10.3.0", "out/b")
    check_engine_compat(rec, ORIN, "10.3.0.30", "out/b")  # trtexec logs 10.3.0; the Python package says 10.3.0.30


def test_type_stubs_do_not_count_as_tensorrt() -> None:
    import importlib

    try:
        trt = importlib.import_module("tensorrt")
    except ImportError:
        pytest.skip("no tensorrt folder at all (tensorrt-stubs not installed)")
    if getattr(trt, "__version__", None):
        pytest.skip("the real TensorRT is installed")
    assert trt_version() is None  # tensorrt-stubs' folder imports as an empty namespace package


def test_trtexec_version_parse() -> None:
    from edgebind.export.trtexec import trtexec_version

    assert trtexec_version("[11/27/2026-10:00:00] [I] TensorRT version: 10.3.0\n&&&& RUNNING TensorRT v100300") \
        == "10.3.0"
    assert trtexec_version("&&&& RUNNING TensorRT v110100 [b12]") == "11.1.0"
    assert trtexec_version("no version here") is None


@pytest.mark.gpu
def test_real_engine_build_and_parity(tmp_path: Path) -> None:
    pytest.importorskip("tensorrt", reason="TensorRT is not installed (pip install 'edgebind[trt]' on a CUDA machine)")
    from edgebind.export import export_bundle
    from edgebind.runtime import open_runner

    b = export_bundle(tmp_path / "b", target="x86-cuda", precision="fp16", modalities="imu", random_init=True,
                      preset="tiny", remember=False)
    entry = b.encoders["imu"]
    assert entry.engine is not None and entry.engine["parity"]["passed"] and entry.engine["usable"]
    with open_runner(b, "imu") as r:
        assert r.backend == "tensorrt"


def test_build_engine_refuses_an_onnx_bundle(tiny_fp32: Path) -> None:
    from edgebind.export.engine import build_bundle_engines

    with pytest.raises(BundleError, match="was exported as onnx; re-export it with --format tensorrt"):
        build_bundle_engines(tiny_fp32)
