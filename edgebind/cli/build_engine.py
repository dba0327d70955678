"""``edgebind build-engine``: build a bundle's TensorRT engines on the device itself, then check their parity."""

from __future__ import annotations

import click


@click.command("build-engine")
@click.argument("bundle", type=click.Path(file_okay=False), required=False)
@click.option("--dla-core", type=int, help="Build for this DLA core (overrides the bundle's recipe; fp16/int8 only).")
@click.option("--dla-batch", type=int, help="Static batch of a DLA engine [the recipe's, else 1].")
@click.option("--trtexec", "use_trtexec", is_flag=True, help="Build and check parity with trtexec even where the "
              "tensorrt Python package imports.")
def build_engine(bundle: str | None, dla_core: int | None, dla_batch: int | None, use_trtexec: bool) -> None:
    """Build BUNDLE's TensorRT engines here (GPU- and TensorRT-version specific), check each against the bundle's
    parity.npz, and record them in its manifest. An engine that fails or misses the check is kept but marked
    unusable, and this command exits 1.

    \b
    Example (on the Jetson, after copying the bundle over):
      edgebind build-engine out/imu-thermal-jetson-fp16
    """
    from edgebind.cli.progress import progress
    from edgebind.export.engine import build_bundle_engines
    from edgebind.paths import find_bundle

    with progress("building TensorRT engines") as bar:
        b = build_bundle_engines(find_bundle(bundle, "BUNDLE"), dla_core=dla_core, use_trtexec=use_trtexec,
                                 dla_batch=dla_batch, on_stage=bar.stage)
    for m, e in b.encoders.items():
        rec = e.engine or {}
        cos = min(s["min_cosine"] for s in rec["parity"]["splits"].values())
        batch = rec["batch"]
        dla = ""
        if rec.get("dla_core") is not None:
            dla = (f", DLA core {rec['dla_core']}: {len(rec.get('dla_layers', []))} layers on DLA, "
                   f"{len(rec.get('gpu_fallback_layers', []))} on the GPU (listed in manifest.json)")
        sm = str(rec.get("compute_capability")).replace(".", "")
        click.echo(f"  {m:8s} {rec.get('file')} for {rec.get('gpu')} (sm_{sm}, TensorRT {rec.get('tensorrt')}, "
                   f"batch {batch['min']}..{batch['max']}){dla}; parity via {rec['parity']['artifact']}: cos >= "
                   f"{cos:.5f}, usable")
    click.echo(f"next: edgebind bench {b.path} --backend tensorrt --backend onnxruntime")
