"""Which ONNX graph to run, with which weights: fp32 by default, int8 only where it is safe.

Built-in models keep one master copy of their weights, fp16 ``model.safetensors``, beside
``onnx/graph.onnx``: the exported fp32 graph with its weights left out, and
``onnx/graph_weights.json`` naming the safetensors tensor (and whether it is transposed) behind each
initializer. At load the weights are upcast to fp32 and handed to ONNX Runtime in memory
(``SessionOptions.add_external_initializers``), so the graph runs in fp32 with no second copy of
the weights on disk. Directories with a self-contained ``onnx/model.onnx`` (``crossingguard
export``, Optimum, sentence-transformers) load that file.

Why fp32 is the default: it agrees with torch to the last label. int8 is opt-in
(``precision="int8"``). Dynamic int8 (``DynamicQuantizeLinear``) computes one activation scale per
batch tensor, so a pair's probabilities change with its neighbours and padding, and on CPUs
without VNNI its u8 x s8 kernels can saturate. Our int8 (``onnx/graph_int8.onnx`` beside the fp32
graph, or ``crossingguard export``'s ``model_qint8_rowwise.onnx``) quantizes each row (token) with
its own scale and 7-bit weights instead: scores depend on the pair only and the kernels cannot
saturate on AVX2, at about 98.5-99 % label agreement with fp32. Whatever the file, it runs only if
this CPU's flags back its ISA tag and after it agrees with fp32 on a fixed probe set
(``crossingguard.inference.int8_check``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crossingguard.errors import ModelError
from crossingguard.inference.cpu import isa_tag, supports
from crossingguard.inference.int8_weights import WEIGHT_BITS, quantize_columns

Precision = Literal["fp32", "int8"]
PRECISIONS: tuple[str, ...] = ("fp32", "int8")
GRAPH_FILE = "graph.onnx"
WEIGHTS_MAP_FILE = "graph_weights.json"
WEIGHTS_FILE = "model.safetensors"
FP32_FILE = "model.onnx"
# The opt-in per-row int8 graph of a built-in model, weightless too: its quantized weights are
# derived at load from the same master copy (see ``crossingguard.inference.int8_weights``).
INT8_GRAPH_FILE = "graph_int8.onnx"
INT8_WEIGHTS_MAP_FILE = "graph_int8_weights.json"
# Preference among int8 files this CPU supports: the most specific kernels first.
INT8_PREFERENCE = ("avx512_vnni", "avx_vnni", "arm64", "avx512", "avx2", None)


@dataclass(frozen=True)
class OnnxModel:
    """One runnable ONNX model: a file, plus in-memory initializers for weightless graphs."""

    path: Path
    precision: Precision
    initializers: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def description(self) -> str:
        source = (
            f"{self.path.name} + {WEIGHTS_FILE}"
            if self.initializers
            else self.path.name
        )
        return f"{self.precision} ({source})"


def onnx_files(model_dir: Path) -> list[Path]:
    """Self-contained exports in the sentence-transformers layout (``onnx/model*.onnx``)."""
    folder = model_dir / "onnx"
    return sorted(folder.glob("model*.onnx")) if folder.is_dir() else []


def is_quantized(path: Path) -> bool:
    """Whether a file name marks an int8 export (``*qint8*``, ``*quantized*``, ``*int8*``)."""
    return any(tag in path.name for tag in ("qint8", "quantized", "int8"))


def has_onnx(model_dir: Path) -> bool:
    """Whether the directory holds anything the ONNX backend can run."""
    return bool(onnx_files(model_dir)) or (model_dir / "onnx" / GRAPH_FILE).is_file()


def fp32_path(model_dir: Path) -> Path | None:
    """The fp32 graph file of ``model_dir`` (``onnx/model.onnx``, another non-int8 export, else the
    weightless ``onnx/graph.onnx``), found without reading any weights."""
    plain = model_dir / "onnx" / FP32_FILE
    if plain.is_file():
        return plain
    others = [f for f in onnx_files(model_dir) if not is_quantized(f)]
    if others:
        return others[0]
    graph = model_dir / "onnx" / GRAPH_FILE
    return graph if graph.is_file() else None


def fp32_model(model_dir: Path) -> OnnxModel | None:
    """The fp32 graph of ``model_dir``: ``onnx/model.onnx``, else the weightless graph + weights."""
    path = fp32_path(model_dir)
    if path is None:
        return None
    if (
        path.name == GRAPH_FILE
    ):  # onnx_files() lists model*.onnx only, so this is the weightless one
        return OnnxModel(path, "fp32", load_graph_weights(model_dir))
    return OnnxModel(path, "fp32")


def derived_int8_model(model_dir: Path) -> OnnxModel | None:
    """The per-row int8 graph with weights derived from ``model.safetensors``, if the model has one.

    It runs on every x86 CPU (7-bit weights) and its scores depend on the pair only, unlike a
    ``quantize_dynamic`` export; :func:`int8_candidates` files, when present, are preferred.
    """
    graph = model_dir / "onnx" / INT8_GRAPH_FILE
    if not graph.is_file():
        return None
    return OnnxModel(
        graph, "int8", load_graph_weights(model_dir, map_file=INT8_WEIGHTS_MAP_FILE)
    )


def has_int8(model_dir: Path) -> bool:
    """Whether ``precision="int8"`` has anything to run for this directory."""
    return (model_dir / "onnx" / INT8_GRAPH_FILE).is_file() or any(
        is_quantized(f) for f in onnx_files(model_dir)
    )


def int8_candidates(model_dir: Path, flags: frozenset[str] | None = None) -> list[Path]:
    """int8 files whose ISA tag this CPU supports, most specific first."""
    usable = [
        f
        for f in onnx_files(model_dir)
        if is_quantized(f) and supports(isa_tag(f.name), flags)
    ]
    return sorted(
        usable, key=lambda f: (INT8_PREFERENCE.index(isa_tag(f.name)), f.name)
    )


def explicit_model(model_dir: Path, onnx_file: str | Path) -> OnnxModel:
    """The file the caller named (relative to the model directory or the working directory)."""
    path = Path(onnx_file)
    if not path.is_absolute() and not path.exists():
        path = model_dir / path
    if not path.is_file():
        raise ModelError(
            f"ONNX file not found: {onnx_file} (looked in {model_dir} too)"
        )
    if path.name == GRAPH_FILE:
        return OnnxModel(path, "fp32", load_graph_weights(path.parent.parent))
    return OnnxModel(path, "int8" if is_quantized(path) else "fp32")


def load_graph_weights(
    model_dir: Path, *, map_file: str = WEIGHTS_MAP_FILE
) -> dict[str, np.ndarray]:
    """Arrays for every initializer of a weightless graph, read from ``model.safetensors``.

    fp32 for ``graph.onnx``; entries of the int8 map with a ``quantize`` part (``weight`` or
    ``scale``) are derived from their fp32 tensor by :func:`quantize_columns`.
    """
    map_path = model_dir / "onnx" / map_file
    weights_path = model_dir / WEIGHTS_FILE
    try:
        mapping: Any = json.loads(map_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(
            f"{model_dir / 'onnx' / GRAPH_FILE} has no {WEIGHTS_MAP_FILE} beside it; re-export the "
            "model (crossingguard ship) or delete the graph and use onnx/model.onnx"
        ) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{map_path} is not valid JSON: {exc}") from exc
    if not isinstance(mapping, dict) or not isinstance(
        mapping.get("initializers"), dict
    ):
        raise ModelError(f"{map_path}: expected an object with an 'initializers' map")
    try:
        from safetensors.numpy import load_file
    except ImportError as exc:  # pragma: no cover - safetensors is a base dependency
        raise ModelError(
            "safetensors is not installed: pip install safetensors"
        ) from exc
    try:
        tensors = load_file(str(weights_path))
    except FileNotFoundError as exc:
        raise ModelError(
            f"{model_dir} has an ONNX graph but no {WEIGHTS_FILE} with its weights"
        ) from exc
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise ModelError(f"cannot read {weights_path}: {exc}") from exc
    out: dict[str, np.ndarray] = {}
    quantized: dict[tuple[str, bool, int], tuple[np.ndarray, np.ndarray]] = {}
    for name, spec in mapping["initializers"].items():
        key = spec.get("tensor") if isinstance(spec, dict) else None
        tensor = tensors.get(key) if isinstance(key, str) else None
        if tensor is None:
            raise ModelError(
                f"{map_path}: initializer {name!r} needs tensor {spec!r}, which {weights_path.name} "
                "lacks; the graph and the weights come from different models"
            )
        array = tensor.astype(np.float32)
        if spec.get("transpose"):
            array = array.T
        part = spec.get("quantize")
        if part is not None:
            if part not in ("weight", "scale"):
                raise ModelError(
                    f"{map_path}: initializer {name!r} has quantize {part!r}; expected "
                    "'weight' or 'scale' (a newer crossingguard wrote this file?)"
                )
            bits = spec.get("bits", WEIGHT_BITS)
            cache_key = (str(key), bool(spec.get("transpose")), int(bits))
            if cache_key not in quantized:
                try:
                    quantized[cache_key] = quantize_columns(array, bits)
                except ValueError as exc:
                    raise ModelError(
                        f"{map_path}: initializer {name!r}: {exc}"
                    ) from exc
            array = quantized[cache_key][0 if part == "weight" else 1]
        if list(array.shape) != spec.get("shape", list(array.shape)):
            raise ModelError(
                f"{map_path}: initializer {name!r} expects shape {spec.get('shape')}, "
                f"{weights_path.name} gives {list(array.shape)}; the graph and the weights "
                "come from different models"
            )
        out[name] = np.ascontiguousarray(array)
    return out
