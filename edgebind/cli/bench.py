"""``edgebind bench``: latency, throughput and peak memory of bundles, per backend and precision, side by side."""

from __future__ import annotations

import click


@click.command()
@click.argument("bundles", nargs=-1, type=click.Path(file_okay=False))
@click.option("--backend", "backends", multiple=True, type=click.Choice(["torch", "onnxruntime", "tensorrt"]),
              help="Backends to measure (repeatable) [torch where installed, onnxruntime, and tensorrt where engines "
              "exist].")
@click.option("--modality", "modalities", multiple=True, type=click.Choice(["imu", "thermal", "text"]),
              help="Encoders to measure (repeatable) [all in the bundle].")
@click.option("--batch", default=1, show_default=True, help="Inputs per call.")
@click.option("--threads", type=int, help="CPU threads for torch and onnxruntime [backend default].")
@click.option("--runs", default=20, show_default=True, help="Timed calls per backend.")
@click.option("--warmup", default=3, show_default=True, help="Untimed calls first.")
@click.option("--mode", type=click.Choice(["blocks", "interleaved"]), default="blocks", show_default=True,
              help="Rounds of one untimed + --block timed calls per backend, or one timed call each.")
@click.option("--block", default=5, show_default=True, help="Timed calls per backend per round (--mode blocks).")
@click.option("--spin", is_flag=True, help="Let onnxruntime's threads busy-wait between calls.")
@click.option("--hop", "hop_s", type=float, help="Time one label of an IMU stream labelled every HOP seconds: "
              "each call gets the next window, HOP s later (a streaming encoder steps, others run the whole window).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Also write a latency bar chart (PNG).")
def bench(bundles: tuple[str, ...], backends: tuple[str, ...], modalities: tuple[str, ...], batch: int,
          threads: int | None, runs: int, warmup: int, mode: str, block: int, spin: bool, hop_s: float | None,
          as_json: bool, plot: str | None) -> None:
    """Benchmark BUNDLES (default: the last exported) on this machine; ratios are to the first bundle's PyTorch
    eager fp32.

    Backends are timed in rounds of blocks: after a call, PyTorch's and a spinning onnxruntime's threads keep the
    cores busy for a while, so each block starts with one untimed call (--mode interleaved shows the difference).

    \b
    Example:
      edgebind bench out/imu-cpu-fp32 out/imu-cpu-int8 --threads 2 --plot bench.png
      edgebind bench out/huge-fp32 out/imu-small-int8 --modality imu --threads 1 --runs 40
    """
    from edgebind import bench as bench_mod
    from edgebind.cli.progress import progress
    from edgebind.deps import require_extra
    from edgebind.paths import find_bundle

    if plot:  # before the run, so a missing matplotlib costs no measurement
        require_extra("matplotlib", "plot", "bench --plot")
    dirs = [find_bundle(b, "BUNDLES") for b in bundles] if bundles else [find_bundle(None, "BUNDLES")]
    with progress("benchmarking", total=1, quiet=as_json) as bar:
        results = bench_mod.bench_bundles(
            dirs, backends=backends or None, batch=batch, threads=threads, runs=runs, warmup=warmup,
            modalities=modalities or None, mode=mode, block=block, spin=spin, hop_s=hop_s,
            on_progress=lambda what, done, total: bar.update(done, total, what))
    for warning in bench_mod.noise_warnings(results):
        click.echo(f"Warning: {warning}", err=True)
    if plot:
        bench_mod.plot(results, plot)
    if as_json:
        click.echo(bench_mod.to_json(results))
        return
    click.echo(bench_mod.format_table(results))
    if plot:
        click.echo(f"plot: {plot}")
