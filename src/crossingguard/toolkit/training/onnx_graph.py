"""Split an fp32 ONNX export into a weightless graph plus a map onto ``model.safetensors``.

A shipped model keeps one master copy of its weights (fp16 safetensors, also what the torch backend
and ``CrossEncoder(dir)`` load). The ONNX graph needs the same numbers, so rather than a second
80 MB copy we keep the graph without weights (a few hundred KB) and ``graph_weights.json``, which
names the safetensors tensor behind each initializer and whether the exporter transposed it
(``Linear`` weights become ``MatMul`` inputs). ``crossingguard.inference.onnx_files`` puts them
back together at load time, in fp32.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from crossingguard.errors import ModelError
from crossingguard.inference.onnx_files import (
    GRAPH_FILE,
    WEIGHTS_FILE,
    WEIGHTS_MAP_FILE,
)

# Initializers smaller than this stay inside the graph (shape constants, scalars, small buffers).
MIN_EXTERNAL_ELEMENTS = 16


def leave_out(init: Any, nbytes: int) -> None:
    """Drop an initializer's data, marking it external (our loader supplies it in memory)."""
    import onnx

    for name in ("raw_data", "float_data", "int32_data"):
        init.ClearField(name)
    init.data_location = onnx.TensorProto.EXTERNAL
    del init.external_data[:]
    for key, value in (
        ("location", WEIGHTS_FILE),
        ("offset", "0"),
        ("length", str(nbytes)),
    ):
        entry = init.external_data.add()
        entry.key, entry.value = key, value


def write_weightless_graph(fp32_onnx: str | Path, model_dir: str | Path) -> Path:
    """Write ``model_dir/onnx/graph.onnx`` + ``graph_weights.json`` from an fp32 export.

    Every large float initializer must equal a tensor of ``model_dir/model.safetensors`` upcast
    to fp32 (or its transpose) bit for bit, which holds when the export was made from those
    weights; anything else is an error rather than a silently different model.
    """
    import onnx
    from onnx import numpy_helper
    from safetensors.numpy import load_file

    model_dir = Path(model_dir)
    model = onnx.load(str(fp32_onnx))
    tensors = load_file(str(model_dir / WEIGHTS_FILE))
    index: dict[tuple[tuple[int, ...], bytes], tuple[str, bool]] = {}
    for key, value in tensors.items():
        full = value.astype(np.float32)
        index.setdefault((full.shape, full.tobytes()), (key, False))
        if full.ndim == 2:
            flipped = np.ascontiguousarray(full.T)
            index.setdefault((flipped.shape, flipped.tobytes()), (key, True))
    mapping: dict[str, dict[str, Any]] = {}
    for init in model.graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype != np.float32 or array.size < MIN_EXTERNAL_ELEMENTS:
            continue
        hit = index.get((array.shape, array.tobytes()))
        if hit is None:
            raise ModelError(
                f"{fp32_onnx}: initializer {init.name!r} {list(array.shape)} matches no tensor of "
                f"{model_dir / WEIGHTS_FILE}; export the graph from these exact weights "
                "(save the fp16 safetensors first, then export from that directory)"
            )
        mapping[init.name] = {
            "tensor": hit[0],
            "transpose": hit[1],
            "shape": list(array.shape),
        }
        leave_out(init, array.nbytes)
    out_dir = model_dir / "onnx"
    out_dir.mkdir(parents=True, exist_ok=True)
    graph = out_dir / GRAPH_FILE
    onnx.save(model, str(graph))
    (out_dir / WEIGHTS_MAP_FILE).write_text(
        json.dumps(
            {"weights": WEIGHTS_FILE, "precision": "fp32", "initializers": mapping},
            indent=1,
        ),
        encoding="utf-8",
    )
    return graph
