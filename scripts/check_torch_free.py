"""Run the device side of edgebind and fail if anything tries to import torch.

A finder at the head of ``sys.meta_path`` refuses ``torch`` (as if it were not installed) and records every attempt
with the stack that made it, so a guarded ``try: import torch`` counts too. Then the commands a device runs go
through the real CLI in this process: ``demo``, ``stream`` on a simulated device, ``bench`` on ONNX Runtime,
``embed --bundle``, ``simulate`` + ``record``, ``calibrate thermal``, ``calibrate capture``, ``info`` and, where
cyclonedds is installed, ``stream --ros2`` (loopback, a random ROS 2 domain); with
``--text-bundle`` also ``stream --labels`` whose new labels that bundle's ONNX text encoder embeds
(``export --text-encoder``). Exit 0 only when all succeeded and torch was never asked for.

    python scripts/check_torch_free.py                      # any environment (torch present or not)
    python scripts/check_torch_free.py --require-absent     # CI's device venv: torch must not even be installed
    python scripts/check_torch_free.py --text-bundle out/b --labels new.txt   # new labels through ONNX text

CI runs it in a venv made with ``pip install -e '.[onnx]'`` (.ci/run); tests/test_torch_free.py runs it too.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata as md
import importlib.util
import io
import json
import os
import random
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CPTV = REPO / "tests" / "data" / "thermal" / "20240507-074536.cptv"


class TorchRefuser:
    """A meta-path finder that makes ``torch`` unimportable and remembers who asked."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, str]] = []

    def find_spec(self, name: str, path: Sequence[str] | None = None, target: object = None) -> ModuleSpec | None:
        if name == "torch" or name.startswith("torch."):
            self.attempts.append((name, "".join(traceback.format_stack(limit=12)[:-1])))
            raise ModuleNotFoundError(f"No module named '{name}' (refused by check_torch_free.py)", name=name)
        return None


def _run(args: list[str]) -> None:
    """One edgebind command through the real click group, in this process."""
    from edgebind.cli import cli

    t0 = time.perf_counter()
    print(f"$ edgebind {' '.join(args)}", flush=True)
    try:
        cli.main(args, prog_name="edgebind", standalone_mode=False)
    except SystemExit as exc:  # click's --help/--version exit; anything else non-zero is a failure
        if exc.code not in (0, None):
            raise
    print(f"  ok ({time.perf_counter() - t0:.1f} s)", flush=True)


def _on_simulated_device(recording: Path, command: str, args: Sequence[str]) -> None:
    """``edgebind COMMAND PORT ARGS`` on a pseudo-terminal that replays ``recording`` as a binary-protocol device."""
    from edgebind.bridge.recording import Recording
    from edgebind.bridge.simulator import SimulatedDevice

    with SimulatedDevice(Recording.load(recording), fmt="binary", speed=40.0) as sim:
        _run([*command.split(), str(sim.link), *args])


def _stream_on_simulated_device(bundle: Path, recording: Path, extra: Sequence[str] = ()) -> None:
    """``edgebind stream`` on a simulated device."""
    _on_simulated_device(recording, "stream", ["--bundle", str(bundle), "--backend", "onnxruntime", "--json",
                                               "--max-windows", "3", "--hop", "2.5", *extra])


def _stream_new_labels(bundle: Path, labels: Path, recording: Path) -> None:
    """``stream --labels`` with labels the bundle's bank lacks: each must come back scored, so the bundle's text
    encoder embedded them here."""
    from edgebind.zeroshot import read_labels

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _stream_on_simulated_device(bundle, recording, ["--labels", str(labels), "--top-k", "100"])
    print(out.getvalue(), end="")
    shown = {t["label"] for line in out.getvalue().splitlines() if line.startswith('{"t_end')
             for t in json.loads(line)["top_k"]}
    wanted = {s.name for s in read_labels(labels)}
    if shown != wanted:
        raise RuntimeError(f"stream scored labels {sorted(shown)}, expected those of {labels}: {sorted(wanted)}")


