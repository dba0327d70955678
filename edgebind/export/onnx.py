"""Encoder -> ONNX: opset >= 17 (LayerNormalization stays one op, as TensorRT advises for fp16), eval mode,
dynamic batch, simplified with onnxslim, stamped with the bundle's id in ``metadata_props``.

SPEC.md §11: the dynamo exporter handles our reshape-patchify and explicit attention; the module must be in eval
mode or dropout/drop-path leak into the graph, so :func:`export_onnx` refuses a module in training mode.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgebind.errors import ConfigError

if TYPE_CHECKING:
    import onnx

    from edgebind.models import Encoder

log = logging.getLogger(__name__)

MIN_OPSET = 17  # LayerNormalization (INormalizationLayer in TensorRT) exists from opset 17
DEFAULT_OPSET = 18
INPUT_NAME = "input"
OUTPUT_NAME = "embedding"
# a streaming encoder's step model (ARCHITECTURE.md, "Streaming encoder"): new samples and the state in, the
# embedding and the next state out
SAMPLES_NAME = "samples"
STATE_NAME = "state"
STATE_OUT_NAME = "state_out"


def example_input(cfg: Any, batch: int = 2, seed: int = 0) -> np.ndarray:
    """A seeded input of the encoder's shape: imu (B, C, T) float32, thermal (B, C, S, S) in [0, 1], text ids.

    Text rows are [SOT, random ids, EOT, 0...] so the EOT (largest id) position varies, as real prompts do.
    """
    rng = np.random.default_rng(seed)
    if cfg.modality == "imu":
        x = rng.normal(0.0, 1.0, (batch, cfg.in_channels, cfg.num_samples))
        x[:, 2] += 9.81  # gravity on accel z, so inputs resemble a resting sensor plus motion
        return x.astype(np.float32)
    if cfg.modality == "thermal":
        return rng.random((batch, cfg.in_channels, cfg.img_size, cfg.img_size), dtype=np.float32)
    if cfg.modality == "text":
        ids = np.zeros((batch, cfg.context_length), dtype=np.int64)
        for i in range(batch):
            n = int(rng.integers(2, cfg.context_length - 2))
            ids[i, 0] = cfg.vocab_size - 2  # SOT
            ids[i, 1 : n + 1] = rng.integers(1, cfg.vocab_size - 2, n)
            ids[i, n + 1] = cfg.vocab_size - 1  # EOT, the largest id
        return ids
    raise ConfigError(f"cannot export a {cfg.modality} encoder; export imu, thermal or text.")


def is_streaming(cfg: Any) -> bool:
    """Whether ``cfg`` is a streaming encoder's (exported as a step model)."""
    return getattr(cfg, "arch", None) == "stream"


def stream_spec(cfg: Any) -> dict[str, Any]:
    """The manifest's ``stream`` entry of a streaming encoder: the hop the step model was built for, how many hops
    one call may take (``max_hops``: its samples input is k x ``hop_samples`` long, 1 <= k <= max_hops), and the
    names and shapes of its state tensors. A bundle without ``max_hops`` takes one hop per call."""
    return {"hop_samples": cfg.patch_size, "window_samples": cfg.num_samples, "max_hops": cfg.num_patches,
            "state_inputs": [STATE_NAME], "state_outputs": [STATE_OUT_NAME],
            "state_shapes": {STATE_NAME: ["batch", cfg.num_patches, cfg.state_features]},
            "step_flops": cfg.step_flops()}


