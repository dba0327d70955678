"""``edgebind record``: read a sensor link into a Recording (.npz)."""

from __future__ import annotations

import os

import click

from edgebind.cli.link_options import describe_units, format_option, make_units, unit_options


@click.command()
@click.argument("port", envvar="EDGEBIND_PORT")
@click.option("-o", "--output", type=click.Path(), required=True,
              help="Recording .npz, ROS 2 bag .mcap, or with --rosbag2 a rosbag2 directory to create.")
@click.option("--rosbag2", is_flag=True, help="Write -o DIR as a rosbag2 directory (metadata.yaml + MCAP) that "
              "'ros2 bag play DIR' takes.")
@click.option("--stamp", type=click.Choice(["host", "device"]), default="host", show_default=True,
              help="Bag header.stamp clock: host = ROS time (device time through the link's clock estimate; device "
              "time kept in TimeReference messages), device = the device's own clock.")
@click.option("--duration", type=float, default=None, help="Seconds to record (default: until Ctrl-C or idle).")
@format_option()
@click.option("--baud", type=int, default=921600, show_default=True, help="Line rate (USB-CDC devices ignore it).")
@click.option("--rate", "rate_hz", type=float, default=None, help="IMU rate in Hz for text lines without timestamps "
              "[measured from arrival times].")
@click.option("--idle", "idle_s", type=float, default=None, help="Stop after this many seconds without data.")
@click.option("--calibration", type=click.Path(exists=True, dir_okay=False),
              help="Calibration profile (edgebind calibrate) applied to the samples before saving.")
@click.option("--samples", "max_samples", type=int, default=None, help="Stop after this many IMU samples.")
@unit_options()
def record(port: str, output: str, duration: float | None, fmt: str, baud: int, rate_hz: float | None,
           idle_s: float | None, calibration: str | None, max_samples: int | None, rosbag2: bool = False,
           stamp: str = "host", **units: str | None) -> None:
    """Record PORT (a serial device, a simulator pty or a pyserial URL) to a Recording.

    Samples are stored in SI units with device timestamps; every link counter (CRC failures, resyncs,
    sequence gaps, bytes discarded, malformed lines, queue drops, reconnects, device reboots, clock offset and
    drift) and the units chosen go into the recording's meta. Text sketches (Serial Plotter, Teleplot, SparkFun,
    i2cdevlib, CSV, MLX90640_simpletest frames) are detected; see docs/sensors.md.

    Ctrl-C, SIGTERM or SIGHUP stop it cleanly: it writes OUTPUT, prints its summary and exits 0 (a second
    signal quits at once). While it runs, every sample also goes to OUTPUT.partial, flushed to disk every
    second and removed once OUTPUT is written; after a kill or a power cut, 'edgebind convert OUTPUT.partial
    -o OUTPUT' recovers all but about the last second. OUTPUT itself is never half-written.

    \b
    Example:
      edgebind record /dev/ttyACM0 -o walk.npz --duration 30
      edgebind record /dev/ttyUSB0 --baud 115200 --sensor mpu6050 -o raw.npz
      edgebind record /dev/ttyACM0 -o walk.mcap --duration 30   # a ROS 2 bag for Foxglove
      edgebind record /dev/ttyACM0 -o walk --rosbag2             # a rosbag2 directory for ros2 bag play
    """
    from edgebind.bridge.journal import journal_path
    from edgebind.bridge.losses import loss_line
    from edgebind.bridge.record import RecordingBuilder
    from edgebind.bridge.record import record as record_link
    from edgebind.errors import EdgebindError, SensorError
    from edgebind.lifecycle import StopSignals
    from edgebind.ros import check_rosbag2_output, is_bag, save_recording

    if duration is None and idle_s is None and max_samples is None:
        idle_s = 2.0
    bag = rosbag2 or is_bag(output)
    builder = RecordingBuilder(ros_time=bag and stamp == "host")
    if rosbag2:  # refuse a bad -o before recording
        check_rosbag2_output(output)
    journal = journal_path(output)
    with StopSignals() as stop:
        try:
            rec = record_link(port, duration_s=duration, fmt=fmt, baud=baud, rate_hz=rate_hz, idle_s=idle_s,
                              max_samples=max_samples, units=make_units(**units), builder=builder, stop=stop.event,
                              journal=journal)
        except EdgebindError as exc:
            if not journal.is_file():
                raise
            raise type(exc)(f"{exc} What was recorded before the error is in {journal}: edgebind convert "
                            f"{journal} -o {output}") from exc
        if len(rec.imu) == 0 and (rec.thermal is None or len(rec.thermal) == 0):
            got = rec.meta.get("counters", {}).get("bytes_read", 0)
            if stop.is_set():
                click.echo(f"stopped by {stop.name} before any sample arrived ({got} bytes read); nothing written")
                return
            raise SensorError(f"no IMU samples and no thermal frames arrived from {port} ({got} bytes read); "
                              "nothing written. Check that the device streams, its --baud and --format, or try "
                              "'edgebind demo' (a simulated device) first.")
        if calibration:
            from edgebind.calibration.apply import calibrate_recording

            rec = calibrate_recording(rec, calibration)
        if stop.is_set():
            rec.meta["stopped_by"] = stop.name
        path = save_recording(rec, output, rosbag2=rosbag2,
                              ros_t_ns=builder.ros_t_ns() if builder.ros_time else None)
        journal.unlink(missing_ok=True)  # OUTPUT holds it all now
    c = rec.meta["counters"]
    thermal = 0 if rec.thermal is None else len(rec.thermal)
    if stop.is_set():
        click.echo(f"stopped by {stop.name}")
    click.echo(f"wrote {path}: {len(rec.imu)} IMU samples ({rec.imu_rate_hz:.1f} Hz), {thermal} thermal frames, "
               f"format {rec.meta['format']}")
    click.echo(f"units: {describe_units(rec.meta)}")
    click.echo(loss_line(c))
    click.echo(f"next: edgebind simulate {os.fspath(path)}   # replay it as a device")
