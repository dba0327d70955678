"""Hand-off between the reader loop and the inference thread: a latest-wins slot per modality, never blocking.

The reader loop (decode -> calibrate -> window) must keep up with the serial link whatever the model costs, so it
never waits for inference: :meth:`LatestSlot.put` returns at once. When the runner is slower than the hop, the
untaken window is replaced by the newer one and counted as skipped; at most one input per modality waits, so
nothing queues without bound and a label is never older than one inference plus one hop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One model input waiting for the runner.

    Attributes:
        modality: ``imu`` or ``thermal``.
        x: the model input without batch axis: (6, 2000) or (1, 224, 224) float32.
        t_end_ns: device time of the input's last sample (IMU) or of the frame (thermal).
        host_t_ns: host monotonic time (ns) when the bytes carrying that sample arrived.
        segment: increases after each gap in the stream, so smoothing restarts there.
    """

    modality: str
    x: np.ndarray
    t_end_ns: int
    host_t_ns: int
    segment: int = 0


class LatestSlot:
    """At most one pending :class:`Job` per modality; ``put`` replaces, ``take`` waits.

    Args:
        on_skip: called with the replaced job (from the putting thread) when a newer one takes its place.
    """

    def __init__(self, on_skip: Callable[[Job], None] | None = None) -> None:
        self._pending: dict[str, Job] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._on_skip = on_skip

    def put(self, job: Job) -> Job | None:
        """Offer a job without blocking. Returns the job it replaced (skipped), or None."""
        with self._cond:
            if self._closed:
                return None
            old = self._pending.get(job.modality)
            self._pending[job.modality] = job
            self._cond.notify_all()
        if old is not None and self._on_skip is not None:
            self._on_skip(old)
        return old

    def take(self, timeout_s: float, modality: str | None = None) -> Job | None:
        """The oldest pending job (by arrival), waiting up to ``timeout_s``; None when none came or closed.

        Args:
            timeout_s: longest wait in seconds.
            modality: take only this modality's job (one worker per encoder). Defaults to any.
        """

        def ready() -> list[str]:
            return [m for m in self._pending if modality is None or m == modality]

        with self._cond:
            if not ready() and not self._closed:
                self._cond.wait_for(lambda: bool(ready()) or self._closed, timeout_s)
            mods = ready()
            if not mods:
                return None
            return self._pending.pop(min(mods, key=lambda m: self._pending[m].host_t_ns))

    def close(self) -> list[Job]:
        """Refuse new jobs, wake the taker, and return the jobs still pending (not run)."""
        with self._cond:
            self._closed = True
            left = list(self._pending.values())
            self._pending.clear()
            self._cond.notify_all()
        return left

    @property
    def closed(self) -> bool:
        return self._closed


class InferenceWorker:
    """A thread that takes jobs from a :class:`LatestSlot` and runs ``process`` on each.

    An exception in ``process`` stops the worker; :meth:`join` re-raises it in the caller, and ``on_error`` is
    called (from the worker) so the reader loop can stop too.

    Args:
        slot: where jobs come from.
        process: runs one job (embedding, labels, output).
        on_error: called with the exception when ``process`` (or ``warm_up``) fails.
        modality: take only this modality's jobs, so a slow encoder (thermal) does not delay another's labels
            (IMU). Defaults to any.
        warm_up: run once on this thread before the first job (:meth:`wait_ready` waits for it). A runner pinned
            to CPUs pins the thread that calls it, so its warm-up belongs on the thread that will run it, not on
            the caller's. Defaults to None.
    """

    def __init__(self, slot: LatestSlot, process: Callable[[Job], None],
                 on_error: Callable[[BaseException], None] | None = None, modality: str | None = None,
                 warm_up: Callable[[], None] | None = None) -> None:
        self.slot, self.process, self.on_error, self.modality = slot, process, on_error, modality
        self.warm_up = warm_up
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.beat_ns = 0  # monotonic time the loop last turned (took a job, finished one, or found none)
        self._thread = threading.Thread(target=self._run, name=f"edgebind-inference-{modality or 'any'}",
                                        daemon=True)

    def start(self) -> InferenceWorker:
        self._thread.start()
        return self

    def wait_ready(self) -> None:
        """Wait until ``warm_up`` has run on the worker's thread; re-raise its error, if any."""
        self.ready.wait()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            if self.warm_up is not None:
                self.warm_up()
        except BaseException as exc:
            return self._fail(exc)
        finally:
            self.ready.set()
        while True:
            self.beat_ns = time.monotonic_ns()
            job = self.slot.take(0.1, self.modality)
            self.beat_ns = time.monotonic_ns()
            if job is None:
                if self.slot.closed:
                    return
                continue
            try:
                self.process(job)
            except BaseException as exc:
                return self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        """Keep the error for :meth:`join` (re-raised in the reader thread) and tell ``on_error``."""
        self.error = exc
        log.debug("inference thread failed: %r", exc)
        if self.on_error is not None:
            self.on_error(exc)

    def join(self, timeout_s: float = 30.0) -> None:
        """Wait for the thread (after ``slot.close()``) and re-raise its error, if any. A no-op if never started."""
        if self._thread.ident is None:
            return
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("inference thread still busy after %.0f s; leaving it (daemon)", timeout_s)
        if self.error is not None:
            raise self.error
