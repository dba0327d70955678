"""The robot-side assets in export/: the systemd units pass ``systemd-analyze verify`` and their ExecStart lines, as
systemd expands them, are accepted by the real ``edgebind stream`` command; so is the container's ENTRYPOINT + CMD."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SYSTEMD = REPO / "export" / "systemd"
UNIT = SYSTEMD / "edgebind-stream.service"
SOCKET_UNITS = (SYSTEMD / "edgebind-labels.socket", SYSTEMD / "edgebind-labels@.service")
DOCKERFILE = REPO / "export" / "container" / "Dockerfile"


def unit_settings(text: str) -> dict[str, dict[str, list[str]]]:
    """``{section: {key: [values in order]}}`` of a systemd unit (keys may repeat)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            out[section] = {}
            continue
        key, _, value = line.partition("=")
        out[section].setdefault(key, []).append(value)
    return out


def expand(command: str, env: dict[str, str]) -> list[str]:
    """ExecStart as systemd runs it: ``${VAR}`` replaced by Environment= values, then split into words."""
    return shlex.split(re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], command))


def test_unit_starts_on_boot_restarts_and_logs_to_journald() -> None:
    s = unit_settings(UNIT.read_text())
    svc = s["Service"]
    assert s["Install"]["WantedBy"] == ["multi-user.target"]
    assert svc["Restart"] == ["always"] and svc["StandardError"] == ["journal"]
    assert s["Unit"]["StartLimitIntervalSec"] == ["0"]  # never gives up restarting
    # tells systemd when it streams and that it is alive (edgebind.stream.notify), from the main process
    assert svc["Type"] == ["notify"] and svc["NotifyAccess"] == ["main"] and int(svc["WatchdogSec"][0]) > 0
    assert svc["StandardOutput"] == ["append:/var/lib/edgebind/labels.jsonl"]
    assert svc["StateDirectory"] == ["edgebind"]  # systemd creates /var/lib/edgebind for the service user


def test_socket_units_send_json_lines_to_one_client() -> None:
    sock = unit_settings(SOCKET_UNITS[0].read_text())
    assert sock["Socket"]["Accept"] == ["yes"] and sock["Socket"]["MaxConnections"] == ["1"]
    assert sock["Install"]["WantedBy"] == ["sockets.target"]
    svc = unit_settings(SOCKET_UNITS[1].read_text())["Service"]
    assert svc["StandardOutput"] == ["socket"] and svc["StandardError"] == ["journal"]


@pytest.mark.parametrize("unit", [UNIT, SOCKET_UNITS[1]], ids=lambda p: p.name)
def test_unit_exec_start_parses_with_the_real_cli(unit: Path) -> None:
    from edgebind.cli.stream import stream

    svc = unit_settings(unit.read_text())["Service"]
    env = dict(e.split("=", 1) for e in svc["Environment"])
    words = expand(svc["ExecStart"][0], env)
    assert words[0] == "/opt/edgebind/venv/bin/edgebind" and words[1] == "stream"
    params = stream.make_context("stream", words[2:]).params
    assert params["port"] == "/dev/ttyACM0" and params["bundle"] == "/var/lib/edgebind/bundle"
    assert params["backend"] == "tensorrt" and params["as_json"] is True
    assert params["max_windows"] is None and params["duration_s"] is None  # runs until stopped
    assert params["wait_for_device"] is (unit == UNIT)  # the boot service waits for a sensor plugged in later


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        msg = "systemd-analyze is absent (apt-get install systemd)"
        if os.environ.get("EDGEBIND_REQUIRE_TOOLCHAINS") == "1":  # CI installs it: a failure there
            pytest.fail(msg)
        pytest.skip(msg)
    exe = shutil.which("edgebind") or str(Path(sys.executable).with_name("edgebind"))
    if not Path(exe).is_file():
        pytest.skip("the edgebind console script is not installed (pip install -e .)")
    # verify checks that ExecStart's program exists: point it at this machine's edgebind, nothing else changes
    units = []
    for src in (UNIT, *SOCKET_UNITS):
        units.append(tmp_path / src.name)
        units[-1].write_text(src.read_text().replace("/opt/edgebind/venv/bin/edgebind", exe))
    res = subprocess.run([analyze, "verify", *map(str, units)], capture_output=True, text=True, check=False,
                         cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.strip() == "", res.stdout + res.stderr
    assert "edgebind-" not in res.stderr, res.stderr


def test_container_runs_stream_on_l4t_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    from edgebind.cli.stream import stream

    text = DOCKERFILE.read_text()
    base = re.search(r"^ARG BASE_IMAGE=(\S+)", text, re.M)
    assert base and base.group(1).startswith("nvcr.io/nvidia/l4t-tensorrt:r10.")
    # the tag was never checked against NGC's list: the Dockerfile and docs/jetson.md say so, naming this exact tag
    assert "UNVERIFIED" in text
    assert f"The default base tag, `{base.group(1)}`, is unverified" in (REPO / "docs" / "jetson.md").read_text()
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", text, re.M)
    for src in re.findall(r"^COPY (.+) /src/", text, re.M):
        for name in src.split():
            assert (REPO / name).exists(), name
    entry = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    assert entry == ["/opt/edgebind/venv/bin/edgebind"] and cmd[0] == "stream"
    monkeypatch.setenv("EDGEBIND_PORT", "/dev/ttyACM0")  # the image's ENV supplies the port
    params = stream.make_context("stream", cmd[1:]).params
    assert params["port"] == "/dev/ttyACM0" and params["bundle"] == "/bundle" and params["backend"] == "tensorrt"
    assert params["as_json"] is True
