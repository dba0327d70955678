"""``stream --hop 0.1`` with a streaming student bundle: one step per label, the state carried between windows."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamkit import retime, trim

from edgebind.bridge.recording import Recording
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.stream.encoders import open_encoders
from edgebind.stream.labels import LabelSource
from edgebind.stream.pipeline import LabelResult, StreamOptions
from edgebind.stream.session import StreamSession


@pytest.fixture
def stream_bundle(tmp_path: Path) -> Path:
    import numpy as np

    from edgebind.export import export_bundle
    from edgebind.zeroshot import LabelBank

    # a random student has no text encoder: a bank of four seeded directions stands in for the labels
    names = ["Standing", "Running", "Walking", "Badminton"]
    vectors = np.random.default_rng(0).normal(size=(4, 1024))
    LabelBank(names, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).save(tmp_path / "labels.npz")
    export_bundle(tmp_path / "b", target="cpu", precision="fp32", modalities="imu", random_init=True,
                  preset="tiny_imu_stream", labels=tmp_path / "labels.npz", remember=False)
    return tmp_path / "b"


def test_stream_at_a_tenth_of_a_second_steps_once_per_label(basicmotions: Recording, stream_bundle: Path) -> None:
    rec = trim(retime(basicmotions, 400.0), 9.0)
    results: list[LabelResult] = []
    with open_encoders(bundle=stream_bundle, allow_random_init=True) as enc:
        runner = enc.model("imu").embed.__self__  # type: ignore[attr-defined]
        # stream's model line says what one hop costs (tiny_imu_stream: 0.278 MFLOPs per 40-sample step)
        assert "MFLOPs per 40-sample step" in enc.model("imu").description
        src = LabelSource(None, enc.bank, enc.text_embed, enc.text_model)
        with SimulatedDevice(rec, fmt="binary", speed=2.0) as sim:
            summary = StreamSession(str(sim.link), enc, src, StreamOptions(hop_s=0.1, max_windows=12),
                                    results.append, fmt="binary").run()
        steps = runner.step_stream()
    labelled = summary.modalities["imu"]["labelled"]
    assert labelled == 12 and summary.modalities["imu"]["skipped"] == 0
    # the stream's warm-up call (a blank window) and the first real window each fill the cache (50 steps); every
    # later window, 0.1 s on, costs one step
    assert (steps.resets, steps.steps) == (2, 2 * 50 + labelled - 1)
