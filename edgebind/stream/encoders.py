"""The models a stream runs: a Bundle's runners (ONNX Runtime, TensorRT, torch) or a checkpoint's torch encoders.

Both give the same thing to the pipeline: per modality an ``embed`` function ((N, ...) -> (N, out_dim) float32),
its input contract and logit scale, plus the label bank shipped with the bundle and a text embedder where one exists.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgebind.errors import BundleError, CheckpointError, ConfigError
from edgebind.runtime.policy import ThreadPolicy

if TYPE_CHECKING:
    from edgebind.bundle import Bundle

log = logging.getLogger(__name__)

STREAM_MODALITIES = ("imu", "thermal")
# intra-op threads of each onnxruntime runner when an IMU and a thermal runner share the cores, not pinned: through a
# live stream one unpinned thread each beat all cores per runner (spinning or not) and beat pinning the runners apart,
# which ties each to a CPU the reader loop and pyserial also need (docs/students.md, "Through a live stream")
SHARED_CORES_THREADS = 1
EmbedFn = Callable[[np.ndarray], np.ndarray]
_TORCH_POLICY = ("--spin and --pin are onnxruntime settings, but a checkpoint runs on torch; export a bundle "
                 "(edgebind export) or drop them.")


@dataclass
class ModalityModel:
    """One encoder as the stream sees it.

    Attributes:
        modality: ``imu`` or ``thermal``.
        embed: (N, 6, T) or (N, 1, S, S) float32 -> (N, out_dim) float32 embeddings (any scale).
        contract: ``ImuContract`` or ``ThermalContract`` the input must follow.
        out_dim: embedding width.
        logit_scale: the modality's scale for label probabilities (IMU 5, thermal 10).
        description: which encoder runs on what, and a student's distance to its teacher (:func:`describe_model`).
    """

    modality: str
    embed: EmbedFn
    contract: Any
    out_dim: int
    logit_scale: float
    description: str = ""


@dataclass
class Encoders:
    """What :func:`open_encoders` returns; close it (or use ``with``) to release the runners.

    Attributes:
        models: modality -> :class:`ModalityModel` (only modalities the source provides).
        source: ``bundle DIR`` or ``checkpoint PATH`` for messages.
        bank: the label bank shipped with the bundle (None for a checkpoint or a bundle without labels).
        text_embed: text -> embeddings in the same space, where a text encoder exists (checkpoint or bundle).
        text_model: identity of that text encoder, for the label cache key.
        random_init: the weights are random (a latency-only bundle).
    """

    models: dict[str, ModalityModel]
    source: str
    bank: Any = None
    text_embed: Callable[[list[str]], np.ndarray] | None = None
    text_model: str = ""
    random_init: bool = False
    _stack: ExitStack = field(default_factory=ExitStack)

    def model(self, modality: str) -> ModalityModel:
        """The model for ``modality``.

        Raises:
            BundleError: the bundle or checkpoint has no encoder for it, naming what it has and the fix.
        """
        if modality not in self.models:
            have = ", ".join(self.models) or "none"
            raise BundleError(
                f"the stream carries {modality} data but {self.source} has no {modality} encoder (it has {have}); "
                f"use a bundle exported with --modalities {modality} (edgebind export --modalities "
                f"{','.join(sorted({*self.models, modality}))} ...), or a checkpoint that holds {modality} weights."
            )
        return self.models[modality]

    def descriptions(self) -> dict[str, str]:
        """modality -> what runs it (see :func:`describe_model`)."""
        return {m: mm.description for m, mm in self.models.items()}

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Encoders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def describe_model(config: Mapping[str, Any], runs_on: str, distillation: Mapping[str, Any] | None) -> str:
    """One line for ``stream``: the encoder (preset and GFLOPs), what runs it, and for a student distilled by
    ``edgebind distill`` its held-out cosine, centred cosine and top-1 label agreement with the teacher."""
    from edgebind.config import config_from_dict, preset_name

    cfg = dict(config)
    name = preset_name(cfg) or f"custom {cfg.get('modality')} encoder"
    built = config_from_dict(cfg)
    step = getattr(built, "step_flops", None)  # a streaming student: what one hop costs, besides a whole window
    cost = (f"{step() / 1e6:.3g} MFLOPs per {cfg.get('patch_size')}-sample step, {built.flops() / 1e9:.3g} GFLOPs "
            "per window" if step else f"{built.flops() / 1e9:.3g} GFLOPs")
    line = f"{name} ({cost}) on {runs_on}"
    if distillation:
        ev = distillation.get("held_out_eval") or {}
        keys = (("cosine", "cosine"), ("centred_cosine", "centred cosine"), ("top1_agreement", "top-1 agreement"))
        figs = ", ".join(f"{label} {ev[k]:.3f}" for k, label in keys if isinstance(ev.get(k), (int, float)))
        return (f"{line}; student of {distillation.get('teacher') or 'a teacher'} (step {distillation.get('step')}), "
                f"held out: {figs or 'no figures recorded'}")
    if name.startswith("imagebind_huge"):
        return line
    return f"{line}; not distilled by edgebind: its distance to ImageBind is unknown"


def stream_policies(threads: int | None, spin: bool, pins: Sequence[str], checkpoint: bool
                    ) -> dict[str, ThreadPolicy]:
    """The stream's onnxruntime thread policy per modality from ``--threads``, ``--spin`` and ``--pin``.

    Threads left None get the defaults of :func:`open_encoders` (when two runners share the cores:
    :data:`SHARED_CORES_THREADS` thread each); runners are pinned only where ``--pin`` says so.

    Raises:
        ConfigError: ``--spin``/``--pin`` with a checkpoint (torch), or ``--pin`` naming no stream modality.
    """
    from edgebind.runtime.policy import parse_modality_cpus

    if checkpoint:
        if spin or pins:
            raise ConfigError(_TORCH_POLICY)
        return {}
    cpus = parse_modality_cpus(pins)
    for m in cpus:
        if m not in STREAM_MODALITIES:
            from edgebind.errors import suggest

            raise ConfigError(f"--pin {m}=...: '{m}' is not a stream modality.{suggest(m, STREAM_MODALITIES)} Use "
                              "imu or thermal.")
    return {m: ThreadPolicy(threads=threads, spin=spin, cpus=cpus.get(m)) for m in STREAM_MODALITIES}


def open_encoders(bundle: str | Path | None = None, checkpoint: str | Path | None = None,
                  overrides: Mapping[str, Any] | None = None, backend: str | None = None,
                  threads: int | None = None, allow_random_init: bool = False,
                  policies: Mapping[str, ThreadPolicy] | None = None) -> Encoders:
    """Open the stream's models from a bundle (preferred) or a checkpoint.

    Args:
        bundle: an exported bundle directory.
        checkpoint: ``imagebind_huge.pth``, an extract or a student (used when ``bundle`` is None).
        overrides: ``--set`` values for a checkpoint.
        backend: the bundle runner (``onnxruntime``, ``tensorrt``, ``torch``). Defaults to the bundle's best.
        threads: CPU threads for the runner. Defaults to the runtime's choice.
        policies: modality -> onnxruntime thread policy (threads, spinning, pinning); wins over ``threads``.
            Defaults to ``threads`` threads, no spinning, no pinning; when the bundle has an IMU and a thermal
            encoder run by onnxruntime, threads left None become :data:`SHARED_CORES_THREADS`.
        allow_random_init: accept a bundle whose manifest says its weights are random. Defaults to False.

    Raises:
        BundleError: a random-init bundle without ``allow_random_init``, or a bundle without IMU and thermal.
        CheckpointError: a checkpoint without IMU and thermal weights.
        ConfigError: both or neither of ``bundle``/``checkpoint``, or ``--set`` with a bundle.
    """
    if (bundle is None) == (checkpoint is None):
        raise ConfigError("pass exactly one of --bundle DIR or --checkpoint PATH.")
    if bundle is not None:
        if overrides:
            raise ConfigError("--set applies to checkpoints; a bundle already fixes its config.")
        return _open_bundle(Path(bundle), backend, threads, allow_random_init, policies or {})
    assert checkpoint is not None
    if backend not in (None, "torch"):
        raise ConfigError(f"--backend {backend} needs a bundle; a checkpoint runs on torch. Export one with "
                          "'edgebind export' to use ONNX Runtime or TensorRT.")
    if any(p.spin or p.cpus is not None for p in (policies or {}).values()):
        raise ConfigError(_TORCH_POLICY)
    return _open_checkpoint(Path(checkpoint), overrides or {}, threads)


def _open_bundle(path: Path, backend: str | None, threads: int | None, allow_random_init: bool,
                 policies: Mapping[str, ThreadPolicy]) -> Encoders:
    from edgebind.bundle import load_bundle
    from edgebind.preprocess.imu import ImuContract
    from edgebind.preprocess.thermal import ThermalContract

    bundle = load_bundle(path)
    if bundle.random_init and not allow_random_init:
        raise BundleError(
            f"bundle {path} has random weights (exported with --random-init, for latency tests): its labels would "
            f"be noise. Export one from real weights (edgebind export --checkpoint ...); to measure latency anyway run "
            f"'edgebind stream PORT --bundle {path} --allow-random-init' or 'edgebind bench {path}'."
        )
    from edgebind.runtime import open_runner

    enc = Encoders(models={}, source=f"bundle {path}", random_init=bundle.random_init)
    from edgebind.runtime import default_backend

    shared = sum(m in bundle.encoders for m in STREAM_MODALITIES) > 1
    for modality in STREAM_MODALITIES:
        if modality not in bundle.encoders:
            continue
        entry = bundle.encoders[modality]
        policy = policies.get(modality) or ThreadPolicy(threads=threads)
        if shared and (backend or default_backend(bundle, modality)) == "onnxruntime":
            policy = dataclasses.replace(policy, threads=policy.threads or SHARED_CORES_THREADS)
        runner = enc._stack.enter_context(open_runner(path, modality, backend=backend, threads=threads,
                                                      policy=policy))
        contract: Any
        if modality == "imu":
            contract = ImuContract.from_dict(entry.contract) if entry.contract else ImuContract()
        else:
            contract = ThermalContract.from_dict(entry.contract) if entry.contract else ThermalContract()
        used = getattr(runner, "policy", None)  # onnxruntime's; other backends report threads only
        runs_on = f"{entry.precision} {runner.backend} ({used.describe() if used else f'threads {policy.threads}'})"
        enc.models[modality] = ModalityModel(modality, runner.embed, contract, entry.out_dim, float(entry.logit_scale),
                                             describe_model(entry.config, runs_on,
                                                            bundle.source.get("distillation")))
    if not enc.models:
        enc.close()
        raise BundleError(f"bundle {path} has no IMU or thermal encoder (it has {', '.join(bundle.encoders)}); "
                          "re-export with --modalities imu,thermal.")
    enc.bank = bundle.label_bank()
    if "text" in bundle.encoders:
        enc.text_embed = _lazy_text_embed(enc, bundle, backend, threads)
        enc.text_model = f"imagebind-text:{bundle.bundle_id}"
    return enc


def _lazy_text_embed(enc: Encoders, bundle: Bundle, backend: str | None,
                     threads: int | None) -> Callable[[list[str]], np.ndarray]:
    """Texts -> embeddings through the bundle's text encoder, loaded on first use: a device that streams with the
    bundle's own labels (or cached ones) never spends memory on it."""
    from edgebind.runtime import open_runner
    from edgebind.tokenizer import tokenize

    runner: list[Any] = []

    def embed(texts: list[str]) -> np.ndarray:
        if not runner:
            runner.append(enc._stack.enter_context(open_runner(bundle, "text", backend=backend, threads=threads)))
        return np.asarray(runner[0].embed(tokenize(texts)), dtype=np.float32)

    return embed


