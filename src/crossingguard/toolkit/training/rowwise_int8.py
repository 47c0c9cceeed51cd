"""Write a model's opt-in int8 graph: per-row activation scales, per-column 7-bit weights.

Why not ``onnxruntime.quantization.quantize_dynamic``: its ``DynamicQuantizeLinear`` computes one
activation scale for the whole input tensor of each MatMul, i.e. for every token of every pair in
the batch, padding included, so a pair's probabilities depend on its neighbours. The guard promises
that a pair's score depends on the pair only.

This rewrite keeps that promise by construction. Every ``MatMul`` with a constant 2-D weight ``W``
(K x N; the Q, K, V, attention-output and two FFN projections of each layer) becomes:

* activations, per row (token): ``s_row = max|A| / 127``, ``A_q = QuantizeLinear(A, s_row, 128)``
  on A flattened to (rows, K), uint8 with the scalar zero point 128 that ONNX Runtime's kernels
  require (``|A / s_row| <= 127``, so ``A_q`` stays in [1, 255]);
* weights: 7-bit symmetric per output column (``crossingguard.inference.int8_weights``);
* product: ``com.microsoft.MatMulIntegerToFloat(A_q, W_q, s_row, s_col, 128, 0)``, which applies a
  (N,) weight scale per column in the GEMM and a non-scalar activation scale by a broadcasting
  multiply afterwards (checked in ORT's ``dynamic_quantize_matmul.cc``; ORT >= 1.17).

``Gemm`` nodes (pooler, classifier: one row per pair) and the attention score MatMuls (no constant
weight) stay fp32. The experiment behind the choices, with the variants that lost, is
``benchmarks/experiments/rowwise_int8``.

The written graph is weightless like ``graph.onnx``: ``graph_int8_weights.json`` maps every large
initializer onto ``model.safetensors``; quantized weights carry ``"quantize": "weight"`` or
``"scale"`` and are derived at load. The file's metadata records the int8 self-check's probe
difference measured at export (``crossingguard.inference.int8_check``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from crossingguard.errors import ModelError
from crossingguard.inference.int8_check import PROBE_METADATA_KEY, probe_diff
from crossingguard.inference.int8_weights import WEIGHT_BITS, quantize_columns
from crossingguard.inference.onnx_backend import OnnxBackend
from crossingguard.inference.onnx_files import (
    GRAPH_FILE,
    INT8_GRAPH_FILE,
    INT8_WEIGHTS_MAP_FILE,
    WEIGHTS_FILE,
    WEIGHTS_MAP_FILE,
    derived_int8_model,
    fp32_model,
    load_graph_weights,
)
from crossingguard.toolkit.training.onnx_graph import leave_out

MS_DOMAIN = "com.microsoft"
A_ZERO_POINT = 128
ACT_QMAX = 127.0
# Smallest per-row max |A| used for the scale: a row of zeros quantizes to 128s and gives 0.
EPS = 1e-8
# Weights with fewer elements stay fp32 (nothing to gain).
MIN_QUANTIZED_ELEMENTS = 1024
QUANT_SUFFIX = f"/rowwise_q{WEIGHT_BITS}"


def quantize_rowwise(model: Any) -> tuple[Any, dict[str, str]]:
    """A copy of ``model`` (weights inside) with every constant-weight MatMul in per-row int8.

    Returns the new model and, for each quantized weight initializer, the fp32 initializer it was
    derived from (so the caller can map it onto the master weights).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    inits = {t.name: t for t in graph.initializer}
    used_by: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            used_by[name] = used_by.get(name, 0) + 1
    new_inits: list[Any] = []
    made: set[str] = set()

    def const(name: str, array: np.ndarray) -> str:
        if name not in made:
            new_inits.append(numpy_helper.from_array(array, name))
            made.add(name)
        return name

    eps = const("rowwise/eps", np.array(EPS, dtype=np.float32))
    inv_qmax = const("rowwise/inv_qmax", np.array(1.0 / ACT_QMAX, dtype=np.float32))
    a_zp = const("rowwise/a_zero_point", np.array(A_ZERO_POINT, dtype=np.uint8))
    flat = const("rowwise/flat_shape", np.array([-1], dtype=np.int64))

    def eligible(node: Any) -> bool:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            return False
        t = inits[node.input[1]]
        if t.data_location == TensorProto.EXTERNAL:
            raise ModelError(
                f"{t.name}: weights are external; load the model with its weights first"
            )
        return (
            len(t.dims) == 2
            and t.data_type == TensorProto.FLOAT
            and int(np.prod(t.dims)) >= MIN_QUANTIZED_ELEMENTS
        )

    # One quantization per activation tensor, shared by its readers (Q, K and V read the same).
    activations: dict[str, tuple[str, str]] = {}
    inserts: dict[int, list[Any]] = {}
    replaced: dict[int, list[Any]] = {}
    sources: dict[str, str] = {}

    def quantize_activation(a: str, at: int) -> tuple[str, str]:
        if a in activations:
            return activations[a]
        p = f"rowwise/a{len(activations)}"
        inserts.setdefault(at, []).extend(
            [
                helper.make_node("Abs", [a], [f"{p}/abs"], name=f"{p}/Abs"),
                helper.make_node(
                    "ReduceMax",
                    [f"{p}/abs"],
                    [f"{p}/amax0"],
                    name=f"{p}/ReduceMax",
                    axes=[-1],
                    keepdims=1,
                ),
                helper.make_node(
                    "Max", [f"{p}/amax0", eps], [f"{p}/amax"], name=f"{p}/Max"
                ),
                helper.make_node(
                    "Mul", [f"{p}/amax", inv_qmax], [f"{p}/scale"], name=f"{p}/Scale"
                ),
                helper.make_node("Shape", [a], [f"{p}/shape"], name=f"{p}/Shape"),
                helper.make_node(
                    "Reshape",
                    [f"{p}/scale", flat],
                    [f"{p}/scale_flat"],
                    name=f"{p}/FlatScale",
                ),
                helper.make_node(
                    "Shape", [f"{p}/scale_flat"], [f"{p}/rows"], name=f"{p}/Rows"
                ),
                helper.make_node(
                    "Expand", [a_zp, f"{p}/rows"], [f"{p}/zp"], name=f"{p}/ZeroPoints"
                ),
                helper.make_node("Shape", [a], [f"{p}/k"], name=f"{p}/K", start=-1),
                helper.make_node(
                    "Concat",
                    [flat, f"{p}/k"],
                    [f"{p}/shape2d"],
                    name=f"{p}/Shape2d",
                    axis=0,
                ),
                helper.make_node(
                    "Reshape", [a, f"{p}/shape2d"], [f"{p}/a2d"], name=f"{p}/Flatten"
                ),
                helper.make_node(
                    "QuantizeLinear",
                    [f"{p}/a2d", f"{p}/scale_flat", f"{p}/zp"],
                    [f"{p}/q2d"],
                    name=f"{p}/QuantizeLinear",
                    axis=0,
                ),
                helper.make_node(
                    "Reshape",
                    [f"{p}/q2d", f"{p}/shape"],
                    [f"{p}/q"],
                    name=f"{p}/Unflatten",
                ),
            ]
        )
        activations[a] = (f"{p}/q", f"{p}/scale")
        return activations[a]

    for i, node in enumerate(graph.node):
        if not eligible(node):
            continue
        w_init = inits[node.input[1]]
        wq, s_col = quantize_columns(numpy_helper.to_array(w_init))
        a_q, a_scale = quantize_activation(node.input[0], i)
        wname = w_init.name + QUANT_SUFFIX
        const(wname, wq)
        const(wname + "/scale", s_col)
        const(wname + "/zero_point", np.zeros(wq.shape[1], dtype=np.int8))
        sources[wname] = w_init.name
        sources[wname + "/scale"] = w_init.name
        replaced[i] = [
            helper.make_node(
                "MatMulIntegerToFloat",
                [a_q, wname, a_scale, wname + "/scale", a_zp, wname + "/zero_point"],
                [node.output[0]],
                name=f"{node.name}/rowwise",
                domain=MS_DOMAIN,
            )
        ]
        used_by[w_init.name] -= 1
    if not replaced:
        raise ModelError("no MatMul with a constant 2-D weight to quantize")
    nodes: list[Any] = []
    for i, node in enumerate(graph.node):
        nodes.extend(inserts.get(i, []))
        nodes.extend(replaced.get(i, [node]))
    del graph.node[:]
    graph.node.extend(nodes)
    keep = [t for t in graph.initializer if used_by.get(t.name, 0) > 0]
    del graph.initializer[:]
    graph.initializer.extend(keep + new_inits)
    if not any(o.domain == MS_DOMAIN for o in out.opset_import):
        out.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    out.doc_string = (
        f"per-row int8: {len(replaced)} MatMuls, {WEIGHT_BITS}-bit per-column weights "
        "(crossingguard.toolkit.training.rowwise_int8)"
    )
    return out, sources


