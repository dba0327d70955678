"""The live pipeline between a :class:`SensorSource` and the labels (ARCHITECTURE.md, "Streaming").

Reader side (:meth:`StreamPipeline.feed`, the thread that iterates ``SensorSource.events``): decode events ->
calibration profile -> resample on the device clock -> (6, 2000) windows every hop; thermal frames -> profile ->
thermal contract, throttled to one per ``thermal_every_s``. Each input goes into a latest-wins slot and the reader
moves on at once.

Inference side (:meth:`StreamPipeline.process`, the inference thread): runner -> label bank -> smoothing -> abstain
-> a :class:`LabelResult` handed to ``on_result``. With ``fuse`` an IMU window is also labelled jointly with the
latest thermal frame by ImageBind's embedding arithmetic: the sum of the two unit embeddings, renormalised.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgebind.bridge.events import DeviceInfo, Event, Gap, ImuBatch, LogMessage, ThermalFrame
from edgebind.errors import ConfigError, InputError
from edgebind.stream.contract import ImuContractCheck
from edgebind.stream.encoders import Encoders
from edgebind.stream.labels import LabelSource
from edgebind.stream.scheduler import Job, LatestSlot
from edgebind.stream.smoothing import Decision, ProbSmoother, decide
from edgebind.stream.stats import StreamStats
from edgebind.zeroshot import unit_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamOptions:
    """How windows are cut and labelled.

    Attributes:
        hop_s: device seconds between IMU window ends. Defaults to 1.0.
        thermal_every_s: least device seconds between thermal frames sent to the runner. Defaults to ``hop_s``.
        top_k: labels reported per window. Defaults to 3.
        smooth_alpha: EMA weight of the newest window in (0, 1]; 1 turns smoothing off. Defaults to 0.5.
        abstain: answer ``unknown`` when the smoothed top-1 probability is below this. Defaults to 0 (never).
        fuse: also label IMU + thermal jointly. Defaults to False.
        fuse_max_age_s: a thermal frame older than this (device time) is not fused. Defaults to 2 x hop.
        max_windows: stop after this many labelled windows (thermal frames for a thermal-only stream).
    """

    hop_s: float = 1.0
    thermal_every_s: float | None = None
    top_k: int = 3
    smooth_alpha: float = 0.5
    abstain: float = 0.0
    fuse: bool = False
    fuse_max_age_s: float | None = None
    max_windows: int | None = None

    def __post_init__(self) -> None:
        if not self.hop_s > 0:
            raise ConfigError(f"--hop must be > 0 seconds, got {self.hop_s}; e.g. 1.0.")
        if self.thermal_every_s is not None and self.thermal_every_s < 0:
            raise ConfigError(f"thermal_every_s must be >= 0, got {self.thermal_every_s}.")
        if self.max_windows is not None and self.max_windows < 1:
            raise ConfigError(f"--max-windows must be at least 1, got {self.max_windows}.")
        ProbSmoother(self.smooth_alpha)
        decide(np.ones(1), np.ones(1), ["x"], self.top_k, self.abstain)  # validates k and abstain


@dataclass
class LabelResult:
    """One labelled input.

    Attributes:
        modality: ``imu``, ``thermal`` or ``fused``.
        t_end_ns: device time of the input's last sample.
        decision: label (or ``unknown``), top-k with smoothed probabilities, this window's own best label.
        latency_ms: host time from the arrival of the last sample's bytes to the label.
        runner_ms: the runner's own time for this input.
        skipped: inputs skipped so far (all modalities) because inference was slower than the hop.
        samples_lost: IMU samples the link lost so far.
        index: count of results of this modality, from 0.
        embedding: the input's unit embedding (out_dim,) float32, for observers that log it (not in ``to_json``).
    """

    modality: str
    t_end_ns: int
    decision: Decision
    latency_ms: float
    runner_ms: float
    skipped: int
    samples_lost: int
    index: int
    embedding: np.ndarray | None = None

    @property
    def label(self) -> str:
        return self.decision.label

    def to_json(self) -> dict[str, Any]:
        """One ``stream --json`` line."""
        return {"t_end_s": round(self.t_end_ns / 1e9, 6), "modality": self.modality, "label": self.label,
                "top_k": [{"label": n, "score": round(p, 5)} for n, p in self.decision.top_k],
                "latency_ms": round(self.latency_ms, 3), "runner_ms": round(self.runner_ms, 3),
                "drops": {"windows_skipped": self.skipped, "samples_lost": self.samples_lost}, "index": self.index}


@dataclass
class _Latest:
    unit_emb: np.ndarray
    t_ns: int
    runner_ms: float


class StreamPipeline:
    """Events in, labels out; see the module docstring for who calls what from which thread.

    Args:
        encoders: the models (:func:`edgebind.stream.encoders.open_encoders`).
        labels: the label bank source.
        options: windowing and labelling options.
        on_result: called with each :class:`LabelResult`, from the inference thread (keep it quick).
        profile: a calibration profile (``CalibrationProfile``) applied to raw samples and frames. Defaults to None.

    Raises:
        InputError: the label bank's width differs from an encoder's output width.
    """

    def __init__(self, encoders: Encoders, labels: LabelSource, options: StreamOptions,
                 on_result: Callable[[LabelResult], None], profile: Any = None) -> None:
        from edgebind.stream.window import ImuWindower

        self.encoders, self.labels, self.options, self.on_result = encoders, labels, options, on_result
        self.profile = profile
        self.stats = StreamStats()
        self.stats.models = encoders.descriptions()
        self.slot = LatestSlot(on_skip=lambda job: self.stats.add(job.modality, skipped=1))
        self.done = threading.Event()
        self.info: DeviceInfo | None = None
        for m in encoders.models.values():
            self._check_dim(m.modality, m.out_dim)
        imu = encoders.models.get("imu")
        self.windower = ImuWindower(imu.contract, hop_s=options.hop_s) if imu is not None else None
        self.contract_check = ImuContractCheck(imu.contract) if imu is not None else None
        thermal = encoders.models.get("thermal")
        self.thermal_contract = thermal.contract if thermal is not None else None
        if profile is not None and profile.thermal is not None and thermal is not None:
            from edgebind.calibration.thermal import thermal_contract

            self.thermal_contract = thermal_contract(profile)
        every = options.hop_s if options.thermal_every_s is None else options.thermal_every_s
        self._thermal_every_ns = int(every * 1e9)
        self._fuse_age_ns = int((options.fuse_max_age_s or 2 * options.hop_s) * 1e9)
        self._segment = 0
        self._last_thermal_t: int | None = None
        self._seen: set[str] = set()
        self._ignored: set[str] = set()
        self._last_host_ns = 0
        self._disconnected = False
        self._lock = threading.Lock()  # smoothers and counters are shared by the per-encoder inference threads
        self._smoothers: dict[tuple[str, int], ProbSmoother] = {}
        self._latest_thermal: _Latest | None = None
        self._index: dict[str, int] = {}
        if options.fuse and not {"imu", "thermal"} <= set(encoders.models):
            raise ConfigError(f"--fuse needs IMU and thermal encoders but {encoders.source} has "
                              f"{', '.join(encoders.models)}; export both (--modalities imu,thermal) or drop --fuse.")

    def _check_dim(self, modality: str, out_dim: int) -> None:
        bank = self.labels.bank
        if bank.dim != out_dim:
            raise InputError(
                f"the label bank has {bank.dim}-d embeddings but the {modality} encoder of {self.encoders.source} "
                f"outputs {out_dim}-d: they come from different models. Rebuild the labels for this model "
                "(edgebind export --labels labels.txt, or pass --labels with a checkpoint that has a text encoder)."
            )

    # ------------------------------------------------------------------ reader side
    @property
    def primary(self) -> str:
        """The modality ``max_windows`` counts: IMU when the stream carries it, else thermal."""
        return "imu" if "imu" in self._seen and "imu" in self.encoders.models else "thermal"

    def feed(self, event: Event) -> None:
        """Process one source event (reader thread); never waits for inference.

        Raises:
            BundleError: the stream carries only modalities the models lack.
            ConfigError: the calibration profile was made for another sensor than the device reports.
        """
        if isinstance(event, ImuBatch):
            if len(event.t_ns):
                self._feed_imu(event)
        elif isinstance(event, ThermalFrame):
            self._feed_thermal(event)
        elif isinstance(event, DeviceInfo):
            self.info = event
            if self.profile is not None:
                from edgebind.calibration.profiles import check_profile_parts

                check_profile_parts(self.profile, event.imu_sensor, event.thermal_sensor, source="the device")
        elif isinstance(event, Gap):
            if event.reason in ("disconnect", "device reboot", "pause"):  # the time axis jumps: start windows over
                self._disconnected = True
        elif isinstance(event, LogMessage):
            level = logging.WARNING if event.level in ("warning", "error") else logging.INFO
            log.log(level, "device: %s", event.text)

    def _accept(self, modality: str, host_t_ns: int) -> bool:
        """Whether to process ``modality``; records reconnect gaps; raises when the models lack every stream."""
        if self._disconnected:
            self._disconnected = False
            if self._last_host_ns:
                gap_s = (host_t_ns - self._last_host_ns) / 1e9
                with self.stats._lock:
                    self.stats.disconnects.append(round(gap_s, 3))
                log.warning("device back after %.2f s without data; stream resumed", gap_s)
            self._segment += 1
            if self.windower is not None:  # a replugged device may restart its clock: start a fresh grid
                self.windower.reset()
            self._last_thermal_t = None
        self._last_host_ns = max(self._last_host_ns, host_t_ns)
        if modality in self.encoders.models:
            self._seen.add(modality)
            return True
        if modality in self._ignored:
            return False
        declared = self.info is not None and (
            ("imu" in self.encoders.models and self.info.imu_rate_hz > 0)
            or ("thermal" in self.encoders.models and self.info.thermal_rate_hz > 0))
        if self._seen or declared:
            log.warning("the stream also carries %s data, which %s cannot embed; ignoring it", modality,
                        self.encoders.source)
            self._ignored.add(modality)
            return False
        self.encoders.model(modality)  # raises BundleError naming the fix
        return False

    def _feed_imu(self, batch: ImuBatch) -> None:
        if not self._accept("imu", batch.host_t_ns) or self.windower is None:
            return
        imu = batch.imu
        if self.profile is not None and self.profile.sensor:
            from edgebind.calibration.imu import apply_imu_profile

            imu = apply_imu_profile(imu, self.profile)
        if self.contract_check is not None:
            for message in self.contract_check.push(batch.t_ns, imu):
                log.warning(message)
        gaps = self.windower.resampler.gaps
        windows = self.windower.push(batch.t_ns, imu)
        if self.windower.resampler.gaps != gaps:
            self.stats.sample_gaps += self.windower.resampler.gaps - gaps
            self._segment += 1
        for window, end_t_ns in windows:
            if self.done.is_set():
                return
            self.stats.add("imu", made=1)
            self.slot.put(Job("imu", window, end_t_ns, batch.host_t_ns, self._segment))

    def _feed_thermal(self, frame: ThermalFrame) -> None:
        if not self._accept("thermal", frame.host_t_ns) or self.thermal_contract is None or self.done.is_set():
            return
        if self._last_thermal_t is not None and 0 <= frame.t_ns - self._last_thermal_t < self._thermal_every_ns:
            self.stats.add("thermal", throttled=1)
            return
        self._last_thermal_t = frame.t_ns
        from edgebind.preprocess.thermal import map_temperature, to_model_input

        temp_c = frame.temp_c
        if self.profile is not None and self.profile.thermal is not None:
            from edgebind.calibration.thermal import apply_thermal_profile

            temp_c = apply_thermal_profile(temp_c, self.profile)
        x = to_model_input(map_temperature(temp_c, self.thermal_contract), self.thermal_contract.size)[0]
        self.stats.add("thermal", made=1)
        self.slot.put(Job("thermal", x, frame.t_ns, frame.host_t_ns, self._segment))

    # ------------------------------------------------------------------ inference side
    def warm_up(self, modality: str | None = None) -> None:
        """Run each encoder (or ``modality``'s) once on a blank input, so the first window's latency is not the
        runtime's start-up."""
        for m in self.encoders.models.values():
            if modality is not None and m.modality != modality:
                continue
            if m.modality == "imu":
                x = np.zeros((1, 6, m.contract.num_samples), np.float32)
                import scipy.signal  # noqa: F401  (the anti-alias filter's; seconds to import, not on the reader loop)
            else:  # the thermal path's first call also loads PIL's resampler: warm the preprocessing too
                from edgebind.preprocess.thermal import map_temperature, to_model_input

                x = to_model_input(map_temperature(np.zeros((24, 32), np.float32), m.contract), m.contract.size)
            m.embed(x)

    def process(self, job: Job) -> None:
        """Embed and label one job (its encoder's inference thread), then call ``on_result``."""
        if self.labels.maybe_reload():
            self.stats.label_reloads = self.labels.reloads
            with self._lock:
                self._smoothers.clear()
            for m in self.encoders.models.values():
                self._check_dim(m.modality, m.out_dim)
        model = self.encoders.model(job.modality)
        t0 = time.monotonic_ns()
        emb = np.asarray(model.embed(job.x[None]), dtype=np.float32)  # (1, ...) -> (1, out_dim)
        runner_ms = (time.monotonic_ns() - t0) / 1e6
        unit = unit_rows(emb)[0]
        self._emit(job.modality, unit, model.logit_scale, job, runner_ms)
        if job.modality == "thermal":
            self._latest_thermal = _Latest(unit, job.t_end_ns, runner_ms)
        elif self.options.fuse and self._latest_thermal is not None:
            th = self._latest_thermal
            if abs(job.t_end_ns - th.t_ns) <= self._fuse_age_ns:
                fused = unit_rows(unit + th.unit_emb)  # ImageBind embedding arithmetic: sum of unit vectors
                self._emit("fused", fused, model.logit_scale, job, runner_ms, count=False)
        limit = self.options.max_windows
        if limit is not None and job.modality == self.primary and self.stats.counts(job.modality).labelled >= limit:
            self.done.set()

    def _emit(self, modality: str, unit: np.ndarray, logit_scale: float, job: Job, runner_ms: float,
              count: bool = True) -> None:
        bank = self.labels.bank
        logits = logit_scale * (bank.embeddings @ unit)  # (n_labels,)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        with self._lock:
            smoother = self._smoothers.get((modality, job.segment))
            if smoother is None:  # a new segment (after a gap) or new labels: start the average afresh
                for key in [k for k in self._smoothers if k[0] == modality]:
                    del self._smoothers[key]
                smoother = self._smoothers[(modality, job.segment)] = ProbSmoother(self.options.smooth_alpha)
            smoothed = smoother.update(probs)
            index = self._index.get(modality, 0)
            self._index[modality] = index + 1
        decision = decide(probs, smoothed, bank.names, self.options.top_k, self.options.abstain)
        latency_ms = (time.monotonic_ns() - job.host_t_ns) / 1e6
        self.stats.record(modality, latency_ms, runner_ms)
        if not count:
            self.stats.add(modality, made=1)
        self.on_result(LabelResult(modality, job.t_end_ns, decision, latency_ms, runner_ms, self.stats.skipped,
                                   self.stats.link.get("samples_lost", 0), index, unit))
