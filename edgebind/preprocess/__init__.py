"""Input contracts: what the IMU and thermal encoders are fed, and how files and sensors get there.

``imu``: (6, 2000) float32 windows, accel x,y,z then gyro x,y,z in m/s² and rad/s at 400 Hz (ImuContract).
``thermal``: (1, 224, 224) float32 in [0, 1] from °C or raw counts (ThermalContract).
Both contracts are frozen dataclasses with a JSON round-trip, stored in every Bundle.
"""

from edgebind.preprocess.imu import (
    DEFAULT_IMU_CONTRACT,
    ImuContract,
    check_imu_input,
    load_imu_csv,
    load_imu_input,
    resample_imu,
    windows_from_recording,
)
from edgebind.preprocess.thermal import (
    DEFAULT_THERMAL_CONTRACT,
    ThermalContract,
    check_thermal_input,
    load_cptv,
    load_thermal_image,
    load_thermal_input,
    map_temperature,
    to_model_input,
)

__all__ = [
    "DEFAULT_IMU_CONTRACT",
    "DEFAULT_THERMAL_CONTRACT",
    "ImuContract",
    "ThermalContract",
    "check_imu_input",
    "check_thermal_input",
    "load_cptv",
    "load_imu_csv",
    "load_imu_input",
    "load_thermal_image",
    "load_thermal_input",
    "map_temperature",
    "resample_imu",
    "to_model_input",
    "windows_from_recording",
]
