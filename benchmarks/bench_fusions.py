"""What each ONNX Runtime CPU fusion (edgebind/export/ortfuse.py) buys, side by side in one run.

From one checkpoint's encoder, exported to fp32 ONNX and quantised to int8 exactly as ``edgebind export --target cpu
--int8`` does, four int8 graphs are built and timed in interleaved rounds of blocks (``edgebind.bench.time_calls``),
``--repeats`` times, one session each (threads as given, no spinning), batch 1:

* ``none``: the QDQ graph as ONNX Runtime's quantiser writes it (edgebind's int8 export before the fusions);
* ``bias-gelu``: ``Add(bias) -> GELU`` fused to ``BiasGelu`` (exact erf) before quantisation;
* ``fast-gelu``: the same with the tanh form (``FastGelu``);
* ``fast-gelu+matmul-bias``: and ``DQ -> MatMul -> Add(bias)`` folded into ``MatMulIntegerToFloat`` (what export
  ships).

For each it prints the p50 per repeat, the ratio to ``none`` (median over repeats), the kernels ONNX Runtime runs
after its own session optimisation, and the smallest cosine to the fp32 ONNX model on the calibration set's held-out
windows.

    python benchmarks/bench_fusions.py imu-small.safetensors --calibration edgebind/data/demo/basicmotions_train.npz
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="A checkpoint holding the modality (a student, an extract ...).")
    p.add_argument("--calibration", type=Path, required=True, help="Recording .npz or calib.npz for int8.")
    p.add_argument("--modality", default="imu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=100, help="Timed calls per graph and repeat [100].")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", type=Path, help="Also write the figures here.")
    args = p.parse_args()

    import onnx
    import onnxruntime as ort

    from edgebind.bench import time_calls
    from edgebind.checkpoint import load_checkpoint, load_encoder
    from edgebind.export import ortfuse, quantize
    from edgebind.export.onnx import export_onnx
    from edgebind.export.pipeline import encoder_contract

    enc = load_encoder(load_checkpoint(args.checkpoint), args.modality).eval()
    cfg = enc.cfg
    calib = quantize.load_calibration(args.calibration, cfg, encoder_contract(cfg))
    work = Path(tempfile.mkdtemp(prefix="bench_fusions_"))
    fp32 = export_onnx(enc, work / "fp32.onnx", batch_max=max(2, len(calib.heldout)))
    graphs: dict[str, Path] = {}
    for name, gelu in (("none", None), ("bias-gelu", False), ("fast-gelu", True)):
        src = fp32
        if gelu is not None:
            src = work / f"{name}.fp32.onnx"
            ortfuse.fuse_gelu(fp32, src, cfg.num_heads, cfg.embed_dim, approximate=gelu)
        graphs[name] = work / f"{name}.onnx"
        quantize.quantize_int8(src, graphs[name], calib.calibration)
    graphs["fast-gelu+matmul-bias"] = work / "shipped.onnx"
    graphs["fast-gelu+matmul-bias"].write_bytes(graphs["fast-gelu"].read_bytes())
    ortfuse.fuse_matmul_bias(graphs["fast-gelu+matmul-bias"])

    def session(path: Path, optimized: Path | None = None) -> ort.InferenceSession:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = args.threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if optimized is not None:
            opts.optimized_model_filepath = str(optimized)
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    held = calib.heldout.astype(np.float32)
    ref = session(fp32).run(None, {"input": held})[0]
    sessions = {}
    rows: dict[str, dict[str, object]] = {}
    print(f"{args.checkpoint.name} {args.modality} ({cfg.embed_dim}-wide, {cfg.depth} blocks), int8, "
          f"batch 1, {args.threads} thread(s), {args.runs} calls x {args.repeats} repeats; cosine on "
          f"{len(held)} held-out windows")
    for name, path in graphs.items():
        optimized = work / f"{name}.ort.onnx"
        sessions[name] = session(path, optimized)
        kernels = Counter(n.op_type for n in onnx.load(str(optimized)).graph.node)
        y = sessions[name].run(None, {"input": held})[0]
        cos = (y * ref).sum(1) / np.linalg.norm(y, axis=1) / np.linalg.norm(ref, axis=1)
        rows[name] = {"kernels": sum(kernels.values()), "add": kernels["Add"], "erf": kernels["Erf"],
                      "min_cosine_to_fp32": float(cos.min())}
        print(f"  {name:24s} {sum(kernels.values()):3d} kernels (Add {kernels['Add']}, Erf {kernels['Erf']}, "
              f"MatMulIntegerToFloat {kernels['MatMulIntegerToFloat']}); min cosine to fp32 {cos.min():.6f}")
    x = held[:1]
    calls = [lambda s=s: s.run(None, {"input": x}) for s in sessions.values()]
    for call in calls:
        for _ in range(10):
            call()
    p50 = np.array([np.percentile(time_calls(calls, args.runs), 50, axis=1) for _ in range(args.repeats)])
    for i, name in enumerate(sessions):
        ratio = np.median(p50[:, 0] / p50[:, i])
        print(f"  {name:24s} p50 ms " + " / ".join(f"{v:.3f}" for v in p50[:, i])
              + f"   {ratio:.2f}x the unfused graph")
        rows[name].update(p50_ms=[float(v) for v in p50[:, i]], ratio_to_unfused=float(ratio))
    if args.json:
        args.json.write_text(json.dumps({"checkpoint": args.checkpoint.name, "modality": args.modality,
                                         "threads": args.threads, "runs": args.runs, "graphs": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
