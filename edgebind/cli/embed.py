"""``edgebind embed``: files or strings -> ImageBind embeddings in a .npy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from edgebind.cli._bag import bag_input_options, bag_options
from edgebind.cli.link_options import make_units, unit_options


@click.command()
@click.argument("modality", type=click.Choice(["imu", "thermal", "text"]))
@click.argument("inputs", nargs=-1)
@click.option("--checkpoint", type=click.Path(dir_okay=False), help="imagebind_huge.pth, an extract or a student.")
@click.option("--bundle", type=click.Path(file_okay=False), help="An exported bundle directory.")
@click.option("--backend", type=click.Choice(["onnxruntime", "tensorrt", "torch"]), help="Bundle runner.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="ImageBind constructor args, e.g. "
              "imu_num_heads=8.")
@click.option("--preset", help="Preset whose head counts apply when the checkpoint carries no config.")
@click.option("--file", "text_file", type=click.Path(exists=True, dir_okay=False), help="Texts, one per line.")
@click.option("--hop", "hop_s", type=float, help="Seconds between IMU windows cut from a recording [5].")
@click.option("--rate", "rate_hz", type=float, help="Sample rate of a CSV without timestamps.")
@click.option("--calibration", type=click.Path(exists=True, dir_okay=False),
              help="Calibration profile (edgebind calibrate) applied before the input contract.")
@click.option("--unit", is_flag=True, help="Unit vectors instead of ImageBind's scaled output.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Output .npy (N, 1024).")
@unit_options(sensor=False)
@bag_input_options("imu_topic", "thermal_topic", "thermal_unit", "thermal_sensor")
def embed(modality: str, inputs: tuple[str, ...], checkpoint: str | None, bundle: str | None, backend: str | None,
          sets: tuple[str, ...], preset: str | None, text_file: str | None, hop_s: float | None,
          rate_hz: float | None, calibration: str | None, unit: bool, output: str, accel_unit: str, gyro_unit: str,
          **bag: Any) -> None:
    """Embed MODALITY inputs with ImageBind's encoder.

    \b
    imu:     .npy (6, 2000)/(N, 6, 2000) as is; a Recording .npz, bag .mcap or CSV is resampled into 5 s windows
             (a CSV's units are detected as 'edgebind convert' detects them; --accel-unit/--gyro-unit decide)
    thermal: .npy (N, 1, 224, 224) as is; images, .cptv clips, bags, °C arrays are mapped and resized
    text:    strings as arguments, or --file labels.txt

    \b
    Example:
      edgebind embed text "a person walking" "a person cooking" --checkpoint imagebind_huge.pth -o text.npy
    """
    from edgebind.config import parse_overrides
    from edgebind.embed import embed_with_bundle, embed_with_checkpoint, load_inputs
    from edgebind.errors import ConfigError
    from edgebind.paths import find_checkpoint

    if checkpoint and bundle:
        raise ConfigError("pass either --checkpoint or --bundle, not both.")
    overrides = parse_overrides(sets)
    x = load_inputs(modality, inputs, hop_s=hop_s, rate_hz=rate_hz, text_file=text_file, calibration=calibration,
                    bag=bag_options(bag), units=make_units(accel_unit=accel_unit, gyro_unit=gyro_unit))
    from edgebind.cli.progress import progress

    if bundle and sets:
        raise ConfigError("--set applies to checkpoints; a bundle already fixes its config.")
    with progress(f"embedding {len(x)} {modality} inputs", total=len(x)) as bar:
        if bundle:
            emb = embed_with_bundle(modality, x, bundle, backend=backend, unit=unit,
                                    on_batch=lambda done, _: bar.update(done))
            source = bundle
        else:
            ckpt = find_checkpoint(checkpoint)
            emb = embed_with_checkpoint(modality, x, ckpt, overrides, preset=preset, unit=unit,
                                        on_batch=lambda done, _: bar.update(done))
            source = str(ckpt)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    import numpy as np

    np.save(out, emb)
    norms = np.linalg.norm(emb, axis=-1)
    click.echo(f"{out}: {emb.shape[0]} x {emb.shape[1]} {modality} embeddings from {source} "
               f"(norm {norms.mean():.3f}{', unit' if unit else ''})")
