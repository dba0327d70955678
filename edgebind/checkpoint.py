"""Official ImageBind state dicts <-> edgebind encoders: strict, shape-checked, total (STYLE.md §3).

Every checkpoint edgebind reads or writes uses the official flat key layout (``modality_trunks.imu.blocks.0...``),
so a cut-down file or a distilled student is still an ImageBind-layout state dict. Ours also carry their configs:
safetensors metadata ``edgebind_configs`` (JSON), or ``{"configs": ..., "state_dict": ...}`` in a torch file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from edgebind import __version__
from edgebind.config import (
    CONFIG_CLASSES,
    MODALITIES,
    EncoderConfig,
    ImuStreamConfig,
    config_from_dict,
    get_config,
    heads_guess,
    overrides_for,
    replace,
)
from edgebind.errors import CheckpointError, ConfigError
from edgebind.models import Encoder, build_encoder

log = logging.getLogger(__name__)

# Official prefix -> our module prefix, per modality. Longest prefix wins; every key must match one row.
KEY_TABLE: dict[str, list[tuple[str, str]]] = {
    "imu": [
        ("modality_preprocessors.imu.pos_embed", "pos_embed"),
        ("modality_preprocessors.imu.cls_token", "cls_token"),
        ("modality_preprocessors.imu.imu_stem.proj.", "stem.proj."),
        ("modality_preprocessors.imu.imu_stem.norm_layer.", "stem.norm."),
        ("modality_trunks.imu.blocks.", "trunk.blocks."),
        ("modality_trunks.imu.stream.", "stream."),  # the streaming student's own modules (imu-stream)
        ("modality_heads.imu.0.", "head.norm."),  # [0 LN, 1 select CLS, 2 Dropout, 3 Linear]
        ("modality_heads.imu.3.", "head.proj."),
        ("modality_postprocessors.imu.1.log_logit_scale", "log_logit_scale"),
    ],
    "thermal": [
        ("modality_preprocessors.thermal.cls_token", "cls_token"),
        ("modality_preprocessors.thermal.rgbt_stem.proj.", "stem.proj."),  # the stem is called rgbt_stem
        ("modality_preprocessors.thermal.rgbt_stem.norm_layer.", "stem.norm."),
        ("modality_preprocessors.thermal.pos_embedding_helper.pos_embed", "pos_embed"),
        ("modality_trunks.thermal.blocks.", "trunk.blocks."),
        ("modality_heads.thermal.0.", "head.norm."),  # [0 LN, 1 select CLS, 2 Linear]
        ("modality_heads.thermal.2.", "head.proj."),
        ("modality_postprocessors.thermal.1.log_logit_scale", "log_logit_scale"),
    ],
    "text": [
        ("modality_preprocessors.text.pos_embed", "pos_embed"),
        ("modality_preprocessors.text.mask", "mask"),
        ("modality_preprocessors.text.token_embedding.", "token_embedding."),
        ("modality_trunks.text.blocks.", "trunk.blocks."),
        ("modality_heads.text.proj.0.", "head.norm."),  # SelectEOSAndProject: proj = [0 LN, 1 Linear]
        ("modality_heads.text.proj.1.", "head.proj."),
        ("modality_postprocessors.text.1.log_logit_scale", "log_logit_scale"),  # an nn.Parameter
    ],
    "vision": [
        ("modality_preprocessors.vision.cls_token", "cls_token"),
        ("modality_preprocessors.vision.rgbt_stem.proj.1.", "stem."),  # [0 PadIm2Video, 1 Conv3d]
        ("modality_preprocessors.vision.pos_embedding_helper.pos_embed", "pos_embed"),
        ("modality_trunks.vision.pre_transformer_layer.0.", "trunk.pre_norm."),
        ("modality_trunks.vision.blocks.", "trunk.blocks."),
        ("modality_heads.vision.0.", "head.norm."),  # [0 LN, 1 select CLS, 2 Linear]
        ("modality_heads.vision.2.", "head.proj."),
    ],
}


def official_to_ours(modality: str, key: str) -> str | None:
    """Our parameter name for an official key, or None if the key is not part of ``modality``."""
    best: tuple[str, str] | None = None
    for off, ours in KEY_TABLE[modality]:
        if (key == off or (off.endswith(".") and key.startswith(off))) and (best is None or len(off) > len(best[0])):
            best = (off, ours)
    return None if best is None else best[1] + key[len(best[0]) :]


def ours_to_official(modality: str, key: str) -> str:
    """The official key for one of our parameter names (the inverse of :func:`official_to_ours`)."""
    for off, ours in KEY_TABLE[modality]:
        if key == ours or (ours.endswith(".") and key.startswith(ours)):
            return off + key[len(ours) :]
    raise CheckpointError(f"{modality} parameter '{key}' has no official name; KEY_TABLE is incomplete.")


def modality_of(key: str) -> str | None:
    """``modality_trunks.imu.blocks...`` -> ``imu`` (None for keys that are not ImageBind branch keys)."""
    parts = key.split(".")
    return parts[1] if len(parts) > 2 and parts[0].startswith("modality_") else None


@dataclass
class Checkpoint:
    """A loaded checkpoint: official-layout tensors plus what we know about them."""

    path: Path
    state_dict: dict[str, torch.Tensor]
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # embedded configs (our checkpoints)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def modalities(self) -> list[str]:
        found = {modality_of(k) for k in self.state_dict}
        return [m for m in (*MODALITIES, "audio", "depth") if m in found]

    def subset(self, modality: str) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict.items() if modality_of(k) == modality}


def _read_torch(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as exc:
        if "mmap" not in str(exc).lower():
            raise
        # legacy (non-zip) torch files cannot be memory-mapped
        return torch.load(path, map_location="cpu", weights_only=True)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read an official ``.pth``, an edgebind ``.pt`` or a ``.safetensors`` file without executing pickled code.

    Torch files are opened with ``weights_only=True, mmap=True``, so the 4.5 GB official file is paged in lazily.

    Raises:
        CheckpointError: missing, truncated, corrupt, unsafe, or not a state dict; the message says what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; pass --checkpoint PATH or set EDGEBIND_CHECKPOINT.")
    size = path.stat().st_size
    from edgebind.filekind import sniff

    other = sniff(path)
    if other is not None:
        raise CheckpointError(f"{other.sentence(path)} Pass ImageBind's imagebind_huge.pth, an extract or a student.")
    if path.suffix == ".safetensors":
        return _load_safetensors(path, size)
    try:
        obj = _read_torch(path)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{path} contains pickled Python objects that edgebind will not execute (weights_only=True): "
            f"{str(exc).splitlines()[0][:160]}. Re-save only tensors: torch.save(model.state_dict(), path)."
        ) from exc
    # a text or empty file reaches torch's legacy (pre-zip) reader, which fails with KeyError/IndexError and the like
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError, IndexError, TypeError,
            AttributeError, UnicodeDecodeError) as exc:
        reason = (str(exc).splitlines() or [""])[0][:160]
        if not isinstance(exc, (RuntimeError, OSError, ValueError)):  # KeyError: 101 alone says nothing
            reason = f"{type(exc).__name__} {reason}".strip()
        raise CheckpointError(
            f"cannot read {path} ({size:,} bytes) as a checkpoint: {reason}. The file is truncated or "
            "corrupt; download it again (imagebind_huge.pth is about 4.5 GB)."
        ) from exc
    configs: dict[str, dict[str, Any]] = {}
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        configs = dict(obj.get("configs") or {})
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(
            f"{path} holds a {type(obj).__name__}, not a state dict of tensors; pass ImageBind's imagebind_huge.pth "
            "or a file written by edgebind."
        )
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(
            f"{path} is a dict but not a state dict: entry {bad[0]!r} is not a tensor ({len(bad)} such entries); "
            "pass ImageBind's imagebind_huge.pth or a file written by edgebind."
        )
    return Checkpoint(path, dict(obj), configs)


def _load_safetensors(path: Path, size: int) -> Checkpoint:
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
        state_dict = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"cannot read {path} ({size:,} bytes): {exc}. The file is truncated or corrupt; extract it again with "
            "'edgebind extract'."
        ) from exc
    configs = json.loads(metadata.get("edgebind_configs", "{}"))
    return Checkpoint(path, state_dict, configs, metadata)


def infer_config(
    state_dict: Mapping[str, torch.Tensor],
    modality: str,
    preset: EncoderConfig | None = None,
    overrides: Mapping[str, Any] | None = None,
    strict: bool = True,
) -> EncoderConfig:
    """Read widths, depths and sizes off the tensors; take head counts from ``preset`` or ``overrides``.

    Args:
        state_dict: official-layout tensors (other modalities are ignored).
        modality: ``imu``, ``thermal``, ``text`` or ``vision``.
        preset: the config whose non-shape fields (heads, drop-path) apply; defaults to ``imagebind_huge``.
        overrides: parsed ``--set`` values (``imu_num_heads`` ...).
        strict: refuse when the head count is neither stored, nor the preset's width, nor overridden; otherwise
            (``edgebind info``, which only shows shapes) fill in ImageBind's head_dim-64 value.

    Raises:
        CheckpointError: the modality is absent. ConfigError: an override contradicts the tensors, or (``strict``)
            the head count is unknown.
    """
    sd = {official_to_ours(modality, k): v for k, v in state_dict.items() if modality_of(k) == modality}
    if not sd:
        raise CheckpointError(f"no {modality} weights in the checkpoint.")
    base = preset or get_config("imagebind_huge", modality)
    blocks = {int(m.group(1)) for k in sd if k and (m := re.match(r"trunk\.blocks\.(\d+)\.", k))}
    try:
        fc1 = sd["trunk.blocks.0.mlp.fc1.weight"]
        shape: dict[str, Any] = {
            "depth": max(blocks) + 1,
            "mlp_ratio": fc1.shape[0] / fc1.shape[1],
            "out_dim": sd["head.proj.weight"].shape[0],
            "add_bias_kv": "trunk.blocks.0.attn.bias_k" in sd,
        }
        if modality == "imu":
            w = sd["stem.proj.weight"]  # (D, C*P)
            patch = w.shape[1] // base.in_channels  # type: ignore[union-attr]
            shape |= {"embed_dim": w.shape[0], "patch_size": patch,
                      "num_samples": (sd["pos_embed"].shape[1] - 1) * patch}
        elif modality == "thermal":
            w = sd["stem.proj.weight"]  # (D, C, P, P)
            grid = round((sd["pos_embed"].shape[1] - 1) ** 0.5)
            shape |= {"embed_dim": w.shape[0], "in_channels": w.shape[1], "patch_size": w.shape[2],
                      "img_size": grid * w.shape[2]}
        elif modality == "text":
            w = sd["token_embedding.weight"]  # (V, D)
            shape |= {"embed_dim": w.shape[1], "vocab_size": w.shape[0], "context_length": sd["pos_embed"].shape[1]}
        else:
            w = sd["stem.weight"]  # (D, 3, T, P, P)
            grid = round((sd["pos_embed"].shape[1] - 1) ** 0.5)
            shape |= {"embed_dim": w.shape[0], "temporal_patch": w.shape[2], "patch_size": w.shape[3],
                      "img_size": grid * w.shape[3]}
    except KeyError as exc:
        raise CheckpointError(
            f"{modality} weights are incomplete: {exc.args[0]} is missing; the checkpoint is not ImageBind-layout."
        ) from exc
    if "log_logit_scale" in sd:
        shape["logit_scale"] = float(sd["log_logit_scale"].float().exp())
    user = overrides_for(modality, dict(overrides or {}))
    fields: dict[str, Any] = {}
    for name, value in user.items():
        if name in shape and name != "logit_scale" and shape[name] != value:
            raise ConfigError(
                f"--set {modality}_{name}={value} contradicts the checkpoint, whose tensors say {shape[name]}; "
                "drop the override."
            )
        fields[name] = value
    if shape["embed_dim"] != base.embed_dim and "num_heads" not in user:
        # head counts are not in the tensors (SPEC.md §10); a guess changes every output, so refuse it
        if strict:
            raise ConfigError(
                f"the {modality} head count is not stored in the checkpoint and its width {shape['embed_dim']} is not "
                f"the preset's {base.embed_dim}: pass --set {modality}_num_heads=N with the model's own value (a wrong "
                "count loads without error but changes every output).")
        fields["num_heads"] = heads_guess(shape["embed_dim"])
    return replace(base, **(shape | fields))


def encoder_from_state_dict(state_dict: Mapping[str, torch.Tensor], cfg: EncoderConfig) -> Encoder:
    """Build ``cfg``'s encoder and copy the official-layout tensors in, with zero missing and unexpected keys.

    Raises:
        CheckpointError: listing the first missing/unexpected keys and shape mismatches, with the likely cause.
    """
    modality = cfg.modality
    model = build_encoder(cfg)
    own = model.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []
    mismatched: dict[str, str] = {}  # our key -> description
    for key, tensor in state_dict.items():
        if modality_of(key) != modality:
            continue
        ours = official_to_ours(modality, key)
        if ours is None or ours not in own:
            unexpected.append(key)
        elif tuple(own[ours].shape) != tuple(tensor.shape):
            mismatched[ours] = f"{key} {tuple(tensor.shape)} vs model {tuple(own[ours].shape)}"
        else:
            mapped[ours] = tensor
    missing = [ours_to_official(modality, k) for k in own if k not in mapped and k not in mismatched]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
        if mismatched:
            parts.append(f"{len(mismatched)} with other shapes (e.g. {'; '.join(list(mismatched.values())[:2])})")
        raise CheckpointError(
            f"{modality} weights do not fit the {modality} config: {'; '.join(parts)}. Likely cause: the config "
            f"(depth {cfg.depth}, width {cfg.embed_dim}) is not the checkpoint's; let edgebind read it from the "
            "file instead of forcing a preset, or check --set values."
        )
    with torch.no_grad():
        model.load_state_dict(mapped, strict=True)
    return model.eval()


def load_encoder(
    path: str | Path | Checkpoint,
    modality: str,
    preset: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Encoder:
    """Load one modality's encoder from any checkpoint edgebind reads.

    Args:
        path: ``imagebind_huge.pth``, an extracted ``.safetensors``, a student, or an already loaded Checkpoint.
        modality: which branch to build.
        preset: name of a preset whose heads/drop-path apply when the file carries no config.
        overrides: parsed ``--set`` values.

    Raises:
        CheckpointError: unreadable file or absent modality (naming the modalities it does hold).
    """
    ckpt = path if isinstance(path, Checkpoint) else load_checkpoint(path)
    if modality not in CONFIG_CLASSES:
        raise ConfigError(f"unknown modality '{modality}'; choose one of {', '.join(MODALITIES)}.")
    sub = ckpt.subset(modality)
    if not sub:
        held = ", ".join(ckpt.modalities) or "no ImageBind branches"
        raise CheckpointError(
            f"{ckpt.path} has no {modality} weights (it holds {held}); use a checkpoint with that modality, e.g. "
            f"'edgebind extract imagebind_huge.pth --modalities {modality} -o out.safetensors'."
        )
    if modality in ckpt.configs:
        base = config_from_dict(ckpt.configs[modality])
    else:
        base = get_config(preset or "imagebind_huge", modality)
    if isinstance(base, ImuStreamConfig):  # not ImageBind's layout: the embedded config is the whole truth
        return encoder_from_state_dict(sub, base)
    cfg = infer_config(sub, modality, base, overrides)
    return encoder_from_state_dict(sub, cfg)


def encoder_state_dict(model: Encoder) -> dict[str, torch.Tensor]:
    """The encoder's tensors under their official ImageBind keys."""
    return {ours_to_official(model.modality, k): v for k, v in model.state_dict().items()}


