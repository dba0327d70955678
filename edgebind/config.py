"""One frozen config dataclass per encoder, named after ImageBind's hyperparameters, and the preset registry.

Pure Python (no torch), so the CLI can parse ``--set`` and presets without loading a model.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from edgebind.errors import ConfigError, check_known, suggest

MODALITIES = ("imu", "thermal", "text", "vision")


@dataclass(frozen=True)
class _EncoderConfig:
    """Fields every ImageBind trunk shares (SPEC.md §2)."""

    modality: ClassVar[str] = ""
    embed_dim: int = 512
    depth: int = 6
    num_heads: int = 8
    mlp_ratio: float = 4.0
    drop_path: float = 0.0
    out_dim: int = 1024
    add_bias_kv: bool = True
    logit_scale: float = 1.0  # exp(log_logit_scale) at init; the checkpoint's buffer/parameter wins on load

    def __post_init__(self) -> None:
        if self.embed_dim % self.num_heads:
            raise ConfigError(
                f"{self.modality}: embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}; "
                f"set {self.modality}_num_heads to a divisor (e.g. {max(1, self.embed_dim // 64)} for head_dim 64)."
            )
        if self.depth < 1 or self.embed_dim < 1 or self.out_dim < 1:
            raise ConfigError(f"{self.modality}: depth, embed_dim and out_dim must be positive, got {self}.")
        if not 0.0 <= self.drop_path < 1.0:
            raise ConfigError(f"{self.modality}: drop_path must be in [0, 1), got {self.drop_path}.")

    @property
    def mlp_dim(self) -> int:
        return int(self.embed_dim * self.mlp_ratio)

    @property
    def num_tokens(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def tokens_kv(self) -> int:
        """Keys each query attends over: the tokens plus the learned bias_k slot where add_bias_kv is on."""
        return self.num_tokens + int(self.add_bias_kv)

    def to_dict(self) -> dict[str, Any]:
        return {"modality": self.modality, **asdict(self)}

    def flops(self) -> int:
        """Forward FLOPs per sample (2 x MACs), analytic, as SPEC.md §11 counts them."""
        L, D, Lk = self.num_tokens, self.embed_dim, self.tokens_kv
        per_block = 2 * L * D * 3 * D + 2 * L * D * D + 2 * 2 * L * D * self.mlp_dim + 2 * 2 * L * Lk * D
        return self.depth * per_block + self._stem_flops() + 2 * D * self.out_dim

    def _stem_flops(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass(frozen=True)
class ImuEncoderConfig(_EncoderConfig):
    """ImageBind's IMU encoder (SPEC.md §3). Input (B, in_channels, num_samples), accel xyz then gyro xyz."""

    modality: ClassVar[str] = "imu"
    in_channels: int = 6
    num_samples: int = 2000
    patch_size: int = 8  # official builder hard-codes 8 (48 features per token); students may differ
    embed_dim: int = 512
    depth: int = 6
    num_heads: int = 8
    drop_path: float = 0.7
    head_dropout: float = 0.5
    logit_scale: float = 5.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_samples % self.patch_size:
            raise ConfigError(
                f"imu: num_samples {self.num_samples} is not a multiple of patch_size {self.patch_size}."
            )

    @property
    def num_patches(self) -> int:
        return self.num_samples // self.patch_size

    @property
    def num_tokens(self) -> int:
        return self.num_patches + 1

    @property
    def patch_features(self) -> int:
        return self.in_channels * self.patch_size

    def _stem_flops(self) -> int:
        return 2 * self.num_patches * self.patch_features * self.embed_dim


