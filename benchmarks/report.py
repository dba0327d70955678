"""Every figure the README publishes, each printed beside the command that produced it.

    python benchmarks/report.py                    # all figures (a few minutes on a 2-core CPU)
    python benchmarks/report.py --only parity,demo # some of them
    python benchmarks/report.py --list             # the figures and where each comes from

Each figure comes from one of three places, said beside it:

* ``here``: measured in this process by the same code the tests use (tests/officialref.py for parity), on the
  files in tests/data;
* ``fast`` / ``run``: the benchmark the README cites, shorter where that keeps the figure (2 s of serial link
  instead of 10 s) or as it is, run as a subprocess; its summary lines are printed as they came;
* ``results``: read from the JSON file a slow benchmark wrote into benchmarks/results/ (with the file's date);
  "not measured" when that file is absent, with the command that writes it.

Adding a figure is one entry in ``FIGURES``: a key, a title, the command a reader runs, where the figure comes from,
and a function returning the lines to print.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
sys.path.insert(0, str(REPO / "tests"))  # officialref: the reference files and the parity measurement the tests use


@dataclass(frozen=True)
class Figure:
    """One README figure: ``measure()`` returns the lines to print under ``title``."""

    key: str
    title: str
    command: str
    source: str  # "here", "fast: <what is shorter>" or "results: <file>"
    measure: Callable[[], list[str]]


def _run(args: list[str], timeout_s: float = 600.0) -> list[str]:
    """Run a command from the repository root; its output lines (stderr included)."""
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=timeout_s)
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    if proc.returncode != 0:
        return [f"FAILED (exit {proc.returncode}): {' '.join(args)}", *lines[-5:]]
    return lines


def _results(name: str, how: str) -> tuple[dict | list | None, str]:
    """A results JSON and its date line, or None and the command that writes it."""
    p = RESULTS / name
    if not p.is_file():
        return None, f"not measured: {p.relative_to(REPO)} is absent; run {how}"
    return json.loads(p.read_text()), f"from {p.relative_to(REPO)} (written {time.ctime(p.stat().st_mtime)})"


# -- measured here ------------------------------------------------------------------------------------------------

def parity() -> list[str]:
    from officialref import MODALITIES, REFERENCES, load_reference, measure_parity

    lines = []
    for name in REFERENCES:
        ref = load_reference(name)
        fig = {m: measure_parity(ref, m) for m in MODALITIES}
        final = ", ".join(f"{fig[m]['final']:.1e} ({m})" for m in MODALITIES)
        lines.append(f"reference_{name}: max |d| of final {final}; trunk_out <= "
                     f"{max(f['trunk_out'] for f in fig.values()):.1e}; unit embedding <= "
                     f"{max(f['unit_embedding'] for f in fig.values()):.1e}")
    return lines


def tokenizer() -> list[str]:
    import numpy as np
    from officialref import REFERENCES, load_reference

    from edgebind.tokenizer import tokenize

    lines = []
    for name in REFERENCES:
        ref = load_reference(name)
        same = bool(np.array_equal(tokenize(ref.sentences), ref.input("text").numpy()))
        lines.append(f"reference_{name}: token ids {'equal' if same else 'DIFFERENT'} for {ref.sentences}")
    out = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                "tests/test_tokenizer.py::test_matches_openai_clip_on_varied_strings", "-rs"])
    lines.append(f"OpenAI CLIP's tokenizer on 400 varied strings: {out[-1]}")
    return lines


def layout() -> list[str]:
    import torch

    from edgebind.checkpoint import encoder_state_dict
    from edgebind.config import get_config
    from edgebind.models import ENCODERS

    keys = json.loads((REPO / "tests" / "data" / "imagebind" / "imagebind_huge_keys.json").read_text())
    matched, counts = 0, {}
    for m in ("vision", "text", "thermal", "imu"):
        with torch.device("meta"):
            model = ENCODERS[m](get_config("imagebind_huge", m))
        got = {k: list(v.shape) for k, v in encoder_state_dict(model).items()}
        matched += sum(keys.get(k) == v for k, v in got.items())
        counts[m] = sum(p.numel() for p in model.parameters())
    return [f"{matched} of the real checkpoint's {len(keys)} keys and shapes matched by the imagebind_huge presets; "
            f"parameters imu {counts['imu']:,} / thermal {counts['thermal']:,} / text {counts['text']:,}"]


def cost() -> list[str]:
    from edgebind.config import get_config

    g = {m: get_config("imagebind_huge", m).flops() / 1e9 for m in ("imu", "thermal", "text")}
    return [f"GFLOPs per sample (analytic): IMU {g['imu']:.2f}, thermal {g['thermal']:.2f}, text {g['text']:.2f}"]


def export_parity() -> list[str]:
    from officialref import REFERENCES, load_reference, make_calib_npz, measure_export_parity

    lines = []
    with tempfile.TemporaryDirectory(prefix="report-export-") as tmp:
        calib = make_calib_npz(Path(tmp))
        for name in REFERENCES:
            ref = load_reference(name)
            parts = []
            for precision in ("fp32", "fp16", "int8"):
                _, gaps = measure_export_parity(ref, precision, Path(tmp), calib if precision == "int8" else None)
                parts.append(f"{precision} {1 - gaps['imu']:.7f} / {1 - gaps['thermal']:.7f}")
            lines.append(f"reference_{name}, worst cosine to the official outputs (IMU / thermal): " + ", ".join(parts))
    return lines


def demo_model() -> list[str]:
    import torch

    from edgebind.bridge.recording import Recording
    from edgebind.checkpoint import load_encoder
    from edgebind.demo import demo_dir
    from edgebind.train.data import windows_from_recordings
    from edgebind.train.evaluate import embed_unit, label_accuracy
    from edgebind.zeroshot import LabelBank

    d = demo_dir()
    test = windows_from_recordings([Recording.load(d / "basicmotions_test.npz")], "imu", hop_s=1.0)
    model, bank = load_encoder(d / "imu_demo.safetensors", "imu"), LabelBank.load(d / "labels.npz")
    acc = label_accuracy(embed_unit(model, test.raw, torch.device("cpu")), bank, test.labels)
    return [f"{acc['accuracy']:.1%} of {acc['windows']:.0f} BasicMotions TEST windows (closed-set accuracy on held-out "
            "recordings of the training labels; chance 25 %)"]


def demo() -> list[str]:
    from edgebind.demo import run_demo

    r = run_demo()
    s = r.summary.modalities.get("imu", {}) if hasattr(r.summary, "modalities") else {}
    lat = next((ln for ln in r.lines() if "sensor-to-label p50" in ln), "")
    return [f"{r.windows} windows, {r.correct}/{r.scored} = {r.correct / max(1, r.scored):.1%} labelled correctly "
            f"(smoothed; chance {1 / r.n_labels:.0%}); {lat.strip()}" + (f"; skipped {s.get('skipped')}" if s else "")]


# -- fast variants and results files ------------------------------------------------------------------------------

def int8_speedup() -> list[str]:
    data, where = _results("bench_export.json", "python benchmarks/bench_export.py --runs 20")
    if data is None:
        return [where]
    rows = data["results"] if isinstance(data, dict) else data
    lines = [where]
    for m in ("imu", "thermal"):
        by = {(r["backend"], r["precision"]): r for r in rows if r["modality"] == m}
        t, o, q = by.get(("torch", "fp32")), by.get(("onnxruntime", "fp32")), by.get(("onnxruntime", "int8"))
        if t and o and q:
            lines.append(f"{m}: {t['p50_ms']:.1f} ms eager fp32 -> {o['p50_ms']:.1f} ms ONNX Runtime fp32 -> "
                         f"{q['p50_ms']:.1f} ms int8 ({q['speedup_vs_torch_fp32']:.2f}x, cosine >= "
                         f"{q['min_cosine']:.4f}), batch {q['batch']}, {q['threads']} threads, {q['runs']} runs")
    return lines


def students() -> list[str]:
    lines = []
    for m, name in (("imu", "bench_students.json"), ("thermal", "bench_students_thermal.json")):
        data, where = _results(name, f"python benchmarks/bench_students.py --modality {m} --reuse "
                               f"--repeats 3 --runs 20")
        lines.append(f"{m}: {where}")
        if not isinstance(data, dict) or m not in data:
            continue
        r = data[m]
        timing = ", ".join(f"{t['case']} {t['p50_ms']:.2f} ms ({t['ratio']:.2f}x)" for t in r["timing"])
        q = r["quality"].get("student ORT int8", {})
        lines.append(f"  {r['student']} from a {data['teacher']} teacher, {r['steps']} steps; batch {data['batch']}, "
                     f"{data['threads']} thread(s), p50 and ratio to the huge eager encoder: {timing}")
        if q:
            lines.append(f"  int8 student on held-out windows: cosine {q['cosine']:.3f}, centred cosine "
                         f"{q['centred_cosine']:.3f} (constant baseline {q['constant_baseline']:.3f}), top-1 agreement "
                         f"{q['top1_agreement']:.3f}, min cosine to its fp32 self {q.get('min_cosine_to_fp32', 0):.5f}")
        lines += thermal_recipe_lines(r)
    return lines


def thermal_recipe_lines(r: dict[str, Any]) -> list[str]:
    """issue 22: the thermal student's recipe, its held-out curve (fp32, in training) and the goal, where the JSON
    has them (bench_students.py --thermal-*)."""
    if "recipe" not in r:
        return []
    rc = r["recipe"]
    lines = [f"  recipe: {rc['views']} views per frame, batch {rc['batch']}, {rc['scenes']} generated scenes; data "
             f"{' + '.join(rc['train'])}"]
    if r.get("curve"):
        lines.append("  held-out centred cosine mean/p5 by step: " + ", ".join(
            f"{int(h['step'])}: {h['centred_cosine']:.3f}/{h['centred_cosine_p5']:.3f}" for h in r["curve"]))
    q = r["quality"].get("student ORT int8", {})
    int8 = [t for t in r["timing"] if t["case"].endswith("ORT int8") and not t["case"].startswith("huge")]
    if q and int8:
        met = q["centred_cosine"] >= 0.9 and int8[0]["ratio"] >= 20
        lines.append(f"  goal (int8 centred cosine >= 0.9 at >= 20x huge eager): {q['centred_cosine']:.3f} at "
                     f"{int8[0]['ratio']:.1f}x, {'met' if met else 'NOT met'}")
    return lines


HEADLINE_BUNDLES = ("huge-imu-fp32", "huge-imu-int8", "imu-small-fp32", "imu-small-int8")


def headline() -> list[str]:
    """issue 15's goal: imu-small int8 against the huge eager IMU encoder, both bundles in one ``edgebind bench``,
    at 1 and at 2 threads, and best against best (each case at its faster thread count; issue 22)."""
    cache = RESULTS / "cache" / "bundles"
    missing = [b for b in HEADLINE_BUNDLES if not (cache / b / "manifest.json").is_file()]
    if missing:
        return [f"not measured: {', '.join(missing)} absent from {cache.relative_to(REPO)}; run "
                "python benchmarks/bench_students.py --modality imu"]
    lines: list[str] = []
    warnings: list[str] = []
    best: dict[tuple[str, str], float] = {}
    for threads in (1, 2):
        out = _run([sys.executable, "-c", "from edgebind.cli import main; main()", "bench",
                    *(str(cache / b) for b in HEADLINE_BUNDLES), "--modality", "imu", "--threads", str(threads),
                    "--runs", "40", "--json"])
        warnings += [ln for ln in out if ln.startswith("Warning: ")]  # bench's noise warnings (stderr)
        try:
            rows = {(Path(r["bundle"]).name, r["backend"]): r
                    for r in json.loads("\n".join(ln for ln in out if not ln.startswith("Warning: ")))}
            huge, small = rows["huge-imu-fp32", "torch"], rows["imu-small-int8", "onnxruntime"]
        except (ValueError, KeyError):
            return out
        for key, r in rows.items():
            best[key] = min(best.get(key, float("inf")), r["p50_ms"])
        lines += [f"{threads} thread(s): {Path(r['bundle']).name} {r['backend']} {r['precision']}: p50 "
                  f"{r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms" for r in rows.values()]
        lines.append(f"{threads} thread(s): imu-small int8 p50 {small['p50_ms']:.2f} ms against "
                     f"{huge['p50_ms']:.2f} ms huge eager fp32, {small['speedup_vs_torch_fp32']:.2f}x "
                     "(goal >= 30x at 1 "
                     "thread), min cosine to "
                     f"its fp32 self {small['min_cosine']:.5f}")
    h, s_ = best["huge-imu-fp32", "torch"], best["imu-small-int8", "onnxruntime"]
    return [*lines, f"best against best: imu-small int8 {s_:.2f} ms against huge eager {h:.2f} ms, {h / s_:.2f}x",
            *warnings]


def stream_student() -> list[str]:
    """issue 22: one label of the streaming IMU student at hop 0.1 s against the huge eager IMU encoder's window."""
    data, where = _results("bench_students_stream.json", "python benchmarks/bench_students.py --modality imu-stream "
                           "--reuse --every-case 4 --repeats 2 --runs 40")
    lines = [where]
    if not isinstance(data, dict) or "imu-stream" not in data:
        return lines
    r = data["imu-stream"]
    q = r["quality"]
    for key in ("stream ORT fp32", "stream ORT int8"):
        f = q[key]
        lines.append(f"{key}, every {q['hop_s']} s hop of {q['windows']} held-out windows (state carried): centred "
                     f"cosine {f['centred_cosine']:.3f} mean, {f['centred_cosine_p5']:.3f} 5th percentile (goal 0.9 / "
                     f"0.8), cosine {f['cosine']:.3f}")
    best: dict[str, float] = {}
    for threads, rows in r["timing"].items():
        by: dict[str, list[tuple[float, float]]] = {}
        for x in rows:
            by.setdefault(f"{x['bundle']} {'eager' if x['backend'] == 'torch' else 'ORT'} {x['precision']}",
                          []).append((x["p50_ms"], x["ratio"]))
        for name, runs in by.items():
            best[name] = min(best.get(name, float("inf")), float(np.median([p for p, _ in runs])))
        huge = float(np.median([p for p, _ in by["huge-imu-fp32 eager fp32"]]))
        for name, runs in by.items():
            if name.startswith("imu-stream"):  # the ratio as bench_students.py prints it: median over repeats
                lines.append(f"{threads} thread(s): {name} one label at hop {r['hop_s']} s p50 "
                             f"{np.median([p for p, _ in runs]):.3f} ms, {np.median([q for _, q in runs]):.0f}x the "
                             f"huge eager window (p50 {huge:.1f} ms)")
    h = best["huge-imu-fp32 eager fp32"]
    for name, p50 in best.items():
        if name.startswith("imu-stream"):
            lines.append(f"best against best: {name} {p50:.3f} ms against huge eager {h:.1f} ms, {h / p50:.0f}x")
    return lines


