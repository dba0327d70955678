"""A read's adjacent IMU frames come out as one ImuBatch, with the samples that frame-by-frame decoding gives."""

from __future__ import annotations

import itertools

import numpy as np

from edgebind.bridge.binary import BinaryDecoder
from edgebind.bridge.encode import binary_units
from edgebind.bridge.events import Gap, ImuBatch, ThermalFrame

from .conftest import synthetic


def test_one_read_of_many_frames_is_one_batch_with_the_same_samples() -> None:
    rec = synthetic(n=3000, rate_hz=1000.0, thermal=6)
    units = binary_units(rec, imu_batch=10)[0]  # 300 IMU frames of 10 samples, 6 thermal frames between them
    framewise = BinaryDecoder()
    one_by_one = [e for u in units for e in framewise.feed(u.data)]
    merged = BinaryDecoder().feed(b"".join(u.data for u in units))
    imu_one = [e for e in one_by_one if isinstance(e, ImuBatch)]
    imu_merged = [e for e in merged if isinstance(e, ImuBatch)]
    sent = [u.kind for u in units if u.kind != "info"]
    runs = sum(1 for i, k in enumerate(sent) if k == "imu" and (i == 0 or sent[i - 1] != "imu"))
    assert len(imu_one) == 300 and len(imu_merged) == runs == 6  # one batch per run of frames between thermal frames
    kinds = ["imu" if isinstance(e, ImuBatch) else "thermal" if isinstance(e, ThermalFrame) else "other"
             for e in merged]
    assert kinds.count("thermal") == 6 and all(a != b or a != "imu" for a, b in itertools.pairwise(kinds))
    for name in ("t_ns", "accel_mps2", "gyro_rads", "imu"):
        np.testing.assert_array_equal(np.concatenate([getattr(b, name) for b in imu_merged]),
                                      np.concatenate([getattr(b, name) for b in imu_one]))
    assert all(b.imu.dtype == np.float32 and b.imu.shape == (len(b.t_ns), 6) for b in imu_merged)


def test_a_lost_frame_splits_the_batch_at_its_gap() -> None:
    rec = synthetic(n=400, rate_hz=1000.0)
    units = list(binary_units(rec, imu_batch=10)[0])
    imu_units = [i for i, u in enumerate(units) if u.kind == "imu"]
    del units[imu_units[20]]  # samples 200..209 never arrive
    events = BinaryDecoder().feed(b"".join(u.data for u in units))
    batches = [e for e in events if isinstance(e, ImuBatch)]
    gaps = [e for e in events if isinstance(e, Gap)]
    assert len(batches) == 2 and len(gaps) == 1 and gaps[0].missing == 10
    assert events.index(gaps[0]) == events.index(batches[0]) + 1  # in order: batch, gap, batch
    np.testing.assert_array_equal(np.concatenate([b.t_ns for b in batches]),
                                  np.delete(rec.imu_t_ns, np.arange(200, 210)))