def _stream_ros2(bundle: Path, recording: Path) -> None:
    """``stream --ros2`` on a simulated device, on a random ROS 2 domain unless ROS_DOMAIN_ID is set."""
    os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(1, 100)))  # ports below the ephemeral range
    _stream_on_simulated_device(bundle, recording, ["--ros2"])


def _simulate_and_record(recording: Path, out: Path) -> None:
    """``edgebind simulate`` in a thread and ``edgebind record`` reading its port."""
    link = out.parent / "tty-sim"
    sim = threading.Thread(target=_run, daemon=True,
                           args=(["simulate", str(recording), "--link", str(link), "--speed", "400",
                                  "--exit-when-done"],))
    sim.start()
    for _ in range(200):
        if link.exists():
            break
        time.sleep(0.05)
    _run(["record", str(link), "-o", str(out), "--idle", "1"])  # the whole recording: the simulator then exits
    sim.join(30.0)
    if sim.is_alive():
        raise RuntimeError("edgebind simulate --exit-when-done did not exit after the recording was read")


def check(require_absent: bool, text_bundle: Path | None = None, labels: Path | None = None) -> int:
    """Run every device command with torch refused; 0 when none failed and torch was never asked for."""
    installed = True
    try:
        md.distribution("torch")
    except md.PackageNotFoundError:
        installed = False
    print(f"torch installed here: {installed}")
    if require_absent and installed:
        print("FAIL: torch is installed in this environment; a device install ('pip install -e .[onnx]') must not "
              "pull it in.")
        return 1
    refuser = TorchRefuser()
    sys.meta_path.insert(0, refuser)
    failed: list[str] = []
    from edgebind.demo import demo_bundle, demo_recording

    bundle, recording = demo_bundle(), demo_recording()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        steps = [
            ("demo", lambda: _run(["demo", "--max-windows", "4", "--speed", "80", "--json"])),
            ("stream", lambda: _stream_on_simulated_device(bundle, recording)),
            ("bench", lambda: _run(["bench", str(bundle), "--backend", "onnxruntime", "--runs", "5", "--warmup", "1"])),
            ("embed --bundle", lambda: _run(["embed", "imu", str(recording), "--bundle", str(bundle),
                                             "-o", str(work / "emb.npy")])),
            ("simulate + record", lambda: _simulate_and_record(recording, work / "copy.npz")),
            ("calibrate thermal", lambda: _run(["calibrate", "thermal", str(CPTV), "-o", str(work / "robot.json")])),
            ("calibrate capture", lambda: _on_simulated_device(recording, "calibrate capture",
                                                               ["--windows", "3", "-o", str(work / "calib.npz")])),
            ("info", lambda: _run(["info", str(bundle)])),
        ]
        if importlib.util.find_spec("cyclonedds") is not None:  # the ros2 extra: live ROS 2 topics, loopback only
            steps.append(("stream --ros2", lambda: _stream_ros2(bundle, recording)))
        if text_bundle is not None and labels is not None:
            steps.append(("stream --labels (text encoder)", lambda: _stream_new_labels(text_bundle, labels, recording)))
        for name, step in steps:
            try:
                step()
            except BaseException as exc:  # report every step, then fail
                print(f"FAIL: {name}: {type(exc).__name__}: {exc}")
                failed.append(name)
    sys.meta_path.remove(refuser)
    if refuser.attempts:
        print(f"FAIL: torch was asked for {len(refuser.attempts)} time(s); first by:")
        name, stack = refuser.attempts[0]
        print(f"  import {name}\n{stack}")
        return 1
    if failed:
        return 1
    print(f"torch-free: {', '.join(name for name, _ in steps)} ran without torch")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--require-absent", action="store_true", help="Also fail when torch is installed.")
    parser.add_argument("--text-bundle", type=Path, help="A bundle exported with --text-encoder.")
    parser.add_argument("--labels", type=Path, help="labels.txt with labels --text-bundle's bank lacks.")
    args = parser.parse_args()
    if (args.text_bundle is None) != (args.labels is None):
        parser.error("pass --text-bundle and --labels together")
    sys.exit(check(args.require_absent, args.text_bundle, args.labels))


if __name__ == "__main__":
    main()
