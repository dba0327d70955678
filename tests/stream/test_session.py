"""The live pipeline end to end through pseudo-terminals: CSV at 50 Hz, binary at 400 Hz beside a thermal stream,
slow inference, a wrong baud rate, an unplugged device, a model without the stream's modality, Ctrl-C, and a labels
file edited mid-run. Every wait is bounded (queue/Event timeouts, ``--duration``, ``--max-windows``)."""

from __future__ import annotations

import _thread
import os
import queue
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamkit import GarbageDevice, mlx_sized, retime, trim, with_thermal

from edgebind.bridge.recording import Recording
from edgebind.bridge.simulator import SimulatedDevice
from edgebind.errors import BundleError, SensorError
from edgebind.stream.encoders import open_encoders
from edgebind.stream.labels import LabelSource
from edgebind.stream.pipeline import LabelResult, StreamOptions
from edgebind.stream.session import StreamSession
from edgebind.stream.stats import StreamSummary


def stream(url: str, ckpt: Path, labels: Path, options: StreamOptions, **kwargs: Any
           ) -> tuple[StreamSummary, list[LabelResult], StreamSession]:
    results: list[LabelResult] = []
    with open_encoders(checkpoint=ckpt) as enc:
        src = LabelSource(labels, enc.bank, enc.text_embed, enc.text_model)
        session = StreamSession(url, enc, src, options, results.append, **kwargs)
        summary = session.run()
    return summary, results, session


def assert_none_lost(summary: StreamSummary, modality: str) -> None:
    m = summary.modalities[modality]
    assert m["skipped"] == 0, m
    assert m["made"] == m["labelled"] + m["pending_at_exit"], m
    assert summary.decode_errors == 0 and summary.samples_lost == 0 and summary.queue_dropped_chunks == 0


def report(name: str, summary: StreamSummary) -> None:
    for modality, m in summary.modalities.items():
        print(f"{name} {modality}: {m['labelled']} labelled, {m['skipped']} skipped; sensor-to-label p99 "
              f"{m['latency']['p99_ms']:.2f} ms vs runner p99 {m['runner']['p99_ms']:.2f} ms")


def test_csv_50hz_through_a_pty(basicmotions: Recording, tiny_ckpt: Path, labels_file: Path) -> None:
    rec = trim(retime(basicmotions, 50.0), 20.0)
    with SimulatedDevice(rec, fmt="csv", speed=10.0) as sim:
        summary, results, _ = stream(str(sim.link), tiny_ckpt, labels_file,
                                     StreamOptions(hop_s=0.5, max_windows=6), fmt="csv")
    assert [r.index for r in results if r.modality == "imu"] == list(range(6))
    assert_none_lost(summary, "imu")
    lat, run = summary.modalities["imu"]["latency"], summary.modalities["imu"]["runner"]
    assert 0 < run["p50_ms"] <= lat["p50_ms"] and lat["p99_ms"] is not None
    ends = [r.t_end_ns for r in results]
    assert np.allclose(np.diff(ends), 0.5e9, atol=3e6)  # one window per hop on the device clock
    report("csv 50 Hz", summary)


def test_binary_400hz_with_thermal_and_fuse(basicmotions: Recording, cptv_clip: Recording, tiny_ckpt: Path,
                                            labels_file: Path) -> None:
    rec = with_thermal(trim(retime(basicmotions, 400.0), 12.0), mlx_sized(cptv_clip))
    with SimulatedDevice(rec, fmt="binary", speed=3.0) as sim:
        summary, results, _ = stream(str(sim.link), tiny_ckpt, labels_file,
                                     StreamOptions(hop_s=0.5, max_windows=5, fuse=True), fmt="binary")
    assert_none_lost(summary, "imu")
    assert summary.modalities["thermal"]["labelled"] >= 3 and summary.modalities["thermal"]["skipped"] == 0
    assert summary.modalities["thermal"]["throttled"] > 0  # ~9 Hz frames, one per 0.5 s goes to the model
    fused = [r for r in results if r.modality == "fused"]
    assert fused and all(r.label in {"Standing", "Running", "Walking", "Badminton"} for r in fused)
    report("binary 400 Hz + thermal", summary)


def test_slow_inference_skips_and_counts(basicmotions: Recording, tiny_ckpt: Path, labels_file: Path) -> None:
    rec = trim(retime(basicmotions, 400.0), 12.0)
    # a window every grid sample (2.5 ms of device time, ~0.3 ms of wall time at 8x): far faster than the runner
    with SimulatedDevice(rec, fmt="binary", speed=8.0) as sim:
        summary, _, _ = stream(str(sim.link), tiny_ckpt, labels_file,
                               StreamOptions(hop_s=0.0025, max_windows=10), fmt="binary")
    m = summary.modalities["imu"]
    assert m["labelled"] >= 10 and m["skipped"] > 0
    assert m["made"] == m["labelled"] + m["skipped"] + m["pending_at_exit"]  # every window accounted for
    assert summary.samples_lost == 0 and summary.queue_dropped_chunks == 0  # the reader was never blocked


