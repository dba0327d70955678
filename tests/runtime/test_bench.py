"""bench: side-by-side latency table, JSON and plot, from real runners on a tiny bundle."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from click.testing import CliRunner

from edgebind.bench import bench_bundles, format_table, plot


def test_bench_side_by_side(tiny_bundle: Path, tmp_path: Path) -> None:
    t0 = time.perf_counter()
    results = bench_bundles([tiny_bundle], runs=3, warmup=1, threads=1, modalities=["imu"])
    wall_ms = (time.perf_counter() - t0) * 1e3
    assert [(r.backend, r.precision) for r in results] == [("torch", "fp32"), ("onnxruntime", "fp32")]
    torch_r, ort_r = results
    assert torch_r.speedup_vs_torch_fp32 == 1.0
    # the timed runs happen inside the call: their latencies cannot add up to more than its wall time (a unit or
    # accounting error, e.g. seconds reported as ms or warm-up runs counted, breaks this)
    assert sum(r.mean_ms * r.runs for r in results) <= wall_ms
    assert ort_r.speedup_vs_torch_fp32 is not None and ort_r.speedup_vs_torch_fp32 > 0
    assert ort_r.min_cosine is not None and ort_r.min_cosine > 0.99999
    for r in results:
        assert 0 < r.p50_ms <= r.p90_ms <= r.p99_ms and r.throughput_per_s > 0 and r.runs == 3
    table = format_table(results)
    assert "vs torch fp32" in table and "onnxruntime" in table
    png = plot(results, tmp_path / "bench.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_cli_json_and_default_bundle(tiny_bundle: Path) -> None:
    from edgebind.cli import cli
    from edgebind.paths import remember_bundle

    res = CliRunner().invoke(cli, ["bench", str(tiny_bundle), "--json", "--runs", "2", "--warmup", "1",
                                   "--modality", "thermal", "--backend", "onnxruntime", "--threads", "1"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)  # stderr may hold noise warnings (a loaded machine)
    assert [(r["modality"], r["backend"]) for r in rows] == [("thermal", "onnxruntime")]
    assert rows[0]["speedup_vs_torch_fp32"] is None  # no baseline asked for
    remember_bundle(tiny_bundle)
    res = CliRunner().invoke(cli, ["bench", "--runs", "1", "--warmup", "0", "--modality", "imu"])
    assert res.exit_code == 0, res.output
    assert "imu       torch" in res.output


def test_bench_cli_errors(tmp_path: Path, tiny_bundle: Path) -> None:
    from edgebind.cli import cli

    res = CliRunner().invoke(cli, ["bench", str(tmp_path)])
    assert res.exit_code == 1 and "is not a bundle (no manifest.json)" in res.output
    res = CliRunner().invoke(cli, ["bench", str(tiny_bundle), "--backend", "tensorrt"])
    assert res.exit_code == 1 and "no TensorRT engine for imu; build it with 'edgebind build-engine" in res.output


def test_profile_shows_where_time_goes(tiny_bundle: Path) -> None:
    from edgebind.bench import profile_onnxruntime

    prof = profile_onnxruntime(tiny_bundle, "imu", runs=2, threads=1)
    ops = dict(prof)
    assert abs(sum(ops.values()) - 1.0) < 1e-6
    assert {"LayerNormalization", "Softmax"} <= set(ops)
    assert prof == sorted(prof, key=lambda kv: -kv[1])


def test_time_calls_blocks_and_interleaved_order() -> None:
    from edgebind.bench import time_calls

    order: list[str] = []
    calls = [lambda: order.append("a"), lambda: order.append("b")]
    t = time_calls(calls, runs=5, mode="blocks", block=2)
    # rounds of (1 untimed + up to 2 timed) per callable: a a a b b b | a a a b b b | a a b b
    assert "".join(order) == "aaabbbaaabbbaabb"
    assert t.shape == (2, 5) and (t > 0).all()
    order.clear()
    time_calls(calls, runs=3, mode="interleaved")
    assert "".join(order) == "ababab"


def test_bench_modes_and_errors(tiny_bundle: Path) -> None:
    from edgebind.cli import cli
    from edgebind.errors import ConfigError

    res = CliRunner().invoke(cli, ["bench", str(tiny_bundle), "--json", "--runs", "3", "--block", "2", "--warmup",
                                   "0", "--modality", "imu", "--backend", "onnxruntime", "--threads", "1",
                                   "--mode", "interleaved", "--spin"])
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.stdout)
    assert row["mode"] == "interleaved" and row["spin"] is True and row["runs"] == 3
    import pytest

    with pytest.raises(ConfigError, match="unknown timing mode 'both'; pick one of blocks, interleaved"):
        bench_bundles([tiny_bundle], mode="both")
    with pytest.raises(ConfigError, match="--batch, --runs and --block must be >= 1, got 1, 20 and 0"):
        bench_bundles([tiny_bundle], block=0)


def test_bench_rows_name_their_bundle_and_spread(tiny_bundle: Path) -> None:
    """Two bundles' rows can be told apart; each row has p90/p99 and its coefficient of variation (issue 21)."""
    steps: list[tuple[str, int, int]] = []
    results = bench_bundles([tiny_bundle], runs=4, warmup=0, threads=1, modalities=["imu"],
                            backends=["onnxruntime"], block=2, on_progress=lambda *a: steps.append(a))
    (r,) = results
    assert r.cv_pct is not None and 0 <= r.cv_pct < 1000
    table = format_table(results)
    head, row = (re.split(r"\s{2,}", line.strip()) for line in table.splitlines())
    assert head[:2] == ["bundle", "modality"] and "p99 ms" in head
    assert row[0] == tiny_bundle.name and row[head.index("CV %")] == f"{r.cv_pct:.0f}"
    # one step per runner loaded, then per timed call; the last report is before the last round
    assert steps[0][0].startswith("loading imu onnxruntime") and {s[2] for s in steps} == {5}
    assert [s[1] for s in steps] == sorted(s[1] for s in steps) and steps[-1][1] == 3


def test_noise_warnings_name_the_row_and_the_load(tiny_bundle: Path) -> None:
    from dataclasses import replace

    from edgebind.bench import noise_warnings

    (r,) = bench_bundles([tiny_bundle], runs=2, warmup=0, threads=1, modalities=["imu"], backends=["onnxruntime"])
    quiet, noisy = replace(r, cv_pct=5.0), replace(r, cv_pct=35.0)
    assert noise_warnings([quiet], load_avg_1min=0.5, cores=2) == []
    (w,) = noise_warnings([quiet, noisy], load_avg_1min=0.5, cores=2)
    assert "imu onnxruntime fp32" in w and tiny_bundle.name in w and "35 %" in w
    (w,) = noise_warnings([quiet], load_avg_1min=3.2, cores=2)
    assert "load average 3.2 is above the 2 cores" in w


def test_bench_plot_without_matplotlib_fails_before_the_run(tiny_bundle: Path) -> None:
    """A device install has no matplotlib: `bench --plot` says so in one line, before spending the run."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['matplotlib'] = None; import edgebind.bench as b; "
            "b.bench_bundles = lambda *a, **k: sys.exit('the run started'); "
            "from edgebind.cli import main; sys.argv = ['edgebind', 'bench', sys.argv[1], '--plot', 'p.png']; main()")
    proc = subprocess.run([sys.executable, "-c", code, str(tiny_bundle)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "bench --plot needs matplotlib, which is not installed here; pip install 'edgebind[plot]'" in proc.stderr
    assert "the run started" not in proc.stderr and "Traceback" not in proc.stderr
