"""Apply a calibration profile to a whole Recording, as `record` and `embed` do (`stream` applies it per batch)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from edgebind.bridge.recording import Recording
from edgebind.calibration.imu import apply_imu_profile
from edgebind.calibration.profiles import CalibrationProfile, as_profile, check_profile_parts
from edgebind.calibration.thermal import apply_thermal_profile


def calibrate_recording(rec: Recording, profile: CalibrationProfile | dict[str, Any] | str | Path) -> Recording:
    """A copy of ``rec`` with the profile's IMU correction and thermal repair applied, noted in ``meta``.

    The IMU part applies when the profile has a sensor (``matrix @ (raw - bias)``, gyro bias, axis map); the
    thermal part when both the profile and the recording have one.

    Raises:
        ConfigError: the profile was made for another sensor than the recording's meta names.
    """
    prof = as_profile(profile)
    check_profile_parts(prof, rec.meta.get("imu_sensor") or None, rec.meta.get("thermal_sensor") or None,
                        source="the recording")
    imu = apply_imu_profile(rec.imu, prof) if prof.sensor else rec.imu
    thermal = rec.thermal
    if thermal is not None and prof.thermal is not None:
        thermal = apply_thermal_profile(thermal, prof)
    meta = {**rec.meta, "calibration": prof.to_dict()}
    return dataclasses.replace(rec, imu=imu, thermal=thermal, meta=meta)
