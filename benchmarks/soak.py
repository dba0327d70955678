"""Soak: ``edgebind stream`` on a simulated 1 kHz IMU + 8 Hz thermal device for N minutes, as a robot would run it.

Two processes, both the real CLI: ``edgebind simulate REC --link LINK`` (the bridge's simulator on a pty, binary
protocol, real time) and ``edgebind stream LINK --bundle BUNDLE --json --duration N*60``. The recording is UEA
BasicMotions (tests/data) re-timed to 1000 Hz and looped to the run's length, with a Cacophony CPTV clip
box-averaged to MLX90640 size (32x24) re-stamped at 8 Hz and looped beside it. The model is the demo bundle
(edgebind/data/demo/bundle, IMU only: its thermal frames cross the link and are decoded and counted, not embedded)
unless ``--bundle`` names another.

While the stream runs, its resident memory (VmRSS) and CPU time are sampled from /proc (Linux). Printed at the end:

* RSS at warm-up (the first sample after the first label), at the end and at its peak; growth = end - warm-up, and
  the least-squares slope over the second half in MiB/hour;
* CPU % of one core after warm-up;
* p50/p99/max sensor-to-label latency per modality (from the stream's own summary);
* every counter: the stream's summary (windows made/labelled/skipped, losses, decode errors, gaps, disconnects and
  the link's raw counters) and what the simulator says it sent, with the checks that tie them together.

    python benchmarks/soak.py --minutes 30 --json benchmarks/results/soak_30min.json
    python benchmarks/soak.py --minutes 0.25          # the quick version the test suite runs

``--json FILE`` also writes the figures (benchmarks/report.py prints the saved ones). Exit status 1 when a check
fails (see ``checks`` in the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
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
DEMO_BUNDLE = REPO / "edgebind" / "data" / "demo" / "bundle"
IMU_HZ, THERMAL_HZ = 1000.0, 8.0
CLI = [sys.executable, "-c", "from edgebind.cli import main; main()"]


def soak_recording(seconds: float) -> Any:
    """BasicMotions at 1 kHz looped to ``seconds``, with an MLX-sized thermal clip at 8 Hz looped beside it."""
    import numpy as np

    from edgebind.bridge.convert import convert
    from edgebind.bridge.recording import Recording
    from edgebind.bridge.remix import mlx_sized, retime, with_thermal

    motion = retime(convert(DATA / "imu" / "BasicMotions_TEST.ts"), IMU_HZ)
    clip = mlx_sized(convert(DATA / "thermal" / "20240507-074536.cptv"))
    assert clip.thermal is not None
    dt_ns = round(1e9 / IMU_HZ)
    n = int(seconds * IMU_HZ) + 1
    reps = n // len(motion.imu) + 1
    imu = np.concatenate([motion.imu] * reps)[:n].astype(np.float32)
    looped = Recording(imu=imu, imu_t_ns=np.arange(n, dtype=np.int64) * dt_ns,
                       meta={**motion.meta, "looped_to_s": seconds})
    clip8 = Recording(imu=clip.imu, imu_t_ns=clip.imu_t_ns, thermal=clip.thermal,
                      thermal_t_ns=np.arange(len(clip.thermal), dtype=np.int64) * round(1e9 / THERMAL_HZ),
                      meta=clip.meta)
    return with_thermal(looped, clip8)


def proc_sample(pid: int) -> tuple[float, float] | None:
    """``(rss_mib, cpu_s)`` of ``pid`` from /proc, or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rss_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0], utime 11, stime 12
    ticks = os.sysconf("SC_CLK_TCK")
    return rss_kib / 1024.0, (int(fields[11]) + int(fields[12])) / ticks


def _reader(stream: Any, out: queue.Queue[str]) -> None:
    for line in stream:
        out.put(line)
    out.put("")


