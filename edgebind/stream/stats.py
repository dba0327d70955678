"""Pure bookkeeping of a stream: latency percentiles, counters and the end-of-run summary (no I/O, no threads).

Latency is measured on the host's monotonic clock: from the moment the bytes carrying a window's last sample
arrived (``ImuBatch.host_t_ns``) to the moment its label is known. The runner's own time (``infer`` alone) is kept
beside it, so the summary shows how much of the sensor-to-label latency is the model and how much is the pipeline.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Decoder counters that mean bytes were wrong (as opposed to samples lost upstream or bookkeeping).
DECODE_ERROR_KEYS = ("crc_failures", "cobs_errors", "bad_version", "bad_length", "unknown_types",
                     "malformed_lines", "non_monotonic")
LOSS_KEYS = ("samples_lost", "thermal_frames_lost", "queue_dropped_chunks")


class LatencyStats:
    """The most recent latencies of one kind, with percentiles.

    Args:
        keep: how many recent values to keep for percentiles. Defaults to 100 000 (hours at 10 windows/s).
    """

    def __init__(self, keep: int = 100_000) -> None:
        self._values_ms: deque[float] = deque(maxlen=keep)
        self.count = 0

    def add(self, latency_ms: float) -> None:
        """Record one latency in milliseconds."""
        self._values_ms.append(float(latency_ms))
        self.count += 1

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile in ms (``q`` in [0, 100]); None before the first value."""
        if not self._values_ms:
            return None
        return float(np.percentile(np.fromiter(self._values_ms, dtype=np.float64), q))

    def summary(self) -> dict[str, float | None]:
        """``{"p50_ms", "p99_ms", "max_ms", "mean_ms"}`` (None before the first value)."""
        if not self._values_ms:
            return {"p50_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
        v = np.fromiter(self._values_ms, dtype=np.float64)
        p50, p99 = np.percentile(v, [50, 99])
        return {"p50_ms": float(p50), "p99_ms": float(p99), "max_ms": float(v.max()), "mean_ms": float(v.mean())}


@dataclass
class ModalityCounts:
    """Per-modality counters.

    Attributes:
        made: inputs the pipeline produced (IMU windows, or thermal frames that passed the throttle).
        labelled: inputs that went through the runner and got a label.
        skipped: inputs replaced in the latest-wins slot before the runner took them (inference was slower).
        throttled: thermal frames left out on purpose because they came faster than ``thermal_every_s``.
        pending_at_exit: inputs still waiting for the runner when the run ended (at most one).
        latency: sensor-to-label latency.
        runner: the runner's own time per input.
    """

    made: int = 0
    labelled: int = 0
    skipped: int = 0
    throttled: int = 0
    pending_at_exit: int = 0
    latency: LatencyStats = field(default_factory=LatencyStats)
    runner: LatencyStats = field(default_factory=LatencyStats)

    def to_dict(self) -> dict[str, Any]:
        return {"made": self.made, "labelled": self.labelled, "skipped": self.skipped,
                "throttled": self.throttled, "pending_at_exit": self.pending_at_exit,
                "latency": self.latency.summary(), "runner": self.runner.summary()}


class StreamStats:
    """Every counter of a run; safe to update from the reader loop and the inference thread at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.modalities: dict[str, ModalityCounts] = {}
        self.disconnects: list[float] = []  # seconds without data around each reconnect
        self.sample_gaps = 0  # grid restarts: holes in device time longer than the resampler's max gap
        self.label_reloads = 0
        self.link: dict[str, int] = {}
        self.started_ns = 0
        self.ended_ns = 0
        self.models: dict[str, str] = {}  # modality -> what runs it (set once by the pipeline)

    def counts(self, modality: str) -> ModalityCounts:
        """The counters of ``modality`` (created on first use)."""
        with self._lock:
            return self.modalities.setdefault(modality, ModalityCounts())

    def add(self, modality: str, **deltas: int) -> None:
        """Increase counters, e.g. ``add("imu", made=1)``."""
        counts = self.counts(modality)
        with self._lock:
            for name, delta in deltas.items():
                setattr(counts, name, getattr(counts, name) + delta)

    def record(self, modality: str, latency_ms: float, runner_ms: float) -> None:
        """One labelled input: its sensor-to-label and runner latencies."""
        counts = self.counts(modality)
        with self._lock:
            counts.labelled += 1
            counts.latency.add(latency_ms)
            counts.runner.add(runner_ms)

    @property
    def skipped(self) -> int:
        """Inputs skipped (all modalities) because inference was slower than they came."""
        with self._lock:
            return sum(c.skipped for c in self.modalities.values())

    def summary(self) -> StreamSummary:
        """A snapshot for printing or JSON."""
        with self._lock:
            per = {m: c.to_dict() for m, c in self.modalities.items()}
            link = dict(self.link)
        return StreamSummary(
            duration_s=max(0.0, (self.ended_ns - self.started_ns) / 1e9) if self.started_ns else 0.0,
            modalities=per,
            decode_errors=sum(link.get(k, 0) for k in DECODE_ERROR_KEYS),
            samples_lost=link.get("samples_lost", 0),
            thermal_frames_lost=link.get("thermal_frames_lost", 0),
            queue_dropped_chunks=link.get("queue_dropped_chunks", 0),
            disconnects=list(self.disconnects),
            sample_gaps=self.sample_gaps,
            label_reloads=self.label_reloads,
            link=link,
            models=dict(self.models),
        )


@dataclass
class StreamSummary:
    """What ``stream`` prints at exit.

    Attributes:
        duration_s: wall time of the run.
        modalities: per modality, ``ModalityCounts.to_dict()``.
        decode_errors: bytes the decoder rejected (CRC, COBS, malformed lines, ...), in frames or lines.
        samples_lost: IMU samples the link lost (sequence gaps).
        thermal_frames_lost: thermal frames the link lost.
        queue_dropped_chunks: byte chunks the reader queue dropped because the consumer fell behind.
        disconnects: seconds without data around each unplug/replug.
        sample_gaps: holes in device time that restarted the window.
        label_reloads: times the labels file was re-read.
        link: every raw counter of the source.
        models: modality -> the encoder, what runs it, and a student's held-out distance to its teacher.
    """

    duration_s: float
    modalities: dict[str, dict[str, Any]]
    decode_errors: int
    samples_lost: int
    thermal_frames_lost: int
    queue_dropped_chunks: int
    disconnects: list[float]
    sample_gaps: int
    label_reloads: int
    link: dict[str, int]
    models: dict[str, str] = field(default_factory=dict)

    @property
    def windows(self) -> int:
        """IMU windows labelled."""
        return int(self.modalities.get("imu", {}).get("labelled", 0))

    @property
    def skipped(self) -> int:
        """Inputs skipped in every modality."""
        return sum(int(m["skipped"]) for m in self.modalities.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (``stream --json`` prints it as the last line, under ``"summary"``)."""
        return {"duration_s": round(self.duration_s, 3), "windows": self.windows, "skipped": self.skipped,
                "modalities": self.modalities, "decode_errors": self.decode_errors,
                "samples_lost": self.samples_lost, "thermal_frames_lost": self.thermal_frames_lost,
                "queue_dropped_chunks": self.queue_dropped_chunks, "disconnects": self.disconnects,
                "sample_gaps": self.sample_gaps, "label_reloads": self.label_reloads, "models": self.models,
                "link": self.link}

    def lines(self) -> list[str]:
        """Human-readable summary lines."""

        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f} ms"

        out = [f"streamed for {self.duration_s:.1f} s"]
        out += [f"{name} model: {line}" for name, line in self.models.items()]
        for name, m in self.modalities.items():
            lat, run = m["latency"], m["runner"]
            extra = f", {m['throttled']} throttled" if m["throttled"] else ""
            out.append(
                f"{name}: {m['labelled']} labelled, {m['skipped']} skipped{extra}; sensor-to-label p50 "
                f"{ms(lat['p50_ms'])} p99 {ms(lat['p99_ms'])}; runner p50 {ms(run['p50_ms'])} p99 {ms(run['p99_ms'])}"
            )
        gaps = ", ".join(f"{g:.1f} s" for g in self.disconnects)
        out.append(
            f"link: {self.decode_errors} decode errors, {self.samples_lost} IMU samples and {self.thermal_frames_lost}"
            f" thermal frames lost, {self.queue_dropped_chunks} reader chunks dropped, {self.sample_gaps} time gaps, "
            f"{len(self.disconnects)} disconnects" + (f" ({gaps} without data)" if gaps else "")
        )
        if self.link.get("device_wait_ms"):
            out.append(f"device absent for {self.link['device_wait_ms'] / 1000:.1f} s in all (waiting for it to "
                       "appear or come back)")
        if self.label_reloads:
            out.append(f"labels file re-read {self.label_reloads} time(s)")
        return out
