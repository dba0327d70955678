"""The stream warns once, with the numbers, when the device rate or resting gravity contradicts the bundle's contract.

Real data: BasicMotions TEST (a 10 Hz smartwatch, gravity removed; its first 60 s are the Standing cases), against
the demo bundle's contract (which declares exactly that) and against ImageBind's default (400 Hz grid, gravity in).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from edgebind.bridge.events import ImuBatch
from edgebind.bridge.recording import Recording
from edgebind.bridge.remix import retime, trim
from edgebind.bundle import load_bundle
from edgebind.demo import demo_bundle
from edgebind.preprocess.imu import DEFAULT_IMU_CONTRACT, ImuContract
from edgebind.stream.contract import ImuContractCheck

G = 9.80665


def demo_contract() -> ImuContract:
    return ImuContract.from_dict(load_bundle(demo_bundle()).encoders["imu"].contract)


def with_gravity(rec: Recording) -> Recording:
    imu = rec.imu.copy()
    imu[:, 2] += G  # a raw accelerometer lying flat
    return Recording(imu=imu, imu_t_ns=rec.imu_t_ns, labels=rec.labels, label_t_ns=rec.label_t_ns, meta=rec.meta)


def feed(check: ImuContractCheck, rec: Recording, batch: int = 7) -> list[str]:
    out: list[str] = []
    for i in range(0, len(rec.imu_t_ns), batch):
        out += check.push(rec.imu_t_ns[i:i + batch], rec.imu[i:i + batch])
    return out


def test_demo_bundle_declares_its_training_data() -> None:
    c = demo_contract()
    assert c.source_rate_hz == 10.0 and c.gravity_included is False


def test_basicmotions_fits_the_demo_contract(basicmotions: Recording) -> None:
    check = ImuContractCheck(demo_contract())
    assert feed(check, trim(basicmotions, 60.0)) == []
    assert check.rate_hz == pytest.approx(10.0, rel=1e-3)
    assert check.rest_accel_mps2 is not None and check.rest_accel_mps2 < 1.0
    print(f"\nBasicMotions Standing: device rate {check.rate_hz:.2f} Hz, |accel| at rest {check.rest_accel_mps2:.3f}")


def test_gravity_in_the_data_but_not_in_the_contract(basicmotions: Recording) -> None:
    check = ImuContractCheck(demo_contract())
    warnings = feed(check, with_gravity(trim(basicmotions, 60.0)))
    assert len(warnings) == 1 and "gravity removed" in warnings[0] and "at rest" in warnings[0]
    assert f"{check.rest_accel_mps2:.2f} m/s^2" in warnings[0] and abs(check.rest_accel_mps2 - G) < 1.0
    assert feed(check, with_gravity(basicmotions)) == []  # once


def test_gravity_in_the_contract_but_not_in_the_data(basicmotions: Recording) -> None:
    check = ImuContractCheck(DEFAULT_IMU_CONTRACT)  # no source rate: the rate is not checked
    warnings = feed(check, trim(basicmotions, 60.0))
    assert len(warnings) == 1 and "expects gravity included" in warnings[0]


def test_device_rate_other_than_the_training_data(basicmotions: Recording) -> None:
    check = ImuContractCheck(demo_contract())
    warnings = feed(check, retime(trim(basicmotions, 60.0), 50.0), batch=40)
    assert len(warnings) == 1 and "streams at 50.0 Hz" in warnings[0] and "trained on 10 Hz" in warnings[0]
    near = ImuContractCheck(demo_contract())
    assert feed(near, retime(trim(basicmotions, 60.0), 11.0)) == []  # within RATE_TOLERANCE


def test_pipeline_logs_the_warning_once(basicmotions: Recording, labels_file, caplog) -> None:  # type: ignore[no-untyped-def]
    from edgebind.stream.encoders import open_encoders
    from edgebind.stream.labels import LabelSource
    from edgebind.stream.pipeline import StreamOptions, StreamPipeline

    rec = with_gravity(trim(basicmotions, 30.0))
    with open_encoders(bundle=demo_bundle()) as enc, caplog.at_level(logging.WARNING, "edgebind.stream.pipeline"):
        p = StreamPipeline(enc, LabelSource(None, enc.bank, enc.text_embed, enc.text_model), StreamOptions(),
                           lambda r: None)
        for i in range(0, len(rec.imu_t_ns), 10):
            t, x = rec.imu_t_ns[i:i + 10], rec.imu[i:i + 10].astype(np.float32)
            p.feed(ImuBatch(t, x[:, :3], x[:, 3:], host_t_ns=i))
    messages = [r.getMessage() for r in caplog.records if "at rest" in r.getMessage()]
    assert len(messages) == 1 and "gravity removed" in messages[0]
