"""Graph fusions for bundles that ONNX Runtime runs on a CPU (``--target cpu``).

At batch 1 a small student spends a large share of its time in element-wise kernels that sit between the matmuls
(docs/students.md has the profile). ONNX Runtime's own session optimiser does not fuse them in our graphs: it does
not recognise the exported erf GELU, and in a QDQ graph it turns ``DQ -> MatMul`` into ``MatMulIntegerToFloat``
but leaves the bias ``Add`` behind. Two rewrites close that gap, each one measured side by side
(``benchmarks/bench_fusions.py``):

* :func:`fuse_gelu`, before quantisation: ONNX Runtime's transformer optimiser fuses ``Add(bias) -> GELU`` into one
  ``com.microsoft`` kernel: ``BiasGelu`` (exact erf) for fp32, ``FastGelu`` (tanh form) for int8, where the
  difference (at most ~3e-4 on an activation) is far below the quantisation error. Attention and SkipLayerNorm
  fusion stay off: ImageBind's ``bias_k``/``bias_v`` token does not match the attention pattern, and
  SkipLayerNormalization measured slower (docs/students.md).
* :func:`fuse_matmul_bias`, after int8 quantisation: ``DQ(x), DQ(W) -> MatMul -> Add(bias)`` becomes one
  ``com.microsoft.MatMulIntegerToFloat`` with its bias input, the kernel ONNX Runtime would have picked for the
  matmul anyway.

The ``com.microsoft`` ops run in every ONNX Runtime build (CPU and GPU) but not in TensorRT, so only CPU bundles are
fused; the TensorRT path keeps the standard-op graph. Export measures parity on the fused file like on any other.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MS_DOMAIN = "com.microsoft"


def fuse_gelu(src: str | Path, dst: str | Path, num_heads: int, hidden: int, approximate: bool) -> dict[str, int]:
    """Fuse each ``Add(bias) -> GELU`` of ``src`` into ``BiasGelu`` (or ``FastGelu`` if ``approximate``).

    Args:
        src: fp32 ``.onnx``.
        dst: where to write the fused model (may be ``src``).
        num_heads: the encoder's attention heads (the optimiser's model description).
        hidden: the encoder's width.
        approximate: use the tanh form of GELU (``FastGelu``), for graphs about to be quantised to int8.

    Returns:
        Counts of the fused ops, e.g. ``{"BiasGelu": 4}``.
    """
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    for name in ("enable_attention", "enable_skip_layer_norm", "enable_bias_skip_layer_norm",
                 "enable_embed_layer_norm", "enable_rotary_embeddings", "enable_qordered_matmul",
                 "enable_shape_inference"):
        setattr(options, name, False)
    options.enable_gelu = options.enable_bias_gelu = True
    options.enable_gelu_approximation = approximate
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):  # the optimiser prints its statistics
        model = optimize_model(str(src), model_type="bert", num_heads=num_heads, hidden_size=hidden,
                               optimization_options=options, opt_level=0, use_gpu=False)
    model.save_model_to_file(str(dst))  # also declares the com.microsoft opset the fused ops need
    counts: dict[str, int] = {}
    for node in model.model.graph.node:
        if node.domain == MS_DOMAIN:
            counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


def fuse_matmul_bias(path: str | Path) -> int:
    """Rewrite, in place, each ``DQ(x), DQ(W) -> MatMul -> Add(b)`` of a QDQ model as ``MatMulIntegerToFloat``.

    ``x``'s DequantizeLinear must feed only this MatMul, ``W`` and ``b`` must be constants (``b`` 1-D) and the
    MatMul's output must feed only the Add. Per-channel weight scales carry over (the op takes a scale per output
    column). Returns how many were fused.
    """
    import onnx
    from onnx import helper

    from edgebind.export.onnx import save_model

    model = onnx.load(str(path))
    graph = model.graph
    constants = {i.name: i for i in graph.initializer}
    producer = {out: n for n in graph.node for out in n.output}
    consumers: dict[str, list[Any]] = {}
    for n in graph.node:
        for name in n.input:
            consumers.setdefault(name, []).append(n)

    fused: list[tuple[Any, Any, list[Any]]] = []
    for mm in graph.node:
        if mm.op_type != "MatMul" or mm.domain:
            continue
        dq_x, dq_w = (producer.get(name) for name in mm.input)
        users = consumers.get(mm.output[0], [])
        if (dq_x is None or dq_w is None or dq_x.op_type != "DequantizeLinear" or dq_w.op_type != "DequantizeLinear"
                or dq_w.input[0] not in constants or len(consumers.get(dq_x.output[0], [])) != 1
                or len(consumers.get(dq_w.output[0], [])) != 1
                or len(users) != 1 or users[0].op_type != "Add"):
            continue
        add = users[0]
        bias = [name for name in add.input if name != mm.output[0]]
        if len(bias) != 1 or bias[0] not in constants or len(constants[bias[0]].dims) != 1:
            continue
        if any(a.name == "axis" for a in dq_x.attribute) or len(dq_x.input) < 3 or len(dq_w.input) < 3:
            continue  # a per-channel activation scale, or no zero point: not this op's layout
        node = helper.make_node(
            "MatMulIntegerToFloat",
            [dq_x.input[0], dq_w.input[0], dq_x.input[1], dq_w.input[1], dq_x.input[2], dq_w.input[2], bias[0]],
            [add.output[0]], name=f"{mm.name}_bias", domain=MS_DOMAIN)
        fused.append((mm, node, [dq_x, dq_w, mm, add]))
    for anchor, node, _ in fused:
        graph.node.insert(list(graph.node).index(anchor), node)
    for _, _, dead in fused:
        for n in dead:
            graph.node.remove(n)
    if fused and not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    save_model(model, path)
    return len(fused)


__all__ = ["fuse_gelu", "fuse_matmul_bias"]
