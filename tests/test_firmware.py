"""Build and run the C protocol library's host tests (firmware_bridge/) with gcc, from pytest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from edgebind.bridge.protocol import PROTOCOL_VERSION

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware_bridge"


def _compiler() -> str:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (gcc/cc) on PATH: the firmware_bridge C tests need one (apt-get install gcc)")
    return cc


def _sanitizers_work(cc: str, tmp_path: Path) -> bool:
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    res = subprocess.run([cc, "-fsanitize=address,undefined", str(probe), "-o", str(tmp_path / "probe")],
                         capture_output=True)
    return res.returncode == 0 and subprocess.run([str(tmp_path / "probe")], capture_output=True).returncode == 0


def test_c_protocol_library_passes_its_tests_and_the_golden_vectors(tmp_path: Path) -> None:
    cc = _compiler()
    exe = tmp_path / "test_proto"
    flags = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Wshadow",
             "-D_POSIX_C_SOURCE=200809L"]
    if _sanitizers_work(cc, tmp_path):
        flags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    build = subprocess.run(
        [cc, *flags, str(FIRMWARE / "src" / "edgebind_proto.c"), str(FIRMWARE / "tests" / "test_proto.c"), "-lm",
         "-o", str(exe)], capture_output=True, text=True)
    assert build.returncode == 0, f"C build failed:\n{build.stderr}"
    run = subprocess.run([str(exe), str(FIRMWARE / "golden" / "vectors.txt")], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, f"C tests failed:\n{run.stdout}\n{run.stderr}"
    import re

    records = int(re.search(r"golden records: (\d+)", run.stdout).group(1))  # type: ignore[union-attr]
    assert " 0 failed" in run.stdout and records > 20, run.stdout


def test_reference_firmware_uses_only_the_library_api() -> None:
    """The sketch must call the same frame builders the host tests check (no second, divergent encoder)."""
    sketch = (FIRMWARE / "firmware" / "src" / "main.cpp").read_text()
    for call in ("eb_frame_encode", "eb_build_imu", "eb_build_thermal", "eb_build_info", "eb_decoder_feed",
                 "eb_parse_command"):
        assert call in sketch, call
    header = (FIRMWARE / "src" / "edgebind_proto.h").read_text()
    assert f"EB_PROTOCOL_VERSION {PROTOCOL_VERSION}u" in header  # C and Python speak the same version
