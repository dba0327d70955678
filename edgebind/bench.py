"""Latency, throughput and peak memory per backend and precision, measured side by side in one run.

Used by ``edgebind bench`` and ``benchmarks/``. Runners of one modality are loaded together and timed in rounds,
so CPU-frequency drift and hypervisor steal hit every backend alike and the ratios stay meaningful (SPEC.md §11's
timing caveat). By default a round gives each runner a *block* of calls, the first one untimed: after a call,
PyTorch's OpenMP pool and onnxruntime's pool (when spinning) keep busy-waiting on the cores, so a call timed right
after another backend's measures both (interleaving one call each made int8 ORT read 2.5x slower than in blocks).
``mode="interleaved"`` (one call each per round) remains for comparison. Peak memory is the growth of the
process's peak RSS while a runner loads and warms up (Linux ``/proc/self/clear_refs`` resets the peak).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgebind.bundle import Bundle, load_bundle
from edgebind.errors import BundleError, ConfigError
from edgebind.runtime.policy import ThreadPolicy

log = logging.getLogger(__name__)


@dataclass
class BenchResult:
    """One (bundle, modality, backend) measurement. Times in milliseconds per batch."""

    modality: str
    backend: str
    precision: str
    bundle: str
    batch: int
    threads: int | None
    runs: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    throughput_per_s: float
    peak_rss_mb: float | None
    load_s: float
    speedup_vs_torch_fp32: float | None = None
    min_cosine: float | None = None
    mode: str = "blocks"
    spin: bool = False
    hop_s: float | None = None
    steps_per_label: float | None = None
    cv_pct: float | None = None  # coefficient of variation of the timed calls: 100 * std / mean

    @property
    def label(self) -> str:
        return f"{self.modality} {self.backend} {self.precision}"


def _rss_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the process's peak RSS (Linux >= 4.0); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    hwm = _rss_mb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def _cases(bundles: Sequence[Bundle], backends: Sequence[str] | None,
           modalities: Sequence[str] | None) -> list[tuple[Bundle, str, str]]:
    """(bundle, modality, backend) triples, with the fp32 torch baseline once per modality and weights."""
    from edgebind.deps import torch_installed
    from edgebind.runtime import BACKENDS

    for b in backends or ():
        if b not in BACKENDS:
            from edgebind.errors import suggest

            raise ConfigError(f"unknown backend '{b}'.{suggest(b, BACKENDS)}")
    out: list[tuple[Bundle, str, str]] = []
    seen_torch: set[tuple[str, str]] = set()
    for bundle in bundles:
        for m, entry in bundle.encoders.items():
            if modalities and m not in modalities:
                continue
            baseline = ["torch"] if torch_installed() else []  # a device install has no torch: no fp32 baseline
            wanted = list(backends) if backends else [*baseline, "onnxruntime"] + (["tensorrt"] if entry.engine else [])
            for backend in wanted:
                if backend == "tensorrt" and not entry.engine:
                    raise BundleError(f"bundle {bundle.path} has no TensorRT engine for {m}; build it with "
                                      f"'edgebind build-engine {bundle.path}' or drop --backend tensorrt.")
                if backend == "torch":
                    # same weights -> one baseline: random init is fixed by (config, seed), a checkpoint by its hash
                    src = bundle.source
                    key = (m, json.dumps(entry.config, sort_keys=True) + str(
                        (src.get("seed"), src.get("preset")) if bundle.random_init else src.get("sha256")))
                    if key in seen_torch:
                        continue
                    seen_torch.add(key)
                out.append((bundle, m, backend))
    if not out:
        raise ConfigError(f"nothing to benchmark: modalities {list(modalities or [])} are not in the bundles.")
    return out


MODES = ("blocks", "interleaved")


def time_calls(calls: Sequence[Callable[[], object]], runs: int, mode: str = "blocks", block: int = 5,
               on_round: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Milliseconds of ``runs`` timed calls of each callable, in rounds: (len(calls), runs).

    ``blocks``: per round each callable makes one untimed call (its first after another's, which pays for the other
    pools' spinning and its own wake-up) then up to ``block`` timed ones. ``interleaved``: one timed call each.
    ``on_round(done, total)``: called after each round with the timed calls made per callable.
    """
    times = np.zeros((len(calls), runs))
    step = 1 if mode == "interleaved" else block
    for start in range(0, runs, step):
        if on_round is not None and start:
            on_round(start, runs)
        n = min(step, runs - start)
        for i, call in enumerate(calls):
            if mode == "blocks":
                call()
            for k in range(n):
                t0 = time.perf_counter()
                call()
                times[i, start + k] = (time.perf_counter() - t0) * 1e3
    return times


