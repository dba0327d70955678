"""The one stop path of every command that reads a device or writes a session (record, stream, calibrate capture,
calibrate imu, labels teach, simulate).

    with StopSignals() as stop:
        stop.on_stop(source.close)          # runs in a helper thread, never inside the signal handler
        for event in source.events():
            if stop.is_set():
                break
            ...
        finish_files()                      # then print the summary; exit 0

* The first SIGINT, SIGTERM or SIGHUP sets :attr:`StopSignals.event`; the command finishes its files, prints its
  summary and exits 0. Ctrl-C no longer raises ``KeyboardInterrupt`` inside the block.
* A second one ends the process at once (``os._exit(128 + signal)``): what was already flushed to disk stays
  readable (a session bag up to its last flushed chunk, a record journal ``OUT.partial``).
* Handlers are installed only in the main thread (Python allows no other); elsewhere the object is a plain stop
  event that :meth:`StopSignals.request` sets.

Nothing here imports torch or any third-party module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

STOP_SIGNALS: tuple[int, ...] = tuple(
    s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None)


def signal_name(signum: int | None) -> str:
    """``SIGTERM`` for 15; ``stop`` for None (a stop asked for by code, not by a signal)."""
    if signum is None:
        return "stop"
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class StopRequested(BaseException):
    """Raised inside a :meth:`StopSignals.interruptible` block (a prompt waiting for Enter) by the first stop signal.
    A BaseException, so that ``except Exception`` and click's prompt let it through."""


@contextlib.contextmanager
def closing_on(stop: threading.Event | None, close: Callable[[], Any], poll_s: float = 0.05) -> Iterator[None]:
    """Call ``close()`` (e.g. ``SensorSource.close``, which ends its ``events()``) once ``stop`` is set while the
    block runs; a helper thread polls every ``poll_s``. Nothing happens when ``stop`` is None."""
    if stop is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(poll_s):
            if stop.is_set():
                close()
                return

    thread = threading.Thread(target=watch, name="edgebind-close-on-stop", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


class StopSignals:
    """A stop event set by the first SIGINT/SIGTERM/SIGHUP; the second such signal exits the process at once.

    Args:
        signals: the signals to catch. Defaults to SIGINT, SIGTERM and SIGHUP.
        exit_now: called with the exit status on the second signal. Defaults to ``os._exit`` (no cleanup, no
            buffered output: files already flushed stay as they are).

    Use it as a context manager: handlers are installed on enter (main thread only) and the previous ones restored
    on exit. :attr:`signum` tells which signal stopped the run (None when none did).
    """

    def __init__(self, signals: Iterable[int] = STOP_SIGNALS, exit_now: Callable[[int], Any] = os._exit) -> None:
        self.signals = tuple(signals)
        self.event = threading.Event()
        self.signum: int | None = None
        self._exit_now = exit_now
        self._previous: dict[int, Any] = {}
        self._callbacks: list[Callable[[], Any]] = []
        self._lock = threading.RLock()  # the handler may run while the main thread holds it
        self._ran = False
        self._raise_in_main = False

    # -- the stop event -------------------------------------------------------------------------------------------
    def is_set(self) -> bool:
        """True once a stop was asked for (signal or :meth:`request`)."""
        return self.event.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait up to ``timeout_s`` for a stop; True when one was asked for."""
        return self.event.wait(timeout_s)

    @property
    def name(self) -> str:
        """The signal that stopped the run (``SIGTERM``), ``stop`` for :meth:`request`, ``""`` when not stopped."""
        return signal_name(self.signum) if self.event.is_set() else ""

    def request(self, signum: int | None = None) -> None:
        """Ask for a stop from any thread (what the first signal does)."""
        if self.signum is None:
            self.signum = signum
        self.event.set()
        self._run_callbacks()

    def on_stop(self, callback: Callable[[], Any]) -> None:
        """Call ``callback()`` once a stop is asked for, from a helper thread (never inside the signal handler, so
        it may take locks: close a port, stop a session). Called at once if the stop was already asked for."""
        with self._lock:
            self._callbacks.append(callback)
            ran = self._ran
        if ran:
            self._start_callbacks([callback])

    def _run_callbacks(self) -> None:
        with self._lock:
            if self._ran:
                return
            self._ran = True
            callbacks = list(self._callbacks)
        self._start_callbacks(callbacks)

    @staticmethod
    def _start_callbacks(callbacks: list[Callable[[], Any]]) -> None:
        def run() -> None:
            for cb in callbacks:
                try:
                    cb()
                except Exception:  # a failing close must not hide the stop
                    log.exception("stop callback %r failed", cb)

        if callbacks:
            threading.Thread(target=run, name="edgebind-stop", daemon=True).start()

    # -- signal handlers ------------------------------------------------------------------------------------------
    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set():
            with contextlib.suppress(OSError):
                os.write(2, f"\n{signal_name(signum)} again: exiting now; files already written are kept\n".encode())
            self._exit_now(128 + signum)
            return
        with contextlib.suppress(OSError):
            os.write(2, f"\n{signal_name(signum)}: stopping; finishing files (send it again to quit at once)\n"
                     .encode())
        self.signum = signum
        self.event.set()
        self._run_callbacks()  # starts a thread; the handler itself takes no lock the main thread might hold
        if self._raise_in_main:
            raise StopRequested(signal_name(signum))

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """A block the first stop signal interrupts with :class:`StopRequested` (a prompt blocked on input, which a
        stop event alone cannot end). Raises it at once when the stop was already asked for."""
        if self.event.is_set():
            raise StopRequested(self.name)
        self._raise_in_main = True
        try:
            yield
        finally:
            self._raise_in_main = False

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for s in self.signals:
                try:
                    self._previous[s] = signal.signal(s, self._handle)
                except (OSError, ValueError) as exc:  # pragma: no cover - a platform without it
                    log.debug("cannot catch %s: %s", signal_name(s), exc)
        return self

    def __exit__(self, *exc: object) -> None:
        for s, previous in self._previous.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(s, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()
