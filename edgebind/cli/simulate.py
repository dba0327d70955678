"""``edgebind simulate``: a sensor device on a pseudo-terminal that replays a Recording."""

from __future__ import annotations

import json
from typing import Any

import click

from edgebind.cli._bag import bag_input_options, bag_options


@click.command()
@click.argument("recording", type=click.Path())
@click.option("--link", type=click.Path(dir_okay=False), default=None, help="Symlink kept pointing at the pty.")
@click.option("--format", "fmt", type=click.Choice(["binary", "csv"]), default="binary", show_default=True)
@click.option("--speed", type=float, default=1.0, show_default=True, help="Playback speed (1 = real time).")
@click.option("--faults", default=None, help="Injected faults, e.g. bitflip=0.01,drop_frames=0.01,garbage=0.01,"
              "truncate=0.01 (CSV),wrong_baud=8,disconnect=5,seed=1 (see edgebind.bridge.faults).")
@click.option("--baud", type=int, default=921600, show_default=True, help="Baud rate the device claims.")
@click.option("--repeat", is_flag=True, help="Loop the recording until stopped; the device clock and sequence numbers "
              "run on across loops, so a host records one continuous stream.")
@click.option("--exit-when-done", is_flag=True, help="Exit once the recording was sent (default: keep the port).")
@bag_input_options()
def simulate(recording: str, link: str | None, fmt: str, speed: float, faults: str | None, baud: int,
             repeat: bool, exit_when_done: bool, **bag: Any) -> None:
    """Replay RECORDING (a Recording .npz or a ROS 2 bag .mcap) as a device on a pseudo-terminal.

    The device waits until the host opens the port; in binary format it then waits for the START command
    that 'edgebind record' and SensorSource send. It streams at the recording's rate times --speed.
    Ctrl-C, SIGTERM or SIGHUP stop it with its 'sent:' counters and exit status 0.

    \b
    Example:
      edgebind simulate walk.npz --link /tmp/imu --speed 10 --faults bitflip=0.001
      edgebind record /tmp/imu -o copy.npz --idle 1
    """
    from edgebind.bridge.simulator import SimulatedDevice
    from edgebind.lifecycle import StopSignals
    from edgebind.ros import load_recording

    rec = load_recording(recording, bag_options(bag))
    device = SimulatedDevice(rec, fmt=fmt, speed=speed, faults=faults, baud=baud, link=link, repeat=repeat)
    with StopSignals() as stop, device as sim:
        click.echo(f"simulated device on {sim.port} (link {sim.link}), {fmt}, {len(rec.imu)} IMU samples, "
                   f"speed {speed:g}x; waiting for the host", nl=False)
        click.echo("" if not repeat else "; looping with its clock and sequence numbers running on")
        click.echo(f"next: edgebind record {sim.link} -o copy.npz --idle 1")
        if exit_when_done:
            while not stop.is_set() and not sim.wait_finished(0.1):
                pass
            for _ in range(100):  # up to 10 s: let the host read what is still in the pty before it goes away
                if stop.is_set() or sim.host_closed.wait(0.1):
                    break
        else:
            stop.wait()
        if stop.is_set():
            click.echo(f"stopped by {stop.name}")
        click.echo(f"sent: {json.dumps(sim.stats)}")
        if sim.spec.any:
            click.echo(f"faults: {json.dumps(sim.fault_stats)}")
