"""The official ImageBind reference outputs (tests/data/imagebind/README) and the one parity measurement on them.

Used by the parity tests and by benchmarks/report.py, so the figure the README quotes and the figure a test guards
come from the same code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
MODALITIES = ("imu", "thermal", "text")


def shared_dir() -> Path:
    """``$EDGEBIND_SHARED``, else ``../shared`` beside the repository (where CI lays it)."""
    return Path(os.environ.get("EDGEBIND_SHARED", REPO.parent / "shared"))


REFERENCE_FILES = {"tiny": DATA / "imagebind" / "reference_tiny.pt",
                   "small": shared_dir() / "imagebind" / "reference_small.pt"}
# reference_tiny always runs; reference_small is an optional extra check, collected only where its file exists,
# so that a clone alone lists no skip for missing data.
REFERENCES = [name for name, p in REFERENCE_FILES.items() if name == "tiny" or p.is_file()]


@dataclass(frozen=True)
class Reference:
    """One output file of the official ImageBind code: its path, tensors and the head counts it was built with."""

    name: str
    path: Path
    data: dict[str, Any]

    @property
    def overrides(self) -> dict[str, int]:
        """``--set`` values for the head counts, which are not in the tensors (SPEC.md §10)."""
        kw = self.data.get("constructor_kwargs") or self.data["meta"]["constructor_kwargs"]
        return {f"{m}_num_heads": int(kw[f"{m}_num_heads"]) for m in MODALITIES}

    @property
    def set_args(self) -> list[str]:
        """The same head counts as CLI arguments: ``--set imu_num_heads=4 ...``."""
        return [a for k, v in self.overrides.items() for a in ("--set", f"{k}={v}")]

    @property
    def sentences(self) -> list[str]:
        return list(self.data.get("sentences") or self.data["meta"]["sentences"])

    def input(self, modality: str) -> Any:
        """The official input tensor (tiny stores text ids as ``text_tokens``, small as ``text``)."""
        inputs = self.data["inputs"]
        return inputs["text_tokens"] if modality == "text" and "text_tokens" in inputs else inputs[modality]

    def output(self, key: str) -> Any:
        return self.data["outputs"][key]


_LOADED: dict[str, Reference] = {}


def load_reference(name: str) -> Reference:
    """Load (once per process) a reference file named in ``REFERENCE_FILES``."""
    if name not in _LOADED:
        import torch

        p = REFERENCE_FILES[name]
        _LOADED[name] = Reference(name, p, torch.load(p, weights_only=True))
    return _LOADED[name]


def measure_parity(ref: Reference, modality: str) -> dict[str, float]:
    """Max |edgebind - official| per output the reference holds (``final``, ``unit_embedding``, ``trunk_out`` ...)."""
    import torch

    from edgebind.checkpoint import load_encoder

    model = load_encoder(ref.path, modality, overrides=ref.overrides)
    x = ref.input(modality)
    with torch.inference_mode():
        trunk_out, head_out = model.trunk_and_head(x)
        final = model(x)
        ours = {"preproc_tokens": model.tokens(x), "trunk_out": trunk_out, "head_out": head_out, "final": final,
                "unit_embedding": torch.nn.functional.normalize(final, dim=-1), "logit_scale": model.logit_scale()}
    outputs = ref.data["outputs"]
    return {k: float((v - outputs[f"{modality}.{k}"]).abs().max()) for k, v in ours.items()
            if f"{modality}.{k}" in outputs}


def make_calib_npz(out_dir: Path) -> Path:
    """A calib.npz (the 'edgebind calibrate capture' format) of real data through the input contracts: 40
    BasicMotions TEST windows (resampled to 400 Hz) and the 46 frames of CPTV clip 20240507 (percentile-mapped)."""
    from edgebind.bridge.convert import convert
    from edgebind.calibration.capture import CalibrationSet
    from edgebind.preprocess.imu import windows_from_recording
    from edgebind.preprocess.thermal import map_temperature, to_model_input

    imu, ends = windows_from_recording(convert(DATA / "imu" / "BasicMotions_TEST.ts"), hop_s=2.5)
    imu, ends = imu[::4][:40], ends[::4][:40]
    rec = convert(DATA / "thermal" / "20240507-074536.cptv")
    assert rec.thermal is not None and rec.thermal_t_ns is not None
    frames = to_model_input(map_temperature(rec.thermal))
    cs = CalibrationSet(imu, ends, frames, rec.thermal_t_ns, {"source": "BasicMotions TEST + CPTV 20240507"})
    return cs.save(out_dir / "calib.npz")


def measure_export_parity(ref: Reference, precision: str, out_dir: Path, calib: Path | None = None
                          ) -> tuple[Any, dict[str, float]]:
    """Export ``ref``'s IMU and thermal encoders for Jetson at ``precision``, run the ONNX files with onnxruntime on
    the official inputs, and return (the bundle, 1 - min cosine to the official outputs per modality)."""
    import numpy as np

    from edgebind.export import export_bundle
    from edgebind.runtime import open_runner

    bundle = export_bundle(out_dir / f"{ref.name}-{precision}", target="jetson", precision=precision,
                           checkpoint=ref.path, overrides=ref.overrides, calibration=calib, remember=False)
    gaps = {}
    for m in ("imu", "thermal"):
        with open_runner(bundle, m, backend="onnxruntime") as runner:
            got = runner.embed(ref.input(m).numpy()).astype(np.float64)
        want = ref.output(f"{m}.final").numpy().astype(np.float64)
        cos = (got * want).sum(-1) / np.linalg.norm(got, axis=-1) / np.linalg.norm(want, axis=-1)
        gaps[m] = float(1 - cos.min())
    return bundle, gaps
