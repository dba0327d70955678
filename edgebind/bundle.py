"""The Bundle: everything a device needs in one folder, described by ``manifest.json`` (STYLE.md §4).

```
out/imu-thermal-jetson-fp16/
  manifest.json      # this module's Bundle: encoders, precision, input contracts, parity, hashes
  imu.onnx           # one artifact per encoder, at the bundle's precision
  thermal.onnx
  labels.npz         # optional LabelBank (names, (n_labels, out_dim) unit rows)
  parity.npz         # the inputs and fp32 PyTorch outputs parity was measured on (re-checked on the device)
  build_engine.sh    # TensorRT recipe where no engine was built here
```

Two checks catch a bundle edited after export: every file listed in ``files`` carries its sha256, and ``bundle_id``
is the hash of the manifest's identity fields (encoders, precision, target, source), also written into each ONNX
model's ``metadata_props`` so a stray ``.onnx`` can still be traced to its bundle.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgebind.errors import BundleError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"


@dataclass
class EncoderEntry:
    """One exported encoder.

    Attributes:
        modality: ``imu``, ``thermal`` or ``text``.
        config: the encoder config (``EncoderConfig.to_dict()``).
        file: the artifact, relative to the bundle (``imu.onnx``).
        format: ``onnx`` (TensorRT engines are listed under ``engine``).
        precision: ``fp32``, ``fp16`` or ``int8``.
        input_name: the model's input name. Defaults to ``input``.
        input_shape: e.g. ``["batch", 6, 2000]``; ``batch`` is dynamic.
        input_dtype: ``float32`` (imu, thermal) or ``int64`` (text token ids).
        output_name: defaults to ``embedding``.
        output_shape: ``["batch", out_dim]``, float32, L2-normalised x ``logit_scale``.
        logit_scale: the modality's output scale (IMU 5, thermal 10, text learned).
        contract: the input contract (``ImuContract``/``ThermalContract.to_dict()``); None for text.
        parity: the parity report (see ``edgebind.export.parity``).
        calibration: int8 only: method, window counts, cache file.
        precision_plan: fp16 only: which ops stay fp32.
        engine: TensorRT only: engine file, GPU name, compute capability, TensorRT version.
        graph: ONNX Runtime CPU bundles: the fused ``com.microsoft`` ops and their counts
            (``edgebind.export.ortfuse``).
        stream: a streaming encoder only (ARCHITECTURE.md, "Streaming encoder"): the artifact is a step model
            taking ``hop_samples`` new samples (``input_name``) and the state tensors named in ``state_inputs``,
            returning the embedding and ``state_outputs``; ``state_shapes`` gives their shapes and
            ``window_samples`` the window the embedding stands for. None for window-at-a-time encoders.
    """

    modality: str
    config: dict[str, Any]
    file: str
    format: str
    precision: str
    input_shape: list[Any]
    input_dtype: str
    output_shape: list[Any]
    logit_scale: float
    input_name: str = "input"
    output_name: str = "embedding"
    contract: dict[str, Any] | None = None
    parity: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] | None = None
    precision_plan: dict[str, Any] | None = None
    engine: dict[str, Any] | None = None
    graph: dict[str, Any] | None = None
    stream: dict[str, Any] | None = None

    @property
    def out_dim(self) -> int:
        return int(self.config["out_dim"])

    def identity(self) -> dict[str, Any]:
        """The fields that define what this encoder computes (hashed into ``bundle_id``)."""
        ident = {k: getattr(self, k) for k in ("modality", "config", "file", "format", "precision", "input_name",
                                                "input_shape", "input_dtype", "output_name", "output_shape",
                                                "logit_scale", "contract")}
        if self.stream is not None:  # only streaming bundles carry it, so every earlier bundle keeps its id
            ident["stream"] = self.stream
        return ident


@dataclass
class Bundle:
    """The manifest of an exported bundle. ``path`` is the folder it was loaded from (not serialised).

    Attributes:
        target: the deployment target (``edgebind.export.targets.TARGETS``).
        precision: ``fp32``, ``fp16`` or ``int8``.
        format: ``onnx`` or ``tensorrt`` (the bundle still holds the ONNX files TensorRT is built from).
        encoders: modality -> EncoderEntry.
        source: ``{"checkpoint": path or None, "sha256": ..., "weights": file inside the bundle or None}``.
        random_init: True when the weights are random (latency tests only; ``stream`` refuses it by default).
        labels: ``{"file": "labels.npz", "names": [...], "dim": D, "logit_scale": {modality: s}, ...}`` or None.
        tools: versions of torch, onnx, onnxruntime, tensorrt, edgebind.
        files: relative path -> sha256 of every file the bundle ships.
        tensorrt: the engine recipe or build record (commands, script, DLA settings, fallback layers).
        command: the ``edgebind export`` command that re-creates this bundle.
        created: ISO-8601 UTC time of export.
        schema_version: manifest schema; loaders refuse newer ones.
        bundle_id: sha256 of the identity fields (computed, see :meth:`compute_id`).
    """

    target: str
    precision: str
    format: str
    encoders: dict[str, EncoderEntry]
    source: dict[str, Any]
    random_init: bool
    tools: dict[str, str]
    command: str
    created: str
    labels: dict[str, Any] | None = None
    files: dict[str, str] = field(default_factory=dict)
    tensorrt: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION
    bundle_id: str = ""
    path: Path | None = field(default=None, compare=False)

    # -- identity and JSON --------------------------------------------------------------------------------

    def compute_id(self) -> str:
        """sha256 of what the bundle computes: encoders, precision, format, target, source hash, random_init."""
        ident = {
            "schema_version": self.schema_version,
            "target": self.target,
            "precision": self.precision,
            "format": self.format,
            "encoders": {m: e.identity() for m, e in sorted(self.encoders.items())},
            "source_sha256": self.source.get("sha256"),
            "random_init": self.random_init,
            "created": self.created,
        }
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("path")
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "manifest") -> Bundle:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            BundleError: a newer schema, or a missing/unknown field.
        """
        d = dict(d)
        version = d.get("schema_version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise BundleError(
                f"{where} has schema_version {version!r}, but this edgebind reads up to {SCHEMA_VERSION}; "
                "upgrade edgebind (pip install -U edgebind) or re-export the bundle with this version."
            )
        try:
            encoders = {m: EncoderEntry(**e) for m, e in d.pop("encoders").items()}
            return cls(encoders=encoders, **d)
        except (TypeError, KeyError, AttributeError) as exc:
            raise BundleError(f"{where} is malformed ({exc}); re-export the bundle with 'edgebind export'.") from exc

    @classmethod
    def from_json(cls, text: str, where: str = "manifest") -> Bundle:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BundleError(
                f"{where} is not valid JSON ({exc}); re-export the bundle with 'edgebind export'."
            ) from exc
        if not isinstance(d, dict):
            raise BundleError(f"{where} holds a JSON {type(d).__name__}, not a manifest object; re-export it.")
        return cls.from_dict(d, where)

    # -- files --------------------------------------------------------------------------------------------

    def file(self, name: str) -> Path:
        """Absolute path of a file inside the bundle."""
        if self.path is None:
            raise BundleError("this Bundle was not loaded from or saved to a folder; call save(dir) first.")
        return self.path / name

    def encoder(self, modality: str) -> EncoderEntry:
        """The entry for ``modality``.

        Raises:
            BundleError: the bundle has no such encoder (naming those it has and how to add it).
        """
        if modality not in self.encoders:
            have = ", ".join(self.encoders) or "none"
            raise BundleError(
                f"bundle {self.path} has no {modality} encoder (it has {have}); re-export with "
                f"--modalities {','.join([*self.encoders, modality])}."
            )
        return self.encoders[modality]

    def label_bank(self, modality: str | None = None) -> Any:
        """The bundle's LabelBank (None without labels), with ``modality``'s logit scale where given."""
        if not self.labels:
            return None
        from edgebind.zeroshot import LabelBank

        bank = LabelBank.load(self.file(self.labels["file"]))
        scales = self.labels.get("logit_scale") or {}
        if modality is not None and modality in scales:
            bank.logit_scale = float(scales[modality])
        return bank

    def save(self, directory: str | Path) -> Path:
        """Hash every listed file, fix ``bundle_id`` and write ``manifest.json``. Returns the manifest path."""
        directory = Path(directory)
        self.path = directory
        for name in list(self.files):
            self.files[name] = file_digest(directory / name)
        self.bundle_id = self.compute_id()
        out = directory / MANIFEST
        out.write_text(self.to_json())
        return out

    def add_file(self, name: str) -> None:
        """List a file (relative to the bundle) for hashing at :meth:`save`."""
        self.files[name] = ""

    def verify(self) -> None:
        """Check that the manifest and every listed file are as exported.

        Raises:
            BundleError: a missing file, a file whose sha256 changed, or an edited manifest; each names the file
                and how to re-export.
        """
        redo = f"re-export it: {self.command}" if self.command else "re-export it with 'edgebind export'"
        if self.compute_id() != self.bundle_id:
            raise BundleError(
                f"{self.path}/{MANIFEST} was edited after export (bundle_id {self.bundle_id[:12]} no longer matches "
                f"its contents, {self.compute_id()[:12]}); {redo}."
            )
        for name, digest in self.files.items():
            p = self.file(name)
            if not p.is_file():
                raise BundleError(f"bundle {self.path} is missing {name}; copy the whole folder, or {redo}.")
            actual = file_digest(p)
            if actual != digest:
                raise BundleError(
                    f"{p} was modified after export (sha256 {actual[:12]}..., manifest says {digest[:12]}...); "
                    f"{redo}."
                )