def live_threads() -> list[str]:
    data, where = _results("bench_stream_threads_long.json", "python benchmarks/bench_stream.py --policies "
                           "ort-default,previous,pinned,edgebind --repeats 3 --seconds 45")
    if not isinstance(data, dict):
        return [where]
    lines = [where]
    for row in data["summary"]:
        lines.append(f"{row['policy']} ({data['policies'][row['policy']]}) {row['modality']}: sensor-to-label p99 "
                     f"median {row['median_s2l_p99_ms']:.1f} ms, pooled {row['pooled_s2l_p99_ms']:.1f} ms over "
                     f"{row['labelled']} labels, {row['skipped']} skipped, {row['lost']} lost")
    return lines


CPU_BUDGET_CMD = ("python benchmarks/bench_cpu_budget.py --seconds 30 --threads 1,2 --repeats 2 "
                  "--json benchmarks/results/bench_cpu_budget.json")


def cpu_budget() -> list[str]:
    data, where = _results("bench_cpu_budget.json", CPU_BUDGET_CMD)
    if not isinstance(data, dict):
        return [where]
    students = data.get("students", {"today": "imu-small", "new": "imu-small"})
    lines = [where, f"IMU {data['imu_rate_hz']:g} Hz + thermal {data['thermal_rate_hz']:g} Hz, label every "
             f"{data['hop_s']:g} s, int8 " + ", ".join(f"{n}: {st}" for n, st in students.items())
             + f"; {data['seconds']:g} s per run; today = commit {data['legacy_commit']}; {data['cpus']} CPUs"]
    import statistics

    for row in data["summary"]:
        names = [n for n in students if f"{n}_pct" in row]
        infer = {name: statistics.median(r["threads_pct"].get("edgebind-inference-imu", 0.0) for r in data["runs"]
                                         if r["pipeline"] == name and r["threads"] == row["threads"])
                 for name in names}
        parts = [f"{n} {row[n + '_pct']:.2f} %" + (f" ({row['today_pct'] / row[n + '_pct']:.1f}x less)"
                                                    if n != "today" and "today_pct" in row else "")
                 for n in names]
        lines.append(f"{row['threads']} thread(s), % of one core (goal {data['goal_pct']:g} %), median of "
                     f"{row['repeats']}: {', '.join(parts)}; of which the inference thread "
                     + " / ".join(f"{infer[n]:.2f}" for n in names)
                     + f" %; 1-min load average {row['load_1min_min']:.1f}-{row['load_1min_max']:.1f}")
    return lines


