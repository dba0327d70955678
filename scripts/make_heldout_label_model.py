"""Train the demo-style student on three BasicMotions classes and export it, to measure a genuinely zero-shot label.

    python scripts/make_heldout_label_model.py --holdout Walking       # -> out/heldout-walking/bundle
    edgebind eval edgebind/data/demo/basicmotions_test.npz --bundle out/heldout-walking/bundle \\
        --labels edgebind/data/demo/labels.txt

The recipe is the demo's (``scripts/make_demo_model.py``: imu-tiny, out_dim 384, ImageBind's symmetric InfoNCE
against all-MiniLM-L6-v2 text embeddings, 200 steps, seed 0), but every TRAIN case of the held-out class is cut
out of the training recording and its label is absent from the training label bank. The exported bundle's label
bank holds all four labels (MiniLM embeddings of the demo's prompts), so ``eval`` scores the held-out class by its
words alone: the model never saw a window or the name of that class in training. Needs ``pip install -e
'.[train,eval]'``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "edgebind" / "data" / "demo"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holdout", default="Walking", help="BasicMotions class left out of training.")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=None, help="Defaults to out/heldout-<class>.")
    args = parser.parse_args()

    import numpy as np

    from edgebind.bridge.recording import Recording
    from edgebind.export import export_bundle
    from edgebind.train.align import train_aligned
    from edgebind.train.loop import TrainConfig
    from edgebind.zeroshot import MINILM_MODEL, build_label_bank, minilm_embedder, read_labels

    out: Path = args.out_dir or REPO / "out" / f"heldout-{args.holdout.lower()}"
    out.mkdir(parents=True, exist_ok=True)
    specs = read_labels(DEMO / "labels.txt")
    names = [s.name for s in specs]
    if args.holdout not in names:
        print(f"--holdout {args.holdout!r} is not a BasicMotions class ({', '.join(names)}).", file=sys.stderr)
        return 1

    rec = Recording.load(DEMO / "basicmotions_train.npz")
    assert rec.labels is not None and rec.label_t_ns is not None
    keep = rec.label_at(rec.imu_t_ns) != args.holdout  # whole cases; the hole left behind splits the stream
    keep_labels = rec.labels != args.holdout
    train = Recording(imu=rec.imu[keep], imu_t_ns=rec.imu_t_ns[keep], labels=rec.labels[keep_labels],
                      label_t_ns=rec.label_t_ns[keep_labels],
                      meta={**rec.meta, "held_out_class": args.holdout}).save(out / "train3.npz")
    (out / "labels3.txt").write_text("".join(f"{s.name}: {' | '.join(s.prompts)}\n" for s in specs
                                             if s.name != args.holdout))

    t0 = time.perf_counter()
    train_aligned(
        "imu", "text", [train], out / "imu_heldout.safetensors", student="imu-tiny", out_dim=384,
        text_model="minilm", labels=out / "labels3.txt",
        cfg=TrainConfig(steps=args.steps, batch_size=32, num_views=4, lr=1e-3, seed=args.seed, device="cpu"),
        on_step=lambda s, n, logs: print(f"step {s}/{n} loss {logs['loss_m_i'] + logs['loss_i_m']:.3f}",
                                         flush=True) if s % 25 == 0 else None,
    )
    train_s = time.perf_counter() - t0
    (out / "imu_heldout.safetensors.state.pt").unlink(missing_ok=True)
    bank = build_label_bank(specs, minilm_embedder(), meta={"text_model": MINILM_MODEL})
    bank.save(out / "labels4.npz")
    if (out / "bundle").exists():
        shutil.rmtree(out / "bundle")
    export_bundle(out / "bundle", target="cpu", precision="fp32", modalities="imu",
                  checkpoint=out / "imu_heldout.safetensors", labels=out / "labels4.npz", remember=False)
    print(json.dumps({"held_out": args.holdout, "train_windows_from": str(out / "train3.npz"),
                      "train_cases": int(np.sum(keep_labels)), "train_seconds": round(train_s, 1),
                      "bundle": str(out / "bundle")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