def test_wrong_baud_rate_garbage_is_a_clear_error(tiny_ckpt: Path, labels_file: Path) -> None:
    with GarbageDevice() as dev, pytest.raises(SensorError, match="baud rate is probably wrong"):
        stream(dev.port, tiny_ckpt, labels_file, StreamOptions(), duration_s=20.0)


def test_unplugged_device_is_waited_for_and_resumed(basicmotions: Recording, tiny_ckpt: Path,
                                                    labels_file: Path) -> None:
    rec = trim(retime(basicmotions, 400.0), 30.0)
    with SimulatedDevice(rec, fmt="binary", speed=8.0, faults="disconnect=7") as sim:
        summary, results, _ = stream(str(sim.link), tiny_ckpt, labels_file,
                                     StreamOptions(hop_s=1.0, max_windows=8), fmt="binary")
    assert len(summary.disconnects) == 1 and summary.disconnects[0] > 0
    assert summary.link["reconnects"] == 1
    ends = np.array([r.t_end_ns for r in results if r.modality == "imu"])
    assert (ends < 7e9).any() and (ends > 7e9 + 5e9).any()  # labels before the unplug and a full window after
    assert summary.modalities["imu"]["skipped"] == 0


def test_model_without_the_streams_modality(basicmotions: Recording, thermal_only_ckpt: Path,
                                            labels_file: Path) -> None:
    rec = trim(retime(basicmotions, 100.0), 10.0)
    with SimulatedDevice(rec, fmt="binary", speed=4.0) as sim, \
            pytest.raises(BundleError, match=r"carries imu data .* has no imu encoder .*--modalities"):
        stream(str(sim.link), thermal_only_ckpt, labels_file, StreamOptions(), fmt="binary", duration_s=20.0)


def test_ctrl_c_ends_cleanly_with_a_summary(basicmotions: Recording, tiny_ckpt: Path, labels_file: Path) -> None:
    rec = trim(retime(basicmotions, 400.0), 30.0)
    results: list[LabelResult] = []

    def on_result(r: LabelResult) -> None:
        results.append(r)
        if len(results) == 2:
            _thread.interrupt_main()  # what Ctrl-C does

    with SimulatedDevice(rec, fmt="binary", speed=4.0) as sim, open_encoders(checkpoint=tiny_ckpt) as enc:
        session = StreamSession(str(sim.link), enc, LabelSource(labels_file, None, enc.text_embed, enc.text_model),
                                StreamOptions(hop_s=0.5), on_result, fmt="binary", duration_s=20.0)
        summary = session.run()
    assert session.interrupted and summary.windows >= 2 and summary.duration_s < 20.0


def test_labels_file_edited_mid_run(basicmotions: Recording, tiny_ckpt: Path, labels_file: Path) -> None:
    rec = trim(retime(basicmotions, 400.0), 30.0)
    seen: queue.Queue[list[str]] = queue.Queue()

    def on_result(r: LabelResult) -> None:
        seen.put([n for n, _ in r.decision.top_k])
        if r.index == 0:
            labels_file.write_text("sitting\nlying down\n")
            st = labels_file.stat()
            os.utime(labels_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    with SimulatedDevice(rec, fmt="binary", speed=4.0) as sim, open_encoders(checkpoint=tiny_ckpt) as enc:
        session = StreamSession(str(sim.link), enc, LabelSource(labels_file, None, enc.text_embed, enc.text_model),
                                StreamOptions(hop_s=0.5, max_windows=3, top_k=2), on_result, fmt="binary")
        summary = session.run()
    first, *later = [seen.get(timeout=1.0) for _ in range(3)]
    assert set(first) <= {"Standing", "Running", "Walking", "Badminton"}
    assert all(set(names) == {"sitting", "lying down"} for names in later)
    assert summary.label_reloads == 1


def test_duration_bounds_a_run(basicmotions: Recording, tiny_ckpt: Path, labels_file: Path) -> None:
    rec = trim(retime(basicmotions, 100.0), 60.0)
    with SimulatedDevice(rec, fmt="binary", speed=1.0) as sim:
        summary, _, _ = stream(str(sim.link), tiny_ckpt, labels_file, StreamOptions(), fmt="binary",
                               duration_s=1.0)
    assert 0.9 < summary.duration_s < 5.0
