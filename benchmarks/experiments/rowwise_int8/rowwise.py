"""Batch-invariant int8 for ONNX transformer graphs: per-row activation scales, per-column weights.

Why not ``onnxruntime.quantization.quantize_dynamic``: it inserts ``DynamicQuantizeLinear``, which
computes ONE activation scale (and zero point) for the whole input tensor of each MatMul, that is
for every token of every pair in the batch, padding included. A pair's probabilities then depend on
which other pairs share its batch and on how much padding there is. The guard promises that a pair's
score depends on the pair only, so that is not acceptable.

What this module does instead (a graph rewrite; the fp32 graph is otherwise untouched). For every
``MatMul`` whose second input is a constant 2-D weight ``W`` (K x N):

* **weights**: symmetric, per output column (``s_col = max|W[:, j]| / qmax``), int8 with zero point
  0. ``weight_bits=7`` (the default, ``qmax = 63``) is ONNX Runtime's *reduce_range*: on x86 CPUs
  without VNNI, MLAS multiplies u8 x s8 with ``vpmaddubsw``, which adds two products into a signed
  16-bit lane; 255 * 127 * 2 overflows it, 255 * 63 * 2 = 32130 does not. 8-bit weights are safe
  only on VNNI (``vpdpbusd`` accumulates in 32 bits) or ARM, so a file meant to run everywhere
  uses 7 bits.
* **activations**: symmetric per row (per token): ``s_row = max(|A|, axis=-1) / 127`` (a zero
  row gets a tiny positive scale instead of a division by zero), ``A_q = round(A / s_row) + 128``
  as uint8 with a fixed scalar zero point 128. ONNX Runtime's CPU ``MatMulInteger`` and
  ``MatMulIntegerToFloat`` accept only a scalar A zero point; the symmetric scheme keeps it scalar
  (always 128) while the scales vary per row. ``|A / s_row| <= 127`` holds by construction, so
  ``A_q`` lies in [1, 255] and needs no clip.
* **product**: ``Y = (A_q - 128) @ W_q * s_row * s_col``, then whatever followed the MatMul (bias
  ``Add``, ``BiasGelu``, ``SkipLayerNormalization``) as before.

Every output row then depends on its own input row only, so scores are batch-, padding- and
order-invariant by construction (up to float summation order in the fp32 parts of the graph).

Two ways to compute the product (``kernel``):

* ``"to_float"`` (default): ``com.microsoft.MatMulIntegerToFloat(A_q, W_q, s_row, s_col, 128, 0)``.
  Verified in the ONNX Runtime source (``contrib_ops/cpu/quantization/dynamic_quantize_matmul.cc``):
  a B scale of shape (N,) is applied per column inside the GEMM's output processor; an A scale that
  is not a scalar is applied afterwards by a broadcasting multiply (``ScaleOutput``), so a (…, 1)
  per-row scale works (ORT >= 1.17; older releases enforce a scalar A scale). Its ``bias`` input is
  NOT used: with a non-scalar A scale the bias would be multiplied by the A scale as well.
* ``"integer"``: standard-ONNX ``MatMulInteger`` -> ``Cast`` -> ``Mul(s_row)`` -> ``Mul(s_col)``;
  portable, more passes over the output.

Two ways to quantize the activations (``quantizer``):

* ``"quantize_linear"`` (default): flatten A to (rows, K) and use per-axis ``QuantizeLinear``
  (axis 0, one scale and zero point 128 per row): one fused MLAS pass.
* ``"ops"``: ``Mul(A, 127 / amax) -> Round -> Add(128) -> Cast(uint8)``: plain elementwise ops.

The scale computation (``Abs -> ReduceMax -> Max(eps)``) and the quantized activation are shared by
MatMuls that read the same tensor (Q, K and V read the same LayerNorm output).

Accuracy options (see ``README.md`` beside this file for what they buy on crossingguard-nli-mini):
``smooth_stats`` (SmoothQuant: constant per-channel factors from calibration data, still
batch-invariant, :func:`_smoothing_note`) and ``asymmetric`` (per-row asymmetric activations with
the zero point folded out of the GEMM, :func:`_asymmetric_note`).

``keep_fp32`` names MatMuls to leave in fp32 (regular expressions searched in the node name), for
accuracy-sensitive layers. ``Gemm`` nodes (the pooler and the classifier of a BERT head) are left
in fp32: they see one row per pair, so they cost nothing worth saving.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS_DOMAIN = "com.microsoft"
A_ZERO_POINT = 128
ACT_QMAX = 127.0
# Smallest per-row max |A| used for the scale: a row of zeros quantizes to 128s and gives 0.
EPS = 1e-8


def quantize_weight(w: np.ndarray, bits: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-output-column int8 for a (K, N) weight: ``(W_q int8, s_col float32 (N,))``.

    ``bits=7`` keeps values in [-63, 63] (reduce_range, safe for ``vpmaddubsw`` on AVX2 without
    VNNI); ``bits=8`` uses [-127, 127] (VNNI / ARM only).
    """
    if bits not in (7, 8):
        raise ValueError(f"weight bits must be 7 or 8, got {bits}")
    qmax = float(2 ** (bits - 1) - 1)
    amax = np.abs(w).max(axis=0)
    scale = np.where(amax > 0, amax / qmax, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int8)
    return q, scale


