"""``edgebind extract``: cut the official checkpoint down to the modalities a device needs."""

from __future__ import annotations

import click


@click.command()
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("--modalities", default="imu,thermal,text", show_default=True, help="Comma-separated branches.")
@click.option("--dtype", type=click.Choice(["fp32", "fp16", "bf16"]), default="fp32", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Output .safetensors.")
def extract(checkpoint: str, modalities: str, dtype: str, output: str) -> None:
    """Write only MODALITIES of CHECKPOINT to a safetensors file (official key names kept).

    \b
    Example:
      edgebind extract .checkpoints/imagebind_huge.pth --modalities imu,thermal --dtype fp16 -o edge.safetensors
    """
    from pathlib import Path

    from edgebind.checkpoint import extract as extract_checkpoint
    from edgebind.config import MODALITIES
    from edgebind.errors import ConfigError, suggest

    names = [m.strip() for m in modalities.split(",") if m.strip()]
    for m in names:
        if m not in MODALITIES:
            raise ConfigError(f"unknown modality '{m}'.{suggest(m, MODALITIES)}")
    out, counts = extract_checkpoint(checkpoint, names, output, dtype)
    size_mb = Path(out).stat().st_size / 1e6
    detail = ", ".join(f"{m} {n} tensors" for m, n in counts.items())
    click.echo(f"{out}: {detail}, {dtype}, {size_mb:.1f} MB")
    click.echo(f"next: edgebind info {out}")