def _open_checkpoint(path: Path, overrides: Mapping[str, Any], threads: int | None) -> Encoders:
    import torch

    from edgebind.checkpoint import file_sha256, load_checkpoint, load_encoder
    from edgebind.preprocess.imu import ImuContract
    from edgebind.preprocess.thermal import ThermalContract
    from edgebind.zeroshot import imagebind_text_embedder

    if threads:
        torch.set_num_threads(threads)
    ckpt = load_checkpoint(path)
    enc = Encoders(models={}, source=f"checkpoint {path}")
    for modality in STREAM_MODALITIES:
        if modality not in ckpt.modalities:
            continue
        model = load_encoder(ckpt, modality, overrides=overrides)
        cfg: Any = model.cfg
        contract: Any
        if modality == "imu":
            contract = ImuContract(num_samples=cfg.num_samples, sample_rate_hz=cfg.num_samples / 5.0)
        else:
            contract = ThermalContract(size=cfg.img_size)
        from edgebind.export.pipeline import distillation_report

        runs_on = f"fp32 torch ({torch.get_num_threads()} threads)"
        enc.models[modality] = ModalityModel(modality, _torch_embed(model), contract, cfg.out_dim,
                                             float(model.logit_scale()),
                                             describe_model(cfg.to_dict(), runs_on, distillation_report(path)))
    if not enc.models:
        raise CheckpointError(f"{path} has no IMU or thermal weights (it holds {', '.join(ckpt.modalities)}); pass "
                              "imagebind_huge.pth or a student with an IMU or thermal encoder.")
    if "text" in ckpt.modalities:
        text_model = load_encoder(ckpt, "text", overrides=overrides)
        enc.text_embed = imagebind_text_embedder(text_model)
        enc.text_model = f"imagebind-text:{file_sha256(path)}:{sorted(overrides.items())}"
    return enc


def _torch_embed(model: Any) -> EmbedFn:
    """(N, ...) float32 numpy -> (N, out_dim) float32 through a torch encoder in inference mode."""
    import torch

    def embed(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).float().numpy()

    return embed
