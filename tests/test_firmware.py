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
    after = rec.imu_t_ns[:-1] >= (changed[-1] if changed else -1)  # the IMU restarts at the new rate
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


def sample_indices(rec: Recording, rate_hz: float, first_rate_hz: float = 200.0) -> np.ndarray:
    """Each recorded IMU sample's index n in the synthetic waveform, found from the device times and then checked.

    Within a run of the IMU at one rate (from START, and from each rate change on) the firmware stamps sample n at
    t_first + (n - n_first) * period, the time the IMU took it. A run's first index is the smallest that makes every
    sample of the run equal the waveform, count for count: so the indices prove both the values and the times (a
    batch stamped first time + nominal dt over a gap would match no index).
    """
    dev = rec.meta["device"]
    counts = np.concatenate([np.rint(rec.imu[:, :3] / np.float32(dev["accel_lsb_mps2"])),
                             np.rint(rec.imu[:, 3:] / np.float32(dev["gyro_lsb_rads"]))], axis=1).astype(np.int64)
    changed = [lg["t_ns"] for lg in rec.meta["logs"] if lg["text"].startswith("rates now:")]
    run = np.searchsorted(np.asarray(changed, dtype=np.int64), rec.imu_t_ns, side="left")  # 0 before SET_RATE
    n = np.empty(len(counts), np.int64)
    base = 0
    for r in np.unique(run):
        sel = np.flatnonzero(run == r)
        period_ns = round(1e9 / (first_rate_hz if r == 0 and changed else rate_hz))
        since = rec.imu_t_ns[sel] - rec.imu_t_ns[sel[0]]
        assert np.all(since % period_ns == 0), f"run {r}: device times off the {period_ns} ns grid"
        rel = since // period_ns
        head = slice(0, 400)
        first = next((k for k in range(base, base + 4000)
                      if np.array_equal(synth_imu(k + rel[head]), counts[sel][head])), None)
        assert first is not None, f"run {r}: no index makes its first samples equal the waveform"
        bad = np.flatnonzero(np.any(synth_imu(first + rel) != counts[sel], axis=1))
        assert bad.size == 0, (f"run {r} from index {first}: {bad.size} of {sel.size} samples differ from the "
                               f"waveform at their time, first at {bad[:5]} (t_ns {rec.imu_t_ns[sel][bad[:5]]})")
        n[sel] = first + rel
        base = int(n[sel[-1]]) + 1
    assert np.all(np.diff(n) > 0), n[:10]
    return n


def _check_losses_counted_exactly(rec: Recording, n: np.ndarray) -> int:
    """The host's IMU loss (counters and Gap events) equals the gaps in the recorded sample indices, gap for gap and
    at the right sample, and each gap shows in the gyro-z counter ((n mod 64) - 32). Returns the samples lost."""
    missing = np.diff(n, prepend=-1) - 1  # n[0] > 0: samples lost before the first (INFO says where it began)
    at = np.flatnonzero(missing > 0)  # the first sample after each gap
    c = rec.meta["counters"]
    assert c["samples_lost"] == int(missing.sum()) and c["seq_gaps"] == at.size, \
        (c["samples_lost"], int(missing.sum()), c["seq_gaps"], at.size)
    host = [(g["missing"], g["t_ns"]) for g in rec.meta["gaps"] if g["stream"] == "imu" and g["missing"]]
    seen = [(int(missing[i]), int(rec.imu_t_ns[i])) for i in at]
    assert host == seen[: len(host)] and len(host) == min(len(seen), 200), (host[:5], seen[:5])  # meta keeps 200
    gz = np.rint(rec.imu[:, 5] / np.float32(rec.meta["device"]["gyro_lsb_rads"])).astype(np.int64)
    np.testing.assert_array_equal(np.diff(gz, prepend=-33) % 64, np.diff(n, prepend=-1) % 64)  # gz(n=-1) = -33
    return int(missing.sum())


def _check_thermal(rec: Recording, thermal_hz: float) -> int:
    assert rec.thermal is not None and rec.thermal_t_ns is not None
    assert rec.meta["counters"]["thermal_frames_lost"] == 0
    period_ns = round(1e9 / thermal_hz)
    np.testing.assert_array_equal(np.diff(rec.thermal_t_ns), period_ns)  # frame f at START + f / thermal_hz
    for f in range(len(rec.thermal)):
        np.testing.assert_array_equal(np.rint(rec.thermal[f] * 100).astype(np.int64), synth_thermal(f))
    return len(rec.thermal)


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