def fusions() -> list[str]:
    data, where = _results("bench_fusions.json", "python benchmarks/bench_fusions.py "
                           "benchmarks/results/cache/imu-small_300steps.safetensors "
                           "--calibration edgebind/data/demo/basicmotions_train.npz")
    if not isinstance(data, dict):
        return [where]
    return [where] + [f"{name}: {r['kernels']} kernels (Add {r['add']}, Erf {r['erf']}), p50 "
                      + " / ".join(f"{v:.2f}" for v in r["p50_ms"])
                      + f" ms, {r['ratio_to_unfused']:.2f}x the unfused graph, min cosine to fp32 "
                      f"{r['min_cosine_to_fp32']:.6f}" for name, r in data["graphs"].items()]


def threads() -> list[str]:
    data, where = _results("bench_threads_quiet.json", "python benchmarks/bench_threads.py "
                           "benchmarks/results/cache/bundles/imu-small-int8 "
                           "benchmarks/results/cache/bundles/thermal-small-int8 --rounds 40 --repeats 3")
    if not isinstance(data, list):
        return [where]
    by: dict[str, list[float]] = {}
    for repeat in data:
        for row in repeat:
            by.setdefault(row["policy"], []).append(row["pair_p99_ms"])
    return [where] + [f"{policy}: IMU+thermal pair p99 " + " / ".join(f"{v:.1f}" for v in p99) + " ms"
                      for policy, p99 in by.items()]

