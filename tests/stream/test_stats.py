"""Latency percentiles, counters and the summary."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgebind.stream.stats import LatencyStats, StreamStats


def test_latency_percentiles_match_numpy() -> None:
    rng = np.random.default_rng(0)
    values = rng.exponential(5.0, 1000)
    stats = LatencyStats()
    for v in values:
        stats.add(v)
    s = stats.summary()
    assert s["p50_ms"] == pytest.approx(np.percentile(values, 50))
    assert s["p99_ms"] == pytest.approx(np.percentile(values, 99))
    assert s["max_ms"] == pytest.approx(values.max())
    assert stats.count == 1000


def test_latency_keeps_only_recent_values() -> None:
    stats = LatencyStats(keep=10)
    for v in range(100):
        stats.add(float(v))
    assert stats.percentile(0) == 90.0 and stats.count == 100


def test_empty_summary_is_none() -> None:
    assert LatencyStats().summary()["p99_ms"] is None
    assert LatencyStats().percentile(50) is None


def test_stream_summary_counts_and_json() -> None:
    st = StreamStats()
    st.started_ns, st.ended_ns = 1_000_000_000, 3_500_000_000
    st.add("imu", made=5)
    st.add("imu", skipped=2)
    for ms in (3.0, 4.0, 5.0):
        st.record("imu", latency_ms=ms, runner_ms=ms - 1)
    st.add("thermal", made=1, throttled=4)
    st.record("thermal", 12.0, 10.0)
    st.link = {"crc_failures": 2, "malformed_lines": 1, "samples_lost": 7, "queue_dropped_chunks": 0}
    st.disconnects.append(1.25)
    s = st.summary()
    assert s.duration_s == pytest.approx(2.5)
    assert s.windows == 3 and s.skipped == 2 and s.decode_errors == 3 and s.samples_lost == 7
    d = json.loads(json.dumps(s.to_dict()))
    assert d["modalities"]["imu"]["latency"]["p50_ms"] == pytest.approx(4.0)
    assert d["modalities"]["thermal"]["throttled"] == 4
    text = "\n".join(s.lines())
    assert "imu: 3 labelled, 2 skipped" in text and "p99" in text and "1 disconnects (1.2 s without data)" in text
