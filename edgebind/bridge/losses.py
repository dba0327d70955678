"""Every loss of a recording, summed in one place: what the link lost (CRC, gaps, queue drops, reboots) and every
sample that was decoded but not written (non-monotonic or duplicate time, a thermal frame of another size).
``edgebind record`` prints :func:`loss_line`; "no losses" only when decoded == written and no counter is set."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# counters that each mean data did not reach the file (link, decoder, transport, device, recorder)
LOSS_COUNTERS = ("crc_failures", "resyncs", "seq_gaps", "samples_lost", "thermal_frames_lost", "bytes_discarded",
                 "malformed_lines", "queue_dropped_bytes", "reconnects", "device_reboots", "pauses",
                 "thermal_bad_frames", "recorder_non_monotonic", "recorder_thermal_shape_changes")


def losses(counters: Mapping[str, Any]) -> dict[str, int]:
    """The non-zero loss counters, plus ``imu_not_written`` / ``thermal_not_written`` for decoded samples that did
    not reach the file for a reason no other counter names."""
    out = {k: int(counters[k]) for k in LOSS_COUNTERS if counters.get(k)}
    imu_gap = (int(counters.get("imu_decoded", 0)) - int(counters.get("imu_written", 0))
               - int(counters.get("recorder_non_monotonic", 0)))
    th_gap = (int(counters.get("thermal_decoded", 0)) - int(counters.get("thermal_written", 0))
              - int(counters.get("recorder_thermal_shape_changes", 0)))
    if imu_gap:
        out["imu_not_written"] = imu_gap
    if th_gap:
        out["thermal_not_written"] = th_gap
    return out


def loss_line(counters: Mapping[str, Any]) -> str:
    """``decoded 4400 IMU samples, wrote 4400; ...; counters: no losses`` (or the losses as JSON)."""
    lost = losses(counters)
    head = (f"decoded {counters.get('imu_decoded', 0)} IMU samples and {counters.get('thermal_decoded', 0)} "
            f"thermal frames, wrote {counters.get('imu_written', 0)} and {counters.get('thermal_written', 0)}")
    return f"{head}; counters: {json.dumps(lost) if lost else 'no losses'}"
