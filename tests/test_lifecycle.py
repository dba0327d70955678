"""edgebind.lifecycle.StopSignals: the first stop signal sets the event, the second exits at once."""

from __future__ import annotations

import signal
import threading

from edgebind.lifecycle import StopSignals


def test_first_signal_sets_the_event_and_runs_callbacks_second_exits_now() -> None:
    exits: list[int] = []
    closed = threading.Event()
    with StopSignals(exit_now=exits.append) as stop:
        stop.on_stop(closed.set)
        assert not stop.is_set()
        signal.raise_signal(signal.SIGTERM)
        assert stop.is_set() and stop.name == "SIGTERM"
        assert closed.wait(2.0)
        assert exits == []
        signal.raise_signal(signal.SIGINT)
        assert exits == [128 + signal.SIGINT]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_request_without_a_signal() -> None:
    with StopSignals(exit_now=lambda s: None) as stop:
        stop.request()
        assert stop.is_set() and stop.name == "stop"
        done = threading.Event()
        stop.on_stop(done.set)  # registered after the stop: runs at once
        assert done.wait(2.0)
