"""Batch-1 overhead of a small encoder on ONNX Runtime: plain ``session.run``, an IO binding with a pre-allocated
output buffer, and the runner's ``infer`` (feed checks + ``session.run``); then where the kernel time goes
(onnxruntime's profiler, by op type).

All paths share one session (threads as given, no spinning) and are timed in interleaved rounds of blocks
(``edgebind.bench.time_calls``), ``--repeats`` times, so the spread shows.

    python benchmarks/bench_overhead.py BUNDLE [--modality imu] [--threads 2] [--runs 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundle", type=Path)
    p.add_argument("--modality", default="imu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()

    from edgebind.bench import profile_onnxruntime, time_calls
    from edgebind.bundle import load_bundle
    from edgebind.config import config_from_dict
    from edgebind.export.onnx import example_input
    from edgebind.runtime import open_runner

    bundle = load_bundle(args.bundle)
    entry = bundle.encoder(args.modality)
    x = example_input(config_from_dict(entry.config), 1)
    with open_runner(bundle, args.modality, backend="onnxruntime", threads=args.threads) as runner:
        sess = runner.session  # type: ignore[attr-defined]
        feeds = {entry.input_name: x}
        out = np.empty((1, entry.out_dim), np.float32)
        binding = sess.io_binding()
        binding.bind_output(entry.output_name, "cpu", 0, np.float32, list(out.shape), out.ctypes.data)

        def bound() -> np.ndarray:
            binding.bind_cpu_input(entry.input_name, x)
            sess.run_with_iobinding(binding)
            return out.copy()

        calls = {"session.run": lambda: sess.run([entry.output_name], feeds)[0], "IO binding": bound,
                 "runner.infer": lambda: runner.infer(feeds)[entry.output_name]}
        for fn in calls.values():
            np.testing.assert_allclose(fn(), calls["session.run"](), atol=1e-6)
            for _ in range(10):
                fn()
        print(f"{args.bundle} {args.modality} {entry.precision}, batch 1, {args.threads} threads, "
              f"{args.runs} calls per path and repeat")
        for i in range(args.repeats):
            p50 = np.percentile(time_calls(list(calls.values()), args.runs), 50, axis=1)
            print(f"repeat {i + 1}: " + ", ".join(f"{k} p50 {v:.3f} ms" for k, v in zip(calls, p50, strict=True)))
    prof = profile_onnxruntime(bundle, args.modality, runs=20, threads=args.threads)
    print("kernel time by op type: " + ", ".join(f"{op} {share:.1%}" for op, share in prof[:10]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