def soak() -> list[str]:
    data, where = _results("soak_30min.json", "python benchmarks/soak.py --minutes 30 "
                           "--json benchmarks/results/soak_30min.json")
    if not isinstance(data, dict):
        return [where]
    sys.path.insert(0, str(REPO / "benchmarks"))
    from soak import figure_lines

    return [where, *figure_lines(data)]


def serial_link() -> list[str]:
    keep = ("binary decoder", "pty load")
    return [ln for ln in _run([sys.executable, "benchmarks/bench_serial_link.py", "--seconds", "2"])
            if ln.startswith(keep) or ln.startswith("FAILED")]


def stream() -> list[str]:
    out = _run([sys.executable, "benchmarks/bench_stream.py", "--seconds", "10"])  # shorter runs make no CSV window
    head = next((i for i, ln in enumerate(out) if re.match(r"\s*link\s+stream", ln)), None)
    return out[head:] if head is not None else out[-6:]  # the table: header and one row per stream


def calibration() -> list[str]:
    return _run([sys.executable, "scripts/imu_calibration_figures.py"])


def sketches() -> list[str]:
    return [ln for ln in _run([sys.executable, "benchmarks/bench_sketch_formats.py"])
            if "samples, rate" in ln or ln.startswith("FAILED")]


def firmware() -> list[str]:
    import shutil

    missing = [t for t in ("arm-none-eabi-gcc", "avr-gcc", "qemu-system-arm") if shutil.which(t) is None]
    if missing:
        return [f"not measured: {', '.join(missing)} absent (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
                "qemu-system-arm gcc-avr avr-libc simavr libsimavr-dev)"]
    size = _run(["make", "-s", "-C", "firmware_bridge", "footprint"])
    lines = [f"size: {ln.split()[-1]}: text {ln.split()[0]}, data {ln.split()[1]}, bss {ln.split()[2]} bytes"
             for ln in size if ln.strip() and ln.split()[0].isdigit()]
    with tempfile.TemporaryDirectory(prefix="report-qemu-") as tmp:
        out = _run(["make", "-s", "-C", "firmware_bridge", "qemu-record", "SECONDS=10", f"OUT={tmp}/synth.npz"])
    lines += [f"QEMU mps2-an385, 10 s: {ln.strip()}" for ln in out if "IMU samples" in ln or ln.startswith("FAILED")]
    return lines


