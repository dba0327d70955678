"""``edgebind stream``: a sensor link -> ImageBind embeddings -> live zero-shot labels."""

from __future__ import annotations

import json
from typing import Any

import click

from edgebind.cli.link_options import format_option, make_units, unit_options


@click.command()
@click.argument("port", envvar="EDGEBIND_PORT")
@click.option("--bundle", type=click.Path(file_okay=False), help="Exported bundle [$EDGEBIND_BUNDLE, else the last "
              "export].")
@click.option("--checkpoint", type=click.Path(dir_okay=False), help="Run a checkpoint with torch instead of a bundle.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Checkpoint config, e.g. imu_num_heads=8.")
@click.option("--labels", type=click.Path(dir_okay=False), help="labels.txt: one label per line, '#' comments, "
              "'label: prompt | prompt' [the bundle's labels]. Re-read when it changes.")
@click.option("--baud", type=int, default=921600, show_default=True, help="Line rate (USB-CDC ignores it).")
@format_option()
@click.option("--rate", "rate_hz", type=float, help="IMU rate in Hz where the stream cannot tell it (text lines "
              "without timestamps) [measured from arrival times].")
@click.option("--hop", "hop_s", type=float, default=1.0, show_default=True, help="Seconds between IMU windows.")
@click.option("--read-every", "read_every_s", type=float, default=0.05, show_default=True,
              help="Seconds the link's bytes gather between reads: fewer wake-ups (CPU) for up to this much more "
              "latency; 0 reads as bytes arrive.")
@click.option("--thermal-every", "thermal_every_s", type=float, help="Least seconds between thermal frames sent to "
              "the model [--hop].")
@click.option("--calibration", type=click.Path(dir_okay=False), help="Calibration profile JSON (edgebind calibrate).")
@click.option("--backend", type=click.Choice(["onnxruntime", "tensorrt", "torch"]), help="Bundle runner.")
@click.option("--threads", type=int, help="CPU threads for each runner [1 each when an IMU and a thermal "
              "runner share the cores, else the backend's default].")
@click.option("--spin", is_flag=True, help="Let onnxruntime's threads busy-wait between calls (one runner alone).")
@click.option("--pin", "pins", multiple=True, metavar="MODALITY=CPUS", help="Pin a runner's threads to CPUs, e.g. "
              "--pin imu=0 --pin thermal=1 (onnxruntime) [not pinned].")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per label on stdout, then a summary line.")
@click.option("--max-windows", type=int, help="Stop after N labelled windows.")
@click.option("--duration", "duration_s", type=float, help="Stop after S seconds.")
@click.option("--fuse", is_flag=True, help="Also label IMU + thermal jointly (sum of unit embeddings).")
@click.option("--top-k", type=int, default=3, show_default=True, help="Labels shown per window.")
@click.option("--smooth", "smooth_alpha", type=float, default=0.5, show_default=True,
              help="EMA weight of the newest window (1 = no smoothing).")
@click.option("--abstain", type=float, default=0.0, show_default=True,
              help="Answer 'unknown' below this smoothed top-1 probability.")
@click.option("--allow-random-init", is_flag=True, help="Run a bundle exported with random weights (latency only).")
@click.option("--mcap", "mcap_path", type=click.Path(dir_okay=False), help="Also log the session as a ROS 2 bag: raw "
              "IMU/thermal messages and one edgebind_msgs/msg/WindowLabel per window (docs/robotics.md).")
@click.option("--mcap-embeddings", is_flag=True, help="With --mcap: also log each window's unit embedding.")
@click.option("--foxglove", "foxglove_address", is_flag=False, flag_value="127.0.0.1:8765", default=None,
              metavar="[HOST:PORT]", help="Serve the live session to Foxglove over WebSocket [127.0.0.1:8765].")
@click.option("--stamp", type=click.Choice(["host", "device"]), default="host", show_default=True,
              help="--mcap/--foxglove sensor stamps: host = ROS time (device time through the link's clock "
              "estimate), device = the device's own clock.")