def input_spec(cfg: Any) -> tuple[list[Any], str]:
    """(shape with a ``batch`` axis, dtype) of an encoder's ONNX input (a streaming encoder's: the new samples)."""
    if is_streaming(cfg):  # k hops of new samples per call
        return ["batch", cfg.in_channels, "samples"], "float32"
    if cfg.modality == "imu":
        return ["batch", cfg.in_channels, cfg.num_samples], "float32"
    if cfg.modality == "thermal":
        return ["batch", cfg.in_channels, cfg.img_size, cfg.img_size], "float32"
    if cfg.modality == "text":
        return ["batch", cfg.context_length], "int64"
    raise ConfigError(f"cannot export a {cfg.modality} encoder; export imu, thermal or text.")


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence torch's exporter chatter that does not concern our graphs, for this call only.

    It logs "torchvision is not installed. Skipping torchvision::nms" (we use no torchvision ops) and torch's
    pytree raises a FutureWarning about its own LeafSpec; neither changes the exported model.
    """
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*", category=FutureWarning)
            yield
    finally:
        registration.setLevel(level)


def export_onnx(
    encoder: Encoder,
    path: str | Path,
    opset: int = DEFAULT_OPSET,
    batch_max: int = 64,
    metadata: dict[str, str] | None = None,
    simplify: bool = True,
) -> Path:
    """Export an encoder to ONNX with a dynamic batch axis.

    Args:
        encoder: an edgebind encoder in eval mode; its output (B, out_dim) is ImageBind's (normalised x scale).
        path: where to write the ``.onnx`` file.
        opset: ONNX opset, >= 17. Defaults to 18.
        batch_max: largest batch the exported graph is traced for. Defaults to 64.
        metadata: extra ``metadata_props`` (the bundle id is added by the caller).
        simplify: run onnxslim (constant folding, dead-node removal). Defaults to True.

    Returns:
        The written path.

    Raises:
        ConfigError: opset below 17 or an encoder in training mode.
    """
    import torch

    if opset < MIN_OPSET:
        raise ConfigError(
            f"opset {opset} is below {MIN_OPSET}: LayerNormalization would be decomposed into ReduceMean/Pow/Sqrt, "
            f"which overflows in fp16 (TensorRT#4355). Use --opset {DEFAULT_OPSET}."
        )
    if encoder.training:
        raise ConfigError("the encoder is in training mode (dropout/drop-path on); call encoder.eval() first.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cfg: Any = encoder.cfg
    x = torch.from_numpy(example_input(cfg, batch=2))
    batch = torch.export.Dim("batch", min=1, max=max(2, batch_max))
    module: Any = encoder
    args: tuple[Any, ...] = (x,)
    names, dynamic = [INPUT_NAME], ({0: batch},)
    if is_streaming(cfg):  # the step model: (new samples, state) -> (embedding, next state)
        from edgebind.models.imu_stream import StepModule

        module = StepModule(encoder).eval()  # type: ignore[arg-type]
        # the samples axis is k hops long, k from 1 to a whole window (traced with 2, so neither end is baked in)
        hops = torch.export.Dim("hops", min=1, max=cfg.num_patches)
        args = (x[:, :, : 2 * cfg.patch_size].contiguous(), encoder.window_state(x).detach())  # type: ignore[operator]
        names = [SAMPLES_NAME, STATE_NAME]
        dynamic = ({0: batch, 2: cfg.patch_size * hops}, {0: batch})  # type: ignore[assignment]
    with torch.inference_mode(False), torch.no_grad(), _quiet_exporter():
        program = torch.onnx.export(
            module,
            args,
            None,
            dynamo=True,
            opset_version=opset,
            input_names=names,
            dynamic_shapes=dynamic,
            verbose=False,
        )
    if program is None:  # pragma: no cover - dynamo=True always returns a program
        raise ConfigError("torch.onnx.export returned no program; upgrade torch to >= 2.5.")
    program.save(str(path))
    model = load_model(path)
    _rename_output(model, OUTPUT_NAME)
    if is_streaming(cfg):
        _rename_output(model, STATE_OUT_NAME, index=1)
    if simplify:
        import onnxslim

        model = onnxslim.slim(model)
    set_metadata(model, {"edgebind.modality": cfg.modality, "edgebind.config": _json(cfg.to_dict()),
                         "edgebind.simplified": str(simplify).lower(), **(metadata or {})})
    save_model(model, path)
    log.info("exported %s encoder to %s (opset %d, %d nodes)", cfg.modality, path, opset, len(model.graph.node))
    return path


def _rename_value(model: onnx.ModelProto, old: str, new: str) -> None:
    for node in model.graph.node:
        node.input[:] = [new if i == old else i for i in node.input]
        node.output[:] = [new if o == old else o for o in node.output]
    for vi in [*model.graph.output, *model.graph.value_info]:
        if vi.name == old:
            vi.name = new


def _rename_output(model: onnx.ModelProto, name: str, index: int = 0) -> None:
    """Name the graph's ``index``-th output ``name``. Passed to the exporter instead, it collides with the text
    encoder's internal ``embedding`` value (aten::embedding) and yields an invalid graph."""
    current = model.graph.output[index].name
    if current == name:
        return
    taken = {o for n in model.graph.node for o in n.output} | {i.name for i in model.graph.initializer}
    if name in taken:
        _rename_value(model, name, name + "_internal")
    _rename_value(model, current, name)


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, sort_keys=True)


def load_model(path: str | Path) -> onnx.ModelProto:
    """Load an ONNX model with its weights."""
    import onnx

    return onnx.load(str(path), load_external_data=True)


def save_model(model: onnx.ModelProto, path: str | Path) -> Path:
    """Save a model as one file (external data only past protobuf's 2 GB limit)."""
    import onnx

    path = Path(path)
    for stale in path.parent.glob(path.name + ".data"):
        stale.unlink()
    big = model.ByteSize() > 2**31 - 2**24
    onnx.save_model(model, str(path), save_as_external_data=big, location=path.name + ".data" if big else None)
    return path


def set_metadata(model: onnx.ModelProto, props: dict[str, str]) -> None:
    """Set (replace) ``metadata_props`` entries in place."""
    keep = [p for p in model.metadata_props if p.key not in props]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)


def read_metadata(path: str | Path) -> dict[str, str]:
    """``metadata_props`` of an ONNX file, without loading its weights."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def stamp(path: str | Path, props: dict[str, str]) -> None:
    """Rewrite an ONNX file with extra ``metadata_props`` (the bundle id after quantisation)."""
    model = load_model(path)
    set_metadata(model, props)
    save_model(model, path)


__all__ = ["DEFAULT_OPSET", "INPUT_NAME", "OUTPUT_NAME", "SAMPLES_NAME", "STATE_NAME", "STATE_OUT_NAME",
           "example_input", "export_onnx", "input_spec", "is_streaming", "read_metadata", "stamp", "stream_spec"]
