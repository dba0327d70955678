"""CSV/text-line decoder, format sniffing and the clock estimator (all pure)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgebind.bridge.clock import ClockEstimator
from edgebind.bridge.detect import AutoDecoder, make_decoder, sniff
from edgebind.bridge.encode import binary_units, csv_units
from edgebind.bridge.events import DeviceInfo, ImuBatch
from edgebind.bridge.faults import FaultInjector, FaultSpec
from edgebind.bridge.text import CsvDecoder
from edgebind.bridge.units import UnitOptions
from edgebind.errors import ConfigError

from .conftest import synthetic


def _imu(events: list) -> tuple[np.ndarray, np.ndarray]:
    b = [e for e in events if isinstance(e, ImuBatch)]
    return np.concatenate([x.t_ns for x in b]), np.concatenate([x.imu for x in b])


@pytest.mark.parametrize("sep", [",", "\t", " ", ", "])
def test_separators_and_timestamp_column(sep: str) -> None:
    rec = synthetic(n=50, rate_hz=200.0)
    text = "".join(f"{t // 1000}{sep}" + sep.join(f"{v:.5f}" for v in row) + "\r\n"
                   for t, row in zip(rec.imu_t_ns, rec.imu, strict=True))
    dec = CsvDecoder()
    events = dec.feed(text.encode()) + dec.flush()
    t, imu = _imu(events)
    np.testing.assert_array_equal(t, rec.imu_t_ns)
    np.testing.assert_allclose(imu, rec.imu, atol=5e-6)
    info = next(e for e in events if isinstance(e, DeviceInfo))
    assert info.extra["timestamp_column"] and info.imu_rate_hz == pytest.approx(200.0)


def test_header_names_the_timestamp_unit() -> None:
    lines = ["time_ms,ax,ay,az"] + [f"{10 * i},0.1,0.2,9.8" for i in range(20)]
    dec = CsvDecoder()
    events = dec.feed(("\n".join(lines) + "\n").encode()) + dec.flush()
    t, imu = _imu(events)
    assert t[1] - t[0] == 10_000_000 and dec.stats["header_lines"] == 1
    assert not next(e for e in events if isinstance(e, ImuBatch)).has_gyro
    np.testing.assert_allclose(imu[:, 3:], 0.0)


def test_no_timestamp_uses_given_rate_or_measured_line_rate() -> None:
    line = b"1,2,3,4,5,6\n"
    dec = CsvDecoder(rate_hz=50.0)
    t, _ = _imu(dec.feed(line * 20) + dec.flush())
    assert np.all(np.diff(t) == 20_000_000)
    dec = CsvDecoder()  # Edge Impulse style: measure the line rate from host arrival times (100 lines/s here)
    events = []
    for i in range(150):
        events += dec.feed(line, host_t_ns=i * 10_000_000)
    t, _ = _imu(events + dec.flush())
    assert dec.rate_hz == pytest.approx(100.0, rel=0.02)
    assert len(t) == 150 and np.all(np.diff(t) > 0)


def test_malformed_truncated_and_non_monotonic_lines_are_counted() -> None:
    rec = synthetic(n=400)
    inj = FaultInjector(FaultSpec(truncate=0.05, seed=1), text=True)
    data = b"".join(inj.apply(u.data)[0] for u in csv_units(rec))
    data += b"hello world\n" + b"1,2\n" + f"{rec.imu_t_ns[5] // 1000},1,2,3,4,5,6\n".encode()
    dec = CsvDecoder()
    events = dec.feed(data) + dec.flush()
    t, _ = _imu(events)
    assert dec.stats["malformed_lines"] == inj.stats["lines_truncated"] + 1  # "1,2"
    assert dec.stats["other_lines"] == 1  # "hello world" after data: text the decoder cannot use
    assert dec.stats["non_monotonic"] == 1
    assert len(t) == 400 - inj.stats["lines_truncated"] and np.all(np.diff(t) > 0)


def test_binary_stream_read_as_csv_is_diagnosed() -> None:
    stream = b"".join(u.data for u in binary_units(synthetic(n=200))[0])
    dec = CsvDecoder()
    dec.feed(stream)
    assert "--format binary" in (dec.problem() or "")
    wrong_baud = bytes(np.random.default_rng(0).integers(128, 256, 2000, dtype=np.uint8))
    dec = CsvDecoder()
    dec.feed(wrong_baud)
    assert "baud" in (dec.problem() or "")


def test_sniff_and_auto_decoder() -> None:
    rec = synthetic(n=100)
    binary = b"".join(u.data for u in binary_units(rec)[0])
    text = b"".join(u.data for u in csv_units(rec))
    assert sniff(binary[:300]) == "binary" and sniff(text[:400]) == "text" and sniff(b"\xff\xfe" * 100) is None
    for data in (binary, text):
        dec = AutoDecoder()
        events = []
        for i in range(0, len(data), 64):
            events += dec.feed(data[i : i + 64])
        t, _ = _imu(events + dec.flush())
        np.testing.assert_array_equal(t, rec.imu_t_ns)
        assert dec.stats["bytes_in"] == len(data)
    junk = AutoDecoder()
    junk.feed(bytes(np.random.default_rng(1).integers(1, 256, 5000, dtype=np.uint8)))
    assert "baud" in (junk.problem() or "")
    with pytest.raises(ConfigError, match="Did you mean 'binary'"):
        make_decoder("binray")


def test_clock_offset_and_drift_from_noisy_arrivals() -> None:
    rng = np.random.default_rng(0)
    device = np.arange(0, 30_000_000_000, 10_000_000, dtype=np.int64)  # 30 s at 100 Hz
    drift, offset = 80e-6, 5_000_000_000  # host runs 80 ppm fast, 5 s ahead
    latency = rng.exponential(2_000_000, len(device)).astype(np.int64) + 300_000  # >= 0.3 ms, 2 ms mean
    host = device + offset + (device * drift).astype(np.int64) + latency
    clock = ClockEstimator()
    for d, h in zip(device, host, strict=True):
        clock.add(int(d), int(h))
    assert clock.ready
    assert clock.drift_ppm == pytest.approx(80.0, abs=3.0)
    true_host = device + offset + (device * drift).astype(np.int64) + 300_000
    err = clock.device_to_host(device) - true_host
    assert np.abs(err).max() < 200_000  # 0.2 ms, against 2 ms mean latency
    back = clock.host_to_device(clock.device_to_host(device))
    assert np.abs(back - device).max() <= 1
    assert clock.stats()["clock_drift_ppb"] == pytest.approx(80_000, abs=3000)


@settings(max_examples=200, deadline=None, database=None)
@given(st.binary(max_size=3000), st.integers(min_value=1, max_value=500))
def test_fuzz_text_and_auto_decoders_never_raise(data: bytes, chunk: int) -> None:
    for dec in (CsvDecoder(), AutoDecoder(), CsvDecoder(rate_hz=100.0)):
        for i in range(0, len(data), chunk):
            dec.feed(data[i : i + chunk], host_t_ns=i * 1000)
        dec.flush()
        dec.problem()
        assert dec.stats["bytes_in"] == len(data)


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=6, max_size=6), min_size=1, max_size=40),
       st.sampled_from([",", "\t", " "]))
def test_fuzz_numeric_lines_round_trip(rows: list[list[float]], sep: str) -> None:
    text = "".join(sep.join(repr(v) for v in row) + "\n" for row in rows)
    dec = CsvDecoder(rate_hz=100.0, units=UnitOptions(accel_unit="mps2", gyro_unit="rads"))
    events = dec.feed(text.encode()) + dec.flush()
    _, imu = _imu(events)
    np.testing.assert_allclose(imu, np.float32(rows), rtol=1e-6)


def test_wrong_baud_rate_is_diagnosed_and_a_small_mismatch_tolerated() -> None:
    from edgebind.bridge.faults import uart_misread

    rec = synthetic(n=2000)
    binary = b"".join(u.data for u in binary_units(rec)[0])
    assert uart_misread(binary, 1.0) == binary  # the UART model is exact at the right rate
    for ratio, fmt in ((1.03, "binary"), (8.0, None), (0.125, None), (2.0, None)):
        dec = AutoDecoder()
        dec.feed(uart_misread(binary, ratio))
        assert (dec.inner.fmt if dec.inner else None) == fmt, ratio
        if fmt is None:
            assert "baud rate is probably wrong" in (dec.problem() or "")
