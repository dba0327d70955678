"""``edgebind export`` as users type it: main path, default output folder, and the error paths' fixes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from edgebind.cli import cli


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.output


def test_export_as_typed_without_checkpoint_says_what_to_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run("export", "--target", "jetson", "--fp16")
    assert code == 1
    assert "no checkpoint found: pass --checkpoint PATH, set EDGEBIND_CHECKPOINT" in out
    assert "--random-init" in out


def test_export_random_init_default_dir_and_next_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgebind.bundle import load_bundle
    from edgebind.paths import find_bundle

    monkeypatch.chdir(tmp_path)
    code, out = run("export", "--target", "jetson", "--fp16", "--random-init", "--preset", "tiny",
                    "--modalities", "imu")
    assert code == 0, out
    b = load_bundle(tmp_path / "out" / "imu-jetson-fp16")
    assert b.random_init and b.precision == "fp16" and b.format == "tensorrt"
    assert "RANDOM WEIGHTS" in out and "parity vs PyTorch fp32" in out
    assert "next: copy out/imu-jetson-fp16 to the device and run: edgebind build-engine out/imu-jetson-fp16" in out
    assert find_bundle(None).resolve() == (tmp_path / "out" / "imu-jetson-fp16").resolve()


def test_export_cpu_next_is_stream(tmp_path: Path) -> None:
    code, out = run("export", "--target", "cpu", "--random-init", "--preset", "tiny", "--modalities", "imu",
                    "-o", str(tmp_path / "b"))
    assert code == 0, out
    assert f"next: edgebind stream /dev/ttyACM0 --bundle {tmp_path / 'b'} --labels labels.txt --allow-random-init" \
        in out


def test_export_errors_name_the_fix(tmp_path: Path) -> None:
    code, out = run("export", "--target", "cpu", "--fp16", "--random-init")
    assert code == 1 and "Valid for cpu: onnx/fp32, onnx/int8" in out
    code, out = run("export", "--target", "cpu", "--fp16", "--int8", "--random-init")
    assert code == 1 and "pass either --fp16 or --int8" in out
    code, out = run("export", "--target", "cpu", "--int8", "--random-init", "--preset", "tiny")
    assert code == 1 and "--int8 needs calibration data: add --calibration REC.npz" in out
    code, out = run("export", "--target", "cpu", "--random-init", "--set", "imu_num_head=4")
    assert code == 1 and "Did you mean 'imu_num_heads'" in out
    code, out = run("export", "--target", "cpu", "--random-init", "--tolerance", "cosine")
    assert code == 1 and "--tolerance expects NAME=NUMBER" in out
    code, out = run("export", "--target", "jetsn")
    assert code == 2 and "jetson" in out
