"""The one declared place where documentation blocks get their substitutes (issue 21: "the tiny official reference
in tests/data, --random-init, or a simulated device on a pty").

A block runs in a fresh folder holding, under the names the docs use:
* ``imagebind_huge.pth`` and ``.checkpoints/imagebind_huge.pth``: ``tests/data/imagebind/reference_tiny.pt`` (the
  official code's weights on a tiny config, official key layout) with its head counts embedded, since an official
  file stores none and edgebind refuses to guess them;
* ``walk.npz``, ``walks.npz``, ``runs.npz``, ``train.npz``, ``test.npz``, ``bm_train.npz``, ``bm_test.npz``,
  ``mine.npz``, ``calib.npz``: real labelled BasicMotions recordings (``edgebind/data/demo``);
* ``labels.txt``: the demo's labels; ``clip.cptv``: a real Lepton clip (tests/data); ``frame.png``: its first frame;
* ``monitor.log``: a serial-monitor log (CSV lines, g and °/s, 50 Hz) written from a real recording;
* ``session.npz`` and ``session.csv`` (its truth as ``start_s,end_s,label`` intervals), and folders ``walks/``,
  ``test/``, ``train/`` of recordings;
* robot bags written by ``rosbags`` (an independent rosbag2 implementation, through tests/ros/roskit.py), from a
  real 60 s BasicMotions stretch and a real Lepton clip as 16UC1 centi-kelvin: ``run1/`` (Humble, sqlite3, as
  ``ros2 bag record -o run1`` leaves it), ``robot.mcap`` (a Jazzy MCAP storage file), and ``six_poses.mcap`` (a
  synthetic six-position IMU session, edgebind.calibration.synthetic);
* ``$EDGEBIND_BUNDLE``: the demo bundle shipped in ``edgebind/data/demo`` (what "the last export" would be).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "edgebind" / "data" / "demo"
DATA = REPO / "tests" / "data"
RECORDINGS = {"walk.npz": "basicmotions_test.npz", "walks.npz": "basicmotions_test.npz",
              "runs.npz": "basicmotions_train.npz", "train.npz": "basicmotions_train.npz",
              "test.npz": "basicmotions_test.npz", "bm_train.npz": "basicmotions_train.npz",
              "bm_test.npz": "basicmotions_test.npz", "mine.npz": "basicmotions_train.npz",
              "calib.npz": "basicmotions_train.npz"}


def tiny_imagebind(out: Path) -> Path:
    """reference_tiny.pt as an official-layout torch file with its configs (head counts) embedded."""
    import json

    import torch

    from edgebind.checkpoint import infer_config, load_checkpoint

    meta = json.loads((DATA / "imagebind" / "reference_tiny_meta.json").read_text())["constructor_kwargs"]
    ckpt = load_checkpoint(DATA / "imagebind" / "reference_tiny.pt")
    heads = {f"{m}_num_heads": int(meta[f"{m}_num_heads"]) for m in ("imu", "thermal", "text")}
    configs = {m: infer_config(ckpt.state_dict, m, overrides=heads).to_dict()
               for m in ("imu", "thermal", "text")}
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"configs": configs, "state_dict": {k: v.float() for k, v in ckpt.state_dict.items()}}, out)
    return out


def monitor_log(rec_path: Path, out: Path, rate_hz: float = 50.0) -> Path:
    """What a sketch printing ``ax,ay,az,gx,gy,gz`` in g and °/s leaves in a serial monitor, from a Recording."""
    from edgebind.bridge.recording import Recording

    rec = Recording.load(rec_path)
    t_s = (rec.imu_t_ns - rec.imu_t_ns[0]) / 1e9
    grid = np.arange(0.0, t_s[-1], 1.0 / rate_hz)
    cols = [np.interp(grid, t_s, rec.imu[:, i]) for i in range(6)]
    g = np.stack(cols[:3], 1) / 9.80665
    dps = np.degrees(np.stack(cols[3:], 1))
    rows = np.concatenate([g, dps], 1)
    out.write_text("".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in rows))
    return out


def thermal_png(cptv: Path, out: Path) -> Path:
    """The clip's first frame as an 8-bit grey PNG (what a camera app saves)."""
    from PIL import Image

    from edgebind.bridge.convert import convert

    frame = convert(cptv).thermal[0]
    lo, hi = np.percentile(frame, [1, 99])
    img = np.clip((frame - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8)
    Image.fromarray(img).save(out)
    return out


def truth_csv(rec_path: Path, out: Path) -> Path:
    """A Recording's label track as the ``--truth`` CSV a person would write: ``start_s,end_s,label``."""
    from edgebind.bridge.recording import Recording

    rec = Recording.load(rec_path)
    t0, end_s = rec.imu_t_ns[0], (rec.imu_t_ns[-1] - rec.imu_t_ns[0]) / 1e9
    starts = [(t - t0) / 1e9 for t in rec.label_t_ns]
    ends = [*starts[1:], end_s]
    rows = [f"{a:.3f},{b:.3f},{lab}" for a, b, lab in zip(starts, ends, rec.labels, strict=True) if lab]
    out.write_text("start_s,end_s,label\n" + "\n".join(rows) + "\n")
    return out


def _roskit():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("roskit", REPO / "tests" / "ros" / "roskit.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def robot_bags(root: Path) -> None:
    """``run1/`` (Humble sqlite3 directory), ``robot.mcap`` and ``six_poses.mcap``, all written by rosbags."""
    from edgebind.bridge.convert import convert
    from edgebind.bridge.recording import Recording
    from edgebind.calibration.synthetic import SIX_FACES, random_truth, simulate_session

    kit = _roskit()
    walk = Recording.load(root / "walk.npz")
    t0 = 1_765_000_000 * 10**9  # ROS time, as a robot's bag holds
    keep = walk.imu_t_ns - walk.imu_t_ns[0] < 60 * 10**9
    imu, imu_t = walk.imu[keep], t0 + walk.imu_t_ns[keep] - walk.imu_t_ns[0]
    clip = convert(root / "clip.cptv")
    frames = np.round((clip.thermal + 273.15) * 100).astype(np.uint16)  # centi-kelvin
    frame_t = t0 + clip.thermal_t_ns - clip.thermal_t_ns[0]
    lab_keep = walk.label_t_ns - walk.imu_t_ns[0] < 60 * 10**9
    labels = [str(x) for x in walk.labels[lab_keep]]
    label_t = t0 + walk.label_t_ns[lab_keep] - walk.imu_t_ns[0]
    for name, distro, storage in (("run1", "humble", "sqlite3"), ("robot", "jazzy", "mcap")):
        ts, msgs = kit.rosbags_messages(distro, imu, imu_t, frames, frame_t, labels, label_t)
        kit.write_rosbag2(root / name, distro, storage, msgs, ts)
    shutil.move(root / "robot" / "robot_0.mcap", root / "robot.mcap")
    shutil.rmtree(root / "robot")
    six = simulate_session(*random_truth(np.random.default_rng(0), full_matrix=False), SIX_FACES, seed=1)
    none = np.zeros(0, np.int64)
    ts, msgs = kit.rosbags_messages("jazzy", six.imu, t0 + six.t_ns, np.zeros((0, 2, 2), np.uint16), none, [], none)
    kit.write_rosbag2(root / "six_poses", "jazzy", "mcap", msgs, ts)
    shutil.move(root / "six_poses" / "six_poses_0.mcap", root / "six_poses.mcap")
    shutil.rmtree(root / "six_poses")


def environment(root: Path) -> dict[str, str]:
    """Variables a block runs with besides the caller's."""
    return {"EDGEBIND_BUNDLE": str(DEMO / "bundle")}


def make_sandbox(root: Path) -> Path:
    """Fill ``root`` with every substitute above; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    ckpt = tiny_imagebind(root / ".checkpoints" / "imagebind_huge.pth")
    shutil.copy(ckpt, root / "imagebind_huge.pth")
    for name, src in RECORDINGS.items():
        shutil.copy(DEMO / src, root / name)
    shutil.copy(DEMO / "labels.txt", root / "labels.txt")
    shutil.copy(DATA / "thermal" / "20240507-074536.cptv", root / "clip.cptv")
    thermal_png(root / "clip.cptv", root / "frame.png")
    monitor_log(root / "walk.npz", root / "monitor.log")
    shutil.copy(DEMO / "basicmotions_test.npz", root / "session.npz")
    truth_csv(root / "session.npz", root / "session.csv")
    for folder, srcs in (("walks", ("basicmotions_train.npz", "basicmotions_test.npz")),
                         ("train", ("basicmotions_train.npz",)), ("test", ("basicmotions_test.npz",))):
        (root / folder).mkdir()
        for src in srcs:
            shutil.copy(DEMO / src, root / folder / src)
    robot_bags(root)
    return root
