"""The firmware side, built and run: the C protocol library and the firmware's portable parts on the host, the
synthetic-sensor firmware on an emulated Cortex-M3 (QEMU mps2-an385) and ATmega328P (simavr), each recorded
through a pseudo-terminal by ``edgebind record``, and the library built for AVR and Cortex-M0+.

The cross toolchains come from Debian (see .ci/run). Where one is absent these tests skip with the package to
install, except when ``EDGEBIND_REQUIRE_TOOLCHAINS=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgebind.bridge.recording import Recording

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware_bridge"
STRICT_C = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Wshadow",
            "-D_POSIX_C_SOURCE=200809L"]


def _require(present: bool, what: str, package: str) -> None:
    if not present:
        msg = f"{what} not found: apt-get install {package}"
        if os.environ.get("EDGEBIND_REQUIRE_TOOLCHAINS") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    _require(path is not None, name, package)
    assert path is not None
    return path


def _host_cc(tmp_path: Path) -> list[str]:
    cc = _tool("gcc", "gcc")
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    ok = subprocess.run([cc, *san, str(probe), "-o", str(tmp_path / "probe")], capture_output=True).returncode == 0
    ok = ok and subprocess.run([str(tmp_path / "probe")], capture_output=True).returncode == 0
    return [cc, *STRICT_C, *(san if ok else [])]


def _make(build: Path, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([_tool("make", "make"), "-s", "-C", str(FIRMWARE), f"BUILD={build}",
                          f"PYTHON={sys.executable}", *args], capture_output=True, text=True, timeout=timeout_s)
    assert res.returncode == 0, f"make {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}"
    return res


# ---------------------------------------------------------------- the documented synthetic waveform (emu/synth.h)
def _tri(n: np.ndarray, period: int, amp: int) -> np.ndarray:
    q = (4 * amp * (n % period)) // period
    return np.where(q <= 2 * amp, q - amp, 3 * amp - q)


def synth_imu(n: np.ndarray) -> np.ndarray:
    """(N,) sample indices -> (N, 6) raw counts, as emu/synth.h documents them."""
    n = np.asarray(n, dtype=np.int64)
    return np.stack([_tri(n, 200, 1000), _tri(n + 50, 320, 600), 2048 + _tri(n, 100, 200), _tri(n, 400, 3000),
                     -_tri(n, 250, 1500), n % 64 - 32], axis=1)


def synth_thermal(f: int) -> np.ndarray:
    """Frame index -> (24, 32) centi-degrees C."""
    y, x = np.mgrid[0:24, 0:32]
    return 2000 + 37 * ((x + 3 * y + f) % 32)


def _check_synthetic_recording(rec: Recording, rate_hz: float, seconds: float, thermal_hz: float) -> None:
    dev = rec.meta["device"]
    c = rec.meta["counters"]
    assert dev["firmware"].startswith("edgebind-synth") and dev["imu_rate_hz"] == np.float32(rate_hz), dev
    lost = {k: c[k] for k in ("samples_lost", "seq_gaps", "thermal_frames_lost", "crc_failures", "resyncs",
                              "bytes_discarded", "queue_dropped_bytes", "recorder_non_monotonic") if c.get(k)}
    assert not lost, lost
    n = len(rec.imu)
    # the recorder opens the port, sends START and stops after `seconds` of wall time; QEMU/simavr boot first
    assert n >= rate_hz * (seconds - 1.5), (n, rate_hz, seconds)
    # every sample, in order: sample k is the waveform's sample k (n = 0 at START), count for count
    accel = np.rint(rec.imu[:, :3] / np.float32(dev["accel_lsb_mps2"])).astype(np.int64)
    gyro = np.rint(rec.imu[:, 3:] / np.float32(dev["gyro_lsb_rads"])).astype(np.int64)
    expected = synth_imu(np.arange(n))
    bad = np.flatnonzero(np.any(np.concatenate([accel, gyro], 1) != expected, axis=1))
    assert bad.size == 0, f"{bad.size} of {n} samples differ from the waveform, first {bad[:5]}"
    # the device rate holds: every interval is the device's period (after a SET_RATE, once the device answered
    # with the rate it really runs at), and the device clock keeps host time
    changed = [lg["t_ns"] for lg in rec.meta["logs"] if lg["text"].startswith("rates now:")]
    after = rec.imu_t_ns[1:] > (changed[-1] if changed else -1)
    assert after.mean() > 0.95, changed
    np.testing.assert_array_equal(np.diff(rec.imu_t_ns)[after], round(1e9 / rate_hz))
    # the issue asks for 1 %; measured up to 0.18 % over 4 s on a loaded 2-core host (the estimate, not QEMU)
    assert abs(rec.meta["counters"]["clock_drift_ppb"]) < 1e7, rec.meta["clock"]
    if thermal_hz:
        assert rec.thermal is not None and rec.thermal_t_ns is not None
        m = len(rec.thermal)
        assert m >= thermal_hz * (seconds - 1.5), m
        for f in range(m):
            np.testing.assert_array_equal(np.rint(rec.thermal[f] * 100).astype(np.int64), synth_thermal(f))
        np.testing.assert_array_equal(np.diff(rec.thermal_t_ns), round(1e9 / thermal_hz))
        assert rec.thermal_t_ns[0] == rec.imu_t_ns[0]  # both streams start at START


# ---------------------------------------------------------------- host builds
def test_c_protocol_library_passes_its_tests_and_the_golden_vectors(tmp_path: Path) -> None:
    exe = tmp_path / "test_proto"
    build = subprocess.run(
        [*_host_cc(tmp_path), str(FIRMWARE / "src" / "edgebind_proto.c"), str(FIRMWARE / "tests" / "test_proto.c"),
         "-lm", "-o", str(exe)], capture_output=True, text=True)
    assert build.returncode == 0, f"C build failed:\n{build.stderr}"
    run = subprocess.run([str(exe), str(FIRMWARE / "golden" / "vectors.txt")], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, f"C tests failed:\n{run.stdout}\n{run.stderr}"
    records = int(re.search(r"golden records: (\d+)", run.stdout).group(1))  # type: ignore[union-attr]
    assert " 0 failed" in run.stdout and records > 20, run.stdout


def test_firmware_rates_and_device_session_pass_their_host_tests(tmp_path: Path) -> None:
    """eb_rates.c (the five firmware bugs) and eb_device.c (the session every firmware variant runs)."""
    exe = tmp_path / "test_device"
    src = [FIRMWARE / "src" / "edgebind_proto.c", FIRMWARE / "firmware" / "src" / "eb_device.c",
           FIRMWARE / "firmware" / "src" / "eb_rates.c", FIRMWARE / "tests" / "test_device.c"]
    build = subprocess.run([*_host_cc(tmp_path), f"-I{FIRMWARE / 'src'}", *map(str, src), "-lm", "-o", str(exe)],
                           capture_output=True, text=True)
    assert build.returncode == 0, f"C build failed:\n{build.stderr}"
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"C tests failed:\n{run.stdout}\n{run.stderr}"
    passed = int(re.search(r"device tests: (\d+) passed, 0 failed", run.stdout).group(1))  # type: ignore[union-attr]
    assert passed >= 40, run.stdout


# ---------------------------------------------------------------- emulated microcontrollers
def test_qemu_cortex_m3_firmware_is_recorded_sample_for_sample(tmp_path: Path) -> None:
    """`make qemu-record`: build, boot on QEMU mps2-an385 with the UART on a pty, `edgebind record` it."""
    _tool("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    _tool("qemu-system-arm", "qemu-system-arm")
    out = tmp_path / "synth.npz"
    _make(tmp_path / "build", "qemu-record", "SECONDS=4", f"OUT={out}")
    _check_synthetic_recording(Recording.load(out), rate_hz=200.0, seconds=4.0, thermal_hz=2.0)


def test_simavr_atmega328p_firmware_is_recorded_sample_for_sample(tmp_path: Path) -> None:
    """`make simavr-record`: the same session code on an 8-bit AVR (2 KB RAM, IMU only), UART on a pty. The host
    asks for 120 Hz; the device runs on whole microseconds (8333 us) and INFO says so: 120.0048 Hz."""
    _tool("avr-gcc", "gcc-avr avr-libc")
    _tool("simavr", "simavr")
    _require(Path("/usr/include/simavr/parts/uart_pty.h").is_file(), "simavr's uart_pty.h", "libsimavr-dev")
    out = tmp_path / "synth.npz"
    _make(tmp_path / "build", "simavr-record", "SECONDS=4", f"OUT={out}", "RATE=120")
    rec = Recording.load(out)
    assert [lg["text"] for lg in rec.meta["logs"]] == ["rates now: imu 120.005 Hz, thermal 0.000 Hz"]
    _check_synthetic_recording(rec, rate_hz=1e6 / 8333, seconds=4.0, thermal_hz=0.0)


def _sizes(size_tool: str, *files: Path) -> list[tuple[int, int]]:
    """Berkeley `size` output -> (flash, RAM) per file, in argument order."""
    out = subprocess.run([size_tool, *map(str, files)], capture_output=True, text=True, check=True).stdout
    sizes = []
    for line in out.splitlines()[1:]:
        text, data, bss, *_ = line.split()
        sizes.append((int(text) + int(data), int(data) + int(bss)))
    return sizes


def test_library_builds_for_avr_and_cortex_m0plus_and_protocol_md_has_their_footprint(tmp_path: Path) -> None:
    _tool("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    _tool("avr-gcc", "gcc-avr avr-libc")
    build = tmp_path / "build"
    _make(build, "footprint")
    objs = {t: build / t / "edgebind_proto.o" for t in ("cm3", "cm0plus", "avr")}
    # each object is really for its core: ELF machine (ARM 40, AVR 83) and the Arm architecture tag
    assert {t: int.from_bytes(p.read_bytes()[18:20], "little") for t, p in objs.items()} == \
        {"cm3": 40, "cm0plus": 40, "avr": 83}
    for target, arch in (("cm3", "v7"), ("cm0plus", "v6S-M")):
        attrs = subprocess.run(["arm-none-eabi-readelf", "-A", str(objs[target])], capture_output=True, text=True)
        assert f"Tag_CPU_arch: {arch}\n" in attrs.stdout, attrs.stdout
    arm = list(_sizes("arm-none-eabi-size", objs["cm3"], objs["cm0plus"], build / "qemu" / "edgebind-synth.elf"))
    avr = list(_sizes("avr-size", objs["avr"], build / "avr" / "edgebind-synth.elf"))
    built = [arm[0], arm[1], avr[0], arm[2], avr[1]]  # the table's row order
    table = (FIRMWARE / "PROTOCOL.md").read_text().split("## 12. Footprint")[1]
    rows = [tuple(int(v) for v in m) for m in re.findall(r"^\|[^|]+\|[^|]+\| (\d+) \| (\d+) \|$", table, re.M)]
    assert len(rows) == 5, rows
    for (flash, ram), (doc_flash, doc_ram) in zip(built, rows, strict=True):
        # compilers differ a little between releases; beyond 15 % the table is stale: make footprint, update it
        assert abs(flash - doc_flash) <= 0.15 * doc_flash and abs(ram - doc_ram) <= 0.15 * max(doc_ram, 1), \
            (built, rows)
    assert built[2][0] < 8 * 1024 and built[4][1] < 2048  # ATmega328P: library under 8 kB flash, image in 2 kB RAM