@click.option("--ros2", "ros2", is_flag=True, help="Publish IMU, thermal and labels on live ROS 2 topics over DDS "
              "(ROS_DOMAIN_ID; loopback unless CYCLONEDDS_URI or ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET; "
              "docs/robotics.md).")
@click.option("--ros2-namespace", default="/edgebind", show_default=True, help="With --ros2: the topics' namespace.")
@click.option("--thermal-topic", help="With PORT ros2:/imu/data (or ros2:): a sensor_msgs/msg/Image thermal topic to "
              "subscribe to.")
@click.option("--thermal-unit", type=click.Choice(["celsius", "kelvin_x100", "counts"]), default="celsius",
              show_default=True, help="With --thermal-topic: unit of the image values (ROS has no standard).")
@click.option("--thermal-sensor", help="With --thermal-unit counts: the profile that converts them, e.g. lepton3.5.")
@click.option("--wait", "wait_s", type=float, default=10.0, show_default=True, help="With PORT ros2:...: seconds "
              "to wait for the first message before naming the topics seen on the domain.")
@click.option("--wait-for-device", is_flag=True, help="Start before PORT exists (a service at boot): say once that "
              "it is waiting, stream when it appears, and wait again after an unplug.")
@unit_options()
def stream(port: str, bundle: str | None, checkpoint: str | None, sets: tuple[str, ...], labels: str | None,
           baud: int, fmt: str, rate_hz: float | None, hop_s: float, read_every_s: float,
           thermal_every_s: float | None,
           calibration: str | None, backend: str | None, threads: int | None, spin: bool, pins: tuple[str, ...],
           as_json: bool,
           max_windows: int | None, duration_s: float | None, fuse: bool, top_k: int, smooth_alpha: float,
           abstain: float, allow_random_init: bool, mcap_path: str | None = None, mcap_embeddings: bool = False,
           foxglove_address: str | None = None, ros2: bool = False, ros2_namespace: str = "/edgebind",
           thermal_topic: str | None = None, thermal_unit: str = "celsius", thermal_sensor: str | None = None,
           wait_s: float = 10.0, stamp: str = "host", wait_for_device: bool = False, **units: str | None) -> None:
    """Label a live sensor stream on PORT with a bundle's IMU/thermal encoders.

    PORT is a serial device, a pyserial URL, or ros2:/TOPIC for a live sensor_msgs/msg/Imu topic (no ROS install
    needed; docs/robotics.md).

    Ctrl-C, SIGTERM or SIGHUP end the run cleanly: the --mcap bag is finished, the summary (windows, latency
    p50/p99, drops, decode errors) printed, exit status 0; a second signal quits at once. The bag is flushed to disk
    every second, so after a kill or a power cut it holds all but about the last second ('edgebind convert' reads
    it). An unplugged device is waited for and resumed. Under systemd (Type=notify, $NOTIFY_SOCKET) it sends READY=1
    once streaming, WATCHDOG=1 while the pipeline turns and STOPPING=1 at the end
    (export/systemd/edgebind-stream.service).

    \b
    Example:
      edgebind stream /dev/ttyUSB0 --labels labels.txt
      edgebind stream /dev/ttyACM0 --bundle out/imu-fp16 --labels labels.txt --json --max-windows 100
      edgebind stream /dev/ttyACM0 --labels labels.txt --mcap session.mcap --foxglove
      edgebind stream /dev/ttyACM0 --labels labels.txt --ros2
      edgebind stream ros2:/imu/data --labels labels.txt --json
    """
    from edgebind.config import parse_overrides
    from edgebind.lifecycle import StopSignals
    from edgebind.stream.encoders import stream_policies
    from edgebind.stream.notify import ServiceNotify
    from edgebind.stream.pipeline import StreamOptions
    from edgebind.stream.session import StreamSession, run_stream

    options = StreamOptions(hop_s=hop_s, thermal_every_s=thermal_every_s, top_k=top_k, smooth_alpha=smooth_alpha,
                            abstain=abstain, fuse=fuse, max_windows=max_windows)
    holder: dict[str, Any] = {}
    live: Any = None

    def on_start(session: StreamSession) -> None:
        nonlocal live
        holder["session"] = session
        stop.on_stop(session.stop)  # SIGINT/SIGTERM/SIGHUP: end the run, then the bag and the summary as usual
        if not as_json:  # --json has them in the summary line
            for m, line in session.pipeline.encoders.descriptions().items():
                click.echo(f"{m} model: {line}")
        if not as_json:
            from rich.live import Live

            from edgebind.stream.view import StreamView

            holder["view"] = StreamView(session.stats, lambda: session.idle_s, title=f"edgebind stream {port}")
            live = Live(holder["view"], refresh_per_second=4, transient=False)
            live.start()

    ros2_input: Any = None
    if port.startswith("ros2:"):
        from edgebind.ros.ros2_in import Ros2Input

        ros2_input = Ros2Input(thermal_topic, thermal_unit, thermal_sensor, wait_s)
    elif thermal_topic:
        raise click.UsageError(f"--thermal-topic reads live ROS 2 topics; pass PORT as ros2:/imu/data (or ros2:), not "
                               f"'{port}'.")
    outputs: Any = None  # ROS 2 bag, Foxglove view (edgebind[ros]), ROS 2 topics (edgebind[ros2]), when asked for
    if mcap_path or foxglove_address or mcap_embeddings or ros2:
        from edgebind.ros.session import SessionOutputs

        outputs = SessionOutputs(mcap_path, mcap_embeddings, foxglove_address, ros2_namespace if ros2 else None,
                                 stamp=stamp)
        for line in outputs.lines():
            click.echo(line, err=True)

    def on_result(result: Any) -> None:
        if outputs is not None:
            outputs.on_result(result)
        if as_json:
            click.echo(json.dumps(result.to_json()))
        elif "view" in holder:
            holder["view"].update(result)

    stop = StopSignals()
    try:
        stop.__enter__()
        summary = run_stream(port, bundle=bundle, checkpoint=checkpoint, overrides=parse_overrides(sets),
                             labels=labels, backend=backend, threads=threads, allow_random_init=allow_random_init,
                             policies=stream_policies(threads, spin, pins, checkpoint is not None),
                             options=options, on_result=on_result, on_start=on_start, baud=baud, fmt=fmt,
                             rate_hz=rate_hz, duration_s=duration_s, calibration=calibration,
                             units=make_units(**units), read_every_s=read_every_s,
                             on_event=outputs.on_event if outputs is not None else None, ros2=ros2_input,
                             wait_for_device=wait_for_device, service=ServiceNotify.from_env(port))
    except BaseException:
        session = holder.get("session")
        if live is not None:
            live.transient = session is None or not session.stats.link  # nothing happened: leave no empty table
            live.stop()
            click.echo("")
        if session is not None and session.stats.link:  # the port was open: say what happened before the error
            _print_summary(session.summary(), as_json, err=True)
        raise
    finally:
        if outputs is not None:
            outputs.close()
            for line in outputs.lines():
                click.echo(line, err=True)
        stop.__exit__()  # a second signal quits at once until the files are closed
    if live is not None:
        live.stop()
        click.echo("")
    if stop.is_set():
        click.echo(f"stopped by {stop.name}", err=True)
    elif holder.get("session") is not None and holder["session"].interrupted:
        click.echo("interrupted (Ctrl-C)", err=True)
    _print_summary(summary, as_json)


def _print_summary(summary: Any, as_json: bool, err: bool = False) -> None:
    if as_json:
        click.echo(json.dumps({"summary": summary.to_dict()}), err=err)
        return
    click.echo("summary: " + "\n  ".join(summary.lines()), err=err)
