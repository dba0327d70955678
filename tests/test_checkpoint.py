"""Checkpoint import/export: round trips, extraction, and the errors users meet."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from officialref import Reference

from edgebind.checkpoint import (
    encoder_state_dict,
    extract,
    load_checkpoint,
    load_encoder,
    official_to_ours,
    ours_to_official,
    save_checkpoint,
)
from edgebind.config import get_config, parse_overrides, replace
from edgebind.errors import CheckpointError, ConfigError
from edgebind.models import build_encoder


def _official_file(tmp_path: Path, modalities: tuple[str, ...] = ("imu", "thermal")) -> Path:
    """A tiny official-layout checkpoint: a flat state dict, no wrapper, as imagebind_huge.pth."""
    torch.manual_seed(0)
    sd: dict[str, torch.Tensor] = {}
    for m in modalities:
        sd |= encoder_state_dict(build_encoder(get_config(f"tiny_{m}")))
    path = tmp_path / "official.pth"
    torch.save(sd, path)
    return path


TINY = parse_overrides(["imu_num_heads=2", "thermal_num_heads=2", "text_num_heads=2"])


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_student_round_trip_keeps_config(tmp_path: Path, suffix: str) -> None:
    model = build_encoder(get_config("imu-tiny"))
    path = save_checkpoint(model, tmp_path / f"student{suffix}")
    loaded = load_encoder(path, "imu")  # no preset, no --set: the embedded config says everything
    assert loaded.cfg == model.cfg
    x = torch.randn(2, 6, 2000)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)


def test_key_table_is_invertible() -> None:
    for m in ("imu", "thermal", "text", "vision"):
        for ours in build_encoder(get_config(f"tiny_{m}")).state_dict():
            assert official_to_ours(m, ours_to_official(m, ours)) == ours


def test_official_flat_file_loads_any_subset(tmp_path: Path) -> None:
    path = _official_file(tmp_path)
    imu = load_encoder(path, "imu", overrides=TINY)
    assert imu.cfg.embed_dim == 32 and imu.cfg.depth == 2
    with pytest.raises(CheckpointError, match=r"has no text weights \(it holds imu, thermal\).*extract"):
        load_encoder(path, "text")


# Max |fp32 source - fp16 extract| of the IMU output, about 3x the measured figure (0 for tiny: its weights are
# already fp16, so the extract is lossless; 3.7e-4 for small's fp32 weights).
EXTRACT_FP16_MAX_ABS = {"tiny": 0.0, "small": 1.1e-3}


def test_extract_fp16_round_trip(tmp_path: Path, reference: Reference) -> None:
    src = reference.path
    out, counts = extract(src, ["imu", "text"], tmp_path / "edge.safetensors", dtype="fp16")
    assert counts == {"imu": 37, "text": 31}
    ckpt = load_checkpoint(out)
    assert ckpt.modalities == ["imu", "text"]
    assert ckpt.state_dict["modality_trunks.imu.blocks.0.mlp.fc1.weight"].dtype == torch.float16
    mask = "modality_preprocessors.text.mask"  # a buffer: kept as the source stores it (-inf kept exact)
    assert ckpt.state_dict[mask].dtype == load_checkpoint(src).state_dict[mask].dtype
    assert ckpt.metadata["source_sha256"]
    x = reference.input("imu")
    full = load_encoder(src, "imu", overrides=reference.overrides)
    half = load_encoder(out, "imu", overrides=reference.overrides)
    with torch.inference_mode():
        diff = (full(x) - half(x)).abs().max().item()
    assert diff <= EXTRACT_FP16_MAX_ABS[reference.name], diff


def test_truncated_checkpoint(tmp_path: Path) -> None:
    path = _official_file(tmp_path)
    data = path.read_bytes()
    bad = tmp_path / "truncated.pth"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt; download it again"):
        load_checkpoint(bad)


def test_corrupt_safetensors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(bad)


def test_pickle_that_is_not_a_state_dict(tmp_path: Path) -> None:
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(2)], path)
    with pytest.raises(CheckpointError, match="holds a list, not a state dict"):
        load_checkpoint(path)
    path2 = tmp_path / "config.pth"
    torch.save({"lr": 0.1, "epochs": 3}, path2)
    with pytest.raises(CheckpointError, match="not a state dict: entry 'lr'"):
        load_checkpoint(path2)


class _Evil:
    def __reduce__(self) -> tuple:
        return (print, ("pickled code ran",))


def test_pickled_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    with path.open("wb") as f:
        pickle.dump({"x": _Evil()}, f, protocol=2)
    with pytest.raises(CheckpointError, match="will not execute"):
        load_checkpoint(path)


def test_missing_file_names_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="--checkpoint PATH"):
        load_checkpoint(tmp_path / "nope.pth")


def test_wrong_preset_lists_keys(tmp_path: Path) -> None:
    from edgebind.checkpoint import encoder_from_state_dict

    sd = load_checkpoint(_official_file(tmp_path)).subset("imu")
    cfg = replace(get_config("tiny_imu"), depth=3)
    with pytest.raises(CheckpointError, match=r"1\d missing \(e\.g\. modality_trunks\.imu\.blocks\.2"):
        encoder_from_state_dict(sd, cfg)


def test_override_that_contradicts_tensors(tmp_path: Path) -> None:
    path = _official_file(tmp_path)
    with pytest.raises(ConfigError, match="contradicts the checkpoint, whose tensors say 32"):
        load_encoder(path, "imu", overrides=parse_overrides(["imu_embed_dim=64"]))


def test_unknown_set_name_suggests() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'imu_num_heads'"):
        parse_overrides(["imu_num_head=8"])
    with pytest.raises(ConfigError, match="NAME=VALUE"):
        parse_overrides(["imu_num_heads"])


def test_heads_that_do_not_divide_width() -> None:
    with pytest.raises(ConfigError, match="not divisible by num_heads 5"):
        replace(get_config("tiny_imu"), num_heads=5)
