"""Thermal students against one fixed yardstick: held-out centred cosine with the *real* training clip's centre.

``edgebind distill`` centres its held-out evaluation on the teacher's mean over whatever it trained on, so a run
that adds generated scenes is measured from another centre than one on the real clip alone. This script scores
each student checkpoint (fp32, eager) on the held-out CPTV clip 20240507-074536, centred on the teacher's mean unit
embedding of the clean frames of the training clip 20240917-1921337, which is also the centre bench_students.py's
``quality`` uses, so every row of the issue-22 table is read from the same point.

    python benchmarks/eval_thermal_students.py benchmarks/results/cache/thermal-small_150steps*.safetensors \
        --json benchmarks/results/eval_thermal_students.json

Beside each student it prints the *clip-constant answer* (the teacher's mean over the scored frames given for every
frame: what following only the shift between the two clips scores) and a *within-clip* centred cosine (centred on
that mean instead: only the frame-to-frame part). ``--frames train`` scores the clean frames of the training clip
instead: how closely the student fits what it was trained on. The teacher's embeddings of the 105 + 46 clean frames
are cached under the cache's edgebind-cache (about a minute at one thread the first time).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "benchmarks" / "results" / "cache"


def teacher_clean(teacher: Path, rec: Path) -> np.ndarray:
    """(N, D) teacher unit embeddings of every clean frame of ``rec`` (cached)."""
    from edgebind.checkpoint import load_checkpoint, load_encoder
    from edgebind.train.common import default_augment
    from edgebind.train.data import load_recordings, windows_from_recordings
    from edgebind.train.dist import DistEnv
    from edgebind.train.distill import teacher_key
    from edgebind.train.embeddings import view_embeddings

    ckpt = load_checkpoint(teacher)
    ws = windows_from_recordings(load_recordings([rec]), "thermal")
    model = load_encoder(ckpt, "thermal")
    return view_embeddings(model, ws, default_augment("thermal"), 0, 1, teacher_key(ckpt, "thermal", None),
                           DistEnv())[:, 0]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("students", nargs="+", type=Path, help="Student checkpoints (.safetensors).")
    p.add_argument("--cache", type=Path, default=CACHE)
    p.add_argument("--frames", choices=["held", "train"], default="held", help="Score on the held-out clip, or on "
                   "the clean frames of the training clip (how well the student fits what it saw) [held].")
    p.add_argument("--json", type=Path, help="Also write the figures here.")
    args = p.parse_args()
    os.environ.setdefault("EDGEBIND_CACHE", str(args.cache / "edgebind-cache"))
    import torch

    from edgebind.checkpoint import load_encoder
    from edgebind.train.augment import make_batch, no_augment
    from edgebind.train.common import default_augment
    from edgebind.train.data import load_recordings, windows_from_recordings
    from edgebind.train.evaluate import embed_unit, teacher_agreement

    teacher, train, held = (args.cache / n for n in ("teacher_seed0.safetensors", "thermal_train.npz",
                                                     "thermal_held.npz"))
    t_train = teacher_clean(teacher, train)
    centre = t_train.mean(0)
    scored = held if args.frames == "held" else train
    t_held = teacher_clean(teacher, held) if args.frames == "held" else t_train
    ws = windows_from_recordings(load_recordings([scored]), "thermal")
    x = make_batch(ws.raw, "thermal", ws.contract, no_augment(default_augment("thermal")), 0, np.arange(len(ws)),
                   np.zeros(len(ws), np.int64))
    # The clip-constant answer: the teacher's own mean over the scored frames, the same for every frame. Its centred
    # cosine is what following the shift between the two clips alone scores; "within" centres on that mean instead,
    # so only the frame-to-frame part counts.
    clip_mean = t_held.mean(0)
    const = teacher_agreement(np.repeat(clip_mean[None], len(t_held), 0), t_held, centre)["centred_cosine"]
    print(f"clip-constant answer (the teacher's mean over these frames): centred cosine {const:.3f}")
    rows: list[dict[str, Any]] = [{"student": "clip-constant answer", "centred_cosine": const}]
    print(f"{'student':<52} {'centred':>8} {'p5':>6} {'within':>7} {'cosine':>7}")
    for path in args.students:
        s = embed_unit(load_encoder(path, "thermal"), x, torch.device("cpu"))
        f = teacher_agreement(s, t_held, centre)
        f["within_clip_centred_cosine"] = teacher_agreement(s, t_held, clip_mean)["centred_cosine"]
        rows.append({"student": path.name, **f})
        print(f"{path.stem:<52} {f['centred_cosine']:>8.3f} {f['centred_cosine_p5']:>6.3f} "
              f"{f['within_clip_centred_cosine']:>7.3f} {f['cosine']:>7.4f}")
    if args.json:
        args.json.write_text(json.dumps({"centre": "teacher mean over the clean frames of thermal_train.npz",
                                         "frames": f"{scored.name}, {len(ws)} clean frames", "students": rows},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