def run_soak(minutes: float, bundle: Path, sample_every_s: float, workdir: Path) -> dict[str, Any]:
    """Simulate, stream, sample; the figures (see the module docstring)."""
    import numpy as np

    seconds = minutes * 60.0
    rec_path = soak_recording(seconds + 60.0).save(workdir / "soak.npz")
    link = workdir / "tty"
    sim = subprocess.Popen([*CLI, "simulate", str(rec_path), "--link", str(link)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    sim_lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(sim.stdout, sim_lines), daemon=True).start()
    stream: subprocess.Popen[str] | None = None
    try:
        first = sim_lines.get(timeout=60)
        if "simulated device" not in first:
            raise SystemExit(f"edgebind simulate did not start: {first}")
        stream_cmd = ["stream", str(link), "--bundle", str(bundle), "--json", "--duration", f"{seconds:g}"]
        stderr_path = workdir / "stream.stderr"
        with stderr_path.open("w") as err:
            stream = subprocess.Popen([*CLI, *stream_cmd], stdout=subprocess.PIPE, stderr=err, text=True,
                                      env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_reader, args=(stream.stdout, lines), daemon=True).start()
        t0 = time.monotonic()
        samples: list[tuple[float, float, float]] = []  # (seconds since start, rss MiB, cpu s)
        labels = 0
        warm_index: int | None = None
        summary: dict[str, Any] | None = None
        next_sample = t0
        progress = _progress(seconds)
        while True:
            now = time.monotonic()
            if now >= next_sample:
                got = proc_sample(stream.pid)
                if got is not None and stream.poll() is None:
                    samples.append((now - t0, *got))
                    if warm_index is None and labels:
                        warm_index = len(samples) - 1
                next_sample += sample_every_s
                if progress is not None:
                    progress(now - t0, labels, samples[-1][1] if samples else 0.0)
            try:
                line = lines.get(timeout=max(0.01, min(0.5, next_sample - time.monotonic())))
            except queue.Empty:
                continue
            if not line:
                break
            obj = json.loads(line)
            if "summary" in obj:
                summary = obj["summary"]
            else:
                labels += 1
        rc = stream.wait(timeout=60)
        wall_s = time.monotonic() - t0
    finally:
        if stream is not None and stream.poll() is None:
            stream.kill()
        sim.send_signal(signal.SIGINT)
        try:
            sim_rc: int | str = sim.wait(timeout=60)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim_rc = "killed after 60 s"
    sent: dict[str, int] = {}
    sim_tail: list[str] = []
    while True:
        try:
            line = sim_lines.get(timeout=10)
        except queue.Empty:
            break
        if not line:
            break
        sim_tail = [*sim_tail[-9:], line.rstrip()]
        if line.startswith("sent: "):
            sent = json.loads(line[len("sent: "):])
    if not sent:
        print(f"edgebind simulate (exit {sim_rc}) printed no 'sent:' line; its last lines: {sim_tail}",
              file=sys.stderr)
    stderr_text = (workdir / "stream.stderr").read_text()
    if rc != 0 or summary is None:
        raise SystemExit(f"edgebind {' '.join(stream_cmd)} exited {rc} without a summary:\n{stderr_text[-3000:]}")
    if warm_index is None or len(samples) - warm_index < 2:
        raise SystemExit(f"too few memory samples after warm-up ({len(samples)}); run longer than {minutes} min.")
    t = np.array([s[0] for s in samples])
    rss = np.array([s[1] for s in samples])
    cpu = np.array([s[2] for s in samples])
    half = samples[len(samples) // 2][0]
    late = t >= half
    slope = float(np.polyfit(t[late], rss[late], 1)[0] * 3600.0) if late.sum() >= 3 else None
    w = warm_index
    figures = {
        "rss_warm_mib": round(float(rss[w]), 2), "rss_end_mib": round(float(rss[-1]), 2),
        "rss_peak_mib": round(float(rss.max()), 2), "rss_growth_mib": round(float(rss[-1] - rss[w]), 2),
        "rss_slope_second_half_mib_per_hour": None if slope is None else round(slope, 2),
        "cpu_percent_after_warmup": round(float((cpu[-1] - cpu[w]) / (t[-1] - t[w]) * 100.0), 2),
        "warmup_s": round(float(t[w]), 2),
    }
    latency = {m: c["latency"] for m, c in summary["modalities"].items()}
    return {"command": ["benchmarks/soak.py", *sys.argv[1:]], "stream_command": ["edgebind", *stream_cmd],
            "minutes": minutes, "wall_s": round(wall_s, 1), "bundle": str(bundle), "device": {
                "imu_hz": IMU_HZ, "thermal_hz": THERMAL_HZ, "thermal_shape": [24, 32], "format": "binary",
                "simulator": "edgebind simulate (real time)"},
            "load_1min": os.getloadavg()[0], "cpus": os.cpu_count(), "figures": figures, "latency_ms": latency,
            "labels_printed": labels, "summary": summary, "sent": sent, "checks": checks(summary, sent),
            "samples": [[round(a, 2), round(b, 2), round(c, 2)] for a, b, c in samples],
            "stream_warnings": [x for x in stderr_text.splitlines() if "WARNING" in x or "ERROR" in x][:20]}


def checks(summary: dict[str, Any], sent: dict[str, int]) -> dict[str, bool]:
    """The counters that must agree in a clean soak (nothing lost, every window accounted for)."""
    link = summary.get("link", {})
    out: dict[str, bool] = {}
    for m, c in summary["modalities"].items():
        out[f"{m}: made == labelled + skipped + pending_at_exit"] = (
            c["made"] == c["labelled"] + c["skipped"] + c["pending_at_exit"])
    out["no IMU samples lost"] = summary["samples_lost"] == 0
    out["no thermal frames lost"] = summary["thermal_frames_lost"] == 0
    out["no decode errors"] = summary["decode_errors"] == 0
    out["no reader chunks dropped"] = summary["queue_dropped_chunks"] == 0
    out["no disconnects"] = not summary["disconnects"]
    out["the simulator said what it sent"] = bool(sent)
    if sent and link:
        out["IMU samples decoded <= sent"] = 0 < link.get("imu_samples", 0) <= sent.get("imu_samples_sent", 0)
        out["thermal frames decoded <= sent"] = 0 < link.get("thermal_frames", 0) <= sent.get("thermal_frames_sent",
                                                                                               0)
    return out


def _progress(seconds: float) -> Any:
    """A one-line progress print every sample on a terminal; None otherwise."""
    if not sys.stderr.isatty():
        return None

    def show(elapsed: float, labels: int, rss_mib: float) -> None:
        print(f"\r{elapsed:7.0f}/{seconds:.0f} s  {labels} labels  RSS {rss_mib:.1f} MiB", end="", file=sys.stderr,
              flush=True)

    return show


def figure_lines(out: dict[str, Any]) -> list[str]:
    """What a soak prints (benchmarks/report.py prints the same from the saved JSON)."""
    f, s, dev = out["figures"], out["summary"], out["device"]
    lines = [
        f"soak: {' '.join(out['stream_command'])}",
        f"  device: simulated {dev['imu_hz']:g} Hz IMU + {dev['thermal_hz']:g} Hz 32x24 thermal, binary, real time; "
        f"{out['minutes']:g} min; load average (1 min) at the end {out['load_1min']:.2f} on {out['cpus']} CPUs",
        f"  RSS: {f['rss_warm_mib']:.1f} MiB after warm-up ({f['warmup_s']:.0f} s), {f['rss_end_mib']:.1f} MiB at the "
        f"end, peak {f['rss_peak_mib']:.1f}; growth {f['rss_growth_mib']:+.2f} MiB; second-half slope "
        f"{f['rss_slope_second_half_mib_per_hour']} MiB/h",
        f"  CPU: {f['cpu_percent_after_warmup']:.1f} % of one core after warm-up",
    ]
    for m, lat in out["latency_ms"].items():
        if lat["p99_ms"] is not None:
            lines.append(f"  {m} sensor-to-label: p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, max "
                         f"{lat['max_ms']:.1f} ms")
    for m, c in s["modalities"].items():
        lines.append(f"  {m}: made {c['made']}, labelled {c['labelled']}, skipped {c['skipped']}, throttled "
                     f"{c['throttled']}, pending at exit {c['pending_at_exit']}")
    lines.append(f"  stream: {s['windows']} windows, {s['samples_lost']} IMU samples lost, {s['thermal_frames_lost']} "
                 f"thermal frames lost, {s['decode_errors']} decode errors, {s['queue_dropped_chunks']} reader chunks "
                 f"dropped, {s['sample_gaps']} time gaps, {len(s['disconnects'])} disconnects")
    if s.get("link"):
        lines.append("  link: " + ", ".join(f"{k} {v}" for k, v in sorted(s["link"].items())))
    if out["sent"]:
        lines.append("  simulator sent: " + ", ".join(f"{k} {v}" for k, v in out["sent"].items()))
    lines += [f"  {'ok ' if ok else 'FAIL'} {name}" for name, ok in out["checks"].items()]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="Minutes to stream [30].")
    parser.add_argument("--bundle", type=Path, default=DEMO_BUNDLE, help="Bundle to stream with [the demo bundle].")
    parser.add_argument("--sample-every", type=float, default=None,
                        help="Seconds between RSS/CPU samples [1 under 2 minutes, else 5].")
    parser.add_argument("--json", type=Path, metavar="FILE", help="Also write the figures to FILE as JSON.")
    args = parser.parse_args()
    if not args.minutes > 0:
        parser.error(f"--minutes must be > 0, got {args.minutes}.")
    for p in (DATA / "imu" / "BasicMotions_TEST.ts", DATA / "thermal" / "20240507-074536.cptv", args.bundle):
        if not p.exists():
            print(f"missing {p}; run from a full clone of the repository.", file=sys.stderr)
            return 1
    every = args.sample_every or (1.0 if args.minutes < 2 else 5.0)
    with tempfile.TemporaryDirectory(prefix="edgebind-soak-") as tmp:
        out = run_soak(args.minutes, args.bundle.resolve(), every, Path(tmp))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print("\n".join(figure_lines(out)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
        print(f"wrote {args.json}")
    return 0 if all(out["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
