"""Two runners on the same cores, as ``stream`` runs them: per thread policy, the IMU and thermal latency p50/p99.

The stream gives each modality its own inference thread; with ``--hop`` equal to ``--thermal-every`` an IMU window
and a thermal frame become ready together and both runners compete for the cores. Each round here does the same:
two threads wait on a barrier, each makes one ``embed`` call, then both idle ``gap_s`` (the time until the next
window, in which a spinning pool keeps burning a core). Policies are measured in interleaved rounds (policy A's
round, then B's, ...), so load from other processes hits every policy alike. Device side: no torch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.bundle import Bundle, load_bundle
from edgebind.errors import ConfigError
from edgebind.runtime.policy import ThreadPolicy, halves

PAIR = ("imu", "thermal")


@dataclass
class PairResult:
    """Latencies (ms) of one policy: per modality p50/p99, and of the pair (time until both labels are out)."""

    policy: str
    rounds: int
    imu_p50_ms: float
    imu_p99_ms: float
    thermal_p50_ms: float
    thermal_p99_ms: float
    pair_p50_ms: float
    pair_p99_ms: float


class _Pair:
    """An IMU and a thermal runner, each driven by its own thread, released together by a barrier."""

    def __init__(self, runners: Mapping[str, object], inputs: Mapping[str, np.ndarray]) -> None:
        self.runners, self.inputs = runners, inputs
        self.start = threading.Barrier(3)
        self.done = threading.Barrier(3)
        self.ms: dict[str, float] = {}
        self.stop = False
        self.threads = [threading.Thread(target=self._loop, args=(m,), daemon=True) for m in PAIR]
        for t in self.threads:
            t.start()

    def _loop(self, m: str) -> None:
        embed = self.runners[m].embed  # type: ignore[attr-defined]
        x = self.inputs[m]
        while True:
            self.start.wait()
            if self.stop:
                return
            t0 = time.perf_counter()
            embed(x)
            self.ms[m] = (time.perf_counter() - t0) * 1e3
            self.done.wait()

    def round(self) -> tuple[float, float, float]:
        """One simultaneous call each; (imu ms, thermal ms, both-done ms)."""
        t0 = time.perf_counter()
        self.start.wait()
        self.done.wait()
        return self.ms["imu"], self.ms["thermal"], (time.perf_counter() - t0) * 1e3

    def close(self) -> None:
        self.stop = True
        self.start.wait()
        for t in self.threads:
            t.join()


def bench_pair(
    imu_bundle: Bundle | str | Path,
    thermal_bundle: Bundle | str | Path,
    policies: Mapping[str, Mapping[str, ThreadPolicy]],
    rounds: int = 40,
    warmup: int = 3,
    gap_s: float = 0.02,
    seed: int = 0,
) -> list[PairResult]:
    """Measure the IMU + thermal onnxruntime runners side by side under each thread policy.

    Args:
        imu_bundle: bundle holding the IMU encoder.
        thermal_bundle: bundle holding the thermal encoder (may be the same bundle).
        policies: name -> {"imu": ThreadPolicy, "thermal": ThreadPolicy}.
        rounds: timed rounds per policy. Defaults to 40.
        warmup: untimed rounds per policy first. Defaults to 3.
        gap_s: idle seconds after each round (the wait for the next window). Defaults to 0.02.
        seed: seed of the inputs. Defaults to 0.

    Returns:
        One PairResult per policy, in the order given.

    Raises:
        ConfigError: no policies, a policy missing a modality, or ``rounds`` < 1.
    """
    from edgebind.config import config_from_dict
    from edgebind.export.onnx import example_input
    from edgebind.runtime import open_runner

    if not policies or rounds < 1:
        raise ConfigError(f"need at least one policy and one round, got {len(policies)} and {rounds}.")
    for name, pol in policies.items():
        if set(pol) != set(PAIR):
            raise ConfigError(f"policy '{name}' sets {sorted(pol)}; give one ThreadPolicy for each of imu, thermal.")
    bundles = {m: b if isinstance(b, Bundle) else load_bundle(b) for m, b in zip(PAIR, (imu_bundle,
                                                                                        thermal_bundle), strict=True)}
    inputs = {m: example_input(config_from_dict(bundles[m].encoder(m).config), 1, seed) for m in PAIR}
    pairs: dict[str, _Pair] = {}
    opened: list[Any] = []
    try:
        for name, pol in policies.items():
            runners = {}
            for m in PAIR:
                r = open_runner(bundles[m], m, backend="onnxruntime", policy=pol[m])
                r.__enter__()
                opened.append(r)
                runners[m] = r
            pairs[name] = _Pair(runners, inputs)
            for _ in range(warmup):
                pairs[name].round()
        times = {name: np.zeros((rounds, 3)) for name in policies}
        for i in range(rounds):
            for name, pair in pairs.items():
                times[name][i] = pair.round()
                time.sleep(gap_s)
    finally:
        for pair in pairs.values():
            pair.close()
        for r in opened:
            r.__exit__(None, None, None)
    out = []
    for name, t in times.items():
        p50, p99 = np.percentile(t, 50, axis=0), np.percentile(t, 99, axis=0)
        out.append(PairResult(name, rounds, float(p50[0]), float(p99[0]), float(p50[1]), float(p99[1]),
                              float(p50[2]), float(p99[2])))
    return out


def standard_policies(cpus: Sequence[int]) -> dict[str, dict[str, ThreadPolicy]]:
    """The policies worth comparing on ``cpus`` (two or more): onnxruntime's own default (all cores, spinning),
    all cores without spinning, one thread each, and one thread each pinned to its own CPU (with and without
    spinning)."""
    if len(cpus) < 2:
        raise ConfigError(f"comparing thread policies needs two CPUs, this process may use {list(cpus)}.")
    n = len(cpus)
    half = halves(cpus)

    def both(**kw: object) -> dict[str, ThreadPolicy]:
        return {m: ThreadPolicy(**kw) for m in PAIR}  # type: ignore[arg-type]

    return {
        f"{n} threads each, spin": both(threads=n, spin=True),
        f"{n} threads each, no spin": both(threads=n),
        "1 thread each, no spin": both(threads=1),
        "1 thread each, no spin, pinned apart": {m: ThreadPolicy(threads=1, cpus=c) for m, c in zip(PAIR, half,
                                                                                                    strict=True)},
        "1 thread each, spin, pinned apart": {m: ThreadPolicy(threads=1, spin=True, cpus=c)
                                              for m, c in zip(PAIR, half, strict=True)},
    }


def live_policies(cpus: Sequence[int]) -> dict[str, tuple[str, dict[str, ThreadPolicy]]]:
    """The policies ``benchmarks/bench_stream.py`` compares through a live stream, each as the ``edgebind stream``
    options that give it and the ``policies`` that :func:`~edgebind.stream.encoders.stream_policies` makes of them
    (what ``run_stream`` gets from the CLI). The runners fill in what a policy leaves unset.

    * ``ort-default``: onnxruntime's own thread count (one per core) and spinning, not pinned apart;
    * ``previous``: the same threads without spinning (edgebind's runner before the shared-cores default);
    * ``pinned``: one thread per runner, no spinning, IMU on the lower half of ``cpus`` and thermal on the upper
      (the stream's default before the live comparison);
    * ``edgebind``: no option at all, so whatever the stream's default is.

    Args:
        cpus: the CPUs this process may use (``--pin`` to all of them = not pinned apart).

    Returns:
        name -> (the ``edgebind stream`` options, modality -> ThreadPolicy).
    """
    from edgebind.stream.encoders import stream_policies

    every = ",".join(map(str, cpus))
    pins = (f"imu={every}", f"thermal={every}")
    apart = pins
    if len(cpus) >= 2:
        low, high = halves(cpus)
        apart = (f"imu={','.join(map(str, low))}", f"thermal={','.join(map(str, high))}")
    flags: dict[str, tuple[int | None, bool, tuple[str, ...]]] = {
        "ort-default": (len(cpus), True, pins), "previous": (len(cpus), False, pins), "pinned": (1, False, apart),
        "edgebind": (None, False, ())}
    out = {}
    for name, (threads, spin, pin) in flags.items():
        text = " ".join([*([f"--threads {threads}"] if threads else []), *(["--spin"] if spin else []),
                         *(f"--pin {p}" for p in pin)]) or "(none)"
        out[name] = (text, stream_policies(threads, spin, pin, checkpoint=False))
    return out


def format_pairs(results: Sequence[PairResult]) -> str:
    """A plain-text table, with each policy's pair p99 relative to the first policy's."""
    base = results[0].pair_p99_ms
    width = max(len(r.policy) for r in results)
    lines = [f"{'policy':<{width}}  imu p50  imu p99  thermal p50  thermal p99  both p50  both p99  both p99 vs first"]
    for r in results:
        lines.append(f"{r.policy:<{width}}  {r.imu_p50_ms:7.2f}  {r.imu_p99_ms:7.2f}  {r.thermal_p50_ms:11.2f}  "
                     f"{r.thermal_p99_ms:11.2f}  {r.pair_p50_ms:8.2f}  {r.pair_p99_ms:8.2f}  "
                     f"{r.pair_p99_ms / base:17.2f}x")
    return "\n".join(lines)


__all__ = ["PairResult", "bench_pair", "format_pairs", "live_policies", "standard_policies"]
