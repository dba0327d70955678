"""CPU budget of ``edgebind stream``: the stream process's own CPU time over a live IMU + thermal link.

The link: a simulated device (``edgebind simulate``, in its own process, so its CPU is not counted) replays
UEA BasicMotions (10 Hz smartwatch) re-timed to **1 kHz** by linear interpolation, with a Cacophony CPTV clip
box-averaged to MLX90640 size (32x24) at **8 Hz** beside it, over the binary protocol on a pseudo-terminal, looped.

The stream: ``edgebind stream LINK --bundle B --json --hop 0.5 --threads N``, run through the real click command in
a child process, stdout (one JSON line per label) to /dev/null. The bundle holds an int8 IMU student (ONNX Runtime);
thermal frames are decoded by the stream and not embedded (the bundle has no thermal encoder). Once the first label
is out and ``--settle`` seconds more have passed, the child reads its own CPU time
(``resource.getrusage(RUSAGE_SELF)``, user + system, every thread of the process) and the wall clock, again after
``--seconds``, then stops the stream with SIGINT. The figure is CPU seconds / wall seconds, in % of one core; each
thread's share is read from /proc beside it.

Three pipelines, side by side in the same run, taking turns (today, new, new-stream, today, ...):

* ``today``: the tree of commit ``--legacy`` (the main branch before the lean pipeline), unpacked with
  ``git archive`` into the cache folder; benchmark-only, nothing in edgebind imports it. It runs the imu-small
  bundle through a copy of the manifest without the entry fields it does not know (the same ONNX files);
* ``new``: this tree, the same imu-small bundle: a whole 5 s window per label;
* ``new-stream``: this tree with the streaming student ``imu-stream``: a label costs one step per 0.1 s of new
  samples (five at ``--hop 0.5``), not a whole window.

The bundles (seeded random-init imu-small and imu-stream, the distilled students' architectures; cost does not depend
on the weights) are exported int8 once into ``--cache`` (about 30 s each). The machine may be shared, so the 1-minute
load average is printed before and after each run; CPU time is less sensitive to load than latency.

    python benchmarks/bench_cpu_budget.py                                     # 30 s per run, 1 and 2 threads
    python benchmarks/bench_cpu_budget.py --seconds 30 --threads 1,2 --json benchmarks/results/bench_cpu_budget.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
LEGACY_COMMIT = "f7de205"  # main before the lean pipeline (issue 22)
LABELS = "Standing\nRunning\nWalking\nBadminton: playing badminton\n"
IMU_RATE_HZ = 1000.0
THERMAL_RATE_HZ = 8.0
GOAL_PCT = 2.0
PIPELINES = {"today": "imu-small", "new": "imu-small", "new-stream": "imu-stream"}  # pipeline -> int8 student


# ---------------------------------------------------------------------------------------------- child process
class _LabelCounter:
    """Counts the label lines ``edgebind stream --json`` prints (through ``click.echo``), and passes them on."""

    def __init__(self, echo: Any) -> None:
        self.echo, self.labels, self.first = echo, 0, threading.Event()

    def __call__(self, message: Any = None, *args: Any, **kwargs: Any) -> None:
        if isinstance(message, str) and message.startswith('{"t_end_s"'):
            self.labels += 1
            self.first.set()
        self.echo(message, *args, **kwargs)


def _thread_cpu_s() -> dict[str, float]:
    """CPU seconds (user + system) of each thread of this process by name, from /proc (Linux; {} elsewhere)."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name.split(" ")[0] for t in threading.enumerate()}
    for task in Path("/proc/self/task").glob("*"):
        try:
            name = names.get(int(task.name)) or "native:" + (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return out


def _cpu_s() -> tuple[float, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime, ru.ru_stime


def child(args: argparse.Namespace) -> int:
    """Run ``edgebind stream`` in this process and write the CPU measurement to ``args.result``."""
    import click

    import edgebind
    from edgebind.cli import cli

    where = Path(edgebind.__file__).resolve()
    if Path(args.tree).resolve() not in where.parents:
        print(f"edgebind came from {where}, not {args.tree}; set PYTHONPATH", file=sys.stderr)
        return 2
    out = _LabelCounter(click.echo)
    click.echo = out  # the stream command calls click.echo once per label
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the JSON lines are written as usual, to /dev/null
    result: dict[str, Any] = {}

    def measure() -> None:
        if not out.first.wait(120.0):
            result["error"] = "no label within 120 s"
            os.kill(os.getpid(), signal.SIGINT)
            return
        time.sleep(args.settle)
        u0, s0 = _cpu_s()
        w0, n0, th0 = time.monotonic(), out.labels, _thread_cpu_s()
        time.sleep(args.seconds)
        u1, s1 = _cpu_s()
        w1, n1, th1 = time.monotonic(), out.labels, _thread_cpu_s()
        result["threads_pct"] = {name: round(100.0 * (th1[name] - th0.get(name, 0.0)) / (w1 - w0), 3)
                                 for name in th1}
        result.update(wall_s=w1 - w0, user_s=u1 - u0, sys_s=s1 - s0, cpu_s=(u1 - u0) + (s1 - s0),
                      labels=n1 - n0, threads_alive=threading.active_count())
        result["pct_one_core"] = 100.0 * result["cpu_s"] / result["wall_s"]
        os.kill(os.getpid(), signal.SIGINT)

    signal.signal(signal.SIGINT, signal.default_int_handler)  # a background parent may have left SIGINT ignored
    threading.Thread(target=measure, daemon=True).start()
    argv = ["stream", args.link, "--bundle", args.bundle, "--json", "--hop", str(args.hop), "--threads",
            str(args.threads), "--allow-random-init"]
    if args.read_every is not None:
        argv += ["--read-every", args.read_every]
    with contextlib.suppress(KeyboardInterrupt):  # the measurement ends the stream with SIGINT (Ctrl-C)
        cli.main(argv, standalone_mode=False)
    Path(args.result).write_text(json.dumps(result))
    return 0 if "cpu_s" in result else 1


# ---------------------------------------------------------------------------------------------- parent process
def make_recording(path: Path, seconds: float = 120.0) -> Path:
    """BasicMotions at 1 kHz with an 8 Hz 32x24 thermal clip beside it (see the module docstring)."""
    import numpy as np

    from edgebind.bridge.convert import convert
    from edgebind.bridge.recording import Recording
    from edgebind.bridge.remix import mlx_sized, retime, trim

    if path.is_file():
        return path
    motion = trim(retime(convert(DATA / "imu" / "BasicMotions_TEST.ts"), IMU_RATE_HZ), seconds)
    clip = mlx_sized(convert(DATA / "thermal" / "20240507-074536.cptv"))
    assert clip.thermal is not None
    t = np.arange(0, int(motion.imu_t_ns[-1]) + 1, round(1e9 / THERMAL_RATE_HZ), dtype=np.int64)
    frames = clip.thermal[np.arange(len(t)) % len(clip.thermal)]
    Recording(imu=motion.imu, imu_t_ns=motion.imu_t_ns, thermal=frames, thermal_t_ns=t,
              meta={**motion.meta, "thermal_rate_hz": THERMAL_RATE_HZ}).save(path)
    return path


def make_bundle(cache: Path, student: str = "imu-small") -> Path:
    """The int8 ``student`` bundle (seeded random init) with a tiny text encoder's label bank."""
    out = cache / f"{student}-int8"
    if (out / "manifest.json").is_file():
        return out
    import torch

    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config
    from edgebind.export import export_bundle
    from edgebind.models import build_encoder

    torch.manual_seed(0)
    ckpt = save_checkpoint([build_encoder(get_config(n)).eval() for n in (student, "tiny_text")],
                           cache / f"{student}-random.safetensors")
    (cache / "labels.txt").write_text(LABELS)
    bundle = export_bundle(out, target="cpu", precision="int8", modalities="imu", checkpoint=ckpt,
                           calibration=[REPO / "edgebind" / "data" / "demo" / "basicmotions_train.npz"],
                           labels=cache / "labels.txt", remember=False,
                           tolerance={"min_cosine": 0.5, "max_abs": 1.0})  # random weights: cost only, not parity
    assert bundle.path is not None
    return bundle.path


def legacy_tree(cache: Path, commit: str) -> Path:
    """The repository at ``commit``, unpacked (not a worktree) into the cache."""
    out = cache / f"legacy-{commit}"
    if (out / "edgebind" / "__init__.py").is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "edgebind"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def bundle_for(tree: Path, bundle: Path, cache: Path) -> Path:
    """``bundle`` as ``tree`` reads it: the same ONNX files, the manifest without entry fields ``tree`` does not know.

    A bundle manifest only grows (e.g. ``stream``, which is null for a window model), so the legacy tree gets a copy
    whose encoder entries keep the fields of its own ``EncoderEntry``; the models it runs are the same files.
    """
    if tree == REPO:
        return bundle
    probe = "import dataclasses, json; from edgebind.bundle import EncoderEntry; " \
            "print(json.dumps([f.name for f in dataclasses.fields(EncoderEntry)]))"
    known = set(json.loads(subprocess.run([sys.executable, "-c", probe], env={**os.environ, "PYTHONPATH": str(tree)},
                                          cwd=str(tree), check=True, capture_output=True, text=True).stdout))
    out = cache / f"{bundle.name}-for-{tree.name}"
    out.mkdir(parents=True, exist_ok=True)
    for f in bundle.iterdir():
        if f.is_file() and f.name != "manifest.json" and not (out / f.name).exists():
            (out / f.name).symlink_to(f.resolve())
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in manifest.get("encoders", {}).values():
        for key in set(entry) - known:
            if entry[key] is not None:
                raise SystemExit(f"{tree} cannot read {bundle}: encoder field {key!r} = {entry[key]!r} is set")
            del entry[key]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return out


def run_child(tree: Path, link: Path, bundle: Path, threads: int, args: argparse.Namespace) -> dict[str, Any]:
    """One stream child on ``tree``; its measurement."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result = Path(f.name)
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--tree", str(tree), "--link", str(link),
           "--bundle", str(bundle), "--threads", str(threads), "--seconds", str(args.seconds), "--settle",
           str(args.settle), "--hop", str(args.hop), "--result", str(result)]
    if args.read_every is not None and tree == REPO:  # today's pipeline has no --read-every
        cmd += ["--read-every", str(args.read_every)]
    proc = subprocess.run(cmd, env=env, cwd=str(tree), capture_output=True, text=True,
                          timeout=args.seconds + args.settle + 180)
    try:
        got = json.loads(result.read_text() or "{}")
    finally:
        result.unlink(missing_ok=True)
    if proc.returncode != 0 or "cpu_s" not in got:
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-8:])
        raise SystemExit(f"stream child on {tree} failed (exit {proc.returncode}): {got}\n{tail}")
    return got


def one_run(rec: Path, tree: Path, bundle: Path, threads: int, args: argparse.Namespace) -> dict[str, Any]:
    """A fresh simulated device (every run streams the same seconds) and one stream child on ``tree``."""
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        link = Path(tmp) / "tty"
        sim = start_simulator(rec, link)
        try:
            return run_child(tree, link, bundle_for(tree, bundle, args.cache), threads, args)
        finally:
            sim.terminate()
            try:
                sim.wait(10)
            except subprocess.TimeoutExpired:
                sim.kill()


def start_simulator(rec: Path, link: Path) -> subprocess.Popen[bytes]:
    """``edgebind simulate REC --link LINK`` in its own process (its CPU is not the stream's)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", "from edgebind.cli import main; main()", "simulate", str(rec),
                             "--link", str(link)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not link.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"simulator did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.1)
    return proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="Measured wall seconds per run [30].")
    parser.add_argument("--settle", type=float, default=2.0, help="Seconds after the first label before measuring.")
    parser.add_argument("--threads", default="1,2", help="Runner threads to measure, comma-separated [1,2].")
    parser.add_argument("--hop", type=float, default=0.5, help="Seconds between IMU labels [0.5].")
    parser.add_argument("--repeats", type=int, default=1, help="Rounds of every pipeline per thread count [1].")
    parser.add_argument("--pipelines", default=",".join(PIPELINES),
                        help=f"Which to run, comma-separated, of {', '.join(PIPELINES)} [all].")
    parser.add_argument("--read-every", help="New pipeline only: edgebind stream --read-every SECONDS [its default].")
    parser.add_argument("--legacy", default=LEGACY_COMMIT, help=f"Commit of today's pipeline [{LEGACY_COMMIT}].")
    parser.add_argument("--cache", type=Path, default=REPO / "benchmarks" / "results" / "cache" / "cpu_budget",
                        help="Folder for the bundle, the recording and the legacy tree.")
    parser.add_argument("--json", type=Path, metavar="FILE", help="Also write the figures to FILE as JSON.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    parser.add_argument("--link", help=argparse.SUPPRESS)
    parser.add_argument("--bundle", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.threads = int(args.threads)
        return child(args)
    thread_counts = [int(t) for t in args.threads.split(",") if t.strip()]
    if args.repeats < 1 or not thread_counts or min(thread_counts) < 1:
        parser.error("--repeats and every --threads value must be at least 1.")

    sys.path.insert(0, str(REPO))
    args.cache.mkdir(parents=True, exist_ok=True)
    rec = make_recording(args.cache / "imu1k_thermal8_120s.npz")
    wanted = [n.strip() for n in args.pipelines.split(",") if n.strip()]
    if not wanted or set(wanted) - set(PIPELINES):
        parser.error(f"--pipelines {args.pipelines}: pick from {', '.join(PIPELINES)}.")
    legacy = legacy_tree(args.cache, args.legacy) if "today" in wanted else None
    runs_of = {n: (legacy if n == "today" else REPO, make_bundle(args.cache, PIPELINES[n]))
               for n in PIPELINES if n in wanted}
    print(f"edgebind stream CPU time: binary link, IMU {IMU_RATE_HZ:g} Hz + 32x24 thermal {THERMAL_RATE_HZ:g} Hz, "
          f"labels every {args.hop:g} s, int8 students (random init) in {args.cache}")
    print(f"today = commit {args.legacy} with imu-small; new = {REPO} with imu-small; new-stream = {REPO} with "
          f"imu-stream; {args.seconds:g} s measured per run, simulator in its own process; {os.cpu_count()} CPUs")
    print(f"{'pipeline':<10} {'threads':>7} {'rep':>3} {'CPU % of one core':>17} {'user s':>7} {'sys s':>6} "
          f"{'labels':>6}  load 1-min before/after", flush=True)
    runs: list[dict[str, Any]] = []
    for rep in range(1, args.repeats + 1):
        for threads in thread_counts:
            for name, (tree, bundle) in runs_of.items():
                assert tree is not None
                load0 = os.getloadavg()[0]
                try:
                    got = one_run(rec, tree, bundle, threads, args)
                except (SystemExit, subprocess.TimeoutExpired) as exc:  # a rare stuck start on a loaded machine
                    print(f"{name:<10} {threads:>7} {rep:>3} failed ({str(exc).splitlines()[0][:80]}); once more",
                          flush=True)
                    got = one_run(rec, tree, bundle, threads, args)
                    got["retried"] = True
                got.update(pipeline=name, student=PIPELINES[name], threads=threads, repeat=rep,
                           load_1min=[load0, os.getloadavg()[0]])
                runs.append(got)
                by_thread = ", ".join(f"{k} {v:.2f}" for k, v in sorted(got["threads_pct"].items(),
                                                                         key=lambda kv: -kv[1]) if v > 0.05)
                print(f"{name:<10} {threads:>7} {rep:>3} {got['pct_one_core']:>16.2f}% {got['user_s']:>7.2f} "
                      f"{got['sys_s']:>6.2f} {got['labels']:>6}  {got['load_1min'][0]:.2f}/"
                      f"{got['load_1min'][1]:.2f}  [{by_thread}]", flush=True)
    summary = summarise(runs, thread_counts)
    for s in summary:
        parts = [f"{name} {s[name + '_pct']:.2f} %" + ("" if name == "today" or "today_pct" not in s else
                                                      f" ({s['today_pct'] / s[name + '_pct']:.1f}x less)")
                 for name in PIPELINES if name + "_pct" in s]
        ours = [(s[n + "_pct"], n) for n in PIPELINES if n != "today" and n + "_pct" in s]
        best = min(ours) if ours else None
        verdict = "" if best is None else (f"; {best[1]} {'meets' if best[0] <= GOAL_PCT else 'misses'} the "
                                           f"{GOAL_PCT:g} % goal")
        print(f"{s['threads']} thread(s), % of one core, median of {s['repeats']}: {', '.join(parts)}{verdict}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"command": ["benchmarks/bench_cpu_budget.py", *sys.argv[1:]],
                                         "legacy_commit": args.legacy, "imu_rate_hz": IMU_RATE_HZ,
                                         "thermal_rate_hz": THERMAL_RATE_HZ, "hop_s": args.hop,
                                         "seconds": args.seconds, "cpus": os.cpu_count(), "goal_pct": GOAL_PCT,
                                         "students": {n: PIPELINES[n] for n in runs_of},
                                         "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                         "runs": runs, "summary": summary}, indent=1))
        print(f"wrote {args.json}")
    return 0


def summarise(runs: list[dict[str, Any]], thread_counts: list[int]) -> list[dict[str, Any]]:
    """Per thread count: the median % of one core of each pipeline run (``<name>_pct``), and today / new."""
    import statistics

    out = []
    for threads in thread_counts:
        row: dict[str, Any] = {"threads": threads}
        for name in PIPELINES:
            pcts = [r["pct_one_core"] for r in runs if r["threads"] == threads and r["pipeline"] == name]
            if pcts:
                row[f"{name}_pct"] = statistics.median(pcts)
                row["repeats"] = len(pcts)
        if "today_pct" in row and "new_pct" in row:
            row["ratio"] = row["today_pct"] / row["new_pct"]
        loads = [x for r in runs if r["threads"] == threads for x in r["load_1min"]]
        row.update(load_1min_min=min(loads), load_1min_max=max(loads))
        out.append(row)
    return out


if __name__ == "__main__":
    sys.exit(main())
