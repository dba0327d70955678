"""``edgebind calibrate``: IMU and thermal profiles, and INT8 calibration sets (docs/calibration.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from edgebind.cli._bag import bag_input_options, bag_options
from edgebind.cli.link_options import LINK_FORMATS, deprecated_alias, format_option, make_units, unit_options

PORT_HELP = "serial device, simulator pty or pyserial URL (loop://, socket://host:port)"


def _is_file_source(source: str, suffixes: tuple[str, ...]) -> bool:
    return Path(source).suffix.lower() in suffixes


def _console() -> Any:
    from rich.console import Console

    return Console()


def _vec(v: Any, fmt: str = "{:+.4f}") -> str:
    return "[" + ", ".join(fmt.format(x) for x in v) + "]"


def _grade(after: float, noise_floor: float) -> str:
    if after <= max(0.01, 3 * noise_floor):
        return "good"
    if after <= 0.05:
        return "fair"
    return "poor: repeat the session on a firm, level surface"


def _print_imu_report(console: Any, result: Any, out: Path, merged: bool) -> None:
    from rich.table import Table

    rep, prof = result.report, result.profile
    table = Table(title="IMU calibration", show_header=False)
    table.add_row("sensor", prof.sensor or "(unnamed; pass --sensor)")
    table.add_row("positions", f"{rep['poses']} ({', '.join(rep['faces'])} up), {rep['stationary_s']:.1f} s still")
    table.add_row("accel model", rep["accel_model"])
    table.add_row("accel bias m/s^2", _vec(prof.accel_bias_mps2) + " +- " + _vec(rep["accel_bias_std_mps2"], "{:.4f}"))
    table.add_row("accel matrix", "\n".join(_vec(r) for r in prof.accel_matrix))
    table.add_row("gyro bias rad/s", _vec(prof.gyro_bias_rads, "{:+.5f}") + f" +- {rep['gyro_bias_std_rads']:.5f}")
    table.add_row("axis map (model <- sensor)", ",".join(prof.axis_map))
    table.add_row("noise", f"accel {rep['accel_noise_mps2']:.4f} m/s^2, gyro {rep['gyro_noise_rads']:.5f} rad/s rms")
    before, after = rep["gravity_error_rms_mps2_before"], rep["gravity_error_rms_mps2_after"]
    floor = float(max(rep["accel_bias_std_mps2"]))
    table.add_row("quality: |a| - g rms", f"{before:.4f} -> {after:.4f} m/s^2 ({_grade(after, floor)})")
    console.print(table)
    if rep["poses"] <= 8:
        console.print("Note: with 6-8 positions only bias and per-axis scale are fitted; add --tilted for the "
                      "full 3x3 matrix (misalignment).")
    console.print(f"Wrote {out}" + (" (kept its thermal part)" if merged else ""))


@click.group()
def calibrate() -> None:
    """Calibrate sensors into the model's input domain, and collect INT8 calibration sets.

    \b
    Example:
      edgebind calibrate imu /dev/ttyACM0 --sensor mpu6050 --accel-range 4g -o robot.json
      edgebind calibrate thermal clip.cptv --sensor lepton3.5 -o robot.json
      edgebind calibrate capture /dev/ttyACM0 --profile robot.json --windows 64 -o calib.npz
    """


@calibrate.command("imu")
@click.argument("source", envvar="EDGEBIND_PORT")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Profile JSON to write (an existing file keeps its thermal part).")
@click.option("--sensor", default=None, help="IMU part, e.g. mpu6050, icm42688, bmi270, lsm6dsox.")
@click.option("--accel-range", default=None, help="Accelerometer range setting, e.g. 4g (sets the saturation check).")
@click.option("--gyro-range", default=None, help="Gyroscope range setting, e.g. 500dps.")
@click.option("--axis-map", default="+x,+y,+z", show_default=True,
              help="Model axis <- signed sensor axis, e.g. +y,-x,+z.")
@click.option("--model", "accel_model", type=click.Choice(["auto", "faces", "diagonal", "symmetric"]), default="auto",
              show_default=True,
              help="Accelerometer matrix: full 3x3 from the six faces, per-axis scale, or symmetric (9+ poses).")
@click.option("--tilted", is_flag=True, help="Live: also ask for six tilted positions (full 3x3 matrix).")
@click.option("--hold-s", default=3.0, show_default=True, help="Live: seconds recorded per position.")
@click.option("--settle-s", default=0.5, show_default=True,
              help="Live: seconds ignored after you press Enter (hands off the sensor).")
@click.option("--save-session", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Live: also save the raw session as a Recording .npz, to refit later.")
@click.option("--baud", default=921600, show_default=True, help="Live: line rate.")
@format_option()
@click.option("--rate", "rate_hz", type=float, default=None, help="Live: IMU rate in Hz for text lines without "
              "timestamps [measured from arrival times].")
@unit_options(sensor=False)
@deprecated_alias("--fmt", "--format", "fmt", type=click.Choice(LINK_FORMATS))
@bag_input_options("imu_topic")
def imu_cmd(source: str, output: Path, sensor: str | None, accel_range: str | None, gyro_range: str | None,
            axis_map: str, accel_model: str, tilted: bool, hold_s: float, settle_s: float, save_session: Path | None,
            baud: int, fmt: str, rate_hz: float | None, accel_unit: str, gyro_unit: str, **bag: Any) -> None:
    """Fit an IMU profile from a live port (guided) or a recorded session (REC.npz, or a ROS 2 bag: a rosbag2
    directory, .db3 or .mcap).

    Live, Ctrl-C, SIGTERM or SIGHUP end the session with exit status 0 and leave OUTPUT untouched (no fit).

    \b
    Example:
      edgebind calibrate imu session.npz --sensor mpu6050 --accel-range 4g -o robot.json
      edgebind calibrate imu six_poses.mcap --imu-topic /imu/data_raw --sensor icm42688 -o robot.json
    """
    from edgebind.calibration.imu import calibrate_imu_recording
    from edgebind.calibration.profiles import merge_profile

    console = _console()
    fit_kwargs: dict[str, Any] = {"accel_range": accel_range, "gyro_range": gyro_range, "axis_map": axis_map,
                                  "model": accel_model}
    from edgebind.ros import is_bag

    recorded = is_bag(source) or _is_file_source(source, (".npz",))  # a Recording or a ROS 2 bag (dir, .db3, .mcap)
    if recorded:
        from edgebind.ros import load_recording

        rec = load_recording(source, bag_options(bag), ("imu",))
        result = calibrate_imu_recording(rec, sensor=sensor, **fit_kwargs)
    else:
        from edgebind.lifecycle import StopRequested, StopSignals

        units = make_units(accel_unit=accel_unit, gyro_unit=gyro_unit, sensor=sensor, accel_range=accel_range,
                           gyro_range=gyro_range)
        with StopSignals() as stop:
            try:
                result = _guided_imu(console, source, sensor, tilted, (hold_s, settle_s), (baud, fmt, rate_hz, units),
                                     fit_kwargs, save_session, stop)
            except StopRequested as exc:
                console.print(f"Stopped by {stop.name} ({exc}); no profile fitted, {output} untouched.")
                return
    profile, merged = merge_profile(output, result.profile, "imu")
    profile.save(output)
    _print_imu_report(console, result, output, merged)
    port = "PORT" if recorded else source
    console.print(f"Next: edgebind calibrate capture {port} "
                  f"--profile {output} --windows 64 -o calib.npz")


def _guided_imu(console: Any, port: str, sensor: str | None, tilted: bool, timing: tuple[float, float],
                link: tuple[int, str, float | None, Any], fit_kwargs: dict[str, Any], save_session: Path | None,
                stop: Any) -> Any:
    from rich.progress import Progress

    from edgebind.calibration.live import SIX_POSITIONS, TILTED_POSITIONS, guided_imu_session

    hold_s, settle_s = timing
    baud, fmt, rate_hz, units = link
    positions = SIX_POSITIONS + (TILTED_POSITIONS if tilted else ())
    console.print(f"Calibrating the IMU on {port}: {len(positions)} positions, {hold_s:g} s each. Rest the sensor "
                  "on a firm surface and keep your hands off while it records.")
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("waiting", total=1.0)

        def ask(k: int, name: str, instruction: str) -> None:
            progress.stop()
            with stop.interruptible():  # a stop signal ends the wait for Enter
                click.prompt(f"[{k + 1}/{len(positions)}] Place the sensor {instruction}, then press Enter",
                             default="", show_default=False, prompt_suffix=" ")
            progress.start()
            progress.update(task, description=f"recording {name}", completed=0.0)

        def retry(name: str, reason: str) -> None:
            progress.stop()
            console.print(f"[yellow]{reason}[/yellow]\nLet's redo position {name}.")

        result, rec = guided_imu_session(
            port, positions=positions, ask=ask, on_progress=lambda f: progress.update(task, completed=f),
            on_retry=retry, sensor=sensor, hold_s=hold_s, settle_s=settle_s, baud=baud, fmt=fmt, rate_hz=rate_hz,
            units=units, fit_kwargs=fit_kwargs, stop=stop.event)
    if save_session is not None:
        rec.save(save_session)
        console.print(f"Saved the session to {save_session}")
    return result


@calibrate.command("thermal")
@click.argument("source", envvar="EDGEBIND_PORT")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Profile JSON to write (an existing file keeps its IMU part).")
@click.option("--sensor", default=None, help="Thermal part: lepton3.5, mlx90640 or amg8833 (default: from the source).")
@click.option("--raw-units", default=None,
              help="Unit of the frames, e.g. tlinear_0.01k, amg_counts, celsius. Default: auto for .cptv, "
                   "celsius for recordings and live ports.")
@click.option("--mapping", type=click.Choice(["percentile", "fixed"]), default="percentile", show_default=True,
              help="C -> intensity: per-frame AGC-like stretch, or one fixed range fitted on the frames.")
@click.option("--low-pct", default=1.0, show_default=True, help="Low percentile of the mapping.")
@click.option("--high-pct", default=99.0, show_default=True, help="High percentile of the mapping.")
@click.option("--frames", default=50, show_default=True, help="Live: frames to collect.")
@click.option("--baud", default=921600, show_default=True, help="Live: line rate.")
@format_option()
@deprecated_alias("--fmt", "--format", "fmt", type=click.Choice(LINK_FORMATS))
def thermal_cmd(source: str, output: Path, sensor: str | None, raw_units: str | None, mapping: str, low_pct: float,
                high_pct: float, frames: int, baud: int, fmt: str) -> None:
    """Fit a thermal profile (units, bad pixels, intensity mapping) from a .cptv clip, a REC.npz or a live port.

    \b
    Example:
      edgebind calibrate thermal clip.cptv --sensor lepton3.5 --mapping fixed -o robot.json
    """
    from rich.table import Table

    from edgebind.calibration.profiles import CalibrationProfile, merge_profile
    from edgebind.calibration.thermal import calibrate_thermal
    from edgebind.errors import ConfigError

    console = _console()
    if _is_file_source(source, (".cptv",)):
        from edgebind.preprocess.thermal import load_cptv

        raw, _ = load_cptv(source)
        sensor, units = sensor or "lepton3.5", raw_units or "auto"
    elif _is_file_source(source, (".npz",)):
        from edgebind.bridge.recording import Recording

        rec = Recording.load(source)
        if rec.thermal is None:
            raise ConfigError(f"recording {source} has no thermal frames; record with the thermal sensor attached.")
        raw, units = rec.thermal, raw_units or "celsius"
        sensor = sensor or str(rec.meta.get("thermal_sensor") or "")
    else:
        from edgebind.calibration.live import collect_thermal_frames

        with console.status(f"collecting {frames} thermal frames from {source}"):
            raw, info = collect_thermal_frames(source, frames, baud=baud, fmt=fmt)
        units = raw_units or "celsius"
        sensor = sensor or (info.thermal_sensor if info else "")
    if not sensor:
        raise ConfigError("which thermal sensor is this? Pass --sensor lepton3.5, mlx90640 or amg8833.")
    result = calibrate_thermal(raw, sensor, raw_units=units, mapping=mapping, low_pct=low_pct, high_pct=high_pct)
    profile, merged = merge_profile(output, CalibrationProfile(thermal=result.calibration), "thermal")
    profile.save(output)
    rep, cal = result.report, result.calibration
    table = Table(title="Thermal calibration", show_header=False)
    table.add_row("sensor", f"{cal.sensor} {cal.frame_shape[1]}x{cal.frame_shape[0]}, {rep['frames']} frames")
    table.add_row("raw units", rep["raw_units"])
    table.add_row("scene", f"median {rep['median_c']:.2f} C, p{low_pct:g}-p{high_pct:g} "
                           f"{rep['pooled_low_c']:.2f}..{rep['pooled_high_c']:.2f} C")
    table.add_row("noise", f"{rep['temporal_noise_c']:.3f} C frame to frame")
    table.add_row("bad pixels", f"{rep['bad_pixels']} " + (str(cal.bad_pixels[:8]) if cal.bad_pixels else ""))
    m = cal.mapping
    table.add_row("mapping", f"percentile {m['low_percentile']:g}-{m['high_percentile']:g} per frame"
                  if m["mapping"] == "percentile" else f"fixed {m['min_temp_c']:g}..{m['max_temp_c']:g} C")
    console.print(table)
    console.print(f"Wrote {output}" + (" (kept its IMU part)" if merged else ""))


@calibrate.command("capture")
@click.argument("port", envvar="EDGEBIND_PORT")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("calib.npz"),
              show_default=True, help="Calibration set to write.")
@click.option("--windows", default=64, show_default=True, help="IMU windows (and thermal frames) to collect.")
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Calibration profile to apply, as 'edgebind stream' does.")
@click.option("--hop", "hop_s", type=float, default=None, help="Seconds between windows. Default: 5 (no overlap).")
@click.option("--max-seconds", type=float, default=None, help="Give up after this long. Default: windows x hop + 35.")
@click.option("--baud", default=921600, show_default=True, help="Line rate.")
@format_option()
@click.option("--rate", "rate_hz", type=float, default=None, help="IMU rate in Hz for text lines without "
              "timestamps [measured from arrival times].")
@unit_options()
@deprecated_alias("--fmt", "--format", "fmt", type=click.Choice(LINK_FORMATS))
@deprecated_alias("--rate-hz", "--rate", "rate_hz", type=float)
@deprecated_alias("--hop-s", "--hop", "hop_s", type=float)
def capture_cmd(port: str, output: Path, windows: int, profile: Path | None, hop_s: float | None,
                max_seconds: float | None, baud: int, fmt: str, rate_hz: float | None, **units: Any) -> None:
    """Collect representative model inputs through the streaming path, for 'export --int8'.

    Ctrl-C, SIGTERM or SIGHUP end the capture early: the inputs collected so far are written, exit status 0.

    \b
    Example:
      edgebind calibrate capture /dev/ttyACM0 --profile robot.json --windows 64 -o calib.npz
    """
    from edgebind.calibration.capture import capture
    from edgebind.cli.progress import progress
    from edgebind.lifecycle import StopSignals

    console = _console()
    with StopSignals() as stop, progress(f"capturing windows from {port}", total=windows) as bar:
        result = capture(port, windows, str(profile) if profile else None, baud=baud, fmt=fmt, rate_hz=rate_hz,
                         hop_s=hop_s, max_duration_s=max_seconds, units=make_units(**units),
                         on_progress=lambda n_imu, n_th: bar.update(max(n_imu, n_th)), stop=stop.event)
        if len(result.imu) or len(result.thermal):
            result.save(output)
    if result.meta.get("stopped_early"):
        console.print(f"Stopped by {stop.name} after {len(result.imu)} IMU windows and {len(result.thermal)} thermal "
                      f"frames of {windows}" + ("; wrote what was collected." if len(result.imu) or
                                                len(result.thermal) else f"; nothing to write, {output} untouched."))
        if not (len(result.imu) or len(result.thermal)):
            return
    console.print(f"Wrote {output}: imu {tuple(result.imu.shape)}, thermal {tuple(result.thermal.shape)}"
                  f"{', profile ' + str(profile) if profile else ', no profile'}.")
    console.print(f"Next: edgebind export --int8 --calibration {output}")