def _initializers(graph: onnx.GraphProto) -> dict[str, onnx.TensorProto]:
    return {t.name: t for t in graph.initializer}


def _producer_index(graph: onnx.GraphProto) -> dict[str, int]:
    return {out: i for i, node in enumerate(graph.node) for out in node.output}


def quantize_rowwise(
    model: onnx.ModelProto,
    *,
    weight_bits: int = 7,
    kernel: str = "to_float",
    quantizer: str = "quantize_linear",
    keep_fp32: Sequence[str] = (),
    asymmetric: Sequence[str] = (),
    smooth_stats: Mapping[str, np.ndarray] | None = None,
    alpha: float = 0.5,
    min_size: int = 1024,
) -> onnx.ModelProto:
    """Return a copy of ``model`` with every constant-weight MatMul in per-row int8 (see module doc).

    ``weight_bits``: 7 (default, safe on every x86 CPU) or 8 (VNNI / ARM only). ``kernel``:
    ``"to_float"`` (``com.microsoft.MatMulIntegerToFloat``) or ``"integer"`` (``MatMulInteger``
    + Cast + Mul). ``quantizer``: ``"quantize_linear"`` or ``"ops"``. ``keep_fp32``: regular
    expressions; a MatMul whose node name matches one stays fp32. ``asymmetric``: regular
    expressions; a matching MatMul gets per-row *asymmetric* activations (see
    :func:`_asymmetric_note`; ``kernel="to_float"`` and ``quantizer="quantize_linear"`` only).
    ``smooth_stats``: per-channel max |A| of MatMul inputs, by tensor name, measured on
    calibration data (:func:`activation_channel_max`); when given, each such input is divided by a
    constant per-channel factor ``d = max|A_k|**alpha / max|W_k|**(1 - alpha)`` and the weight rows
    multiplied by it (SmoothQuant), see :func:`_smoothing_note`. ``min_size``: weights with fewer
    elements stay fp32. The input model must hold its weights (no external data).
    """
    if kernel not in ("to_float", "integer"):
        raise ValueError(f"kernel must be 'to_float' or 'integer', got {kernel!r}")
    if quantizer not in ("quantize_linear", "ops"):
        raise ValueError(
            f"quantizer must be 'quantize_linear' or 'ops', got {quantizer!r}"
        )
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    inits = _initializers(graph)
    patterns = [re.compile(p) for p in keep_fp32]
    used_by: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            used_by[name] = used_by.get(name, 0) + 1

    new_inits: list[onnx.TensorProto] = []
    consts: dict[str, str] = {}

    def const(name: str, array: np.ndarray) -> str:
        if name not in consts:
            new_inits.append(numpy_helper.from_array(array, name))
            consts[name] = name
        return name

    c_eps = lambda: const("rowwise/eps", np.array(EPS, dtype=np.float32))  # noqa: E731
    c_inv_qmax = lambda: const(
        "rowwise/inv_qmax", np.array(1.0 / ACT_QMAX, dtype=np.float32)
    )  # noqa: E731
    c_qmax = lambda: const("rowwise/qmax", np.array(ACT_QMAX, dtype=np.float32))  # noqa: E731
    c_azp = lambda: const(
        "rowwise/a_zero_point", np.array(A_ZERO_POINT, dtype=np.uint8)
    )  # noqa: E731
    c_azp_f = lambda: const(
        "rowwise/a_zero_point_f", np.array(float(A_ZERO_POINT), dtype=np.float32)
    )  # noqa: E731
    c_flat = lambda: const("rowwise/flat_shape", np.array([-1], dtype=np.int64))  # noqa: E731

    def eligible(node: onnx.NodeProto) -> bool:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            return False
        t = inits[node.input[1]]
        if t.data_location == TensorProto.EXTERNAL:
            raise ValueError(
                f"{t.name}: external data; load the model with its weights first"
            )
        ok = (
            len(t.dims) == 2
            and t.data_type == TensorProto.FLOAT
            and int(np.prod(t.dims)) >= min_size
        )
        return ok and not any(p.search(node.name) for p in patterns)

    # SmoothQuant factors per activation tensor, from all its quantized consumers' weights.
    smooth: dict[str, np.ndarray] = {}
    if smooth_stats:
        wmax: dict[str, np.ndarray] = {}
        for node in graph.node:
            if eligible(node) and node.input[0] in smooth_stats:
                row_max = np.abs(numpy_helper.to_array(inits[node.input[1]])).max(
                    axis=1
                )
                prev = wmax.get(node.input[0])
                wmax[node.input[0]] = (
                    row_max if prev is None else np.maximum(prev, row_max)
                )
        for a, wm in wmax.items():
            am = np.asarray(smooth_stats[a], dtype=np.float64)
            d = np.power(np.maximum(am, 1e-5), alpha) / np.power(
                np.maximum(wm, 1e-5), 1.0 - alpha
            )
            smooth[a] = np.clip(d, 1e-2, 1e2).astype(np.float32)

    def smoothed(a: str, p: str) -> tuple[str, list[onnx.NodeProto]]:
        if a not in smooth:
            return a, []
        inv = const(f"{p}/inv_smooth", (1.0 / smooth[a]).astype(np.float32))
        return f"{p}/smoothed", [
            helper.make_node("Mul", [a, inv], [f"{p}/smoothed"], name=f"{p}/Smooth")
        ]

    # Per activation tensor: (quantized name, per-row scale name), built once and shared.
    act_cache: dict[str, tuple[str, str]] = {}
    # New nodes to insert before the node at a given index (keeps the graph topologically sorted).
    inserts: dict[int, list[onnx.NodeProto]] = {}
    replaced: dict[int, list[onnx.NodeProto]] = {}

    def quantize_activation(a: str, tag: str, at: int) -> tuple[str, str]:
        if a in act_cache:
            return act_cache[a]
        p = f"rowwise/{tag}"
        key = a
        a, nodes = smoothed(a, p)
        nodes += [
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
                "Max", [f"{p}/amax0", c_eps()], [f"{p}/amax"], name=f"{p}/Max"
            ),
            helper.make_node(
                "Mul", [f"{p}/amax", c_inv_qmax()], [f"{p}/scale"], name=f"{p}/Scale"
            ),
        ]
        if quantizer == "ops":
            nodes += [
                helper.make_node(
                    "Div",
                    [c_qmax(), f"{p}/amax"],
                    [f"{p}/inv_scale"],
                    name=f"{p}/InvScale",
                ),
                helper.make_node(
                    "Mul", [a, f"{p}/inv_scale"], [f"{p}/scaled"], name=f"{p}/Scaled"
                ),
                helper.make_node(
                    "Round", [f"{p}/scaled"], [f"{p}/rounded"], name=f"{p}/Round"
                ),
                helper.make_node(
                    "Add",
                    [f"{p}/rounded", c_azp_f()],
                    [f"{p}/shifted"],
                    name=f"{p}/Shift",
                ),
                helper.make_node(
                    "Cast",
                    [f"{p}/shifted"],
                    [f"{p}/q"],
                    name=f"{p}/Cast",
                    to=TensorProto.UINT8,
                ),
            ]
        else:
            nodes += [
                helper.make_node("Shape", [a], [f"{p}/shape"], name=f"{p}/Shape"),
                helper.make_node(
                    "Reshape",
                    [f"{p}/scale", c_flat()],
                    [f"{p}/scale_flat"],
                    name=f"{p}/FlatScale",
                ),
                helper.make_node(
                    "Shape", [f"{p}/scale_flat"], [f"{p}/rows"], name=f"{p}/Rows"
                ),
                helper.make_node(
                    "Expand",
                    [c_azp(), f"{p}/rows"],
                    [f"{p}/zp"],
                    name=f"{p}/ZeroPoints",
                ),
                helper.make_node("Shape", [a], [f"{p}/k"], name=f"{p}/K", start=-1),
                helper.make_node(
                    "Concat",
                    [c_flat(), f"{p}/k"],
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
        inserts.setdefault(at, []).extend(nodes)
        act_cache[key] = (f"{p}/q", f"{p}/scale")
        return act_cache[key]

    asym_cache: dict[str, tuple[str, str, str]] = {}

    def quantize_activation_asym(a: str, tag: str, at: int) -> tuple[str, str, str]:
        """(q uint8 with zero point 0, per-row scale, per-row scale * zero point)."""
        if a in asym_cache:
            return asym_cache[a]
        p = f"rowwise/{tag}"
        zero = const("rowwise/zero", np.array(0.0, dtype=np.float32))
        key = a
        a, nodes = smoothed(a, p)
        nodes += [
            helper.make_node(
                "ReduceMax",
                [a],
                [f"{p}/hi0"],
                name=f"{p}/ReduceMax",
                axes=[-1],
                keepdims=1,
            ),
            helper.make_node(
                "ReduceMin",
                [a],
                [f"{p}/lo0"],
                name=f"{p}/ReduceMin",
                axes=[-1],
                keepdims=1,
            ),
            helper.make_node("Max", [f"{p}/hi0", zero], [f"{p}/hi"], name=f"{p}/Hi"),
            helper.make_node("Min", [f"{p}/lo0", zero], [f"{p}/lo"], name=f"{p}/Lo"),
            helper.make_node(
                "Sub", [f"{p}/hi", f"{p}/lo"], [f"{p}/range0"], name=f"{p}/Range"
            ),
            helper.make_node(
                "Max", [f"{p}/range0", c_eps()], [f"{p}/range"], name=f"{p}/RangeEps"
            ),
            helper.make_node(
                "Mul",
                [
                    f"{p}/range",
                    const("rowwise/inv_255", np.array(1 / 255.0, dtype=np.float32)),
                ],
                [f"{p}/scale"],
                name=f"{p}/Scale",
            ),
            helper.make_node(
                "Div", [f"{p}/lo", f"{p}/scale"], [f"{p}/lo_q"], name=f"{p}/LoQ"
            ),
            helper.make_node("Neg", [f"{p}/lo_q"], [f"{p}/zp_f0"], name=f"{p}/NegLoQ"),
            helper.make_node(
                "Round", [f"{p}/zp_f0"], [f"{p}/zp_f1"], name=f"{p}/RoundZp"
            ),
            helper.make_node(
                "Clip",
                [
                    f"{p}/zp_f1",
                    zero,
                    const("rowwise/f255", np.array(255.0, dtype=np.float32)),
                ],
                [f"{p}/zp_f"],
                name=f"{p}/ClipZp",
            ),
            helper.make_node(
                "Mul",
                [f"{p}/scale", f"{p}/zp_f"],
                [f"{p}/scale_zp"],
                name=f"{p}/ScaleZp",
            ),
            helper.make_node(
                "Cast",
                [f"{p}/zp_f"],
                [f"{p}/zp"],
                name=f"{p}/CastZp",
                to=TensorProto.UINT8,
            ),
            helper.make_node(
                "Reshape",
                [f"{p}/scale", c_flat()],
                [f"{p}/scale_flat"],
                name=f"{p}/FlatScale",
            ),
            helper.make_node(
                "Reshape", [f"{p}/zp", c_flat()], [f"{p}/zp_flat"], name=f"{p}/FlatZp"
            ),
            helper.make_node("Shape", [a], [f"{p}/shape"], name=f"{p}/Shape"),
            helper.make_node("Shape", [a], [f"{p}/k"], name=f"{p}/K", start=-1),
            helper.make_node(
                "Concat",
                [c_flat(), f"{p}/k"],
                [f"{p}/shape2d"],
                name=f"{p}/Shape2d",
                axis=0,
            ),
            helper.make_node(
                "Reshape", [a, f"{p}/shape2d"], [f"{p}/a2d"], name=f"{p}/Flatten"
            ),
            helper.make_node(
                "QuantizeLinear",
                [f"{p}/a2d", f"{p}/scale_flat", f"{p}/zp_flat"],
                [f"{p}/q2d"],
                name=f"{p}/QuantizeLinear",
                axis=0,
            ),
            helper.make_node(
                "Reshape", [f"{p}/q2d", f"{p}/shape"], [f"{p}/q"], name=f"{p}/Unflatten"
            ),
        ]
        inserts.setdefault(at, []).extend(nodes)
        asym_cache[key] = (f"{p}/q", f"{p}/scale", f"{p}/scale_zp")
        return asym_cache[key]

    asym_patterns = [re.compile(p) for p in asymmetric]
    count = 0
    for i, node in enumerate(graph.node):
        if not eligible(node):
            continue
        w_init = inits[node.input[1]]
        w = numpy_helper.to_array(w_init)
        if node.input[0] in smooth:
            w = w * smooth[node.input[0]][:, None]
        asym = any(p.search(node.name) for p in asym_patterns)
        tag = f"a{len(act_cache) + len(asym_cache)}"
        wq, s_col = quantize_weight(w, weight_bits)
        if asym:
            if kernel != "to_float":
                raise ValueError("asymmetric activations need kernel='to_float'")
            a_q, a_scale, a_scale_zp = quantize_activation_asym(
                node.input[0], tag + "s", i
            )
            wname = f"{w_init.name}/rowwise_q{weight_bits}"
            const(wname, wq)
            const(f"{wname}/scale", s_col)
            const(f"{wname}/zero_point", np.zeros(w.shape[1], dtype=np.int8))
            # s_col * column sums of W_q: the zero-point correction, folded after the GEMM.
            colsum = (s_col * wq.astype(np.int64).sum(axis=0)).astype(np.float32)
            const(f"{wname}/scaled_colsum", colsum)
            p = f"rowwise/mm{count}"
            replaced[i] = [
                helper.make_node(
                    "MatMulIntegerToFloat",
                    [
                        a_q,
                        wname,
                        a_scale,
                        f"{wname}/scale",
                        const("rowwise/zero_u8", np.array(0, dtype=np.uint8)),
                        f"{wname}/zero_point",
                    ],
                    [f"{p}/raw"],
                    name=f"{node.name}/rowwise",
                    domain=MS_DOMAIN,
                ),
                helper.make_node(
                    "Mul",
                    [a_scale_zp, f"{wname}/scaled_colsum"],
                    [f"{p}/corr"],
                    name=f"{p}/Correction",
                ),
                helper.make_node(
                    "Sub",
                    [f"{p}/raw", f"{p}/corr"],
                    [node.output[0]],
                    name=f"{p}/Correct",
                ),
            ]
            used_by[w_init.name] -= 1
            count += 1
            continue
        a_q, a_scale = quantize_activation(node.input[0], tag, i)
        wname = f"{w_init.name}/rowwise_q{weight_bits}"
        const(wname, wq)
        const(f"{wname}/scale", s_col)
        const(f"{wname}/zero_point", np.zeros(w.shape[1], dtype=np.int8))
        y = node.output[0]
        p = f"rowwise/mm{count}"
        if kernel == "to_float":
            new = [
                helper.make_node(
                    "MatMulIntegerToFloat",
                    [
                        a_q,
                        wname,
                        a_scale,
                        f"{wname}/scale",
                        c_azp(),
                        f"{wname}/zero_point",
                    ],
                    [y],
                    name=f"{node.name}/rowwise",
                    domain=MS_DOMAIN,
                )
            ]
        else:
            new = [
                helper.make_node(
                    "MatMulInteger",
                    [a_q, wname, c_azp(), f"{wname}/zero_point"],
                    [f"{p}/i32"],
                    name=f"{p}/MatMulInteger",
                ),
                helper.make_node(
                    "Cast",
                    [f"{p}/i32"],
                    [f"{p}/f32"],
                    name=f"{p}/Cast",
                    to=TensorProto.FLOAT,
                ),
                helper.make_node(
                    "Mul", [f"{p}/f32", a_scale], [f"{p}/row"], name=f"{p}/RowScale"
                ),
                helper.make_node(
                    "Mul", [f"{p}/row", f"{wname}/scale"], [y], name=f"{p}/ColScale"
                ),
            ]
        replaced[i] = new
        used_by[w_init.name] -= 1
        count += 1

    nodes: list[onnx.NodeProto] = []
    for i, node in enumerate(graph.node):
        nodes.extend(inserts.get(i, []))
        nodes.extend(replaced.get(i, [node]))
    del graph.node[:]
    graph.node.extend(nodes)
    keep = [
        t
        for t in graph.initializer
        if used_by.get(t.name, 0) > 0 or t.name not in used_by
    ]
    del graph.initializer[:]
    graph.initializer.extend(keep + new_inits)
    if kernel == "to_float" and not any(
        o.domain == MS_DOMAIN for o in out.opset_import
    ):
        out.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    out.doc_string = (
        f"per-row int8 (rowwise.quantize_rowwise): {count} MatMuls, {weight_bits}-bit per-column "
        f"weights, kernel={kernel}, quantizer={quantizer}, keep_fp32={list(keep_fp32)}"
    )
    return out


def _asymmetric_note() -> None:
    """Per-row asymmetric activations, folded so the A zero point stays a scalar.

    ``s = (max(A, 0) - min(A, 0)) / 255`` and ``z = round(-min(A, 0) / s)`` per row, ``q =
    QuantizeLinear(A, s, z)`` (uint8). Then ``A @ W ~= s * s_col * (q @ W_q) - (s * z) * (s_col *
    colsum(W_q))``: ``MatMulIntegerToFloat`` with A zero point 0 computes the first term, a Mul and
    a Sub apply the second (``s_col * colsum(W_q)`` is a constant). Worth it for skewed inputs
    such as GELU outputs (bounded below by -0.17), which waste a bit under the symmetric scheme.
    """


def _smoothing_note() -> None:
    """SmoothQuant (Xiao et al., 2023), used here because per-token scales are set by outliers.

    Transformer activations have a few channels far larger than the rest (LayerNorm outputs, GELU
    outputs); a per-row scale is then set by those channels and the others keep only a few levels.
    ``A @ W == (A / d) @ (d * W)`` for any per-input-channel ``d``: dividing the activations by
    ``d`` flattens the outliers, multiplying the weight rows moves the difficulty into the weights,
    which are quantized offline per column. ``d`` is a constant computed from calibration data, so
    it does not make a row depend on other rows: the rewrite stays batch-invariant. The division is
    one elementwise Mul on the MatMul input (shared by MatMuls reading the same tensor).
    """


def activation_channel_max(
    model: onnx.ModelProto,
    feeds: Iterable[dict[str, np.ndarray]],
    *,
    threads: int | None = None,
    min_size: int = 1024,
) -> dict[str, np.ndarray]:
    """Per-channel max |A| of every constant-weight MatMul input over calibration batches.

    Padding tokens are included; they are ordinary embeddings run through the same layers, and
    only raise the maxima a little. Use calibration data that is not the evaluation data.
    """
    import onnxruntime as ort

    inits = {t.name: t for t in model.graph.initializer}
    names = sorted(
        {
            n.input[0]
            for n in model.graph.node
            if n.op_type == "MatMul"
            and n.input[1] in inits
            and int(np.prod(inits[n.input[1]].dims)) >= min_size
        }
    )
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    have = {o.name for o in probe.graph.output}
    for name in names:
        if name not in have:
            probe.graph.output.append(helper.make_empty_tensor_value_info(name))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads is not None:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(
        probe.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    stats: dict[str, np.ndarray] = {}
    for feed in feeds:
        values = session.run(names, feed)
        for name, value in zip(names, values):
            m = np.abs(value).reshape(-1, value.shape[-1]).max(axis=0)
            stats[name] = m if name not in stats else np.maximum(stats[name], m)
    return stats


def rowwise_reference(a: np.ndarray, w: np.ndarray, weight_bits: int = 7) -> np.ndarray:
    """NumPy reference of one rewritten MatMul (for tests): what the graph should compute."""
    wq, s_col = quantize_weight(w, weight_bits)
    amax = np.maximum(np.abs(a).max(axis=-1, keepdims=True), EPS).astype(np.float32)
    s_row = amax * np.float32(1.0 / ACT_QMAX)
    q = np.rint(a / s_row).astype(np.int64)
    acc = q @ wq.astype(np.int64)
    return (acc.astype(np.float32) * s_row * s_col).astype(np.float32)
