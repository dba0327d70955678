"""``edgebind info``: what a checkpoint or bundle holds."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--no-hash", is_flag=True, help="Skip the sha256 of a large checkpoint.")
def info(path: str, as_json: bool, no_hash: bool) -> None:
    """Show the modalities, configs, parameter counts, dtypes and hashes in PATH (checkpoint or bundle).

    \b
    Example:
      edgebind info .checkpoints/imagebind_huge.pth
    """
    from edgebind.info import describe

    d = describe(path, hash_file=not no_hash)
    if as_json:
        click.echo(json.dumps(d, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if d.get("checkpoint") is False:  # a Recording, bag, calibration set, text file...
        console.print(d["summary"], soft_wrap=True)
        return
    if d["kind"] == "bundle":
        console.print(f"[bold]bundle[/] {d['path']}")
        m = d["manifest"]
        for key in ("schema_version", "target", "precision", "random_init", "source_checkpoint_sha256"):
            if key in m:
                console.print(f"  {key}: {m[key]}")
        for name, size in d["files"].items():
            console.print(f"  {name}  {size / 1e6:.2f} MB")
        return
    console.print(f"[bold]checkpoint[/] {d['path']}  {d['size_bytes'] / 1e6:.1f} MB, {d['tensors']} tensors")
    if "sha256" in d:
        console.print(f"  sha256 {d['sha256']}")
    table = Table("modality", "params", "dtypes", "width", "depth", "heads", "out", "GFLOPs")
    guessed = False
    for m, i in d["modalities"].items():
        c = i.get("config", {})
        unknown = i.get("heads_from") == "unknown"
        guessed = guessed or unknown
        dtypes = ", ".join(f"{k.replace('float', 'fp')}x{v}" for k, v in i["dtypes"].items())
        table.add_row(m, f"{i['parameters'] / 1e6:.2f} M", dtypes, str(c.get("embed_dim", "")),
                      str(c.get("depth", "")), "?" if unknown else str(c.get("num_heads", "")),
                      str(c.get("out_dim", "")), str(i.get("gflops", "")))
    console.print(table)
    if guessed:
        console.print("? head count not stored in the file (the tensors do not hold it): loading it needs the "
                      "model's value, e.g. 'edgebind embed ... --set imu_num_heads=N' (export and stream take --set "
                      "too)")