@dataclass(frozen=True)
class ImuStreamConfig(ImuEncoderConfig):
    """A streaming IMU student (docs/students.md, "imu-stream"): per-patch token features, computed once as the
    samples arrive and cached, and a light attention-pooling head over the cache, run every hop.

    One patch is one hop (``patch_size`` samples), so a step costs :meth:`step_flops` whatever the window.
    ``depth`` counts the per-token residual MLP blocks; ``num_queries`` learned queries pool the cache in
    ``rounds`` rounds (later rounds' queries come from the previous round's summary).
    """

    arch: str = "stream"
    patch_size: int = 40
    embed_dim: int = 128
    depth: int = 2
    num_heads: int = 4
    num_queries: int = 4
    rounds: int = 2
    drop_path: float = 0.0
    head_dropout: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.arch != "stream":
            raise ConfigError(f"imu stream config: arch must be 'stream', got {self.arch!r}.")
        if self.num_queries < 1 or self.rounds < 1:
            raise ConfigError(f"imu stream config: num_queries and rounds must be >= 1, got {self.num_queries} and "
                              f"{self.rounds}.")

    @property
    def num_tokens(self) -> int:
        return self.num_patches  # no CLS token: the head's queries pool the cache

    @property
    def state_features(self) -> int:
        """Cached features per token: a key and a value per pooling round."""
        return self.rounds * 2 * self.embed_dim

    def token_flops(self) -> int:
        """FLOPs to turn one new patch into its cached key/value features."""
        D = self.embed_dim
        return 2 * self.patch_features * D + self.depth * 2 * 2 * D * self.mlp_dim + 2 * D * self.state_features

    def head_flops(self) -> int:
        """FLOPs of the pooling head over the cached window (every hop)."""
        D, M, N = self.embed_dim, self.num_queries, self.num_patches
        pool = self.rounds * (2 * M * N * D * 2 + N * D)  # logits + weighted sum, plus the slot value offsets
        queries = (self.rounds - 1) * 2 * M * D * D
        mixes = self.rounds * (2 * M * D * D + 2 * 2 * M * D * self.mlp_dim)  # out-proj + MLP per round
        return pool + queries + mixes + 2 * M * D * self.out_dim

    def step_flops(self) -> int:
        """FLOPs of one hop of ``patch_size`` new samples: one token plus the head."""
        return self.token_flops() + self.head_flops()

    def flops(self) -> int:
        """FLOPs of one whole window from scratch (every token, then the head)."""
        return self.num_patches * self.token_flops() + self.head_flops()


@dataclass(frozen=True)
class ThermalEncoderConfig(_EncoderConfig):
    """ImageBind's thermal encoder (SPEC.md §4). Input (B, 1, img_size, img_size) in [0, 1]."""

    modality: ClassVar[str] = "thermal"
    in_channels: int = 1
    img_size: int = 224
    patch_size: int = 16
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    logit_scale: float = 10.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.img_size % self.patch_size:
            raise ConfigError(f"thermal: img_size {self.img_size} is not a multiple of patch_size {self.patch_size}.")

    @property
    def grid(self) -> int:
        return self.img_size // self.patch_size

    @property
    def num_tokens(self) -> int:
        return self.grid * self.grid + 1

    def _stem_flops(self) -> int:
        return 2 * self.grid * self.grid * self.in_channels * self.patch_size**2 * self.embed_dim


@dataclass(frozen=True)
class TextEncoderConfig(_EncoderConfig):
    """ImageBind's text encoder, the frozen OpenCLIP ViT-H text tower (SPEC.md §5). Input (B, 77) token ids."""

    modality: ClassVar[str] = "text"
    vocab_size: int = 49408
    context_length: int = 77
    embed_dim: int = 1024
    depth: int = 24
    num_heads: int = 16
    add_bias_kv: bool = False
    logit_scale: float = 1 / 0.07  # learnable; the checkpoint holds the trained value

    @property
    def num_tokens(self) -> int:
        return self.context_length

    def _stem_flops(self) -> int:
        return 0


