"""Example-based labels: '@file' entries, label kinds, prototypes from the real demo encoder, re-reading on change,
teaching from a simulated device, and a stream that uses the taught label live."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgebind.bridge.recording import Recording
from edgebind.bridge.remix import retime, trim
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.cli import cli
from edgebind.errors import ConfigError, InputError
from edgebind.exemplars import TEXT_WEIGHT, prototype, teach_label, with_examples
from edgebind.preprocess.imu import windows_from_recording
from edgebind.stream.encoders import open_encoders
from edgebind.stream.labels import LabelSource, label_source_for
from edgebind.stream.pipeline import LabelResult, StreamOptions
from edgebind.stream.session import StreamSession
from edgebind.zeroshot import LabelBank, parse_labels


def part(path: Path, label: str, seconds: float, rate_hz: float = 400.0) -> Recording:
    """The first ``seconds`` of one class of a BasicMotions recording (its cases lie end to end), from t = 0."""
    rec = Recording.load(path)
    keep = rec.label_at(rec.imu_t_ns) == label
    t = rec.imu_t_ns[keep]
    one = Recording(imu=rec.imu[keep], imu_t_ns=t - t[0], labels=np.array([label]), label_t_ns=np.array([0]))
    return trim(retime(one, rate_hz), seconds)


def test_labels_txt_names_examples_beside_or_instead_of_words() -> None:
    specs = parse_labels("walking: @walk.npz | a person walking\nrun: @a.npz | @b.npz\nsit\n")
    assert [(s.name, s.prompts, s.examples, s.kind) for s in specs] == [
        ("walking", ("a person walking",), ("walk.npz",), "examples+text"),
        ("run", (), ("a.npz", "b.npz"), "examples"),
        ("sit", (), (), "text")]
    with pytest.raises(InputError, match="'@' without a file name"):
        parse_labels("run: @ | running\n")


def test_bank_kinds_survive_save_and_old_banks_read_as_text(tmp_path: Path) -> None:
    bank = LabelBank(["a", "b"], np.eye(2, 4), kinds=["text", "examples"])
    assert LabelBank.load(bank.save(tmp_path / "b.npz")).kinds == ["text", "examples"]
    with (tmp_path / "old.npz").open("wb") as f:
        np.savez(f, names=np.array(["a"]), embeddings=np.eye(1, 4, dtype=np.float32),
                 meta=np.array(json.dumps({"logit_scale": 5.0, "templates": ["{}"]})))
    assert LabelBank.load(tmp_path / "old.npz").kinds == ["text"]


def test_example_label_is_the_prototype_and_is_re_read_when_its_file_changes(demo_bundle: Path, bm_train: Path,
                                                                             bm_test: Path, tmp_path: Path) -> None:
    windows = windows_from_recording(part(bm_train, "Running", 30.0), 1.0)[0]
    teach_label(tmp_path / "labels.txt", "sprinting", windows[:10])
    text = "Standing\nWalking\nBadminton\n" + (tmp_path / "labels.txt").read_text()
    (tmp_path / "labels.txt").write_text(text)
    assert "sprinting: @examples/sprinting.npz" in text
    with open_encoders(demo_bundle) as enc:
        embed = enc.model("imu").embed
        src = label_source_for(tmp_path / "labels.txt", enc)
        bank = src.bank
        assert bank.kinds == ["text", "text", "text", "examples"] and bank.meta["examples"] == {"sprinting": 10}
        assert np.allclose(bank.embeddings[3], prototype(windows[:10], embed), atol=1e-6)
        test_running = windows_from_recording(part(bm_test, "Running", 40.0), 1.0)[0]
        top = np.array(bank.names)[bank.top1(embed(test_running))]
        assert np.mean(top == "sprinting") >= 0.9  # measured 1.0: words for three classes, examples for the fourth
        assert not src.maybe_reload()
        before = (tmp_path / "labels.txt").stat().st_mtime_ns
        teach_label(tmp_path / "labels.txt", "sprinting", windows[10:20])  # labels.txt already names the file
        assert (tmp_path / "labels.txt").read_text() == text
        assert (tmp_path / "labels.txt").stat().st_mtime_ns == before  # only the examples file changed
        os.utime(tmp_path / "examples" / "sprinting.npz", ns=(1, 2))  # a clock-independent mtime change
        assert src.maybe_reload() and src.bank.meta["examples"] == {"sprinting": 20}
        assert np.allclose(src.bank.embeddings[3], prototype(windows[:20], embed), atol=1e-6)
        mixed = with_examples(enc.bank, parse_labels("Running: @examples/sprinting.npz | running\n"),
                              tmp_path / "labels.txt", embed)
        row = (1 - TEXT_WEIGHT) * prototype(windows[:20], embed) + TEXT_WEIGHT * enc.bank.embeddings[1]
        assert mixed.kinds == ["examples+text"] and np.allclose(mixed.embeddings[0], row / np.linalg.norm(row))


def test_teach_keeps_prompts_and_comments_and_adds_new_labels(tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("# mine\nWalking: walking  # outdoors\n")
    w = np.zeros((3, 6, 2000), np.float32)
    first = teach_label(labels, "walking", w)
    second = teach_label(labels, "door opening", w[:1])
    again = teach_label(labels, "walking", w)
    assert (first.total, second.total, again.total) == (3, 1, 6) and second.new_label and not again.new_label
    assert labels.read_text() == ("# mine\nWalking: @examples/walking.npz | walking  # outdoors\n"
                                  "door opening: @examples/door_opening.npz\n")
    with pytest.raises(InputError, match=r"cannot be a labels\.txt name"):
        teach_label(labels, "a: b", w)


def test_bad_example_labels_say_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "l.txt").write_text("run: @none.npz\n")
    with pytest.raises(InputError, match="does not exist; record examples with 'edgebind labels teach"):
        LabelSource(tmp_path / "l.txt", None, embed_examples=lambda x: x[:, 0, :4])
    np.savez(tmp_path / "none.npz", windows=np.zeros((0, 6, 2000), np.float32))
    with pytest.raises(InputError, match="holds no windows"):
        LabelSource(tmp_path / "l.txt", None, embed_examples=lambda x: x[:, 0, :4])
    with pytest.raises(ConfigError, match="no IMU encoder"):
        LabelSource(tmp_path / "l.txt", None)


def test_teach_from_a_device_then_stream_uses_the_taught_label(demo_bundle: Path, bm_train: Path, bm_test: Path,
                                                               tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("Standing\nWalking\nBadminton\n")
    with SimulatedDevice(part(bm_train, "Running", 12.0), fmt="binary", speed=8.0) as sim:
        result = CliRunner().invoke(cli, ["labels", "teach", str(sim.link), "sprinting", "--labels", str(labels),
                                          "--seconds", "20"])
    assert result.exit_code == 0, result.output
    assert "taught 'sprinting': 8 windows added" in result.output  # 12 s at a 1 s hop: windows start at 0..7 s
    shown = CliRunner().invoke(cli, ["labels", "show", "--labels", str(labels)])
    assert "sprinting" in shown.output and "examples/sprinting.npz (8 windows)" in shown.output
    with SimulatedDevice(part(bm_test, "Running", 9.0), fmt="binary", speed=4.0) as sim:
        result = CliRunner().invoke(cli, ["stream", str(sim.link), "--bundle", str(demo_bundle), "--labels",
                                          str(labels), "--json", "--max-windows", "4", "--hop", "1", "--smooth", "1"])
    assert result.exit_code == 0, result.output
    got = [json.loads(line)["top_k"][0]["label"] for line in result.output.strip().splitlines()[:-1]]
    assert got == ["sprinting"] * 4


def test_a_label_taught_mid_stream_is_used_from_the_next_window(demo_bundle: Path, bm_train: Path, bm_test: Path,
                                                                tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("Standing\nWalking\nBadminton\n")
    examples = windows_from_recording(part(bm_train, "Running", 15.0), 1.0)[0]
    tops: list[str] = []

    def on_result(r: LabelResult) -> None:
        tops.append(r.decision.top_k[0][0])
        if r.index == 0:  # what 'edgebind labels teach' does while the stream runs
            teach_label(labels, "sprinting", examples)
            st = labels.stat()
            os.utime(labels, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    with SimulatedDevice(part(bm_test, "Running", 12.0), fmt="binary", speed=4.0) as sim, \
            open_encoders(demo_bundle) as enc:
        session = StreamSession(str(sim.link), enc, label_source_for(labels, enc),
                                StreamOptions(hop_s=1.0, max_windows=4, smooth_alpha=1.0), on_result, fmt="binary")
        summary = session.run()
    assert tops[0] != "sprinting" and tops[1:] == ["sprinting"] * 3
    assert summary.label_reloads == 1
