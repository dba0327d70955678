"""Runners: every backend returns the PyTorch encoder's output; feeds are checked against the bundle's spec."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from officialref import Reference

from edgebind.errors import BundleError, ConfigError, InputError
from edgebind.runtime import BACKENDS, Runner, open_runner


def _x(modality: str, n: int = 3) -> np.ndarray:
    rng = np.random.default_rng(7)
    if modality == "imu":
        return rng.normal(0, 2, (n, 6, 2000)).astype(np.float32)
    return rng.random((n, 1, 224, 224), dtype=np.float32)


# Max |runner - official ImageBind output| on reference_tiny, about 3x the figure measured (printed with -s).
RUNNER_MAX_ABS = {"imu": 1.6e-6, "thermal": 4.3e-6}


@pytest.mark.parametrize("modality", ["imu", "thermal"])
@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
def test_embed_equals_official_outputs(reference_bundle: Path, reference_tiny: Reference, modality: str,
                                       backend: str) -> None:
    """Every backend reproduces what the OFFICIAL ImageBind code output for the same weights (tests/data)."""
    x = reference_tiny.input(modality).numpy()
    want = reference_tiny.output(f"{modality}.final").numpy()
    with open_runner(reference_bundle, modality, backend=backend, threads=1) as runner:
        assert isinstance(runner, Runner) and runner.backend == backend
        got = runner.embed(x)
        out = runner.infer({"input": x})["embedding"]
    assert got.shape == want.shape and got.dtype == np.float32
    d = float(np.abs(got - want).max())
    print(f"\n{backend} {modality}: max|runner - official| {d:.2g}")
    assert d <= RUNNER_MAX_ABS[modality]
    np.testing.assert_array_equal(out, got)  # embed is infer on the one feed


@pytest.mark.parametrize("modality", ["imu", "thermal"])
def test_output_is_unit_vector_times_logit_scale(tiny_bundle: Path, modality: str) -> None:
    with open_runner(tiny_bundle, modality, backend="onnxruntime", threads=1) as runner:
        got = runner.embed(_x(modality))
    assert got.shape == (3, 1024)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 5.0 if modality == "imu" else 10.0, rtol=1e-6)


def test_default_backend_is_onnxruntime_without_engines(tiny_bundle: Path) -> None:
    with open_runner(tiny_bundle, "imu") as r:
        assert r.backend == "onnxruntime"
        one = r.embed(_x("imu", 1)[0])  # a single (6, 2000) window
    assert one.shape == (1, 1024)


def test_feed_checks(tiny_bundle: Path) -> None:
    x = _x("imu", 2)
    with open_runner(tiny_bundle, "imu", backend="onnxruntime") as r:
        with pytest.raises(InputError, match="takes one feed 'input', got \\['x'\\]"):
            r.infer({"x": x})
        with pytest.raises(InputError, match=r"has shape \(2, 6, 1000\); the imu encoder takes \(batch, 6, 2000\)"):
            r.infer({"input": x[:, :, :1000]})
        with pytest.raises(InputError, match="has dtype float64; the bundle expects float32"):
            r.infer({"input": x.astype(np.float64)})
        with pytest.raises(InputError, match="channels-last"):
            r.embed(np.swapaxes(x, 1, 2))
    with open_runner(tiny_bundle, "thermal", backend="onnxruntime") as r, \
            pytest.raises(InputError, match="outside \\[0, 1\\]; it looks like temperatures"):
        r.embed(_x("thermal", 1) * 30.0)


def test_unknown_backend_and_modality(tiny_bundle: Path) -> None:
    assert set(BACKENDS) == {"onnxruntime", "tensorrt", "torch"}
    with pytest.raises(ConfigError, match="Did you mean 'onnxruntime'"):
        open_runner(tiny_bundle, "imu", backend="onnxrt")
    with pytest.raises(BundleError, match="has no text encoder"):
        open_runner(tiny_bundle, "text")


def test_torch_backend_needs_the_referenced_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config
    from edgebind.export import export_bundle
    from edgebind.models import build_encoder

    torch.manual_seed(3)
    enc = build_encoder(get_config("tiny_imu"))
    ckpt = save_checkpoint(enc, tmp_path / "ckpt" / "imu.safetensors")
    b = export_bundle(tmp_path / "b", target="cpu", modalities="imu", checkpoint=ckpt, remember=False)
    assert b.source["sha256"] and b.source["weights"] is None and "weights.safetensors" not in b.files
    x = _x("imu", 2)
    with torch.inference_mode():
        want = enc(torch.from_numpy(x)).numpy()
    with open_runner(tmp_path / "b", "imu", backend="torch") as r:
        np.testing.assert_allclose(r.embed(x), want, atol=1e-5)
    moved = tmp_path / "elsewhere.safetensors"
    shutil.move(ckpt, moved)
    with pytest.raises(BundleError, match="set EDGEBIND_CHECKPOINT to that file"):
        open_runner(tmp_path / "b", "imu", backend="torch").__enter__()
    monkeypatch.setenv("EDGEBIND_CHECKPOINT", str(moved))
    with open_runner(tmp_path / "b", "imu", backend="torch") as r:
        np.testing.assert_allclose(r.embed(x), want, atol=1e-5)
    # the manifest records the checkpoint relative to the bundle: moving both together keeps them paired
    monkeypatch.delenv("EDGEBIND_CHECKPOINT")
    shutil.move(moved, ckpt)
    assert b.source["checkpoint"] == "../ckpt/imu.safetensors"
    shutil.move(tmp_path, tmp_path.parent / f"{tmp_path.name}-moved")
    with open_runner(tmp_path.parent / f"{tmp_path.name}-moved" / "b", "imu", backend="torch") as r:
        np.testing.assert_allclose(r.embed(x), want, atol=1e-5)


def test_files_from_another_export_are_refused(tiny_bundle: Path, tmp_path: Path) -> None:
    """Copying an .onnx from another bundle *and* its hash into the manifest is caught by the embedded id."""
    from edgebind.bundle import file_digest, load_bundle
    from edgebind.export import export_bundle

    other = export_bundle(tmp_path / "other", target="cpu", modalities="imu", random_init=True, preset="tiny",
                          seed=5, remember=False)
    mixed = tmp_path / "mixed"
    shutil.copytree(tiny_bundle, mixed)
    shutil.copy(tmp_path / "other" / "imu.onnx", mixed / "imu.onnx")
    b = load_bundle(mixed, verify=False)
    b.files["imu.onnx"] = file_digest(mixed / "imu.onnx")
    (mixed / "manifest.json").write_text(b.to_json())
    with pytest.raises(BundleError, match=f"belongs to bundle {other.bundle_id[:12]}"):
        open_runner(mixed, "imu", backend="onnxruntime").__enter__()
