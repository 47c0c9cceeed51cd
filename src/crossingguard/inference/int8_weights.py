"""Per-column int8 weights for the per-row int8 graph, derived at load from the fp16 master copy.

A built-in model ships one copy of its weights (fp16 ``model.safetensors``). Its opt-in int8 graph
(``onnx/graph_int8.onnx``, written by ``crossingguard.toolkit.training.rowwise_int8``) holds no
weights either: each quantized ``MatMul`` weight is computed here, at load, from the same tensor the
fp32 graph uses. The arithmetic is fixed (symmetric per output column, round half to even), so every
machine derives the same bytes the exporter checked.

7-bit weights (values in [-63, 63]) are ONNX Runtime's *reduce_range*: on x86 CPUs without VNNI the
u8 x s8 kernels add two products into a signed 16-bit lane, which 255 * 127 * 2 overflows and
255 * 63 * 2 does not. So the one derived file is safe on AVX2 and on VNNI CPUs alike.
"""

from __future__ import annotations

import numpy as np

WEIGHT_BITS = 7


def quantize_columns(
    w: np.ndarray, bits: int = WEIGHT_BITS
) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-output-column int8 of a (K, N) weight: ``(W_q int8 (K, N), scale fp32 (N,))``.

    ``W ~= W_q * scale``; a column of zeros gets scale 1 (and zeros), never a division by zero.
    """
    if bits not in (7, 8):
        raise ValueError(f"weight bits must be 7 or 8, got {bits}")
    if w.ndim != 2:
        raise ValueError(f"expected a 2-D (K, N) weight, got shape {list(w.shape)}")
    qmax = float(2 ** (bits - 1) - 1)
    w = w.astype(np.float32, copy=False)
    amax = np.abs(w).max(axis=0)
    scale = np.where(amax > 0, amax / qmax, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int8)
    return np.ascontiguousarray(q), scale
