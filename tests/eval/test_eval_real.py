"""``edgebind eval`` on real BasicMotions recordings with the shipped demo bundle: floors, determinism, truth CSVs,
the CLI, and a run without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.bridge.recording import Recording
from edgebind.cli import cli
from edgebind.eval import evaluate

FAST = {"ks": (1, 5), "seeds": 3}


def by_name(report):  # type: ignore[no-untyped-def]
    return {r.name: r for r in report.results}


def test_demo_model_on_basicmotions_test_has_floors_and_is_deterministic(demo_bundle: Path, bm_test: Path,
                                                                         demo_labels: Path) -> None:
    report = evaluate([bm_test], demo_labels, bundle=demo_bundle, **FAST)
    # measured: text 100 %, k-shot k=1 99.8 %, k=5 99.9 %, probe 99.6 % (seed 0); 239 windows in one case each
    assert report.windows == 239 and report.group_by == "segment" and report.groups == 40
    r = by_name(report)
    assert r["text prompts"].accuracy >= 0.97 and r["k-shot k=5"].accuracy >= 0.97 and r["probe"].accuracy >= 0.97
    assert r["k-shot k=1"].accuracy >= 0.95 and r["k-shot k=1"].runs == 3
    for res in report.results:
        assert res.accuracy_ci is not None
        lo, hi = res.accuracy_ci
        assert lo <= res.accuracy <= hi and res.chance == 0.25
    again = evaluate([bm_test], demo_labels, bundle=demo_bundle, **FAST)
    assert again.to_json() == report.to_json()
    other = evaluate([bm_test], demo_labels, bundle=demo_bundle, seed=5, **FAST)
    assert other.seeds == [5, 6, 7] and other.to_json() != report.to_json()


def test_truth_csv_gives_the_same_figures_as_the_label_track(demo_bundle: Path, bm_test: Path, demo_labels: Path,
                                                             tmp_path: Path) -> None:
    rec = Recording.load(bm_test)
    assert rec.labels is not None and rec.label_t_ns is not None
    edges = [*((rec.label_t_ns - rec.imu_t_ns[0]) / 1e9).tolist(), rec.duration_s + 0.1]
    csv = tmp_path / "truth.csv"
    csv.write_text("start_s,end_s,label\n" + "".join(f"{a},{b},{lab}\n" for a, b, lab in
                                                      zip(edges, edges[1:], rec.labels, strict=False)))
    bare = Recording(imu=rec.imu, imu_t_ns=rec.imu_t_ns, meta=rec.meta).save(tmp_path / "bare.npz")
    a = evaluate([bm_test], demo_labels, bundle=demo_bundle, probe=False, **FAST)
    b = evaluate([bare], demo_labels, bundle=demo_bundle, truth=[csv], probe=False, **FAST)
    assert [r.accuracy for r in a.results] == [r.accuracy for r in b.results] and a.windows == b.windows


def test_support_set_from_other_recordings(demo_bundle: Path, bm_test: Path, bm_train: Path,
                                           demo_labels: Path) -> None:
    report = evaluate([bm_test], demo_labels, bundle=demo_bundle, support=[bm_train], ks=(10,), seeds=2,
                      probe=False)
    k10 = by_name(report)["k-shot k=10"]
    assert k10.windows == report.windows and k10.accuracy >= 0.97  # every data window is a query


def test_two_recordings_split_by_recording(demo_bundle: Path, bm_test: Path, bm_train: Path,
                                           demo_labels: Path) -> None:
    report = evaluate([bm_test, bm_train], demo_labels, bundle=demo_bundle, ks=(5,), seeds=2)
    assert report.group_by == "recording" and report.groups == 2  # every class is in both files
    r = by_name(report)
    # examples from one whole file, every window of the other scored; the probe trains on one file, scores the other
    assert r["k-shot k=5"].windows in (239, report.windows - 239)
    assert r["probe"].windows == report.windows and r["probe"].accuracy >= 0.97
    assert r["probe"].accuracy_ci is not None


def test_labels_show_lists_a_bundle_bank(demo_bundle: Path) -> None:
    result = CliRunner().invoke(cli, ["labels", "show", "--bundle", str(demo_bundle), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["name"], r["kind"]) for r in rows] == [(n, "text") for n in ("Standing", "Running", "Walking",
                                                                            "Badminton")]


def test_cli_prints_the_table_writes_json_and_a_plot(demo_bundle: Path, bm_test: Path, demo_labels: Path,
                                                     tmp_path: Path) -> None:
    png = tmp_path / "cm.png"
    args = ["eval", str(bm_test), "--bundle", str(demo_bundle), "--labels", str(demo_labels), "--k", "1",
            "--seeds", "2", "--no-probe"]
    result = CliRunner().invoke(cli, [*args, "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert "text prompts" in result.output and "k-shot k=1" in result.output and "95 % interval" in result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = CliRunner().invoke(cli, [*args, "--json"])
    data = json.loads(result.output)
    assert [r["method"] for r in data["results"]] == ["text prompts", "k-shot"]
    assert data["results"][0]["recall"] == {"Badminton": 1.0, "Running": 1.0, "Standing": 1.0, "Walking": 1.0}


@pytest.mark.parametrize(("extra", "match"), [
    (["--k", "200"], "k=200 is larger than the"),
    (["--truth", "late.csv"], "covers none of its"),
    (["--labels", "other.txt"], "none of the true labels"),
])
def test_bad_input_is_one_line(demo_bundle: Path, bm_test: Path, demo_labels: Path, tmp_path: Path,
                               extra: list[str], match: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "late.csv").write_text("5000,6000,Walking\n")
    np.savez(tmp_path / "jump.npz", windows=np.zeros((2, 6, 2000), np.float32))
    (tmp_path / "other.txt").write_text("Jumping: @jump.npz\n")  # an example label needs no text model
    result = CliRunner().invoke(cli, ["eval", str(bm_test), "--bundle", str(demo_bundle), "--labels",
                                      str(demo_labels), "--no-probe", "--seeds", "1", *extra])
    assert result.exit_code == 1 and match in result.output and len(result.output.strip().splitlines()) == 1


def test_eval_with_a_bundle_runs_without_torch(demo_bundle: Path, bm_test: Path, demo_labels: Path) -> None:
    code = ("import sys\n"
            "class NoTorch:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] == 'torch':\n"
            "            raise ImportError('torch is not installed here')\n"
            "sys.meta_path.insert(0, NoTorch())\n"
            "from edgebind.eval import evaluate\n"
            f"r = evaluate([{str(bm_test)!r}], {str(demo_labels)!r}, bundle={str(demo_bundle)!r}, ks=(1,), seeds=1)\n"
            "print(round(r.results[0].accuracy, 3), 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1.0", "False"]


def test_overlapping_real_windows_never_straddle_support_and_query(demo_bundle: Path, bm_test: Path) -> None:
    from edgebind.eval.data import load_windows
    from edgebind.eval.methods import support_split
    from edgebind.stream.encoders import open_encoders

    with open_encoders(demo_bundle) as enc:
        imu = enc.model("imu")
        w = load_windows([bm_test], imu.embed, imu.contract, hop_s=0.5)
    groups = w.groups("segment")
    classes = sorted(set(w.truth.tolist()))
    for seed in range(20):
        sup, query = support_split(w, groups, classes, 10, seed)
        assert not w.overlaps(sup, query) and not np.isin(groups[query], groups[sup]).any()


def test_eval_with_a_checkpoint_runs_on_torch(bm_test: Path, demo_labels: Path, tmp_path: Path) -> None:
    import torch

    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config
    from edgebind.models import build_encoder

    torch.manual_seed(0)  # tiny random IMU + text encoders (STYLE.md §10): the text tower embeds labels.txt here
    ckpt = save_checkpoint([build_encoder(get_config(n)).eval() for n in ("tiny_imu", "tiny_text")],
                           tmp_path / "tiny.safetensors")
    report = evaluate([bm_test], demo_labels, checkpoint=ckpt, ks=(1,), seeds=1, probe=False)
    assert report.source == f"checkpoint {ckpt}" and report.windows == 239
    assert [r.name for r in report.results] == ["text prompts", "k-shot k=1"]


def test_a_ros_bag_with_a_label_topic_scores_like_its_recording(demo_bundle: Path, bm_test: Path, demo_labels: Path,
                                                                tmp_path: Path) -> None:
    """A bag written by mcap_ros2 (sensor_msgs/Imu + std_msgs/String truth) gives the npz's figures."""
    pytest.importorskip("mcap_ros2")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ros"))
    from roskit import BagWriter, imu_msg

    rec = Recording.load(bm_test)
    assert rec.labels is not None and rec.label_t_ns is not None
    keep = rec.imu_t_ns < rec.label_t_ns[8]  # the first 8 cases (80 s) keep the test fast
    bag = BagWriter(tmp_path / "bm.mcap")
    for t, row in zip(rec.imu_t_ns[keep], rec.imu[keep], strict=True):
        bag.write("/imu/data", "sensor_msgs/msg/Imu", imu_msg(int(t), row), int(t))
    for t, lab in zip(rec.label_t_ns[:8], rec.labels[:8], strict=True):
        bag.write("/activity", "std_msgs/msg/String", {"data": str(lab)}, int(t))
    bag.close()
    part = Recording(imu=rec.imu[keep], imu_t_ns=rec.imu_t_ns[keep], labels=rec.labels[:8],
                     label_t_ns=rec.label_t_ns[:8], meta=rec.meta).save(tmp_path / "part.npz")
    a = evaluate([part], demo_labels, bundle=demo_bundle, probe=False, ks=(1,), seeds=2)
    b = evaluate([tmp_path / "bm.mcap"], demo_labels, bundle=demo_bundle, probe=False, ks=(1,), seeds=2)
    assert a.windows == b.windows > 0
    assert [r.accuracy for r in a.results] == [r.accuracy for r in b.results]


def test_no_probe_needs_no_scikit_learn(demo_bundle: Path, bm_test: Path, demo_labels: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """scikit-learn fits the linear probe only: --no-probe runs without it, the probe says what to install."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.split(".")[0] == "sklearn" else real(name, *a))
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if it were not installed
    args = ["eval", str(bm_test), "--bundle", str(demo_bundle), "--labels", str(demo_labels), "--k", "1",
            "--seeds", "1"]
    result = CliRunner().invoke(cli, [*args, "--no-probe"])
    assert result.exit_code == 0 and "text prompts" in result.output, result.output
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "scikit-learn" in result.output and "--no-probe" in result.output, result.output
