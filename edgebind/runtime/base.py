"""The Runner protocol (STYLE.md §5, Polygraphy's ``BaseRunner``) and the feed check every backend shares."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from edgebind.bundle import Bundle, EncoderEntry
from edgebind.errors import InputError
from edgebind.runtime.streaming import StepStream, hops_per_call


@runtime_checkable
class Runner(Protocol):
    """Runs one encoder of a bundle. A context manager: resources are acquired on enter and freed on exit."""

    backend: str
    modality: str

    def __enter__(self) -> Runner: ...

    def __exit__(self, *exc: object) -> None: ...

    def infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    def embed(self, x: np.ndarray) -> np.ndarray: ...


def check_feeds(entry: EncoderEntry, feeds: dict[str, np.ndarray], max_batch: int | None = None) -> None:
    """Check feed names, shapes and dtypes against the bundle's input spec.

    Args:
        entry: the encoder's manifest entry (``input_name``, ``input_shape`` with a ``batch`` axis, ``input_dtype``).
        feeds: name -> array.
        max_batch: the largest batch the artifact accepts (TensorRT profile), or None.

    Raises:
        InputError: a missing or unknown feed, a wrong rank, dimension or dtype; the message says what to pass.
    """
    states = list((entry.stream or {}).get("state_inputs", []))
    if states and set(feeds) == {entry.input_name, *states}:
        for name in states:
            spec = entry.stream["state_shapes"][name]  # type: ignore[index]
            got = np.asarray(feeds[name]).shape
            if len(got) != len(spec) or any(not isinstance(a, str) and a != b for a, b in zip(spec, got, strict=True)):
                raise InputError(f"state feed '{name}' has shape {got}; the step model takes {tuple(spec)}: pass the "
                                 f"'{entry.stream['state_outputs'][states.index(name)]}' of the previous step, or "  # type: ignore[index]
                                 "zeros to start.")
    elif set(feeds) != {entry.input_name}:
        raise InputError(
            f"{entry.modality} runner takes one feed '{entry.input_name}', got {sorted(feeds)}; pass "
            f"{{'{entry.input_name}': array of shape {tuple(entry.input_shape)}}}."
        )
    x = feeds[entry.input_name]
    if not isinstance(x, np.ndarray):
        raise InputError(f"feed '{entry.input_name}' is a {type(x).__name__}; pass a numpy array.")
    spec = list(entry.input_shape)
    if x.ndim != len(spec) or any(not isinstance(s, str) and s != d for s, d in zip(spec, x.shape, strict=False)):
        raise InputError(
            f"feed '{entry.input_name}' has shape {x.shape}; the {entry.modality} encoder takes "
            f"({', '.join(map(str, spec))})."
        )
    if x.dtype != np.dtype(entry.input_dtype):
        raise InputError(
            f"feed '{entry.input_name}' has dtype {x.dtype}; the bundle expects {entry.input_dtype} "
            f"(x.astype(np.{entry.input_dtype}))."
        )
    if entry.stream is not None and x.ndim == 3:  # k hops of new samples, 1 <= k <= max_hops
        hop, most = int(entry.stream["hop_samples"]), hops_per_call(entry.stream)
        k, rest = divmod(x.shape[2], hop)
        if rest or not 1 <= k <= most:
            raise InputError(
                f"feed '{entry.input_name}' has {x.shape[2]} samples; the step model takes whole hops of {hop}, "
                f"1 to {most} of them ({hop} to {hop * most} samples). Pass the new samples since the last step.")
    if x.shape[0] < 1 or (max_batch is not None and x.shape[0] > max_batch):
        raise InputError(
            f"feed '{entry.input_name}' has batch {x.shape[0]}; this artifact accepts 1..{max_batch}. Split the "
            "batch, or use runner.embed(x), which does."
        )


def prepare_input(entry: EncoderEntry, x: np.ndarray) -> np.ndarray:
    """Validate a convenience ``embed`` input against the modality's contract and batch it.

    Returns:
        (N, ...) in the bundle's input dtype.

    Raises:
        InputError: the input breaks the contract (see ``edgebind.preprocess``).
    """
    cfg = entry.config
    if entry.modality == "imu":
        from edgebind.preprocess.imu import ImuContract, check_imu_input

        contract = ImuContract.from_dict(entry.contract) if entry.contract else ImuContract()
        return check_imu_input(x, contract)
    if entry.modality == "thermal":
        from edgebind.preprocess.thermal import check_thermal_input

        return check_thermal_input(x, int(cfg["img_size"]))
    ids = np.asarray(x)
    ids = ids[None] if ids.ndim == 1 else ids
    if ids.ndim != 2 or ids.shape[1] != cfg["context_length"] or not np.issubdtype(ids.dtype, np.integer):
        raise InputError(
            f"text input has shape {ids.shape} and dtype {ids.dtype}; pass (N, {cfg['context_length']}) int64 "
            "token ids from edgebind.tokenizer.tokenize."
        )
    return ids.astype(np.int64, copy=False)


class BaseRunner:
    """Shared plumbing: the manifest entry, feed checks, batching in ``embed``, the context manager."""

    backend = ""

    def __init__(self, bundle: Bundle, modality: str, threads: int | None = None) -> None:
        self.bundle = bundle
        self.entry = bundle.encoder(modality)
        self.modality = modality
        self.threads = threads
        self.max_batch: int | None = None
        self._active = False

    def __enter__(self) -> BaseRunner:
        if not self._active:
            self.activate()
            self._active = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._active:
            self.deactivate()
            self._active = False

    def activate(self) -> None:
        """Load the model (called on enter)."""

    def deactivate(self) -> None:
        """Free the model (called on exit)."""

    def infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run one checked batch.

        Args:
            feeds: ``{input_name: (B, ...) array}`` matching the bundle's input spec exactly.

        Returns:
            ``{output_name: (B, out_dim) float32}``, ImageBind's output (normalised x logit scale).

        Raises:
            InputError: feeds that do not match the spec.
        """
        if not self._active:
            self.__enter__()
        check_feeds(self.entry, feeds, self.max_batch)
        return self._infer(feeds)

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def embed(self, x: np.ndarray) -> np.ndarray:
        """Embed any number of inputs.

        Args:
            x: imu (6, T)/(N, 6, T) float, thermal (1, S, S)/(N, 1, S, S) in [0, 1], or text (N, 77) ids.

        Returns:
            (N, out_dim) float32, equal to the PyTorch encoder's output (normalised x logit scale).
        """
        batch = prepare_input(self.entry, x)
        if self.entry.stream is not None:  # a step model: windows become steps, the state carried between them
            return self.step_stream().embed(batch)
        step = self.max_batch or 64
        outs = [self.infer({self.entry.input_name: np.ascontiguousarray(batch[i : i + step])})[self.entry.output_name]
                for i in range(0, len(batch), step)]
        return np.concatenate(outs).astype(np.float32, copy=False)

    def step_stream(self) -> Any:
        """The state keeper of a streaming encoder (created on first use; :meth:`reset_stream` forgets it)."""
        if getattr(self, "_step_stream", None) is None:
            assert self.entry.stream is not None
            if not self._active:
                self.__enter__()
            # the feeds are built by StepStream from checked windows: skip check_feeds on every step
            self._step_stream = StepStream(self._infer, self.entry.stream, self.entry.input_name,
                                           self.entry.output_name)
        return self._step_stream

    def reset_stream(self) -> None:
        """Drop a streaming encoder's state: the next window is embedded from scratch (a gap in the input)."""
        if getattr(self, "_step_stream", None) is not None:
            self._step_stream.reset()

    def describe(self) -> dict[str, Any]:
        """Backend, precision and artifact, for bench tables."""
        return {"backend": self.backend, "modality": self.modality, "precision": self.entry.precision}


__all__ = ["BaseRunner", "Runner", "check_feeds", "prepare_input"]
