"""A streaming IMU student exported as an ONNX step model with explicit state, run window by window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.bundle import load_bundle
from edgebind.errors import InputError


@pytest.fixture(scope="module")
def stream_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny streaming student with every parameter moved off its init (its slot biases and offsets start at
    zero, which would make the head blind to the order of the cached tokens)."""
    import torch

    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config
    from edgebind.models import build_encoder

    torch.manual_seed(0)
    model = build_encoder(get_config("tiny_imu_stream"))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return save_checkpoint(model, tmp_path_factory.mktemp("ckpt") / "stream.safetensors")


@pytest.fixture(scope="module")
def stream_fp32(stream_ckpt: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from edgebind.export import export_bundle

    out = tmp_path_factory.mktemp("stream") / "b"
    export_bundle(out, target="cpu", precision="fp32", modalities="imu", checkpoint=stream_ckpt, remember=False)
    return out


def _hop_windows(rec: Path, hop_s: float) -> np.ndarray:
    from edgebind.embed import load_inputs

    return load_inputs("imu", [str(rec)], hop_s=hop_s)


def test_manifest_names_the_step_model_and_its_state(stream_fp32: Path) -> None:
    import onnx

    entry = load_bundle(stream_fp32).encoders["imu"]
    assert entry.stream is not None and entry.stream["hop_samples"] == 40
    model = onnx.load(str(stream_fp32 / entry.file))
    ins = [i.name for i in model.graph.input]
    outs = [o.name for o in model.graph.output]
    assert ins == [entry.input_name, *entry.stream["state_inputs"]]
    assert outs == [entry.output_name, *entry.stream["state_outputs"]]


def test_runner_carries_the_state_and_equals_the_window_model(stream_fp32: Path, imu_rec: Path) -> None:
    import torch

    from edgebind.runtime import open_runner
    from edgebind.runtime.torch import load_bundle_encoder

    x = _hop_windows(imu_rec, 0.1)[:60]  # the first 60 windows of one recording, 0.1 s apart
    with open_runner(stream_fp32, "imu", backend="onnxruntime", threads=1) as r:
        emb = r.embed(x)
        stream = r.step_stream()
        # the first window steps over every patch (50), every later one over one patch; one call each
        assert (stream.resets, stream.steps, stream.calls) == (1, 50 + 59, 60)
        r.reset_stream()
        again = r.embed(x[5:6])
        assert stream.resets == 2
    model = load_bundle_encoder(load_bundle(stream_fp32), "imu")
    with torch.inference_mode():
        want = model(torch.from_numpy(x)).numpy()
    assert np.abs(emb - want).max() <= 2e-5  # measured 6.9e-7 (random tiny, BasicMotions TEST)
    assert np.abs(again[0] - want[5]).max() <= 2e-5


def test_a_label_every_half_second_is_one_call_over_five_hops(stream_fp32: Path, imu_rec: Path) -> None:
    import torch

    from edgebind.runtime import open_runner
    from edgebind.runtime.torch import load_bundle_encoder

    x = _hop_windows(imu_rec, 0.5)[:12]
    with open_runner(stream_fp32, "imu", backend="onnxruntime", threads=1) as r:
        emb = r.embed(x)
        stream = r.step_stream()
        assert (stream.resets, stream.steps, stream.calls) == (1, 50 + 11 * 5, 12)
    model = load_bundle_encoder(load_bundle(stream_fp32), "imu")
    with torch.inference_mode():
        want = model(torch.from_numpy(x)).numpy()
    assert np.abs(emb - want).max() <= 2e-5  # measured 6.0e-7 (random tiny, BasicMotions TEST)


def test_a_bundle_without_max_hops_steps_one_hop_per_call() -> None:
    from edgebind.runtime.streaming import StepStream

    seen: list[int] = []

    def step(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:  # an older step model: 40 samples per call
        seen.append(feeds["samples"].shape[2])
        return {"embedding": np.ones((1, 4), np.float32), "state_out": feeds["state"] + 1}

    spec = {"hop_samples": 40, "window_samples": 400, "state_inputs": ["state"], "state_outputs": ["state_out"],
            "state_shapes": {"state": ["batch", 10, 3]}}
    x = np.random.default_rng(0).normal(size=(6, 600)).astype(np.float32)
    stream = StepStream(step, spec, "samples", "embedding")
    stream.embed(np.stack([x[:, :400], x[:, 200:600]]))
    assert seen == [40] * 15 and (stream.steps, stream.calls) == (15, 15)
    seen.clear()
    multi = StepStream(step, {**spec, "max_hops": 10}, "samples", "embedding")
    multi.embed(np.stack([x[:, :400], x[:, 200:600]]))
    assert seen == [400, 200] and (multi.steps, multi.calls) == (15, 2)


def test_a_gap_resets_the_runner(stream_fp32: Path, imu_rec: Path) -> None:
    from edgebind.runtime import open_runner

    x = _hop_windows(imu_rec, 0.1)[:20]
    gapped = np.concatenate([x[:10], x[13:]])  # three labels lost in between
    with open_runner(stream_fp32, "imu", backend="onnxruntime", threads=1) as r:
        r.embed(gapped)
        # a jump of 4 patches is still a continuation (the runner steps 4 patches); a reordered window is not
        assert r.step_stream().resets == 1
        r.embed(x[::-1][:2])
        assert r.step_stream().resets == 3


def test_a_wrong_state_is_refused(stream_fp32: Path) -> None:
    from edgebind.runtime import open_runner

    with open_runner(stream_fp32, "imu", backend="onnxruntime") as r, pytest.raises(InputError, match="state"):
        r.infer({"samples": np.zeros((1, 6, 40), np.float32), "state": np.zeros((1, 3, 3), np.float32)})


@pytest.mark.parametrize("samples", [50, 0, 2040])
def test_samples_that_are_not_whole_hops_of_a_window_are_refused(stream_fp32: Path, samples: int) -> None:
    from edgebind.runtime import open_runner

    state = np.zeros((1, 50, 128), np.float32)
    with open_runner(stream_fp32, "imu", backend="onnxruntime") as r, pytest.raises(InputError, match="whole hops"):
        r.infer({"samples": np.zeros((1, 6, samples), np.float32), "state": state})


def test_embed_with_the_bundle_yields_one_embedding_per_teacher_window(stream_fp32: Path, imu_rec: Path,
                                                                       reference_tiny: object, tmp_path: Path) -> None:
    from edgebind.cli import cli

    outs = {}
    for name, source in (("bundle", ["--bundle", str(stream_fp32)]),
                         ("teacher", ["--checkpoint", str(reference_tiny.path),  # type: ignore[attr-defined]
                                      *reference_tiny.set_args])):  # type: ignore[attr-defined]
        res = CliRunner().invoke(cli, ["embed", "imu", str(imu_rec), *source, "--hop", "0.1", "-o",
                                       str(tmp_path / f"{name}.npy")])
        assert res.exit_code == 0, res.output
        outs[name] = np.load(tmp_path / f"{name}.npy")
    assert len(outs["bundle"]) == len(outs["teacher"]) == len(_hop_windows(imu_rec, 0.1))


def test_bench_hop_times_one_label(stream_fp32: Path, tiny_fp32: Path) -> None:
    from edgebind.bench import bench_bundles, format_table

    res = bench_bundles([tiny_fp32, stream_fp32], backends=["onnxruntime"], modalities=["imu"], threads=1, runs=6,
                        warmup=1, block=3, hop_s=0.1)
    by = {r.bundle: r for r in res}
    assert by[str(stream_fp32)].steps_per_label == 1.0  # one step per label at a 0.1 s hop
    assert by[str(tiny_fp32)].steps_per_label is None  # a window-at-a-time encoder runs the whole window
    assert "steps/label" in format_table(res)
    res = bench_bundles([stream_fp32], backends=["onnxruntime"], modalities=["imu"], threads=1, runs=4, warmup=1,
                        block=2, hop_s=0.5)
    assert res[0].steps_per_label == 5.0  # 0.5 s = 5 patches of 0.1 s


def test_int8_step_model_keeps_the_head_float_and_follows_fp32(stream_fp32: Path, stream_ckpt: Path, imu_rec: Path,
                                                                tmp_path: Path) -> None:
    import onnx

    from edgebind.export import export_bundle
    from edgebind.runtime import open_runner

    out = tmp_path / "int8"
    # the export's own parity (default tolerance, min cosine 0.98) passes: measured 0.99961 seeded, 0.998 held out
    export_bundle(out, target="cpu", precision="int8", modalities="imu", checkpoint=stream_ckpt,
                  calibration=imu_rec, remember=False)
    entry = load_bundle(out).encoders["imu"]
    assert entry.parity["passed"] and entry.stream is not None
    model = onnx.load(str(out / entry.file))
    quantised = {n.input[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
    assert quantised  # the per-token layers are int8
    assert entry.calibration is not None and len(entry.calibration["float_nodes"]) > 2  # stem + pooling head
    x = _hop_windows(imu_rec, 0.1)[:40]
    with open_runner(out, "imu", backend="onnxruntime") as q, open_runner(stream_fp32, "imu",
                                                                        backend="onnxruntime") as f:
        a, b = q.embed(x), f.embed(x)
        assert q.step_stream().steps == 50 + 39
    cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    print(f"\nint8 step model vs fp32 on 40 hop windows: min cosine {cos.min():.5f}; parity "
          f"{ {k: round(v['min_cosine'], 5) for k, v in entry.parity['splits'].items()} }")
    assert cos.min() >= 0.99, cos.min()  # measured 0.99552
