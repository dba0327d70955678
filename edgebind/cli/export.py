"""``edgebind export``: encoders -> a Bundle (ONNX fp32/fp16/int8, TensorRT engine or recipe, parity report)."""

from __future__ import annotations

import click

from edgebind.export.targets import TARGETS


@click.command()
@click.option("--target", default="jetson", show_default=True, type=click.Choice(list(TARGETS)),
              help="Device the bundle is for (sets formats, precisions, DLA, batch profile).")
@click.option("--fp16", is_flag=True, help="fp16 weights and matmuls; LayerNorm/Softmax kept fp32.")
@click.option("--int8", is_flag=True, help="int8 QDQ, calibrated on --calibration data.")
@click.option("--checkpoint", type=click.Path(dir_okay=False), help="imagebind_huge.pth, an extract or a student "
              "[$EDGEBIND_CHECKPOINT, else .checkpoints/imagebind_huge.pth].")
@click.option("--random-init", is_flag=True, help="Random weights of --preset (latency tests; marked in the manifest).")
@click.option("--preset", help="Config preset: imagebind_huge (default), tiny, imu-small, thermal-small ...")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="ImageBind constructor args, e.g. "
              "imu_num_heads=8.")
@click.option("--modalities", default="imu,thermal", show_default=True, help="Encoders to export: imu, thermal, text.")
@click.option("--format", "fmt", type=click.Choice(["onnx", "tensorrt"]), help="Artifact format [target's default].")
@click.option("--calibration", multiple=True, type=click.Path(dir_okay=False), metavar="REC.npz",
              help="int8 calibration data: a Recording or a calib.npz (repeat for one file per modality).")
@click.option("--calibration-method", default="minmax", show_default=True,
              type=click.Choice(["minmax", "entropy", "percentile"]), help="int8 activation range estimator.")
@click.option("--labels", type=click.Path(dir_okay=False), help="labels.txt (embedded with the checkpoint's text "
              "encoder) or a prebuilt labels.npz.")
@click.option("--text-encoder", is_flag=True, help="Also ship ImageBind's text encoder (ONNX fp16 where the target "
              "runs fp16, else fp32) and its tokenizer, so 'stream --labels' embeds new labels on the device.")
@click.option("--dla-core", type=int, help="TensorRT DLA core (jetson-orin-nx, jetson-orin-nx-16gb, "
              "jetson-agx-orin; --fp16 or --int8).")
@click.option("--dla-batch", default=1, show_default=True, help="Static batch of a DLA engine (DLA has no dynamic "
              "shapes).")
@click.option("--tolerance", "tolerances", multiple=True, metavar="NAME=VALUE",
              help="Loosen a parity threshold, e.g. min_cosine=0.97 (see the error of a failed export).")
@click.option("--opset", default=18, show_default=True, help="ONNX opset (>= 17).")
@click.option("-o", "--output", type=click.Path(file_okay=False), help="Bundle folder "
              "[out/<modalities>-<target>-<precision>].")
def export(target: str, fp16: bool, int8: bool, checkpoint: str | None, random_init: bool, preset: str | None,
           sets: tuple[str, ...], modalities: str, fmt: str | None, calibration: tuple[str, ...],
           calibration_method: str, labels: str | None, text_encoder: bool, dla_core: int | None, dla_batch: int,
           tolerances: tuple[str, ...], opset: int, output: str | None) -> None:
    """Export encoders to a bundle a device can run, and measure its parity.

    \b
    Example:
      edgebind export --target jetson --fp16
      edgebind export --target cpu --int8 --calibration walk.npz --labels labels.txt -o out/imu-int8
      edgebind export --target jetson --fp16 --labels labels.txt --text-encoder
    """
    from edgebind.config import parse_overrides
    from edgebind.errors import ConfigError
    from edgebind.export import export_bundle

    if fp16 and int8:
        raise ConfigError("pass either --fp16 or --int8, not both (an int8 bundle's QDQ ONNX already says which "
                          "tensors are int8).")
    tol: dict[str, float] = {}
    for item in tolerances:
        name, sep, value = item.partition("=")
        try:
            tol[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ConfigError(f"--tolerance expects NAME=NUMBER, got '{item}' (e.g. --tolerance min_cosine=0.97).")
    precision = "fp16" if fp16 else "int8" if int8 else "fp32"
    from edgebind.cli.progress import progress

    with progress("exporting") as bar:
        bundle = export_bundle(
            output, target=target, precision=precision, modalities=modalities, checkpoint=checkpoint,
            random_init=random_init, preset=preset, overrides=parse_overrides(sets), calibration=calibration or None,
            calibration_method=calibration_method, labels=labels, fmt=fmt, dla_core=dla_core, dla_batch=dla_batch,
            tolerance=tol or None, opset=opset, text_encoder=text_encoder, on_stage=bar.stage)
    click.echo(f"bundle {bundle.path} ({bundle.target}, {bundle.format}, {bundle.precision}"
               f"{', RANDOM WEIGHTS' if bundle.random_init else ''})")
    for m, e in bundle.encoders.items():
        figs = e.parity["splits"]
        parts = [f"{k}: cos >= {f['min_cosine']:.7f}, max|d| {f['max_abs']:.2g}"
                 + ("" if f["top1_agreement"] is None else f", top-1 {f['top1_agreement']:.0%}")
                 for k, f in figs.items()]
        own = "" if e.precision == bundle.precision else f" ({e.precision})"
        click.echo(f"  {m:8s} {e.file + own:14s} parity vs PyTorch fp32 [{'; '.join(parts)}]")
    if bundle.labels:
        click.echo(f"  labels   {bundle.labels['file']:14s} {len(bundle.labels['names'])} labels")
    trt = bundle.tensorrt
    if trt and not trt.get("built_here"):
        click.echo(f"  tensorrt {trt['script']:14s} recipe only ({trt.get('why_not')})")
        click.echo(f"next: copy {bundle.path} to the device and run: edgebind build-engine {bundle.path}")
    else:
        port = "/dev/ttyACM0"
        flag = " --allow-random-init" if bundle.random_init else ""
        label_flag = "" if bundle.labels else " --labels labels.txt"
        click.echo(f"next: edgebind stream {port} --bundle {bundle.path}{label_flag}{flag}   "
                   f"(or: edgebind bench {bundle.path})")
