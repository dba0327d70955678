"""Timing and units of text lines (pure decoder, simulated host arrival times): line rate, timestamp units,
unit detection and the one-line errors, MLX90640 frame checks, device reboots and pauses."""

from __future__ import annotations

import numpy as np
import pytest

from edgebind.bridge.events import DeviceInfo, Gap, ImuBatch, ThermalFrame
from edgebind.bridge.text import TextDecoder
from edgebind.bridge.units import UnitOptions

from .sketches import G, imu_truth, mlx_frame, sparkfun_line


def _feed(dec: TextDecoder, lines: list[tuple[int, str]]) -> list:
    events = []
    for host_ns, text in lines:
        events += dec.feed(text.encode(), host_t_ns=host_ns)
    return events + dec.flush(lines[-1][0])


def _imu(events: list) -> tuple[np.ndarray, np.ndarray]:
    b = [e for e in events if isinstance(e, ImuBatch)]
    return np.concatenate([x.t_ns for x in b]), np.concatenate([x.imu for x in b])


def _arrivals(n: int, rate_hz: float, seed: int = 0) -> np.ndarray:
    """Host arrival times (ns) of n lines: USB-style 1 ms polling, exponential latency, the first 5 lines buffered
    by the OS and read together (what opening a port on a running board gives)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate_hz + rng.exponential(0.0015, n) + 1.0
    t = np.ceil(t * 1000) / 1000  # read in 1 ms USB frames
    t[:5] = t[4]
    return (t * 1e9).astype(np.int64)


@pytest.mark.parametrize("rate_hz", [10.0, 50.0, 100.0, 400.0])
def test_line_rate_by_regression_within_half_a_percent(rate_hz: float) -> None:
    n = int(6 * rate_hz)
    truth = imu_truth(n)
    host = _arrivals(n, rate_hz)
    lines = []
    for i, (h, row) in enumerate(zip(host, truth, strict=True)):
        lines.append((int(h), ",".join(f"{v:.4f}" for v in row) + "\r\n"))
        if i % 25 == 3:  # text and a thermal frame between IMU lines are not samples
            lines.append((int(h) + 1000, "Waiting for data\r\n"))
        if i % 100 == 50:
            lines.append((int(h) + 2000, mlx_frame(np.full((24, 32), 21.5))))
    dec = TextDecoder(units=UnitOptions(gyro_unit="rads"))
    events = _feed(dec, lines)
    first = next(e for e in events if isinstance(e, DeviceInfo))
    assert first.imu_rate_hz == pytest.approx(rate_hz, rel=0.005)  # the first estimate (1-2 s of lines)
    assert dec.rate_hz == pytest.approx(rate_hz, rel=0.005)  # re-estimated as the stream ran
    t, _ = _imu(events)
    assert len(t) == n and np.all(np.diff(t) > 0)
    assert 1e9 / np.median(np.diff(t)) == pytest.approx(rate_hz, rel=0.005)
    assert (t[-1] - t[0]) / 1e9 == pytest.approx((n - 1) / rate_hz, rel=0.005)  # N samples span N - 1 periods
    assert dec.stats["other_lines"] == len([x for x in lines if "Waiting" in x[1]])


@pytest.mark.parametrize("unit", ["ms", "us"])
@pytest.mark.parametrize("rate_hz", [1.0, 5.0, 9.0, 10.0, 100.0, 1000.0])
def test_timestamp_unit_millis_or_micros_at_1_to_1000_hz(unit: str, rate_hz: float) -> None:
    n = max(12, int(3 * rate_hz))
    per_s = 1000 if unit == "ms" else 1_000_000
    stamps = np.round(np.arange(n) * per_s / rate_hz).astype(np.int64) + 12345  # integer millis() / micros()
    host = _arrivals(n, rate_hz, seed=1)
    lines = [(int(h), f"{s},0.01,0.02,9.81\r\n") for h, s in zip(host, stamps, strict=True)]
    dec = TextDecoder()
    t, _ = _imu(_feed(dec, lines))
    np.testing.assert_array_equal(np.diff(t), np.diff(stamps) * (1_000_000 if unit == "ms" else 1000))
    assert dec.info is not None and dec.info.imu_rate_hz == pytest.approx(rate_hz, rel=0.005)


def _rest_lines(scale: float, n: int = 40) -> list[tuple[int, str]]:
    truth = imu_truth(n, seed=2)
    return [(int(1e9 + i * 1e7), ",".join(f"{v * scale:.5f}" for v in row[:3]) + "\r\n")
            for i, row in enumerate(truth)]


@pytest.mark.parametrize(("scale", "unit"), [(1.0, "mps2"), (1 / G, "g"), (1000 / G, "mg")])
def test_accelerometer_unit_from_the_gravity_magnitude(scale: float, unit: str) -> None:
    dec = TextDecoder()
    _, imu = _imu(_feed(dec, _rest_lines(scale)))
    assert dec.info is not None and dec.info.extra["accel_unit"] == unit
    np.testing.assert_allclose(np.linalg.norm(imu[:, :3], axis=1).mean(), G, rtol=0.02)


def test_unit_flag_contradicting_the_data_is_a_one_line_error() -> None:
    dec = TextDecoder(units=UnitOptions(accel_unit="g"))
    _feed(dec, _rest_lines(1.0))  # m/s^2 data, flag says g
    msg = dec.problem() or ""
    assert "--accel-unit g contradicts the data" in msg and "pass --accel-unit mps2" in msg and "\n" not in msg
    dec = TextDecoder(units=UnitOptions(accel_unit="g", gyro_unit="rads"))
    _feed(dec, [(int(1e9 + i * 2e7), sparkfun_line(r)) for i, r in enumerate(imu_truth(20))])
    assert "name their unit 'mg'" in (dec.problem() or "")
    dec = TextDecoder(units=UnitOptions(gyro_unit="rads"))
    _feed(dec, [(int(1e9 + i * 2e7), sparkfun_line(r)) for i, r in enumerate(imu_truth(20))])
    assert "--gyro-unit rads contradicts the lines, which name their unit 'dps'" in (dec.problem() or "")


def test_ambiguous_magnitude_is_a_warning_naming_the_flag() -> None:
    dec = TextDecoder()
    events = _feed(dec, _rest_lines(3.0))  # magnitude ~29: neither g, m/s^2 nor mg
    warnings = [e.text for e in events if getattr(e, "level", "") == "warning"]
    assert any("--accel-unit g|mg|mps2" in w for w in warnings)
    assert dec.problem() is None and dec.stats["lines_ok"] == 40  # a warning, not an error


def test_mlx90640_frames_with_the_wrong_row_count() -> None:
    good = np.round(np.random.default_rng(0).normal(30, 2, (24, 32)), 1)
    cut = "".join(mlx_frame(good).splitlines(keepends=True)[:13])  # separator + 12 rows
    dec = TextDecoder()
    events = _feed(dec, [(int(1e9 * k), text) for k, text in enumerate([mlx_frame(good), cut, mlx_frame(good)])])
    frames = [e for e in events if isinstance(e, ThermalFrame)]
    assert len(frames) == 2 and dec.stats["thermal_bad_frames"] == 1 and dec.problem() is None
    np.testing.assert_allclose(frames[0].temp_c, good, atol=1e-4)
    dec = TextDecoder()
    _feed(dec, [(int(1e9 * k), cut) for k in range(3)])
    msg = dec.problem() or ""
    assert "12 rows of 32 values, not 24" in msg and "print every row" in msg


def test_timestamped_lines_across_a_device_reboot_lose_nothing() -> None:
    """millis() restarts at 0 after a watchdog reset: a new clock segment, the gap reported, every line kept."""
    rate = 50.0
    before = [(int(1e9 + i * 2e7), f"{5000 + 20 * i},0.01,0.02,9.81\r\n") for i in range(100)]
    after = [(int(1e9 + 2.0e9 + 1.5e9 + i * 2e7), f"{300 + 20 * i},0.01,0.02,9.81\r\n") for i in range(60)]
    dec = TextDecoder()
    events = _feed(dec, before + after)
    t, _ = _imu(events)
    assert len(t) == 160 and np.all(np.diff(t) > 0) and dec.stats["device_reboots"] == 1
    gap = next(e for e in events if isinstance(e, Gap) and e.reason == "device reboot")
    assert gap.duration_ns == pytest.approx(1.5e9 + 2e7, abs=1e6)  # host time between the last and first line
    assert (t[100] - t[99]) == pytest.approx(1.5e9 + 2e7, abs=1e6)
    assert 1e9 / np.median(np.diff(t)) == pytest.approx(rate)


def test_pause_without_timestamps_keeps_the_time_axis() -> None:
    rate = 100.0
    lines = [(int(1e9 + i * 1e7), "0.01,0.02,9.81\r\n") for i in range(300)]
    lines += [(int(1e9 + 3e9 + 2e9 + i * 1e7), "0.01,0.02,9.81\r\n") for i in range(100)]
    dec = TextDecoder()
    events = _feed(dec, lines)
    t, _ = _imu(events)
    assert len(t) == 400 and dec.stats["pauses"] == 1
    gap = next(e for e in events if isinstance(e, Gap) and e.reason == "pause")
    assert gap.missing == pytest.approx(200, abs=2)
    assert (t[300] - t[299]) / 1e9 == pytest.approx(2.01, abs=0.01)
    assert 1e9 / np.median(np.diff(t)) == pytest.approx(rate, rel=0.005)


def test_teleplot_timestamps_are_milliseconds() -> None:
    names = ("accX", "accY", "accZ")
    lines = []
    for i in range(30):
        ts = 1000 + 40 * i  # Teleplot ">name:timestamp_ms:value", 25 Hz
        lines += [(int(1e9 + i * 4e7), f">{n}:{ts}:{v}\r\n") for n, v in zip(names, (0.0, 0.1, 9.8), strict=True)]
    dec = TextDecoder()
    t, imu = _imu(_feed(dec, lines))
    assert dec.fmt == "teleplot" and len(t) == 30
    assert np.all(np.diff(t) == 40_000_000)
    np.testing.assert_allclose(imu[0], [0.0, 0.1, 9.8, 0.0, 0.0, 0.0], atol=1e-6)


def test_moving_data_without_gravity_is_not_taken_for_g(shared_recording) -> None:  # type: ignore[no-untyped-def]
    """BasicMotions (a real smartwatch recording, gravity removed, |a| about 1 m/s^2 and varying) must stay m/s^2:
    only a steady gravity magnitude names a unit."""
    rec = shared_recording("imu/BasicMotions_TEST.ts")
    lines = [(int(1e9 + i * 1e8), ",".join(f"{v:.5f}" for v in row) + "\r\n") for i, row in enumerate(rec.imu[:200])]
    dec = TextDecoder()
    events = _feed(dec, lines)
    _, imu = _imu(events)
    assert dec.info is not None and dec.info.extra["accel_unit"] == "mps2"
    assert any("not a steady" in getattr(e, "text", "") for e in events)  # the warning names the flag
    np.testing.assert_allclose(imu, rec.imu[:200], atol=5e-6)


def test_thermal_only_simpletest_stream() -> None:
    """MLX90640_simpletest alone (2 Hz frames, header lines first): frames in degrees C on the host clock."""
    rng = np.random.default_rng(8)
    frames = np.round(rng.normal(24, 2, (3, 24, 32)), 1)
    head = "Adafruit MLX90640 Simple Test\r\nFound Adafruit MLX90640\r\nSerial number 0x00A1B2C3D4E5\r\n"
    lines = [(int(1e9), head)] + [(int(1e9 + 5e8 * (k + 1)), mlx_frame(f)) for k, f in enumerate(frames)]
    dec = TextDecoder()
    events = _feed(dec, lines)
    got = [e for e in events if isinstance(e, ThermalFrame)]
    assert len(got) == 3 and dec.stats["header_lines"] == 3 and dec.problem() is None
    np.testing.assert_allclose(np.stack([g.temp_c for g in got]), frames, atol=1e-4)
    assert [g.t_ns for g in got] == [500_000_000, 1_000_000_000, 1_500_000_000]
    assert not [e for e in events if getattr(e, "level", "") == "warning"]


def test_unit_flag_on_raw_counts_is_a_one_line_error() -> None:
    from .sketches import i2cdevlib_line

    lines = [(int(1e9 + i * 1e7), i2cdevlib_line(r)) for i, r in enumerate(imu_truth(30))]
    dec = TextDecoder(units=UnitOptions(sensor="mpu6050", accel_unit="g"))
    events = _feed(dec, lines)
    assert "drop --accel-unit/--gyro-unit and give --sensor" in (dec.problem() or "")
    assert not [e for e in events if isinstance(e, ImuBatch)]


def test_timestamp_unit_of_a_replay_at_10x() -> None:
    """millis() of a 2 Hz sensor replayed 10x faster (20 lines/s) is still milliseconds, micros at 1 kHz too."""
    for stamps, lines_per_s, step_ns in ((np.arange(30) * 500, 20.0, 500_000_000),
                                         (np.arange(3000) * 1000, 10_000.0, 1_000_000)):
        host = (1e9 + np.arange(len(stamps)) / lines_per_s * 1e9).astype(np.int64)
        dec = TextDecoder()
        t, _ = _imu(_feed(dec, [(int(h), f"{s},0.01,0.02,9.81\r\n") for h, s in zip(host, stamps, strict=True)]))
        assert np.all(np.diff(t) == step_ns)
