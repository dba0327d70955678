"""``edgebind info`` says what a file is (issue 21, parts 5 and 6), with and without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.cli import cli
from edgebind.demo import demo_dir

REPO = Path(__file__).resolve().parents[2]
DEMO_REC = demo_dir() / "basicmotions_test.npz"
TINY_REF = REPO / "tests" / "data" / "imagebind" / "reference_tiny.pt"


def _info(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["info", *args], terminal_width=200)
    return res.exit_code, res.output


def test_info_names_a_recording_and_suggests_no_download() -> None:
    code, out = _info(str(DEMO_REC))
    assert code == 0, out
    assert "is a Recording" in out and "IMU samples" in out and "edgebind simulate" in out
    assert "download" not in out and "corrupt" not in out


@pytest.mark.parametrize("name, text, kind", [
    ("README.md", "# edgebind\n\nSome *Markdown*.\n", "Markdown text file"),
    ("labels.txt", "\ufeffWalking\r\nRunning\r\n", "text file"),
])
def test_info_names_text_files_not_pickles(tmp_path: Path, name: str, text: str, kind: str) -> None:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    code, out = _info(str(p))
    assert code == 0 and f"is a {kind}" in out, out
    assert "pickled" not in out and "download" not in out


def test_info_names_a_calibration_set_and_a_bag(tmp_path: Path) -> None:
    from edgebind.calibration.capture import CalibrationSet

    cs = CalibrationSet(imu=np.zeros((2, 6, 2000), np.float32), imu_t_ns=np.zeros(2, np.int64),
                        thermal=np.zeros((0, 1, 224, 224), np.float32), thermal_t_ns=np.zeros(0, np.int64), meta={})
    cs.save(tmp_path / "calib.npz")
    code, out = _info(str(tmp_path / "calib.npz"), "--json")
    assert code == 0 and json.loads(out)["kind"] == "calibration set", out
    (tmp_path / "s.mcap").write_bytes(b"\x89MCAP0\r\n" + bytes(64))
    code, out = _info(str(tmp_path / "s.mcap"))
    assert code == 0 and "ROS 2 bag" in out, out


def test_checkpoint_loaders_name_a_recording_too(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["embed", "text", "hi", "--checkpoint", str(DEMO_REC), "-o", str(tmp_path / "e.npy")])
    assert res.exit_code == 1 and "is a Recording" in res.output and "download" not in res.output, res.output


def test_info_without_torch_names_the_file_and_blames_torch_only_for_checkpoints(tmp_path: Path) -> None:
    """Run in a subprocess where torch cannot be imported (the finder scripts/check_torch_free.py uses)."""
    md = tmp_path / "notes.md"
    md.write_text("# notes\n")
    code = (
        "import sys; sys.path.insert(0, 'scripts'); from check_torch_free import TorchRefuser; "
        "sys.meta_path.insert(0, TorchRefuser()); from edgebind.cli import cli; "
        "sys.argv = ['edgebind', 'info', sys.argv[1]]; cli(prog_name='edgebind')"
    )
    env_run = {"cwd": REPO, "capture_output": True, "text": True, "timeout": 60}
    for path in (DEMO_REC, md):
        r = subprocess.run([sys.executable, "-c", code, str(path)], **env_run)  # type: ignore[call-overload]
        assert r.returncode == 0 and "PyTorch" not in r.stdout + r.stderr and "is a" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-c", code, str(TINY_REF)], **env_run)  # type: ignore[call-overload]
    assert r.returncode == 1 and "needs PyTorch" in r.stderr, r.stdout + r.stderr


def test_info_shows_shapes_but_no_guessed_head_count() -> None:
    code, out = _info(str(TINY_REF), "--no-hash", "--json")
    assert code == 0, out
    imu = json.loads(out)["modalities"]["imu"]
    assert imu["config"]["embed_dim"] == 128 and imu["config"]["depth"] == 2
    assert imu["heads_from"] == "unknown" and imu["config"]["num_heads"] is None
    code, out = _info(str(TINY_REF), "--no-hash")
    assert "--set imu_num_heads=N" in out and "guessed" not in out


def test_loading_without_head_counts_is_refused_with_the_flag(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["embed", "text", "hi", "--checkpoint", str(TINY_REF), "-o", str(tmp_path / "e.npy")])
    assert res.exit_code == 1 and "pass --set text_num_heads=N" in res.output, res.output
    assert not (tmp_path / "e.npy").exists()
