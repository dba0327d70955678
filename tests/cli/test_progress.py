"""Progress on long steps (issue 21, part 4): shown on a terminal, silent with --json or off a terminal."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from edgebind.cli.progress import progress

REPO = Path(__file__).resolve().parents[2]


def test_helper_draws_on_a_terminal_and_stays_silent_otherwise() -> None:
    term = io.StringIO()
    with progress("capturing windows", total=5, console=Console(file=term, force_terminal=True, width=120),
                  transient=False) as bar:
        assert bar.shown
        for k in range(1, 4):
            bar.update(k)
    assert "capturing windows" in term.getvalue() and "3/5" in term.getvalue() and "ETA" in term.getvalue()
    pipe = io.StringIO()
    with progress("capturing windows", total=5, console=Console(file=pipe, force_terminal=False)) as bar:
        bar.update(3)
        assert not bar.shown
    assert pipe.getvalue() == ""
    with progress("exporting", console=Console(file=term, force_terminal=True), quiet=True) as bar:  # --json
        bar.stage("imu: exporting to ONNX")
        assert not bar.shown
    with progress("exporting") as bar:  # pytest captures stdout: not a terminal
        assert not bar.shown


def _run_in_pty(args: list[str], cwd: Path) -> str:
    """Run ``edgebind ARGS`` with stdout and stderr on a pseudo-terminal; everything it wrote."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", "from edgebind.cli import main; main()", *args], cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(master)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


@pytest.fixture
def tiny_imu_ckpt(tmp_path: Path) -> Path:
    import torch

    from edgebind.checkpoint import save_checkpoint
    from edgebind.config import get_config
    from edgebind.models import build_encoder

    torch.manual_seed(0)
    return save_checkpoint(build_encoder(get_config("tiny_imu")), tmp_path / "imu.safetensors")


def test_embed_shows_batches_on_a_terminal_and_nothing_in_a_pipe(tmp_path: Path, tiny_imu_ckpt: Path) -> None:
    x = tmp_path / "x.npy"
    np.save(x, np.random.default_rng(0).normal(size=(20, 6, 2000)).astype(np.float32))
    args = ["embed", "imu", str(x), "--checkpoint", str(tiny_imu_ckpt), "-o", str(tmp_path / "e.npy")]
    shown = _run_in_pty(args, tmp_path)
    assert "embedding 20 imu inputs" in shown and "/20" in shown
    piped = subprocess.run([sys.executable, "-c", "from edgebind.cli import main; main()", *args], cwd=tmp_path,
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert piped.returncode == 0 and "embedding 20" not in piped.stdout + piped.stderr, piped.stderr


def test_export_reports_each_stage(tmp_path: Path) -> None:
    """The stages the export CLI's spinner shows (edgebind/cli/export.py passes bar.stage as on_stage)."""
    from edgebind.export import export_bundle

    stages: list[str] = []
    export_bundle(tmp_path / "b", target="cpu", modalities="imu", random_init=True, preset="tiny", remember=False,
                  on_stage=stages.append)
    assert stages == ["loading the encoders (random init)", "imu: exporting to ONNX",
                      "checking parity against PyTorch fp32"]