def save_checkpoint(
    models: Encoder | list[Encoder], path: str | Path, metadata: Mapping[str, str] | None = None
) -> Path:
    """Write encoders in the official layout with their configs embedded (``.safetensors`` or torch ``.pt``)."""
    path = Path(path)
    models = [models] if isinstance(models, Encoder) else list(models)
    tensors: dict[str, torch.Tensor] = {}
    configs: dict[str, dict[str, Any]] = {}
    for m in models:
        tensors |= {k: v.detach().contiguous().cpu() for k, v in encoder_state_dict(m).items()}
        configs[m.modality] = m.cfg.to_dict()  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        meta = {"edgebind_version": __version__, "edgebind_configs": json.dumps(configs), **(metadata or {})}
        save_file(tensors, str(path), metadata=meta)
    else:
        torch.save({"configs": configs, "state_dict": tensors, "edgebind_version": __version__,
                    "metadata": dict(metadata or {})}, path)
    return path


DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def extract(
    src: str | Path, modalities: list[str], out: str | Path, dtype: str = "fp32"
) -> tuple[Path, dict[str, int]]:
    """Cut an official checkpoint down to ``modalities`` and write it as safetensors (official key names).

    Returns:
        The output path and the tensor count per modality.

    Raises:
        CheckpointError: a requested modality is absent. ConfigError: unknown dtype.
    """
    if dtype not in DTYPES:
        raise ConfigError(f"unknown dtype '{dtype}'; choose one of {', '.join(DTYPES)}.")
    ckpt = load_checkpoint(src)
    counts: dict[str, int] = {}
    tensors: dict[str, torch.Tensor] = {}
    for m in modalities:
        sub = ckpt.subset(m)
        if not sub:
            raise CheckpointError(f"{src} has no {m} weights (it holds {', '.join(ckpt.modalities)}).")
        counts[m] = len(sub)
        for k, v in sub.items():
            # the causal mask holds -inf and the log scales are tiny: keep non-float-weights exact in fp32
            keep = v.dim() == 0 or k.endswith(".mask")
            tensors[k] = (v if keep else v.to(DTYPES[dtype])).contiguous()
    from safetensors.torch import save_file

    configs = {m: ckpt.configs[m] for m in modalities if m in ckpt.configs}
    meta = {
        "edgebind_version": __version__,
        "source": Path(src).name,
        "source_sha256": file_sha256(src),
        "dtype": dtype,
        "edgebind_configs": json.dumps(configs),
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata=meta)
    return out, counts


def file_sha256(path: str | Path, chunk: int = 1 << 22) -> str:
    """sha256 of a file, cached by (path, size, mtime) so a 4.5 GB checkpoint is hashed once."""
    from edgebind.paths import cache_dir

    p = Path(path).resolve()
    st = p.stat()
    key = hashlib.sha256(f"{p}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:32]
    cached = cache_dir() / "sha256" / key
    if cached.is_file():
        return cached.read_text().strip()
    h = hashlib.sha256()
    with p.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}")
    tmp.write_text(h.hexdigest())
    tmp.replace(cached)
    return h.hexdigest()
