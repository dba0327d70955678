"""The pieces under the stop/kill guarantees, without a device: atomic writes, the journal's torn tail, the one
place that sums losses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebind.atomicfile import atomic_write
from edgebind.bridge.journal import Journal, read_journal
from edgebind.bridge.losses import loss_line, losses


def test_atomic_write_leaves_the_old_file_when_the_writer_dies(tmp_path: Path) -> None:
    path = tmp_path / "walk.npz"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(path) as f:
        f.write(b"half of the new")
        raise RuntimeError("killed mid-write")
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["walk.npz"]
    with atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new" and oct(path.stat().st_mode & 0o777) != "0o600"


def test_a_torn_journal_reads_up_to_its_last_whole_record(tmp_path: Path) -> None:
    path = tmp_path / "walk.npz.partial"
    j = Journal(path, {"source": "test"})
    for k in range(3):
        t = np.arange(k * 100, (k + 1) * 100, dtype=np.int64) * 5_000_000
        j.add_imu(t, np.full((100, 6), k, np.float32), True)
    j.add_thermal(1_000, np.full((24, 32), 30.0, np.float32))
    j.close()
    whole = read_journal(path)
    assert len(whole.imu) == 300 and whole.thermal is not None and len(whole.thermal) == 1
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 24 * 32 * 4 - 5])  # cut inside the thermal frame, as a kill would
    cut = read_journal(path)
    assert len(cut.imu) == 300 and cut.thermal is None and cut.meta["recovered_from"]["torn_bytes"] > 0
    path.write_bytes(data[: len(data) - 24 * 32 * 4 - 100])  # inside the last IMU batch: that batch is dropped
    assert len(read_journal(path).imu) == 200
    # a power cut can leave the file's last block allocated but zero-filled: the length is whole, the CRC is not
    path.write_bytes(data[: len(data) - 24 * 32 * 4 - 100] + bytes(100 + 24 * 32 * 4))
    assert len(read_journal(path).imu) == 200


def test_losses_name_every_sample_not_written() -> None:
    clean = {"imu_decoded": 10, "imu_written": 10, "thermal_decoded": 2, "thermal_written": 2}
    assert loss_line(clean).endswith("counters: no losses")
    assert losses(clean | {"imu_written": 8, "recorder_non_monotonic": 2}) == {"recorder_non_monotonic": 2}
    assert losses(clean | {"imu_written": 7}) == {"imu_not_written": 3}  # decoded, not written, no reason given
    assert losses(clean | {"queue_dropped_bytes": 512}) == {"queue_dropped_bytes": 512}
    assert "no losses" not in loss_line(clean | {"thermal_written": 1})