def bag_read() -> list[str]:
    return [ln for ln in _run([sys.executable, "benchmarks/bench_bag_read.py", "--sizes", "100000"]) if ln.strip()][-3:]


def eval_demo() -> list[str]:
    from edgebind.demo import demo_dir
    from edgebind.eval import evaluate

    d = demo_dir()
    with tempfile.TemporaryDirectory(prefix="report-eval-") as tmp:
        labels = Path(tmp) / "labels.txt"
        labels.write_text("Standing\nRunning\nWalking\nBadminton\n")
        report = evaluate([d / "basicmotions_test.npz"], labels, bundle=d / "bundle")
    return [f"{report.windows} windows: " + "; ".join(
        f"{r.name} {r.accuracy:.1%}" for r in report.results) + " (closed set: the demo model saw these labels)"]


def heldout() -> list[str]:
    lines = []
    for label in ("Walking", "Badminton"):
        name = f"eval_heldout_{label.lower()}.json"
        data, where = _results(name, f"python scripts/make_heldout_label_model.py --holdout {label} && edgebind eval "
                               f"edgebind/data/demo/basicmotions_test.npz --bundle out/heldout-{label.lower()}/bundle "
                               f"--json > benchmarks/results/{name}")
        lines.append(f"{label} held out of training: {where}")
        if isinstance(data, dict):
            by = {(r["method"], r["k"]): r for r in data["results"]}
            text, probe = by[("text prompts", None)], by[("probe", None)]
            shots = "/".join(f"{by[('k-shot', k)]['recall'][label]:.0%}" for k in (1, 5, 10) if ("k-shot", k) in by)
            lines.append(f"  zero-shot recall of {label} by its words {text['recall'][label]:.0%} (4-way top-1 "
                         f"{text['accuracy']:.1%}); k-shot recall k=1/5/10 {shots}; probe top-1 {probe['accuracy']:.1%}"
                         f", recall {probe['recall'][label]:.0%}")
    return lines


