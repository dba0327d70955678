"""``edgebind stream``'s Python API: a sensor link -> live labels, bounded by windows, seconds or Ctrl-C.

    with open_encoders(bundle="out/imu") as enc:
        labels = LabelSource("labels.txt", enc.bank, enc.text_embed, enc.text_model)
        session = StreamSession("/dev/ttyUSB0", enc, labels, StreamOptions(hop_s=1.0), on_result=print)
        summary = session.run()

Threads: pyserial's reader (bytes only, inside ``SensorSource``), this module's caller (decode, calibrate, window;
it never waits for inference) and one inference thread per encoder (runner, labels, ``on_result``), so a slow
thermal encoder never delays the IMU labels.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from edgebind.bridge.events import Event
from edgebind.errors import ConfigError
from edgebind.runtime.policy import ThreadPolicy
from edgebind.stream.encoders import Encoders
from edgebind.stream.labels import LabelSource, label_source_for
from edgebind.stream.notify import ServiceNotify
from edgebind.stream.pipeline import LabelResult, StreamOptions, StreamPipeline
from edgebind.stream.scheduler import InferenceWorker
from edgebind.stream.stats import StreamSummary

log = logging.getLogger(__name__)

LINK_STATS_EVERY_NS = 200_000_000


class StreamSession:
    """One run of the live pipeline over a sensor link.

    Args:
        url: serial device, simulator pty (or its link) or pyserial URL.
        encoders: the models.
        labels: the label bank source.
        options: windowing and labelling options.
        on_result: called with each :class:`LabelResult` from the inference thread.
        baud: line rate. Defaults to 921600.
        fmt: ``auto``, ``binary`` or ``csv``. Defaults to auto.
        rate_hz: the sensor rate where the stream cannot tell it (CSV without timestamps). Defaults to None.
        duration_s: stop after this many seconds. Defaults to None (until ``max_windows``, Ctrl-C or the end).
        profile: calibration profile (a ``CalibrationProfile``, its dict or a JSON path). Defaults to None.
        reconnect: wait for an unplugged device and resume. Defaults to True.
        units: unit flags and sensor profile for text lines (``edgebind.bridge.units.UnitOptions``).
        on_event: called with each source event before the pipeline sees it (reader thread), e.g. to log the raw
            messages (``edgebind.ros.SessionBag``). Defaults to None.
        read_every_s: let the link's bytes gather this long between reads: fewer wake-ups and decoder calls for
            up to this much more latency. Defaults to 0 (read as bytes arrive).
        ros2: for a ``ros2:/topic`` url, the thermal topic and wait (``edgebind.ros.ros2_in.Ros2Input``).
        wait_for_device: start even when the port is not there yet; stream once it appears. Defaults to False.
        service: systemd notifications (``ServiceNotify.from_env``): READY once streaming, WATCHDOG from the reader
            loop while the inference threads turn too, STOPPING at the end. Defaults to None.
    """

    def __init__(self, url: str, encoders: Encoders, labels: LabelSource, options: StreamOptions,
                 on_result: Callable[[LabelResult], None], *, baud: int = 921600, fmt: str = "auto",
                 rate_hz: float | None = None, duration_s: float | None = None, profile: Any = None,
                 reconnect: bool = True, on_event: Callable[[Event], None] | None = None,
                 units: Any = None, read_every_s: float = 0.0, ros2: Any = None, wait_for_device: bool = False,
                 service: ServiceNotify | None = None) -> None:
        if duration_s is not None and not duration_s > 0:
            raise ConfigError(f"--duration must be > 0 seconds, got {duration_s}.")
        if duration_s is not None and options.max_windows is not None:
            raise ConfigError("pass --max-windows or --duration, not both.")
        if profile is not None:
            from edgebind.calibration.profiles import as_profile

            profile = as_profile(profile if not isinstance(profile, Path) else str(profile))
        self.url, self.baud, self.fmt, self.rate_hz = url, baud, fmt, rate_hz
        self.duration_s, self.reconnect, self.units = duration_s, reconnect, units
        self.read_every_s = read_every_s
        self.on_event, self.ros2 = on_event, ros2
        self.wait_for_device, self.service = wait_for_device, service
        self.pipeline = StreamPipeline(encoders, labels, options, on_result, profile)
        self.interrupted = False
        self._stop = threading.Event()
        self._source: Any = None

    @property
    def stats(self) -> Any:
        """The live :class:`StreamStats`."""
        return self.pipeline.stats

    @property
    def idle_s(self) -> float:
        """Seconds since bytes last arrived (inf before the first)."""
        return float(self._source.idle_s) if self._source is not None else float("inf")

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called or the run ended."""
        return self._stop.is_set()

    def stop(self) -> None:
        """End the run from any thread; :meth:`run` returns its summary."""
        self._stop.set()
        src = self._source
        if src is not None:
            src.close()

    def summary(self) -> StreamSummary:
        """The counters so far (also valid after a failed run)."""
        stats = self.pipeline.stats
        if not stats.ended_ns:
            stats.ended_ns = time.monotonic_ns()
        return stats.summary()

    def run(self) -> StreamSummary:
        """Stream until ``max_windows`` labels, ``duration_s``, :meth:`stop`, Ctrl-C or the link's end.

        Returns:
            The summary. Ctrl-C ends the run cleanly (``interrupted`` is then True).

        Raises:
            SensorError: the port cannot be opened, or the bytes are not the expected format (wrong baud rate).
            BundleError: the stream carries only modalities the models lack.
            EdgebindError: the inference thread failed (re-raised here).
        """
        from edgebind.bridge.source import SensorSource

        stats = self.pipeline.stats
        # each runner warms up on its own inference thread: a runner pinned to CPUs pins the thread that calls it,
        # and this one (the reader loop, and the threads it starts) must keep every CPU
        workers = [InferenceWorker(self.pipeline.slot, self.pipeline.process, on_error=lambda exc: self.stop(),
                                   modality=m, warm_up=functools.partial(self.pipeline.warm_up, m))
                   for m in self.pipeline.encoders.models]
        timer = threading.Timer(self.duration_s, self.stop) if self.duration_s is not None else None
        if timer is not None:
            timer.daemon = True
        self.pipeline.done.clear()
        done_watch = threading.Thread(target=self._stop_when_done, name="edgebind-stream-done", daemon=True)
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.wait_ready()
            stats.started_ns = time.monotonic_ns()
            if self.url.startswith("ros2:"):  # live ROS 2 topics over DDS (edgebind[ros2])
                from edgebind.ros.ros2_in import Ros2Source

                source: Any = Ros2Source(self.url, self.ros2)
            else:
                source = SensorSource(self.url, baud=self.baud, fmt=self.fmt, rate_hz=self.rate_hz,
                                      reconnect=self.reconnect or self.wait_for_device, units=self.units,
                                      read_every_s=self.read_every_s, wait_for_device=self.wait_for_device)
            with source as src:
                self._source = src
                if self._stop.is_set():  # stop() came while the models loaded: do not wait for bytes
                    src.close()
                done_watch.start()
                if timer is not None:
                    timer.start()
                last_stats = 0
                tick = self._service_tick(src, workers) if self.service is not None else None
                try:
                    for event in src.events(timeout_s=0.25, on_tick=tick):
                        if self._stop.is_set():
                            break
                        if self.on_event is not None:
                            self.on_event(event)
                        self.pipeline.feed(event)
                        now = time.monotonic_ns()
                        if now - last_stats > LINK_STATS_EVERY_NS:
                            stats.link = src.stats
                            last_stats = now
                except KeyboardInterrupt:
                    self.interrupted = True
                    log.info("interrupted; finishing")
                finally:
                    self._stop.set()
                    self.pipeline.done.set()
                    stats.link = src.stats
                    if self.service is not None:
                        self.service.stopping(f"{self._progress()}")
        finally:
            if timer is not None:
                timer.cancel()
            for job in self.pipeline.slot.close():
                stats.add(job.modality, pending_at_exit=1)
            for worker in workers:
                worker.join()
            stats.ended_ns = time.monotonic_ns()
            self._source = None
        return stats.summary()

    def _service_tick(self, src: Any, workers: list[InferenceWorker]) -> Callable[[], None]:
        """The reader loop's beat for systemd: ``waiting`` or ``streaming``, and the watchdog ping only while every
        inference thread has turned within half the watchdog interval (a runner stuck in one call withholds it)."""
        service = self.service
        assert service is not None
        limit_ns = int(service.watchdog_s * 0.5e9) if service.watchdog_s is not None else None

        def tick() -> None:
            now = time.monotonic_ns()
            alive = limit_ns is None or all(now - w.beat_ns < limit_ns for w in workers)
            streaming = getattr(src, "connected", True) and src.idle_s != float("inf")
            service.beat("streaming" if streaming else "waiting", alive, self._progress())

        return tick

    def _progress(self) -> str:
        """A short STATUS detail: labels so far and what was lost."""
        stats = self.pipeline.stats
        labelled = sum(c.labelled for c in list(stats.modalities.values()))
        return (f"{labelled} labels, {stats.link.get('samples_lost', 0)} IMU samples lost, "
                f"{len(stats.disconnects)} disconnects")

    def _stop_when_done(self) -> None:
        """Close the source once ``max_windows`` labels are out (the reader may be waiting for bytes)."""
        self.pipeline.done.wait()
        if not self._stop.is_set():
            self.stop()


