"""The latest-wins hand-off: never blocks the reader, counts what it skips, re-raises worker errors."""

from __future__ import annotations

import queue
import threading

import numpy as np
import pytest

from edgebind.errors import InputError
from edgebind.stream.scheduler import InferenceWorker, Job, LatestSlot


def job(modality: str, i: int) -> Job:
    return Job(modality, np.zeros(1, np.float32), t_end_ns=i, host_t_ns=i)


def test_put_replaces_and_counts() -> None:
    skipped: list[int] = []
    slot = LatestSlot(on_skip=lambda j: skipped.append(j.t_end_ns))
    assert slot.put(job("imu", 1)) is None
    assert slot.put(job("imu", 2)) is not None
    slot.put(job("thermal", 3))
    assert skipped == [1]
    first = slot.take(0.1)
    assert first is not None and (first.modality, first.t_end_ns) == ("imu", 2)  # oldest arrival first
    second = slot.take(0.1)
    assert second is not None and second.modality == "thermal"
    assert slot.take(0.01) is None


def test_close_returns_pending_and_refuses_more() -> None:
    slot = LatestSlot()
    slot.put(job("imu", 1))
    assert [j.t_end_ns for j in slot.close()] == [1]
    assert slot.put(job("imu", 2)) is None and slot.take(0.01) is None


def test_slow_worker_skips_windows_without_blocking_the_reader() -> None:
    release = threading.Event()
    started = threading.Event()
    done: queue.Queue[int] = queue.Queue()
    skipped: list[int] = []

    def process(j: Job) -> None:
        started.set()
        assert release.wait(5.0)
        done.put(j.t_end_ns)

    slot = LatestSlot(on_skip=lambda j: skipped.append(j.t_end_ns))
    worker = InferenceWorker(slot, process).start()
    slot.put(job("imu", 0))
    assert started.wait(5.0)  # the worker holds window 0
    for i in range(1, 101):  # the reader keeps producing; put() returns at once
        slot.put(job("imu", i))
    release.set()
    assert done.get(timeout=5.0) == 0
    assert done.get(timeout=5.0) == 100  # only the newest waited
    slot.close()
    worker.join(5.0)
    assert skipped == list(range(1, 100))


def test_worker_error_is_reraised_in_the_caller() -> None:
    errors: queue.Queue[BaseException] = queue.Queue()

    def process(j: Job) -> None:
        raise InputError("bad window")

    slot = LatestSlot()
    worker = InferenceWorker(slot, process, on_error=errors.put).start()
    slot.put(job("imu", 0))
    assert isinstance(errors.get(timeout=5.0), InputError)
    slot.close()
    with pytest.raises(InputError, match="bad window"):
        worker.join(5.0)


def test_warm_up_runs_on_the_worker_thread_before_any_job() -> None:
    order: list[tuple[str, int]] = []
    slot = LatestSlot()
    slot.put(job("imu", 0))
    worker = InferenceWorker(slot, lambda j: order.append(("job", threading.get_ident())),
                             warm_up=lambda: order.append(("warm", threading.get_ident()))).start()
    assert worker.ready.wait(5.0)
    worker.wait_ready()
    slot.close()
    worker.join(5.0)
    assert [what for what, _ in order] == ["warm", "job"]
    assert order[0][1] == order[1][1] != threading.get_ident()  # the worker's own thread, not the caller's


def test_warm_up_error_is_reraised_by_wait_ready() -> None:
    def warm() -> None:
        raise InputError("cannot warm up")

    errors: queue.Queue[BaseException] = queue.Queue()
    worker = InferenceWorker(LatestSlot(), lambda j: None, on_error=errors.put, warm_up=warm).start()
    assert worker.ready.wait(5.0)
    with pytest.raises(InputError, match="cannot warm up"):
        worker.wait_ready()
    assert isinstance(errors.get(timeout=5.0), InputError)