def _report_round(report: Callable[[str, int, int], None], what: str, first: int, n_runners: int, steps: int,
                  calls_done: int, _runs: int) -> None:
    report(what, first + calls_done * n_runners, steps)


def bench_bundles(
    bundles: Sequence[Bundle | str | Path],
    backends: Sequence[str] | None = None,
    batch: int = 1,
    threads: int | None = None,
    runs: int = 20,
    warmup: int = 3,
    modalities: Sequence[str] | None = None,
    seed: int = 0,
    mode: str = "blocks",
    block: int = 5,
    spin: bool = False,
    hop_s: float | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> list[BenchResult]:
    """Measure every (bundle, modality, backend) combination side by side.

    Args:
        bundles: bundle folders or Bundles (e.g. an fp32 and an int8 export of the same weights).
        backends: subset of ``torch``, ``onnxruntime``, ``tensorrt``. Defaults to torch (fp32 eager baseline; only
            where torch is installed), onnxruntime, and tensorrt where the bundle holds engines.
        batch: inputs per call. Defaults to 1 (the stream's batch).
        threads: CPU threads for torch and onnxruntime. Defaults to each backend's choice.
        runs: timed calls per runner. Defaults to 20.
        warmup: untimed calls per runner first. Defaults to 3.
        modalities: restrict to these encoders. Defaults to all.
        seed: seed of the (shared) inputs. Defaults to 0.
        mode: ``blocks`` (per round, each runner makes one untimed then ``block`` timed calls) or ``interleaved``
            (one timed call each per round). Defaults to ``blocks``.
        block: timed calls per runner per round in ``blocks`` mode. Defaults to 5.
        spin: let onnxruntime's pool busy-wait between calls. Defaults to False (the runner's default).
        hop_s: IMU only: time one label of a stream labelled every ``hop_s`` seconds. Every call gets the next
            window of one long seeded signal, ``hop_s`` later than the last, so a streaming encoder runs its steps
            (state carried) and any other encoder its whole window. Defaults to None (the same window every call).
        on_progress: called with (what, steps done, steps in all): one step per runner loaded and warmed up, and
            per timed call of every runner. Defaults to None.

    Returns:
        One BenchResult per case; ``speedup_vs_torch_fp32`` = torch fp32 p50 / this p50 for the modality.
    """
    from edgebind.config import config_from_dict
    from edgebind.export.onnx import example_input
    from edgebind.runtime import open_runner

    if batch < 1 or runs < 1 or block < 1:
        raise ConfigError(f"--batch, --runs and --block must be >= 1, got {batch}, {runs} and {block}.")
    if mode not in MODES:
        raise ConfigError(f"unknown timing mode '{mode}'; pick one of {', '.join(MODES)}.")
    loaded = [b if isinstance(b, Bundle) else load_bundle(b) for b in bundles]
    cases = _cases(loaded, backends, modalities)
    results: list[BenchResult] = []
    tell = on_progress or (lambda what, done, total: None)
    steps, done = len(cases) * (1 + runs), 0
    for m in dict.fromkeys(mod for _, mod, _ in cases):
        mine = [(b, be) for b, mod, be in cases if mod == m]
        x = example_input(config_from_dict(mine[0][0].encoders[m].config), batch, seed)
        feeds: list[Callable[[], np.ndarray]] = []
        runners, meta = [], []
        try:
            for bundle, backend in mine:
                tell(f"loading {m} {backend} ({Path(str(bundle.path)).name})", done, steps)
                can_reset = _reset_peak()
                before = _rss_mb("VmRSS")
                t0 = time.perf_counter()
                policy = ThreadPolicy(threads=threads, spin=spin) if backend == "onnxruntime" else None
                runner = open_runner(bundle, m, backend=backend, threads=threads, policy=policy)
                runner.__enter__()
                runners.append(runner)
                load_s = time.perf_counter() - t0
                feed = (_hop_feed(bundle, m, hop_s, batch, warmup + 2 * runs + 2, seed) if hop_s
                        else functools.partial(_same, x))
                feeds.append(feed)
                for _ in range(warmup):
                    runner.embed(feed())
                peak = _peak_mb() - before if (can_reset and before is not None) else None
                meta.append((bundle, backend, load_s, peak))
                done += 1
            first = done
            timing = f"timing {m}: {', '.join(be for _, be in mine)}"
            tell(timing, done, steps)
            steps_before = [_steps(r) for r in runners]
            times = time_calls([functools.partial(_call, runner, feed) for runner, feed in zip(runners, feeds,
                                                                                               strict=True)],
                               runs, mode, block,
                               on_round=functools.partial(_report_round, tell, timing, first, len(runners), steps))
            done = first + runs * len(runners)
            calls = runs + (0 if mode == "interleaved" else -(-runs // block))
            per_label = [None if b is None else (_steps(r) - b) / calls  # type: ignore[operator]
                         for r, b in zip(runners, steps_before, strict=True)]
        finally:
            for runner in runners:
                runner.__exit__(None, None, None)
        for (bundle, backend, load_s, peak), t_ms, label_steps in zip(meta, times, per_label, strict=True):
            entry = bundle.encoders[m]
            precision = "fp32" if backend == "torch" else entry.precision
            report = entry.parity if backend == "onnxruntime" else (entry.engine or {}).get("parity")
            cos = min(s["min_cosine"] for s in report["splits"].values()) if report else None
            results.append(BenchResult(
                modality=m, backend=backend, precision=precision, bundle=str(bundle.path), batch=batch,
                threads=threads, runs=runs, p50_ms=float(np.percentile(t_ms, 50)),
                p90_ms=float(np.percentile(t_ms, 90)), p99_ms=float(np.percentile(t_ms, 99)),
                mean_ms=float(t_ms.mean()),
                throughput_per_s=batch / (float(t_ms.mean()) / 1e3), peak_rss_mb=peak, load_s=load_s,
                min_cosine=None if backend == "torch" else cos, mode=mode, spin=spin and backend == "onnxruntime",
                hop_s=hop_s, steps_per_label=label_steps,
                cv_pct=float(100 * t_ms.std() / t_ms.mean()) if t_ms.mean() > 0 else None))
        base = [r for r in results if r.modality == m and r.backend == "torch"]
        if base:
            for res in results:
                if res.modality == m:
                    res.speedup_vs_torch_fp32 = base[0].p50_ms / res.p50_ms
    return results


def _same(x: np.ndarray) -> np.ndarray:
    return x


def _call(runner: object, feed: Callable[[], np.ndarray]) -> object:
    return runner.embed(feed())  # type: ignore[attr-defined]


def _steps(runner: object) -> int | None:
    """Step calls a streaming runner has made so far (None for a window-at-a-time encoder)."""
    stream = getattr(runner, "_step_stream", None)
    return None if stream is None else int(stream.steps)


def _hop_feed(bundle: Bundle, modality: str, hop_s: float, batch: int, calls: int, seed: int
              ) -> Callable[[], np.ndarray]:
    """Successive (1, C, T) windows of one seeded signal, ``hop_s`` apart: what a stream labelling every ``hop_s``
    seconds hands its model.

    Raises:
        ConfigError: ``--hop`` for a modality other than IMU, with a batch other than 1, or shorter than a sample.
    """
    from edgebind.config import config_from_dict
    from edgebind.preprocess.imu import ImuContract

    entry = bundle.encoders[modality]
    if modality != "imu" or batch != 1:
        raise ConfigError(f"--hop times IMU windows one at a time; got modality {modality} and --batch {batch}. "
                          "Add --modality imu and drop --batch.")
    cfg: object = config_from_dict(entry.config)
    contract = ImuContract.from_dict(entry.contract) if entry.contract else ImuContract()
    hop = round(hop_s * contract.sample_rate_hz)
    if hop < 1:
        raise ConfigError(f"--hop {hop_s} s is shorter than one sample at {contract.sample_rate_hz:g} Hz; use "
                          f"--hop {1 / contract.sample_rate_hz:g} or more.")
    T = int(cfg.num_samples)  # type: ignore[attr-defined]
    rng = np.random.default_rng(seed)
    signal = rng.normal(0.0, 1.0, (int(cfg.in_channels), T + hop * calls)).astype(np.float32)  # type: ignore[attr-defined]
    signal[2] += 9.81
    state = {"i": 0}

    def feed() -> np.ndarray:
        i = state["i"] % (calls + 1)  # wraps (one reset) only past the calls bench_bundles makes
        state["i"] += 1
        return signal[None, :, i * hop : i * hop + T]

    return feed


NOISY_CV_PCT = 20.0  # above this spread, a row's ratios say more about the machine's load than about the backend


def noise_warnings(results: Sequence[BenchResult], load_avg_1min: float | None = None,
                   cores: int | None = None) -> list[str]:
    """Warnings that the timings are noisy: a row whose CV is above :data:`NOISY_CV_PCT`, or a 1-minute load average
    above the core count (other work shares the CPUs). ``load_avg_1min``/``cores`` default to this machine's."""
    import os

    out = [f"{r.label} ({Path(r.bundle).name}): the calls vary by {r.cv_pct:.0f} % (CV); its latency and ratio are "
           "noisy: close other work or raise --runs." for r in results
           if r.cv_pct is not None and r.cv_pct > NOISY_CV_PCT]
    if load_avg_1min is None:
        try:
            load_avg_1min = os.getloadavg()[0]
        except OSError:  # not on every platform
            load_avg_1min = None
    cores = cores or os.cpu_count()
    if load_avg_1min is not None and cores and load_avg_1min > cores:
        out.append(f"load average {load_avg_1min:.1f} is above the {cores} cores: other processes share the CPUs, "
                   "so every figure here is slower and noisier than on an idle machine.")
    return out


def format_table(results: Sequence[BenchResult]) -> str:
    """A plain-text table (one row per result): the bundle folder's name, the spread (p90, p99, CV) too."""
    head = ["bundle", "modality", "backend", "precision", "batch", "p50 ms", "p90 ms", "p99 ms", "CV %", "items/s",
            "peak MB", "vs torch fp32", "min cos"]
    rows = [[Path(r.bundle).name, r.modality, r.backend, r.precision, str(r.batch), f"{r.p50_ms:.2f}",
             f"{r.p90_ms:.2f}", f"{r.p99_ms:.2f}", "-" if r.cv_pct is None else f"{r.cv_pct:.0f}",
             f"{r.throughput_per_s:.1f}",
             "-" if r.peak_rss_mb is None else f"{r.peak_rss_mb:.0f}",
             "-" if r.speedup_vs_torch_fp32 is None else f"{r.speedup_vs_torch_fp32:.2f}x",
             "-" if r.min_cosine is None else f"{r.min_cosine:.5f}"] for r in results]
    if any(r.hop_s for r in results):  # one label of a stream at that hop: steps per label for streaming encoders
        head.append("steps/label")
        for row, r in zip(rows, results, strict=True):
            row.append("window" if r.steps_per_label is None else f"{r.steps_per_label:.2f}")
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def to_json(results: Sequence[BenchResult]) -> str:
    return json.dumps([dataclasses.asdict(r) for r in results], indent=2)


def plot(results: Sequence[BenchResult], path: str | Path) -> Path:
    """Bar chart of p50 latency (with p90 whiskers) per modality and backend/precision; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mods = list(dict.fromkeys(r.modality for r in results))
    fig, axes = plt.subplots(1, len(mods), figsize=(4.5 * len(mods), 3.6), squeeze=False)
    for ax, m in zip(axes[0], mods, strict=True):
        rs = [r for r in results if r.modality == m]
        labels = [f"{r.backend}\n{r.precision}" for r in rs]
        p50 = [r.p50_ms for r in rs]
        err = [r.p90_ms - r.p50_ms for r in rs]
        ax.bar(labels, p50, yerr=[np.zeros(len(rs)), err], capsize=4, color="#4C72B0")
        for i, r in enumerate(rs):
            if r.speedup_vs_torch_fp32 is not None:
                ax.text(i, r.p90_ms, f"{r.speedup_vs_torch_fp32:.2f}x", ha="center", va="bottom", fontsize=8)
        ax.set_title(f"{m} (batch {rs[0].batch})")
        ax.set_ylabel("latency p50 [ms] (whisker: p90)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def profile_onnxruntime(bundle: Bundle | str | Path, modality: str, runs: int = 5, threads: int | None = None,
                        batch: int = 1) -> list[tuple[str, float]]:
    """Where ONNX Runtime spends its time: (op type, share of kernel time), largest first.

    Uses onnxruntime's built-in profiler (``SessionOptions.enable_profiling``) over ``runs`` calls.
    """
    import onnxruntime as ort

    from edgebind.config import config_from_dict
    from edgebind.export.onnx import example_input

    b = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    entry = b.encoder(modality)
    opts = ort.SessionOptions()
    opts.enable_profiling = True
    opts.profile_file_prefix = str(Path(tempfile.mkdtemp(prefix="edgebind-prof-")) / modality)
    if threads:
        opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(b.file(entry.file)), opts, providers=["CPUExecutionProvider"])
    x = example_input(config_from_dict(entry.config), batch)
    for _ in range(runs):
        sess.run(None, {entry.input_name: x})
    trace = Path(sess.end_profiling())
    events = json.loads(trace.read_text())
    trace.unlink()
    trace.parent.rmdir()
    per_op: dict[str, float] = {}
    for ev in events:
        if ev.get("cat") == "Node" and str(ev.get("name", "")).endswith("_kernel_time"):
            op = ev.get("args", {}).get("op_name", "?")
            per_op[op] = per_op.get(op, 0.0) + float(ev.get("dur", 0))
    total = sum(per_op.values()) or 1.0
    return sorted(((op, t / total) for op, t in per_op.items()), key=lambda kv: -kv[1])


__all__ = ["MODES", "NOISY_CV_PCT", "BenchResult", "bench_bundles", "format_table", "noise_warnings", "plot",
           "profile_onnxruntime", "time_calls", "to_json"]