def run_stream(port: str, *, bundle: str | Path | None = None, checkpoint: str | Path | None = None,
               overrides: dict[str, Any] | None = None, labels: str | Path | None = None,
               backend: str | None = None, threads: int | None = None, allow_random_init: bool = False,
               options: StreamOptions | None = None, on_result: Callable[[LabelResult], None] | None = None,
               on_start: Callable[[StreamSession], None] | None = None, baud: int = 921600, fmt: str = "auto",
               rate_hz: float | None = None, duration_s: float | None = None,
               calibration: str | Path | None = None,
               on_event: Callable[[Event], None] | None = None, units: Any = None,
               policies: Mapping[str, ThreadPolicy] | None = None, read_every_s: float = 0.0,
               ros2: Any = None, wait_for_device: bool = False, service: ServiceNotify | None = None) -> StreamSummary:
    """Open the models and the labels, then stream ``port`` until done (what ``edgebind stream`` runs).

    Args:
        port: serial device, simulator pty or pyserial URL.
        bundle: bundle folder. Defaults to ``$EDGEBIND_BUNDLE`` or the last export, unless ``checkpoint`` is given.
        checkpoint: a checkpoint to run with torch instead of a bundle.
        overrides: parsed ``--set`` values for the checkpoint.
        labels: labels.txt; None uses the bundle's label bank.
        backend, threads: the bundle runner and its CPU threads.
        policies: modality -> onnxruntime thread policy (see ``open_encoders``).
        allow_random_init: run a bundle with random weights.
        options: windowing and labelling. Defaults to ``StreamOptions()``.
        on_result: called with each label (inference thread).
        on_start: called with the session before streaming starts (to show a live view or stop it later).
        baud, fmt, rate_hz: the link (see ``SensorSource``).
        duration_s: stop after this many seconds.
        calibration: a calibration profile JSON applied to samples and frames.
        on_event: called with each source event (reader thread), e.g. ``SessionBag.on_event``.
        units: unit flags and sensor profile for text lines. Defaults to auto units.
        read_every_s: seconds the link's bytes gather between reads (see ``StreamSession``). Defaults to 0.
        ros2: for ``ros2:/topic``, an ``edgebind.ros.ros2_in.Ros2Input`` (thermal topic, unit, wait).
        wait_for_device: start before the port exists and stream when it appears. Defaults to False.
        service: systemd notifications; ``edgebind stream`` passes ``ServiceNotify.from_env(port)``.

    Returns:
        The run's summary.

    Raises:
        EdgebindError: a missing bundle or checkpoint, bad labels, a port that cannot be opened, bytes of the wrong
            format, or a stream the models cannot embed; each message names the fix.
    """
    from edgebind.paths import find_bundle, find_checkpoint
    from edgebind.stream.encoders import open_encoders

    if bundle is not None and checkpoint is not None:
        raise ConfigError("pass either --bundle or --checkpoint, not both.")
    bundle_dir = find_bundle(bundle) if checkpoint is None else None
    ckpt = find_checkpoint(checkpoint) if checkpoint is not None else None
    with open_encoders(bundle_dir, ckpt, overrides, backend, threads, allow_random_init, policies) as enc:
        label_source = label_source_for(labels, enc)
        session = StreamSession(port, enc, label_source, options or StreamOptions(), on_result or (lambda r: None),
                                baud=baud, fmt=fmt, rate_hz=rate_hz, duration_s=duration_s, profile=calibration,
                                on_event=on_event, units=units, read_every_s=read_every_s, ros2=ros2,
                                wait_for_device=wait_for_device, service=service)
        if on_start is not None:
            on_start(session)
        return session.run()
