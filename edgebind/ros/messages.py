"""Pure conversions between ROS 2 messages and edgebind arrays (no file or network I/O).

Conventions (docs/robotics.md): ``sensor_msgs/msg/Imu`` follows REP 145 (``linear_acceleration`` is specific force
in m/s^2 with gravity included, ``angular_velocity`` in rad/s, ``header.stamp`` the sample's time, a covariance
whose first element is -1 marks a quantity the sensor does not provide). Thermal images carry no standard unit, so
the reader is told one of :data:`THERMAL_UNITS`. Decoded messages are the attribute objects ``mcap_ros2`` returns;
messages to write are plain dicts its encoder accepts.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from edgebind.errors import ConfigError, SensorError, suggest

THERMAL_UNITS = ("celsius", "kelvin_x100", "counts")
IMAGE_ENCODINGS = {"mono8": np.uint8, "8UC1": np.uint8, "mono16": np.uint16, "16UC1": np.uint16,
                   "32FC1": np.float32}
KELVIN_OFFSET = 273.15
NO_DATA_COVARIANCE = [-1.0] + [0.0] * 8  # REP 145: the sensor does not provide this quantity
UNKNOWN_COVARIANCE = [0.0] * 9  # REP 145: covariance unknown


def to_stamp(t_ns: int) -> dict[str, int]:
    """``builtin_interfaces/Time`` for ``t_ns`` (nanosec always in [0, 1e9), as ROS requires)."""
    sec, nanosec = divmod(int(t_ns), 1_000_000_000)
    return {"sec": sec, "nanosec": nanosec}


def stamp_ns(stamp: Any) -> int:
    """Nanoseconds of a decoded ``builtin_interfaces/Time``."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def imu_message(t_ns: int, sample: np.ndarray, frame_id: str, has_gyro: bool = True) -> dict[str, Any]:
    """A ``sensor_msgs/msg/Imu`` dict from one Recording row (accel m/s^2, gyro rad/s); no orientation."""
    a, g = (float(v) for v in sample[:3]), (float(v) for v in sample[3:6])
    return {
        "header": {"stamp": to_stamp(t_ns), "frame_id": frame_id},
        "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0},
        "orientation_covariance": NO_DATA_COVARIANCE,
        "angular_velocity": dict(zip("xyz", g, strict=True)),
        "angular_velocity_covariance": UNKNOWN_COVARIANCE if has_gyro else NO_DATA_COVARIANCE,
        "linear_acceleration": dict(zip("xyz", a, strict=True)),
        "linear_acceleration_covariance": UNKNOWN_COVARIANCE,
    }


def imu_sample(msg: Any) -> tuple[int, tuple[float, float, float, float, float, float], bool]:
    """(stamp ns, (ax, ay, az, gx, gy, gz), has_gyro) from a decoded ``sensor_msgs/msg/Imu``."""
    a, g = msg.linear_acceleration, msg.angular_velocity
    has_gyro = not (len(msg.angular_velocity_covariance) and msg.angular_velocity_covariance[0] == -1.0)
    return stamp_ns(msg.header.stamp), (a.x, a.y, a.z, g.x, g.y, g.z), has_gyro


def image_message(t_ns: int, temp_c: np.ndarray, frame_id: str) -> dict[str, Any]:
    """A ``sensor_msgs/msg/Image`` dict: one (H, W) frame in degrees C as ``32FC1`` little-endian."""
    frame = np.ascontiguousarray(temp_c, dtype="<f4")
    h, w = frame.shape
    return {"header": {"stamp": to_stamp(t_ns), "frame_id": frame_id}, "height": h, "width": w,
            "encoding": "32FC1", "is_bigendian": 0, "step": w * 4, "data": frame.tobytes()}


def image_array(msg: Any, topic: str) -> np.ndarray:
    """The (H, W) raw values of a decoded ``sensor_msgs/msg/Image`` (uint8, uint16 or float32).

    Raises:
        SensorError: an encoding other than mono8, mono16, 16UC1 or 32FC1, or a data size that does not match.
    """
    dtype = IMAGE_ENCODINGS.get(msg.encoding)
    if dtype is None:
        raise SensorError(f"{topic}: image encoding '{msg.encoding}' is not a single-channel thermal format; "
                          f"publish one of {', '.join(IMAGE_ENCODINGS)} (or PNG CompressedImage).")
    dt = np.dtype(dtype).newbyteorder(">" if msg.is_bigendian else "<")
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    data = bytes(msg.data)
    if step < w * dt.itemsize or len(data) < h * step:
        raise SensorError(f"{topic}: image {w}x{h} {msg.encoding} with step {step} needs {h * step} bytes, got "
                          f"{len(data)}; the publisher's step or size is wrong.")
    rows = np.frombuffer(data, np.uint8, h * step).reshape(h, step)[:, : w * dt.itemsize]  # drop row padding
    return np.ascontiguousarray(rows).view(dt).reshape(h, w).astype(dt.newbyteorder("="))


def compressed_array(msg: Any, topic: str) -> np.ndarray:
    """The (H, W) raw values of a PNG ``sensor_msgs/msg/CompressedImage`` (8- or 16-bit grey).

    Raises:
        SensorError: JPEG or another lossy or colour format (temperatures cannot be recovered from it).
    """
    if "png" not in msg.format.lower():
        raise SensorError(f"{topic}: compressed format '{msg.format}' loses temperatures; publish PNG "
                          "(compressed_image_transport format png) or a raw sensor_msgs/msg/Image.")
    from PIL import Image

    with Image.open(io.BytesIO(bytes(msg.data))) as img:
        arr = np.asarray(img)
    if arr.ndim != 2:
        raise SensorError(f"{topic}: PNG has shape {arr.shape}, not one grey channel; publish mono8 or mono16 PNG.")
    return arr


