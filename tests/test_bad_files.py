"""A file that is not what an option expects (checkpoint, bundle, Recording, calibration set) gets a one-line error.

A fuzz over the ways such files go wrong on a robot: empty, truncated (a copy cut short), text (a README or a CSV
passed by mistake) and random bytes, each under the file names users give.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.cli import cli
from edgebind.demo import demo_dir
from edgebind.errors import EdgebindError

DEMO_REC = demo_dir() / "basicmotions_test.npz"
DEMO_BUNDLE = demo_dir() / "bundle"


def bad_versions(good: bytes) -> dict[str, bytes]:
    """Empty, truncated at several points, text and random bytes (seeded) versions of a good file."""
    rng = np.random.default_rng(2026)
    out = {"empty": b"", "text": b"time,ax,ay,az\n0.0,0.1,0.2,9.8\n" * 4, "random": rng.bytes(4096)}
    for frac in (0.01, 0.5, 0.99):
        out[f"truncated{frac}"] = good[: max(1, int(len(good) * frac))]
    return out


def assert_one_line_cli_error(args: list[str]) -> str:
    res = CliRunner().invoke(cli, args)
    out = res.output.strip()
    assert res.exit_code == 1, (args, res.exit_code, res.output, res.exception)
    assert out.startswith("Error: ") and "\n" not in out and "Traceback" not in out, out
    return out


def assert_one_line_error(fn: Callable[[], object]) -> str:
    with pytest.raises(EdgebindError) as exc:
        fn()
    msg = str(exc.value)
    assert msg and "\n" not in msg, msg
    return msg


@pytest.mark.parametrize("suffix", [".pth", ".pt", ".safetensors"])
def test_bad_checkpoint(tmp_path: Path, data_dir: Path, suffix: str) -> None:
    for name, data in bad_versions((data_dir / "imagebind" / "reference_tiny.pt").read_bytes()).items():
        p = tmp_path / f"{name}{suffix}"
        p.write_bytes(data)
        out = assert_one_line_cli_error(["info", str(p)])
        assert str(p) in out
        assert_one_line_cli_error(["embed", "text", "hi", "--checkpoint", str(p), "-o", str(tmp_path / "e.npy")])


def test_bad_bundle_manifest(tmp_path: Path) -> None:
    for name, data in bad_versions((DEMO_BUNDLE / "manifest.json").read_bytes()).items():
        d = tmp_path / name
        shutil.copytree(DEMO_BUNDLE, d)
        (d / "manifest.json").write_bytes(data)
        out = assert_one_line_cli_error(["info", str(d)])
        assert "manifest.json" in out
        assert_one_line_cli_error(["bench", str(d), "--runs", "1", "--warmup", "0"])


def test_bad_bundle_model_file(tmp_path: Path) -> None:
    for name, data in bad_versions((DEMO_BUNDLE / "imu.onnx").read_bytes()).items():
        d = tmp_path / name
        shutil.copytree(DEMO_BUNDLE, d)
        (d / "imu.onnx").write_bytes(data)
        out = assert_one_line_cli_error(["bench", str(d), "--runs", "1", "--warmup", "0"])
        assert "imu.onnx" in out


def test_bad_recording(tmp_path: Path) -> None:
    from edgebind.bridge.recording import Recording

    for name, data in bad_versions(DEMO_REC.read_bytes()).items():
        p = tmp_path / f"{name}.npz"
        p.write_bytes(data)
        assert "is not a Recording .npz" in assert_one_line_error(lambda p=p: Recording.load(p))
        assert_one_line_cli_error(["simulate", str(p)])


def test_bad_calibration_set(tmp_path: Path) -> None:
    from edgebind.calibration.capture import CalibrationSet
    from edgebind.config import get_config
    from edgebind.export.quantize import load_calibration
    from edgebind.preprocess.imu import DEFAULT_IMU_CONTRACT

    good = CalibrationSet(np.zeros((2, 6, 2000), np.float32), np.arange(2), np.zeros((0, 1, 224, 224), np.float32),
                          np.zeros(0, np.int64), {"source": "test"}).save(tmp_path / "good.npz")
    for name, data in bad_versions(good.read_bytes()).items():
        p = tmp_path / f"{name}.calib.npz"
        p.write_bytes(data)
        assert "calibration set" in assert_one_line_error(lambda p=p: CalibrationSet.load(p))
        cfg = get_config("tiny_imu")
        assert "calibration file" in assert_one_line_error(
            lambda p=p, cfg=cfg: load_calibration(p, cfg, DEFAULT_IMU_CONTRACT))
