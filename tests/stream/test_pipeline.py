"""The reader side of the pipeline fed events directly: calibration profile, sensor checks, thermal throttle,
modalities the model lacks, and the label bank width check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebind.bridge.events import DeviceInfo, ImuBatch, ThermalFrame
from edgebind.calibration.profiles import CalibrationProfile
from edgebind.errors import ConfigError, InputError
from edgebind.stream.encoders import Encoders, open_encoders
from edgebind.stream.labels import LabelSource
from edgebind.stream.pipeline import StreamOptions, StreamPipeline
from edgebind.zeroshot import LabelBank


def steady_batch(t0_s: float, seconds: float, accel: tuple[float, float, float], rate_hz: float = 400.0
                 ) -> ImuBatch:
    n = round(seconds * rate_hz)
    t = (np.arange(n) / rate_hz * 1e9 + t0_s * 1e9).astype(np.int64)
    acc = np.tile(np.asarray(accel, np.float32), (n, 1))
    return ImuBatch(t, acc, np.zeros((n, 3), np.float32), host_t_ns=1)


def pipeline(enc: Encoders, labels: Path, profile: CalibrationProfile | None = None, **opts: float
             ) -> StreamPipeline:
    src = LabelSource(labels, enc.bank, enc.text_embed, enc.text_model)
    return StreamPipeline(enc, src, StreamOptions(**opts), lambda r: None, profile)  # type: ignore[arg-type]


def test_profile_corrects_samples_before_windowing(tiny_ckpt: Path, labels_file: Path) -> None:
    profile = CalibrationProfile(sensor="mpu6050", accel_bias_mps2=[1.0, 0.0, 0.0])
    with open_encoders(checkpoint=tiny_ckpt) as enc:
        raw, cal = pipeline(enc, labels_file), pipeline(enc, labels_file, profile)
        for p in (raw, cal):
            p.feed(DeviceInfo(imu_sensor="MPU-6050", imu_rate_hz=400.0))
            p.feed(steady_batch(0.0, 5.0, (1.0, 0.0, 9.81)))
        raw_job, cal_job = raw.slot.take(1.0), cal.slot.take(1.0)
    assert raw_job is not None and cal_job is not None and raw_job.x.shape == (6, 2000)
    np.testing.assert_allclose(raw_job.x[0], 1.0, atol=1e-5)
    np.testing.assert_allclose(cal_job.x[0], 0.0, atol=1e-5)  # the bias is gone
    np.testing.assert_allclose(cal_job.x[2], 9.81, atol=1e-4)


def test_profile_for_another_sensor_is_refused(tiny_ckpt: Path, labels_file: Path) -> None:
    with open_encoders(checkpoint=tiny_ckpt) as enc:
        p = pipeline(enc, labels_file, CalibrationProfile(sensor="mpu6050"))
        with pytest.raises(ConfigError, match="made for IMU 'mpu6050' but the device reports 'bmi270'"):
            p.feed(DeviceInfo(imu_sensor="bmi270"))


def test_thermal_frames_are_throttled_on_the_device_clock(tiny_ckpt: Path, labels_file: Path) -> None:
    rng = np.random.default_rng(0)
    with open_encoders(checkpoint=tiny_ckpt) as enc:
        p = pipeline(enc, labels_file, hop_s=1.0, thermal_every_s=0.5)
        for i in range(20):  # 10 Hz for 2 s
            p.feed(ThermalFrame(int(i * 1e8), (20 + rng.random((24, 32))).astype(np.float32), host_t_ns=i))
        job = p.slot.take(1.0)
    counts = p.stats.counts("thermal")
    assert (counts.made, counts.throttled) == (4, 16)  # frames at 0, 0.5, 1.0, 1.5 s go to the model
    assert job is not None and job.x.shape == (1, 224, 224) and job.x.min() >= 0.0 and job.x.max() <= 1.0


def test_other_modality_beside_a_supported_one_is_ignored(thermal_only_ckpt: Path, labels_file: Path) -> None:
    with open_encoders(checkpoint=thermal_only_ckpt) as enc:
        p = pipeline(enc, labels_file)
        p.feed(ThermalFrame(0, np.full((24, 32), 20.0, np.float32), host_t_ns=1))
        p.feed(steady_batch(0.0, 6.0, (0.0, 0.0, 9.81)))  # no error: the thermal stream is labelled
    assert p.stats.counts("thermal").made == 1 and "imu" not in p.stats.summary().modalities


def test_label_bank_of_another_width_is_refused_at_start(tiny_ckpt: Path, tmp_path: Path) -> None:
    bank = LabelBank(["walk", "run"], np.eye(2, 384, dtype=np.float32), meta={"text_model": "all-MiniLM-L6-v2"})
    with open_encoders(checkpoint=tiny_ckpt) as enc:
        src = LabelSource(None, bank)
        with pytest.raises(InputError, match=r"384-d embeddings but the imu encoder .* outputs 1024-d"):
            StreamPipeline(enc, src, StreamOptions(), lambda r: None)


def test_fuse_needs_both_encoders(thermal_only_ckpt: Path, labels_file: Path) -> None:
    with open_encoders(checkpoint=thermal_only_ckpt) as enc, pytest.raises(ConfigError, match="--fuse needs IMU"):
        pipeline(enc, labels_file, fuse=True)  # type: ignore[arg-type]