def check_thermal_unit(unit: str, sensor: str | None) -> None:
    """Raise ConfigError for an unknown unit, or ``counts`` without the sensor whose profile converts them."""
    if unit not in THERMAL_UNITS:
        raise ConfigError(f"unknown thermal unit '{unit}'.{suggest(unit, THERMAL_UNITS)}")
    if unit == "counts" and not sensor:
        raise ConfigError("--thermal-unit counts needs the sensor whose profile converts counts to degrees C: pass "
                          "--thermal-sensor lepton3.5, mlx90640 or amg8833 (or a unit: celsius, kelvin_x100).")


PLAUSIBLE_C = (-60.0, 500.0)  # a thermal camera's scene; outside it for most of a frame, the unit is wrong


def to_celsius(raw: np.ndarray, unit: str, sensor: str | None = None) -> np.ndarray:
    """Degrees C (float32) from raw image values in ``unit`` (counts: through the sensor's profile).

    Raises:
        SensorError: most pixels of most frames fall outside -60..500 °C: ``unit`` is not what the frames hold.
    """
    check_thermal_unit(unit, sensor)
    if unit == "celsius":
        out = np.asarray(raw, dtype=np.float32)
    elif unit == "kelvin_x100":
        out = (np.asarray(raw, dtype=np.float64) * 0.01 - KELVIN_OFFSET).astype(np.float32)
    else:
        from edgebind.calibration.thermal import counts_to_celsius

        out = counts_to_celsius(raw, str(sensor))
    check_plausible_celsius(out, unit)
    return out


def check_plausible_celsius(frames_c: np.ndarray, unit: str) -> None:
    """Refuse frames (M, H, W) whose pixels lie outside :data:`PLAUSIBLE_C` for most of most frames."""
    if frames_c.size == 0:
        return
    lo, hi = PLAUSIBLE_C
    c = frames_c.reshape(len(frames_c), -1) if frames_c.ndim > 1 else frames_c.reshape(1, -1)
    outside = ((c < lo) | (c > hi)).mean(axis=1)  # per frame
    if float(np.mean(outside > 0.5)) > 0.5:
        raise SensorError(f"thermal frames read as {unit} give a median of {float(np.median(c)):.0f} °C, outside "
                          f"{lo:g}..{hi:g} °C for most pixels: the frames hold another unit; pass --thermal-unit "
                          "celsius, kelvin_x100 or counts (with --thermal-sensor) to match them.")


def label_message(line: dict[str, Any], t_end_ns: int, frame_id: str, stamp_ns: int | None = None) -> dict[str, Any]:
    """An ``edgebind_msgs/msg/WindowLabel`` dict from one ``stream --json`` line (``LabelResult.to_json()``).

    ``header.stamp`` is ``stamp_ns`` (the window's end in ROS time) or, without it, the device time ``t_end_ns``;
    ``device_stamp`` is always the device time."""
    return {
        "header": {"stamp": to_stamp(t_end_ns if stamp_ns is None else stamp_ns), "frame_id": frame_id},
        "modality": line["modality"], "label": line["label"], "index": int(line["index"]),
        "top_k_labels": [t["label"] for t in line["top_k"]], "top_k_scores": [float(t["score"]) for t in line["top_k"]],
        "latency_ms": float(line["latency_ms"]), "runner_ms": float(line["runner_ms"]),
        "windows_skipped": int(line["drops"]["windows_skipped"]), "samples_lost": int(line["drops"]["samples_lost"]),
        "device_stamp": to_stamp(t_end_ns),
    }


def label_line(msg: Any) -> dict[str, Any]:
    """The ``stream --json`` line a decoded ``edgebind_msgs/msg/WindowLabel`` carries (inverse of label_message;
    ``t_end_s`` is device time, from ``device_stamp``, or ``header.stamp`` in bags written before it existed)."""
    device = getattr(msg, "device_stamp", None) or msg.header.stamp
    return {"t_end_s": round(stamp_ns(device) / 1e9, 6), "modality": msg.modality, "label": msg.label,
            "top_k": [{"label": n, "score": s} for n, s in zip(msg.top_k_labels, msg.top_k_scores, strict=True)],
            "latency_ms": msg.latency_ms, "runner_ms": msg.runner_ms,
            "drops": {"windows_skipped": msg.windows_skipped, "samples_lost": msg.samples_lost}, "index": msg.index}


def time_reference_message(stamp_ns_: int, device_ns: int, frame_id: str) -> dict[str, Any]:
    """A ``sensor_msgs/msg/TimeReference`` dict: a sample's ROS time (``header.stamp``) and device time
    (``time_ref``)."""
    return {"header": {"stamp": to_stamp(stamp_ns_), "frame_id": frame_id}, "time_ref": to_stamp(device_ns),
            "source": "device"}


def embedding_message(modality: str, index: int, t_end_ns: int, unit_emb: np.ndarray, frame_id: str) -> dict[str, Any]:
    """An ``edgebind_msgs/msg/Embedding`` dict: one unit-norm embedding (float32) of a labelled input."""
    return {"header": {"stamp": to_stamp(t_end_ns), "frame_id": frame_id}, "modality": modality, "index": int(index),
            "data": [float(v) for v in np.asarray(unit_emb, dtype=np.float32)]}
