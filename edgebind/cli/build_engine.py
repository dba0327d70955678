"""``edgebind build-engine``: build a bundle's TensorRT engines on the device itself, then check their parity."""

from __future__ import annotations

import click


@click.command("build-engine")
@click.argument("bundle", type=click.Path(file_okay=False), required=False)
@click.option("--dla-core", type=int, help="Build for this DLA core (overrides the bundle's recipe).")
@click.option("--trtexec", "use_trtexec", is_flag=True, help="Run the recorded trtexec commands even where the "
              "tensorrt Python package imports.")
def build_engine(bundle: str | None, dla_core: int | None, use_trtexec: bool) -> None:
    """Build BUNDLE's TensorRT engines here (GPU- and TensorRT-version specific) and record them in its manifest.

    \b
    Example (on the Jetson, after copying the bundle over):
      edgebind build-engine out/imu-thermal-jetson-fp16
    """
    from edgebind.export.engine import build_bundle_engines
    from edgebind.paths import find_bundle

    b = build_bundle_engines(find_bundle(bundle), dla_core=dla_core, use_trtexec=use_trtexec)
    for m, e in b.encoders.items():
        rec = e.engine or {}
        parity = rec.get("parity")
        fig = "parity not measured (needs tensorrt + torch CUDA)" if not parity else (
            f"cos >= {min(s['min_cosine'] for s in parity['splits'].values()):.5f}")
        fallback = rec.get("dla_fallback_layers")
        dla = f", {len(fallback)} layers fall back from DLA to GPU" if fallback else ""
        sm = str(rec.get("compute_capability")).replace(".", "")
        click.echo(f"  {m:8s} {rec.get('file')} for {rec.get('gpu')} (sm_{sm}, TensorRT {rec.get('tensorrt')}){dla}; "
                   f"{fig}")
    click.echo(f"next: edgebind bench {b.path} --backend tensorrt --backend onnxruntime")