FIGURES = [
    Figure("parity", "Parity with the official code", "python -m pytest tests/models/test_parity.py -s", "here",
           parity),
    Figure("tokenizer", "Token ids", "python -m pytest tests/test_tokenizer.py", "here", tokenizer),
    Figure("layout", "The real layout", "python -m pytest tests/models/test_parity.py -k huge", "here", layout),
    Figure("cost", "Cost", "python benchmarks/bench_encoders.py", "here (the analytic FLOPs it prints)", cost),
    Figure("export_parity", "Export parity on the reference weights",
           "python -m pytest tests/export/test_reference_parity.py -s", "here", export_parity),
    Figure("int8_speedup", "CPU speed-up of int8", "python benchmarks/bench_export.py --runs 20",
           "results: benchmarks/results/bench_export.json", int8_speedup),
    Figure("students", "Students", "python benchmarks/bench_students.py --modality {imu,thermal} --reuse",
           "results: benchmarks/results/bench_students{,_thermal}.json", students),
    Figure("headline", "imu-small int8 vs the huge eager IMU encoder, one bench call",
           "edgebind bench C/huge-imu-fp32 C/huge-imu-int8 C/imu-small-fp32 C/imu-small-int8 --modality imu "
           "--threads {1,2} --runs 40", "run: the same command on benchmarks/results/cache/bundles", headline),
    Figure("fusions", "ONNX Runtime CPU fusions", "python benchmarks/bench_fusions.py STUDENT --calibration REC",
           "results: benchmarks/results/bench_fusions.json", fusions),
    Figure("stream_student", "Streaming IMU student (imu-stream), one label at hop 0.1 s",
           "python benchmarks/bench_students.py --modality imu-stream --reuse --every-case 4 --repeats 2 --runs 40 "
           "--json benchmarks/results/bench_students_stream.json",
           "results: benchmarks/results/bench_students_stream.json", stream_student),
    Figure("threads", "Two runners sharing 2 cores", "python benchmarks/bench_threads.py IMU_BUNDLE THERMAL_BUNDLE",
           "results: benchmarks/results/bench_threads_quiet.json", threads),
    Figure("live_threads", "Thread policies through a live stream",
           "python benchmarks/bench_stream.py --policies ort-default,previous,pinned,edgebind --repeats 3 --seconds 45",
           "results: benchmarks/results/bench_stream_threads_long.json", live_threads),
    Figure("cpu_budget", "CPU of a live IMU + thermal stream", CPU_BUDGET_CMD,
           "results: benchmarks/results/bench_cpu_budget.json", cpu_budget),
    Figure("serial_link", "Serial link", "python benchmarks/bench_serial_link.py --seconds 10",
           "fast: --seconds 2", serial_link),
    Figure("stream", "Sensor to label", "python benchmarks/bench_stream.py --seconds 10", "run: the same command",
           stream),
    Figure("soak", "30-minute soak of the stream (1 kHz IMU + 8 Hz thermal)",
           "python benchmarks/soak.py --minutes 30 --json benchmarks/results/soak_30min.json",
           "results: benchmarks/results/soak_30min.json", soak),
    Figure("demo", "The demo", "edgebind demo", "here (run_demo, the code behind the command)", demo),
    Figure("demo_model", "The demo model", "python -m pytest tests/train/test_demo_model.py -s", "here",
           demo_model),
    Figure("calibration", "Calibration", "python scripts/imu_calibration_figures.py", "fast: the same script",
           calibration),
    Figure("sketches", "Hobby sketches over a pty", "python benchmarks/bench_sketch_formats.py",
           "run: the same command", sketches),
    Figure("firmware", "Firmware on emulated microcontrollers",
           "make -C firmware_bridge footprint; make -C firmware_bridge qemu-record SECONDS=10 OUT=synth.npz",
           "run: the same commands", firmware),
    Figure("bag_read", "ROS 2 bag in bounded memory", "python benchmarks/bench_bag_read.py --sizes 100000",
           "run: the same command", bag_read),
    Figure("eval_demo", "edgebind eval, demo model",
           "edgebind eval edgebind/data/demo/basicmotions_test.npz --bundle edgebind/data/demo/bundle",
           "here (evaluate, the code behind the command)", eval_demo),
    Figure("heldout", "A label never seen in training (our recipe, genuinely zero-shot)",
           "python scripts/make_heldout_label_model.py --holdout Walking; edgebind eval ... --bundle "
           "out/heldout-walking/bundle", "results: benchmarks/results/eval_heldout_{walking,badminton}.json", heldout),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated keys: {', '.join(f.key for f in FIGURES)}")
    parser.add_argument("--list", action="store_true", help="list the figures and their sources, measure nothing")
    args = parser.parse_args()
    wanted = args.only.split(",") if args.only else [f.key for f in FIGURES]
    unknown = set(wanted) - {f.key for f in FIGURES}
    if unknown:
        parser.error(f"unknown figure(s) {sorted(unknown)}; known: {', '.join(f.key for f in FIGURES)}")
    for fig in (f for f in FIGURES if f.key in wanted):
        print(f"* {fig.title}  (`{fig.command}`; {fig.source})", flush=True)
        if args.list:
            continue
        t0 = time.perf_counter()
        for line in fig.measure():
            print(f"    {line}", flush=True)
        print(f"    [{time.perf_counter() - t0:.0f} s]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
