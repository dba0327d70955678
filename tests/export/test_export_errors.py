"""Bad input fails fast with a message that names the fix: target/precision pairs, flags, calibration data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebind.errors import ConfigError, InputError
from edgebind.export import SUPPORTED, check_supported, valid_pairs
from edgebind.export.targets import TARGETS, get_target


def test_every_target_pair_is_in_the_single_table() -> None:
    for t in TARGETS.values():
        assert valid_pairs(t), t.name
        assert set(valid_pairs(t)) <= set(SUPPORTED)


def test_unsupported_pair_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as e:
        check_supported("cpu", None, "fp16")
    msg = str(e.value)
    assert "target cpu does not support onnx/fp16" in msg
    assert "Valid for cpu: onnx/fp32, onnx/int8" in msg
    with pytest.raises(ConfigError, match="Valid for cpu"):
        check_supported("cpu", "tensorrt", "fp32")
    assert check_supported("jetson", None, "fp16")[1] == "tensorrt"
    assert check_supported("jetson", "onnx", "int8")[1] == "onnx"


def test_unknown_target_suggests() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'jetson-orin-nx'"):
        get_target("jetson-orin-nxx")


def test_flags_that_do_not_go_together(tmp_path: Path) -> None:
    from edgebind.export import export_bundle

    kw = {"random_init": True, "preset": "tiny", "modalities": "imu", "remember": False}
    with pytest.raises(ConfigError, match="--int8 needs calibration data"):
        export_bundle(tmp_path / "a", target="cpu", precision="int8", **kw)
    with pytest.raises(ConfigError, match="only used with --int8"):
        export_bundle(tmp_path / "a", target="cpu", precision="fp32", calibration=tmp_path / "x.npz", **kw)
    with pytest.raises(ConfigError, match="has no DLA"):
        export_bundle(tmp_path / "a", target="jetson-orin-nano", precision="fp16", dla_core=0, **kw)
    with pytest.raises(ConfigError, match=r"DLA cores 0\.\.1"):
        export_bundle(tmp_path / "a", target="jetson-agx-orin", precision="fp16", dla_core=2, **kw)
    with pytest.raises(ConfigError, match="Did you mean 'thermal'"):
        export_bundle(tmp_path / "a", target="cpu", modalities="imu,thermall", random_init=True, remember=False)
    with pytest.raises(ConfigError, match="either --checkpoint or --random-init"):
        export_bundle(tmp_path / "a", target="cpu", modalities="imu", random_init=True, checkpoint="x.pth",
                      remember=False)
    (tmp_path / "notabundle").mkdir()
    (tmp_path / "notabundle" / "keep.txt").write_text("user data")
    with pytest.raises(ConfigError, match="exists and is not a bundle"):
        export_bundle(tmp_path / "notabundle", target="cpu", **kw)
    assert (tmp_path / "notabundle" / "keep.txt").read_text() == "user data"


def test_no_checkpoint_says_what_to_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgebind.errors import CheckpointError
    from edgebind.export import export_bundle

    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError, match="pass --checkpoint PATH, set EDGEBIND_CHECKPOINT"):
        export_bundle(target="jetson", precision="fp16")


def test_calibration_wrong_shape_and_too_few(tmp_path: Path, imu_rec: Path) -> None:
    from edgebind.bridge.recording import Recording
    from edgebind.config import get_config
    from edgebind.export.quantize import load_calibration
    from edgebind.preprocess import DEFAULT_IMU_CONTRACT, DEFAULT_THERMAL_CONTRACT

    imu = get_config("tiny_imu")
    bad = tmp_path / "bad.npz"
    np.savez(bad, imu=np.zeros((30, 6, 1000), np.float32))
    with pytest.raises(InputError, match=r"shape \(30, 6, 1000\); the encoder needs \(K, 6, 2000\)"):
        load_calibration(bad, imu, DEFAULT_IMU_CONTRACT)
    few = tmp_path / "few.npz"
    np.savez(few, imu=np.zeros((10, 6, 2000), np.float32))
    with pytest.raises(InputError, match=r"yield 10 imu windows; int8 needs at least 20 \(16 to calibrate \+ 4 held"):
        load_calibration(few, imu, DEFAULT_IMU_CONTRACT)
    # a real recording that is too short: 12 s of BasicMotions gives 8 windows at a 1 s hop
    rec = Recording.load(imu_rec)
    short = Recording(rec.imu[:120], rec.imu_t_ns[:120], meta=rec.meta).save(tmp_path / "short.npz")
    with pytest.raises(InputError, match="Record more"):
        load_calibration(short, imu, DEFAULT_IMU_CONTRACT)
    with pytest.raises(InputError, match="no thermal data in calibration"):
        load_calibration(imu_rec, get_config("tiny_thermal"), DEFAULT_THERMAL_CONTRACT)
    hot = tmp_path / "hot.npz"
    np.savez(hot, thermal=np.full((30, 1, 224, 224), 25.0, np.float32))
    with pytest.raises(InputError, match="look like temperatures"):
        load_calibration(hot, get_config("tiny_thermal"), DEFAULT_THERMAL_CONTRACT)


def test_calibration_from_a_recording_goes_through_the_contract(imu_rec: Path) -> None:
    from edgebind.bridge.recording import Recording
    from edgebind.config import get_config
    from edgebind.export.quantize import load_calibration
    from edgebind.preprocess import DEFAULT_IMU_CONTRACT, windows_from_recording

    cs = load_calibration(imu_rec, get_config("tiny_imu"), DEFAULT_IMU_CONTRACT)
    want, _ = windows_from_recording(Recording.load(imu_rec), hop_s=1.0)
    assert len(cs.calibration) + len(cs.heldout) == len(want)
    np.testing.assert_array_equal(cs.heldout[0], want[4])  # every 5th window is held out
    np.testing.assert_array_equal(cs.calibration[:4], want[:4])
