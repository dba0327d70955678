"""Compare two embedding files row by row (cosine similarity and max absolute difference).

Used by .ci/arm64: the same windows embedded with the same int8 bundle on x86 and on arm64 must agree.

    python scripts/compare_embeddings.py x86.npy arm64.npy --min-cosine 0.999
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def compare(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Row-wise cosine (min, mean) and max |a - b| of two (N, D) arrays of the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}; embed the same windows on both sides.")
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    cos = (a64 * b64).sum(1) / (np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1))
    return {"rows": float(len(a)), "min_cosine": float(cos.min()), "mean_cosine": float(cos.mean()),
            "max_abs": float(np.abs(a64 - b64).max())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--min-cosine", type=float, default=0.999)
    ap.add_argument("--label", default="agreement")
    args = ap.parse_args(argv)
    r = compare(np.load(args.a), np.load(args.b))
    print(f"{args.label}: {int(r['rows'])} windows, min cosine {r['min_cosine']:.6f}, mean {r['mean_cosine']:.6f}, "
          f"max |diff| {r['max_abs']:.3g} (needs min cosine >= {args.min_cosine})")
    return 0 if r["min_cosine"] >= args.min_cosine else 1


if __name__ == "__main__":
    sys.exit(main())
