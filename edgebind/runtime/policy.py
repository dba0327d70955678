"""How a CPU runner uses threads: intra-op thread count, spinning, and which CPUs its threads may run on.

Two runners share the cores in ``stream`` (an IMU and a thermal inference thread), and ``bench`` runs several
backends in one process. A thread pool that busy-waits after a call takes a core from the other runner; pinning
each runner to its own CPUs keeps them apart. No torch here: the device side imports this.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from edgebind.errors import ConfigError


@dataclass(frozen=True)
class ThreadPolicy:
    """Thread settings of one runner.

    Attributes:
        threads: intra-op threads (the calling thread counts as one). None: the backend's choice.
        spin: let idle pool threads busy-wait for the next piece of work (lower latency alone, but a spinning
            thread takes a core from anything else on it). Defaults to False.
        cpus: CPU ids the runner's pool threads and its calling thread may run on (Linux). None: any.
    """

    threads: int | None = None
    spin: bool = False
    cpus: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"threads must be >= 1, got {self.threads}; omit it for the backend's default.")
        if self.cpus is not None:
            usable = available_cpus()
            bad = [c for c in self.cpus if c not in usable]
            if not self.cpus or bad:
                raise ConfigError(f"cannot pin to CPUs {list(self.cpus)}: this process may use "
                                  f"{sorted(usable)}; pick CPUs from that list.")

    def describe(self) -> str:
        """``threads 1, no spin, cpus 0`` for tables and logs."""
        cpus = "any" if self.cpus is None else ",".join(map(str, self.cpus))
        threads = "default" if self.threads is None else str(self.threads)
        return f"threads {threads}, {'spin' if self.spin else 'no spin'}, cpus {cpus}"


def available_cpus() -> set[int]:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def halves(cpus: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``cpus`` in two halves, in the order given (the first half the smaller when their count is odd)."""
    return tuple(cpus[: len(cpus) // 2]), tuple(cpus[len(cpus) // 2 :])


def split_cpus() -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """This process's CPUs in two halves (lower ids first), or None with fewer than two CPUs."""
    cpus = sorted(available_cpus())
    return halves(cpus) if len(cpus) >= 2 else None


def parse_cpus(text: str) -> tuple[int, ...]:
    """``"0,2-3"`` -> ``(0, 2, 3)``.

    Raises:
        ConfigError: not a comma-separated list of ids or ranges.
    """
    out: list[int] = []
    try:
        for part in text.split(","):
            lo, sep, hi = part.strip().partition("-")
            out += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
    except ValueError:
        raise ConfigError(f"cannot read CPU list '{text}'; write ids and ranges like 0 or 0,1 or 2-3.") from None
    return tuple(dict.fromkeys(out))


def parse_modality_cpus(items: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """``["imu=0", "thermal=1"]`` -> ``{"imu": (0,), "thermal": (1,)}``.

    Raises:
        ConfigError: an item without ``MODALITY=CPUS``.
    """
    out: dict[str, tuple[int, ...]] = {}
    for item in items:
        name, sep, cpus = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--pin expects MODALITY=CPUS, got '{item}' (e.g. --pin imu=0 --pin thermal=1).")
        out[name.strip()] = parse_cpus(cpus)
    return out


def pin_current_thread(cpus: Sequence[int] | None) -> None:
    """Restrict the calling thread (Linux: pid 0 is the calling thread) to ``cpus``; no-op for None."""
    if cpus is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(cpus))


@contextlib.contextmanager
def pinned(cpus: Sequence[int] | None) -> Iterator[None]:
    """Pin the calling thread to ``cpus`` for the block, then restore its affinity.

    Threads started inside the block (a backend's pool) inherit the affinity and keep it.
    """
    if cpus is None or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(cpus))
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


__all__ = ["ThreadPolicy", "available_cpus", "halves", "parse_cpus", "parse_modality_cpus", "pin_current_thread",
           "pinned", "split_cpus"]