@dataclass(frozen=True)
class VisionEncoderConfig(_EncoderConfig):
    """ImageBind's vision encoder, OpenCLIP ViT-H/14 (SPEC.md §6); a training anchor only."""

    modality: ClassVar[str] = "vision"
    img_size: int = 224
    patch_size: int = 14
    temporal_patch: int = 2  # an image is repeated to 2 frames, then Conv3d (2, 14, 14)
    embed_dim: int = 1280
    depth: int = 32
    num_heads: int = 16
    add_bias_kv: bool = False
    logit_scale: float = 1.0  # vision is normalised only

    @property
    def grid(self) -> int:
        return self.img_size // self.patch_size

    @property
    def num_tokens(self) -> int:
        return self.grid * self.grid + 1

    def _stem_flops(self) -> int:
        return 2 * self.grid * self.grid * 3 * self.temporal_patch * self.patch_size**2 * self.embed_dim


EncoderConfig = ImuEncoderConfig | ThermalEncoderConfig | TextEncoderConfig | VisionEncoderConfig
CONFIG_CLASSES: dict[str, type[EncoderConfig]] = {
    "imu": ImuEncoderConfig,
    "thermal": ThermalEncoderConfig,
    "text": TextEncoderConfig,
    "vision": VisionEncoderConfig,
}

# Named configs (timm-style). Students keep out_dim 1024 so they stay in ImageBind's joint space.
CONFIGS: dict[str, EncoderConfig] = {
    "imagebind_huge_imu": ImuEncoderConfig(),
    "imagebind_huge_thermal": ThermalEncoderConfig(),
    "imagebind_huge_text": TextEncoderConfig(),
    "imagebind_huge_vision": VisionEncoderConfig(),
    # ~0.68 GFLOPs (6.7 % of huge): 20-sample patches (100 tokens), width 256, 4 blocks. 16-sample patches (125
    # tokens, 0.87 GFLOPs) distilled to the same held-out distance to the teacher (docs/students.md).
    "imu-small": ImuEncoderConfig(embed_dim=256, depth=4, num_heads=4, patch_size=20, drop_path=0.1),
    # ~0.14 GFLOPs (1.3 % of huge): the smallest useful IMU student.
    "imu-tiny": ImuEncoderConfig(embed_dim=128, depth=3, num_heads=2, patch_size=20, drop_path=0.0),
    # ~2.1 GFLOPs (6 % of huge): ViT-Tiny-like width 256, 6 blocks.
    "thermal-small": ThermalEncoderConfig(embed_dim=256, depth=6, num_heads=4),
    # Streaming IMU student: 0.1 s patches (40 samples at 400 Hz), one token per hop, width 128 (docs/students.md).
    "imu-stream": ImuStreamConfig(),
    # Test configs (STYLE.md §10): seconds on CPU.
    "tiny_imu": ImuEncoderConfig(embed_dim=32, depth=2, num_heads=2, out_dim=1024, drop_path=0.0),
    "tiny_thermal": ThermalEncoderConfig(embed_dim=32, depth=2, num_heads=2),
    "tiny_text": TextEncoderConfig(embed_dim=32, depth=2, num_heads=2),
    "tiny_vision": VisionEncoderConfig(embed_dim=32, depth=2, num_heads=2),
    "tiny_imu_stream": ImuStreamConfig(embed_dim=32, depth=1, num_heads=2, num_queries=2),
}

# ImageBind constructor argument suffixes -> our field names (`--set imu_num_heads=8`).
IMAGEBIND_ARG_FIELDS = {
    "embed_dim": "embed_dim",
    "num_blocks": "depth",
    "num_heads": "num_heads",
    "drop_path": "drop_path",
    "kernel_size": "patch_size",
}
GLOBAL_ARGS = {"out_embed_dim": "out_dim"}