def file_digest(path: Path, chunk: int = 1 << 22) -> str:
    """sha256 hex digest of a file (uncached: bundles are verified against what is on disk now)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def load_bundle(directory: str | Path, verify: bool = True) -> Bundle:
    """Read ``directory/manifest.json`` and, by default, verify every file's hash.

    Args:
        directory: the bundle folder (``edgebind export -o DIR``).
        verify: check file hashes and the manifest's id. Defaults to True.

    Returns:
        The Bundle, with ``path`` set to ``directory``.

    Raises:
        BundleError: not a bundle, unreadable or newer manifest, or a file edited after export.
    """
    directory = Path(directory)
    manifest = directory / MANIFEST
    if not manifest.is_file():
        if directory.suffix in (".onnx", ".engine") and directory.is_file():
            raise BundleError(
                f"{directory} is a bare model file; edgebind runs bundles only. Pass the folder that holds "
                "manifest.json, or create one with 'edgebind export --target jetson --fp16 -o BUNDLE'."
            )
        raise BundleError(
            f"{directory} is not a bundle (no {MANIFEST}); create one with "
            "'edgebind export --target jetson --fp16 -o BUNDLE' or pass the folder that holds manifest.json."
        )
    bundle = Bundle.from_json(manifest.read_text(errors="replace"), str(manifest))  # bytes that are not UTF-8: bad JSON
    bundle.path = directory
    if verify:
        bundle.verify()
    log.debug("loaded bundle %s (%s, %s, %s)", directory, bundle.target, bundle.precision, ",".join(bundle.encoders))
    return bundle


__all__ = ["MANIFEST", "SCHEMA_VERSION", "Bundle", "EncoderEntry", "file_digest", "load_bundle"]