@pytest.mark.parametrize("max_batch", [None, 13, 255])
def test_firmware_rates_and_device_session_pass_their_host_tests(tmp_path: Path, max_batch: int | None) -> None:
    """eb_rates.c (the five firmware bugs), eb_imu.c (WHO_AM_I clones, loss accounting) and eb_device.c (the
    session every firmware variant runs), also built with EB_DEV_MAX_BATCH 13 and 255: a full batch is one frame."""
    exe = tmp_path / "test_device"
    src = [FIRMWARE / "src" / "edgebind_proto.c", FIRMWARE / "firmware" / "src" / "eb_device.c",
           FIRMWARE / "firmware" / "src" / "eb_rates.c", FIRMWARE / "firmware" / "src" / "eb_imu.c",
           FIRMWARE / "tests" / "test_device.c"]
    batch = [f"-DEB_DEV_MAX_BATCH={max_batch}u"] if max_batch else []
    build = subprocess.run([*_host_cc(tmp_path), *batch, f"-I{FIRMWARE / 'src'}", *map(str, src), "-lm", "-o",
                            str(exe)], capture_output=True, text=True)
    assert build.returncode == 0, f"C build failed:\n{build.stderr}"
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"C tests failed:\n{run.stdout}\n{run.stderr}"
    passed = int(re.search(r"device tests: (\d+) passed, 0 failed", run.stdout).group(1))  # type: ignore[union-attr]
    assert passed >= 80, run.stdout


# ---------------------------------------------------------------- emulated microcontrollers
def test_qemu_cortex_m3_firmware_is_recorded_sample_for_sample(tmp_path: Path) -> None:
    """`make qemu-record`: build, boot on QEMU mps2-an385 with the UART on a pty, `edgebind record` it."""
    _tool("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    _tool("qemu-system-arm", "qemu-system-arm")
    out = tmp_path / "synth.npz"
    # STALL_US=0: the board's clock is the host's, whose drift estimate is checked (see emu/board_mps2_an385.c)
    _make(tmp_path / "build", "qemu-record", "SECONDS=4", f"OUT={out}", "STALL_US=0")
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


def _qemu_1khz_8hz(tmp_path: Path, *make_vars: str) -> tuple[Recording, np.ndarray]:
    """`make qemu-record SECONDS=10 RATE=1000 THERMAL_HZ=8`: 1 kHz IMU, 8 Hz 32x24 thermal frames of 1.6 KB, which
    hold the modelled 921600-baud UART for ~17 ms each."""
    _tool("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    _tool("qemu-system-arm", "qemu-system-arm")
    out = tmp_path / "x.npz"
    _make(tmp_path / "build", "qemu-record", "SECONDS=10", "RATE=1000", "THERMAL_HZ=8", f"OUT={out}", *make_vars)
    rec = Recording.load(out)
    assert rec.meta["device"]["imu_rate_hz"] == 1000.0 and rec.meta["device"]["thermal_rate_hz"] == 8.0
    return rec, sample_indices(rec, 1000.0)


def test_qemu_fifo_draining_firmware_delivers_every_sample_at_1khz_with_8hz_thermal(tmp_path: Path) -> None:
    """The firmware drains the IMU's FIFO in bursts: a thermal frame holding the UART ~17 ms costs no sample."""
    rec, n = _qemu_1khz_8hz(tmp_path)
    assert rec.meta["device"]["imu_sensor"] == "synthetic (FIFO)"
    assert _check_losses_counted_exactly(rec, n) == 0
    np.testing.assert_array_equal(n, np.arange(len(n)))  # from sample 0 at START, no gap in gyro-z nor anywhere
    assert len(n) >= 8500, len(n)  # 10 s at 1 kHz, less the boot
    assert _check_thermal(rec, 8.0) >= 70


def test_qemu_data_register_firmware_loses_samples_and_the_host_counts_each_one(tmp_path: Path) -> None:
    """IMU_FIFO=0 reads the data register only (the firmware before the FIFO): each thermal frame overwrites ~17
    samples; the data-ready pulse count makes the firmware skip their sequence numbers and the host counts them."""
    rec, n = _qemu_1khz_8hz(tmp_path, "IMU_FIFO=0")
    assert rec.meta["device"]["imu_sensor"] == "synthetic (data register)"
    thermal = _check_thermal(rec, 8.0)
    lost = _check_losses_counted_exactly(rec, n)
    assert lost >= 15 * thermal, (lost, thermal)  # ~16 ms of UART per 1.6 KB thermal frame: 16 or 17 each


def test_qemu_fifo_overflow_is_counted_exactly(tmp_path: Path) -> None:
    """A FIFO too shallow for a thermal frame (8 samples, 8 ms) overflows at every frame: the samples it dropped
    are counted, to the sample, and the ones it kept are delivered with their own times."""
    rec, n = _qemu_1khz_8hz(tmp_path, "IMU_FIFO_DEPTH=8")
    thermal = _check_thermal(rec, 8.0)
    lost = _check_losses_counted_exactly(rec, n)
    # every thermal frame (~16 ms of UART) overflows the 8-sample FIFO: 8 or more samples lost each time
    assert rec.meta["counters"]["seq_gaps"] >= thermal - 2 and lost >= 6 * thermal, (lost, thermal)


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
    (qemu_elf,) = (build / "qemu").glob("*/edgebind-synth.elf")  # the default image: FIFO, 2 Hz thermal
    arm = list(_sizes("arm-none-eabi-size", objs["cm3"], objs["cm0plus"], qemu_elf))
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
