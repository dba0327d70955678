"""Golden vectors (shared with the C tests) and the frame layer."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from edgebind.bridge import protocol as p
from edgebind.bridge.binary import BinaryDecoder
from edgebind.bridge.events import DeviceInfo, ImuBatch, LogMessage, ThermalFrame

from .conftest import GOLDEN


def _golden() -> dict:
    return json.loads((GOLDEN / "vectors.json").read_text())


def test_golden_files_are_what_the_generator_makes() -> None:
    spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    g = mod.build()
    assert (GOLDEN / "vectors.json").read_text() == mod.render_json(g)
    assert (GOLDEN / "vectors.txt").read_text() == mod.render_txt(g)


@pytest.mark.parametrize("vec", _golden()["frames"], ids=lambda v: v["name"])
def test_golden_frame_encodes_and_parses(vec: dict) -> None:
    wire = bytes.fromhex(vec["wire"])
    assert p.encode_frame(vec["type"], vec["seq"], vec["t_us"], bytes.fromhex(vec["body"])) == wire
    assert wire.count(0) == 1 and wire[-1] == 0
    header, body = p.parse_frame(wire[:-1])
    assert (header.type, header.seq, header.t_us) == (vec["type"], vec["seq"], vec["t_us"])
    assert body.hex() == vec["body"]


def test_golden_frames_decode_to_golden_values() -> None:
    g = _golden()
    dec = BinaryDecoder()
    by_name = {}
    for vec in g["frames"]:
        events = dec.feed(bytes.fromhex(vec["wire"]))
        by_name[vec["name"]] = [e for e in events if not hasattr(e, "missing")]
    info = by_name["info_icm42688_mlx90640"][0]
    assert isinstance(info, DeviceInfo)
    d = g["frames"][0]["decoded"]
    assert (info.firmware, info.imu_sensor, info.thermal_sensor) == (d["firmware"], d["imu_sensor"],
                                                                    d["thermal_sensor"])
    assert info.extra["accel_lsb_mps2"] == d["accel_lsb_mps2"] and info.imu_rate_hz == d["imu_rate_hz"]
    for vec in g["frames"]:
        d, events = vec["decoded"], by_name[vec["name"]]
        if vec["type"] == p.FrameType.IMU:
            (batch,) = events
            assert isinstance(batch, ImuBatch)
            np.testing.assert_array_equal(batch.accel_mps2.ravel(), np.float32(d["accel_mps2"]))
            if d["gyro_rads"] is not None:
                np.testing.assert_array_equal(batch.gyro_rads.ravel(), np.float32(d["gyro_rads"]))
            assert batch.has_gyro == bool(d["flags"])
            assert np.all(np.diff(batch.t_ns) == d["dt_us"] * 1000)
        elif vec["type"] == p.FrameType.THERMAL:
            (frame,) = events
            assert isinstance(frame, ThermalFrame) and frame.temp_c.shape == (d["height"], d["width"])
            np.testing.assert_allclose(frame.temp_c.ravel(), d["celsius"], rtol=0, atol=1e-4)
        elif vec["type"] == p.FrameType.LOG:
            (msg,) = events
            assert isinstance(msg, LogMessage) and (msg.level, msg.text) == ("warning", d["text"])
    assert dec.stats["frames_ok"] == len(g["frames"]) and dec.stats["crc_failures"] == 0
    assert dec.stats["unknown_types"] == 5  # the host->device commands


def test_golden_cobs_and_crc() -> None:
    g = _golden()
    for c in g["cobs"]:
        assert bytes(p.cobs.encode(bytes.fromhex(c["raw"]))).hex() == c["encoded"]
        assert bytes(p.cobs.decode(bytes.fromhex(c["encoded"]))).hex() == c["raw"]
    assert {c["name"]: c["crc"] for c in g["crc16"]}["check_123456789"] == 0x29B1
    for c in g["crc16"]:
        assert p.crc16(bytes.fromhex(c["data"])) == c["crc"]


def test_parse_frame_names_the_failure() -> None:
    wire = p.encode_log(1, 2, "info", "hello")
    broken = bytearray(wire[:-1])
    broken[4] ^= 0x01
    with pytest.raises(p.FrameError) as exc:
        p.parse_frame(bytes(broken))
    assert exc.value.reason in ("crc_failures", "cobs_errors")
    payload = bytearray(p.cobs.decode(wire[:-1]))
    payload[0] = 9  # another protocol version, CRC fixed up
    payload[-2:] = p.CRC.pack(p.crc16(bytes(payload[:-2])))
    with pytest.raises(p.FrameError, match="bad_version"):
        p.parse_frame(bytes(p.cobs.encode(bytes(payload))))
    with pytest.raises(ValueError, match="unknown command"):
        p.encode_command("reboot")
    with pytest.raises(ValueError, match="rate_hz"):
        p.encode_command("set_rate", stream="imu", rate_hz=-1.0)


def test_protocol_md_budget_table_matches_the_code() -> None:
    from edgebind.bridge.budget import budget_table

    text = (GOLDEN.parent / "PROTOCOL.md").read_text()
    for row in budget_table():
        baud = f"{row['baud']:,}".replace(",", " ") if row["baud"] else "none"
        assert f"| {row['mix']} | {row['kbit_s']:.0f} | {baud}" in text, row
