"""The thread policies that benchmarks/bench_stream.py compares reach the stream's ONNX Runtime sessions and the
threads that call them, and leave the caller's thread alone, in a short live stream through a pty (binary at
400 Hz beside a thermal stream)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from streamkit import mlx_sized, retime, trim, with_thermal

from edgebind.bench_pair import live_policies
from edgebind.bridge.recording import Recording
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.runtime.policy import available_cpus, split_cpus
from edgebind.stream.pipeline import LabelResult, StreamOptions
from edgebind.stream.session import StreamSession, run_stream

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(available_cpus()) < 2,
                                reason="needs Linux CPU affinity and two CPUs")


@pytest.fixture(scope="module")
def tiny_pair_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny IMU + thermal encoders exported fp32 for onnxruntime, with a label bank."""
    from edgebind.export import export_bundle

    d = tmp_path_factory.mktemp("pair")
    (d / "labels.txt").write_text("Standing\nRunning\nWalking\n")
    export_bundle(d / "b", target="cpu", modalities="imu,thermal", random_init=True, preset="tiny",
                  labels=d / "labels.txt", remember=False)
    return d / "b"


def _stream_with(bundle: Path, rec: Recording, policies: Any) -> dict[str, dict[str, object]]:
    """Stream 3 IMU windows; per modality what its onnxruntime session got and where its inference thread ran."""
    seen: dict[str, dict[str, object]] = {}
    callers_cpus = os.sched_getaffinity(0)

    def on_start(session: StreamSession) -> None:
        for m, model in session.pipeline.encoders.models.items():
            opts = model.embed.__self__.session.get_session_options()  # type: ignore[attr-defined]
            seen[m] = {"threads": opts.intra_op_num_threads,
                       "spin": opts.get_session_config_entry("session.intra_op.allow_spinning")}

    def on_result(r: LabelResult) -> None:  # called on the modality's inference thread, right after its runner
        if r.modality in seen:
            seen[r.modality]["cpus"] = os.sched_getaffinity(0)

    with SimulatedDevice(rec, fmt="binary", speed=5.0) as sim:
        summary = run_stream(str(sim.link), bundle=bundle, allow_random_init=True, policies=policies, fmt="binary",
                             options=StreamOptions(hop_s=0.5, max_windows=3), on_start=on_start,
                             on_result=on_result)
    assert summary.windows == 3 and summary.modalities["thermal"]["labelled"] >= 1
    # the warm-up ran on the inference threads: the caller (the reader loop) was not pinned with a runner
    assert os.sched_getaffinity(0) == callers_cpus
    return seen


def test_each_live_policy_reaches_the_sessions_and_the_inference_threads(
        tiny_pair_bundle: Path, basicmotions: Recording, cptv_clip: Recording) -> None:
    rec = with_thermal(trim(retime(basicmotions, 400.0), 12.0), mlx_sized(cptv_clip))
    cpus = available_cpus()
    halves = split_cpus()
    assert halves is not None
    n = len(cpus)
    choices = live_policies(sorted(cpus))
    got = {name: _stream_with(tiny_pair_bundle, rec, pol) for name, (_, pol) in choices.items()}
    assert got["ort-default"] == {m: {"threads": n, "spin": "1", "cpus": cpus} for m in ("imu", "thermal")}
    assert got["previous"] == {m: {"threads": n, "spin": "0", "cpus": cpus} for m in ("imu", "thermal")}
    assert got["pinned"] == {"imu": {"threads": 1, "spin": "0", "cpus": set(halves[0])},
                             "thermal": {"threads": 1, "spin": "0", "cpus": set(halves[1])}}
    # the stream's own default: one thread each, no spin, not pinned
    assert got["edgebind"] == {m: {"threads": 1, "spin": "0", "cpus": cpus} for m in ("imu", "thermal")}
    assert choices["edgebind"][0] == "(none)" and choices["ort-default"][0].startswith(f"--threads {n} --spin")