def get_config(name: str, modality: str | None = None) -> EncoderConfig:
    """Look up a preset. ``imagebind_huge`` with a modality means ``imagebind_huge_<modality>``.

    Raises:
        ConfigError: unknown name (with a suggestion) or a preset of another modality.
    """
    key = name
    if modality and f"{name}_{modality}" in CONFIGS:
        key = f"{name}_{modality}"
    if key not in CONFIGS:
        raise ConfigError(f"unknown preset '{name}'.{suggest(name, CONFIGS)}")
    cfg = CONFIGS[key]
    if modality and cfg.modality != modality:
        raise ConfigError(f"preset '{name}' is a {cfg.modality} encoder, not {modality}.")
    return cfg


def preset_name(config: dict[str, Any]) -> str | None:
    """The preset whose config equals ``config`` (a ``to_dict()``, e.g. from a manifest), or None."""
    for name, cfg in CONFIGS.items():
        if cfg.to_dict() == config:
            return name
    return None


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Parse ``NAME=VALUE`` strings (ImageBind constructor names, e.g. ``imu_num_heads=8``).

    Raises:
        ConfigError: malformed item or unknown name, with the closest known name.
    """
    known = sorted(
        [f"{m}_{a}" for m in MODALITIES for a in IMAGEBIND_ARG_FIELDS]
        + list(GLOBAL_ARGS)
        + [f"{m}_{f.name}" for m, c in CONFIG_CLASSES.items() for f in dataclasses.fields(c)]
    )
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set expects NAME=VALUE, got '{item}' (e.g. --set imu_num_heads=8).")
        name, raw = item.split("=", 1)
        name = name.strip()
        if name not in known:
            raise ConfigError(f"unknown --set name '{name}'.{suggest(name, known)}")
        out[name] = _parse_value(raw.strip())
    return out


def _parse_value(raw: str) -> Any:
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def overrides_for(modality: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Field values for one modality from parsed ``--set`` overrides."""
    fields = {f.name for f in dataclasses.fields(CONFIG_CLASSES[modality])}
    out: dict[str, Any] = {}
    for name, value in overrides.items():
        if name in GLOBAL_ARGS:
            out[GLOBAL_ARGS[name]] = value
        elif name.startswith(modality + "_"):
            suffix = name[len(modality) + 1 :]
            field_name = IMAGEBIND_ARG_FIELDS.get(suffix, suffix)
            if field_name in fields:
                out[field_name] = value
    return out


def config_from_dict(d: dict[str, Any]) -> EncoderConfig:
    """Rebuild a config from :meth:`to_dict` output (our checkpoints and bundles embed it)."""
    d = dict(d)
    modality = d.pop("modality", None)
    if modality not in CONFIG_CLASSES:
        raise ConfigError(f"config has unknown modality {modality!r}; expected one of {MODALITIES}.")
    cls: type[EncoderConfig] = CONFIG_CLASSES[modality]
    if modality == "imu" and d.get("arch") == "stream":
        cls = ImuStreamConfig
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ConfigError(f"{modality} config has unknown fields {sorted(unknown)}; written by a newer edgebind?")
    return cls(**d)


def replace(cfg: EncoderConfig, **changes: Any) -> EncoderConfig:
    """``dataclasses.replace`` with a clear error for unknown fields."""
    check_known(f"{cfg.modality} config field", changes, (f.name for f in dataclasses.fields(cfg)))
    return dataclasses.replace(cfg, **changes)


def gflops(cfg: EncoderConfig) -> float:
    return cfg.flops() / 1e9


def heads_guess(embed_dim: int) -> int:
    """Head count for a width no preset knows: ImageBind uses head_dim 64 throughout."""
    return max(1, embed_dim // 64) if embed_dim % 64 == 0 else math.gcd(embed_dim, 8)


__all__ = [
    "CONFIGS",
    "MODALITIES",
    "EncoderConfig",
    "ImuEncoderConfig",
    "ImuStreamConfig",
    "TextEncoderConfig",
    "ThermalEncoderConfig",
    "VisionEncoderConfig",
    "config_from_dict",
    "get_config",
    "parse_overrides",
    "preset_name",
    "replace",
]
