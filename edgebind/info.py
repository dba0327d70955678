"""``edgebind info``'s Python API: what a checkpoint or bundle holds."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from edgebind.bundle import Bundle
from edgebind.errors import EdgebindError

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".safetensors", ".ckpt", ".bin")


def describe_checkpoint(path: str | Path, hash_file: bool = True) -> dict[str, Any]:
    """Modalities, configs as read off the tensors, parameter counts, dtypes and the file's sha256.

    Head counts cannot be read off tensors (SPEC.md §10): they come from the embedded config, else the preset.
    """
    from edgebind.checkpoint import file_sha256, infer_config, load_checkpoint
    from edgebind.config import CONFIG_CLASSES, config_from_dict, get_config

    ckpt = load_checkpoint(path)
    p = Path(path)
    out: dict[str, Any] = {
        "path": str(p),
        "kind": "checkpoint",
        "size_bytes": p.stat().st_size,
        "tensors": len(ckpt.state_dict),
        "modalities": {},
        "metadata": {k: v for k, v in ckpt.metadata.items() if k != "edgebind_configs"},
    }
    if hash_file:
        out["sha256"] = file_sha256(p)
    for m in ckpt.modalities:
        sub = ckpt.subset(m)
        info: dict[str, Any] = {
            "tensors": len(sub),
            "parameters": sum(v.numel() for k, v in sub.items() if not k.endswith(".mask")),
            "dtypes": dict(Counter(str(v.dtype).replace("torch.", "") for v in sub.values())),
        }
        if m in CONFIG_CLASSES:
            embedded = m in ckpt.configs
            base = config_from_dict(ckpt.configs[m]) if embedded else get_config("imagebind_huge", m)
            cfg = infer_config(sub, m, base, strict=False)
            info["config"] = cfg.to_dict()
            info["heads_from"] = "embedded config" if embedded else (
                "imagebind_huge preset" if cfg.embed_dim == base.embed_dim else "unknown")
            if info["heads_from"] == "unknown":  # not stored: loading refuses it without --set
                info["config"]["num_heads"] = None
            info["gflops"] = round(cfg.flops() / 1e9, 3)
        else:
            info["note"] = "branch not used by edgebind"
        out["modalities"][m] = info
    return out


def describe_bundle(path: str | Path) -> dict[str, Any]:
    """The bundle's manifest, with the sizes of its files."""
    p = Path(path)
    where = p / "manifest.json"
    Bundle.from_json(where.read_text(errors="replace"), str(where))  # a manifest that is not one: one-line BundleError
    manifest = json.loads(where.read_text())
    files = {f.name: f.stat().st_size for f in sorted(p.iterdir()) if f.is_file()}
    return {"path": str(p), "kind": "bundle", "files": files, "manifest": manifest}


def describe(path: str | Path, hash_file: bool = True) -> dict[str, Any]:
    """Describe a checkpoint file or a bundle directory; any other file gets its kind (Recording, bag, text...).

    Raises:
        EdgebindError: the path is neither.
    """
    p = Path(path)
    if p.is_dir():
        if not (p / "manifest.json").is_file():
            raise EdgebindError(f"{p} is a directory without manifest.json: not a bundle. Pass a bundle or a "
                                "checkpoint file.")
        return describe_bundle(p)
    from edgebind.filekind import sniff

    other = sniff(p)  # before torch: a Recording or a README needs no checkpoint reader
    if other is not None and p.suffix.lower() not in CHECKPOINT_SUFFIXES:  # a broken .pth is an error, below
        return {"path": str(p), "kind": other.kind, "detail": other.detail, "reads_it": other.reads_it,
                "checkpoint": False, "summary": other.sentence(p)}
    return describe_checkpoint(p, hash_file=hash_file)