def write_int8_graph(model_dir: str | Path) -> Path:
    """Write ``onnx/graph_int8.onnx`` + ``graph_int8_weights.json`` beside a model's fp32 graph.

    Reads ``onnx/graph.onnx`` and its weight map (``crossingguard ship`` writes them), quantizes,
    and leaves every weight outside the file again: fp32 ones as in ``graph_weights.json``,
    quantized ones as the same tensor plus a ``quantize`` part, derived at load.
    """
    import onnx
    from onnx import numpy_helper

    model_dir = Path(model_dir)
    onnx_dir = model_dir / "onnx"
    graph_path = onnx_dir / GRAPH_FILE
    if not graph_path.is_file():
        raise ModelError(
            f"{graph_path} not found: ship the model first (it writes the fp32 graph)"
        )
    base_map = json.loads((onnx_dir / WEIGHTS_MAP_FILE).read_text(encoding="utf-8"))
    specs: dict[str, dict[str, Any]] = base_map["initializers"]
    weights = load_graph_weights(model_dir)
    model = onnx.load(str(graph_path), load_external_data=False)
    for init in model.graph.initializer:
        if init.name in weights:
            init.CopyFrom(numpy_helper.from_array(weights[init.name], init.name))
    quantized, sources = quantize_rowwise(model)
    mapping: dict[str, dict[str, Any]] = {}
    for init in quantized.graph.initializer:
        if init.name in sources:
            base = specs[sources[init.name]]
            part = "scale" if init.name.endswith("/scale") else "weight"
            spec = {**base, "quantize": part, "bits": WEIGHT_BITS}
        elif init.name in specs:
            spec = dict(specs[init.name])
        else:
            continue  # small constants stay in the graph
        array = numpy_helper.to_array(init)
        spec["shape"] = list(array.shape)
        mapping[init.name] = spec
        leave_out(init, array.nbytes)
    out = onnx_dir / INT8_GRAPH_FILE
    onnx.save(quantized, str(out))
    (onnx_dir / INT8_WEIGHTS_MAP_FILE).write_text(
        json.dumps(
            {
                "weights": WEIGHTS_FILE,
                "precision": "int8",
                "scheme": f"per-row activations, {WEIGHT_BITS}-bit per-column weights",
                "initializers": mapping,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    encoder = _encoder(model_dir)
    int8, fp32 = derived_int8_model(model_dir), fp32_model(model_dir)
    if (
        int8 is None or fp32 is None
    ):  # pragma: no cover - both were just written or read
        raise ModelError(f"{model_dir}: the fp32 or the int8 graph is missing")
    record_probe_diff(out, probe_diff(encoder, OnnxBackend(int8), OnnxBackend(fp32)))
    return out


def quantize_file(fp32_path: str | Path, out_path: str | Path) -> Path:
    """Per-row int8 of a self-contained fp32 ONNX file (``crossingguard export``)."""
    import onnx

    quantized, _ = quantize_rowwise(onnx.load(str(fp32_path)))
    onnx.save(quantized, str(out_path))
    return Path(out_path)


def record_probe_diff(onnx_path: Path, diff: float) -> None:
    """Store the int8 self-check's probe difference measured here in the file's metadata.

    A user's CPU must reproduce it (``crossingguard.inference.int8_check.probe_limit``); rounded
    up so that float noise in the fp32 parts does not fail the check.
    """
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    kept = [p for p in model.metadata_props if p.key != PROBE_METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    entry = model.metadata_props.add()
    entry.key, entry.value = PROBE_METADATA_KEY, f"{np.ceil(diff * 1000) / 1000:.3f}"
    onnx.save(model, str(onnx_path))


def _encoder(model_dir: Path) -> Any:
    from crossingguard.inference.scorer import load_scorer

    return load_scorer(model_dir, backend="onnx").encoder
