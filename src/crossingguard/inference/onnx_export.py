"""Trace a Hugging Face model to an ONNX graph with one named output (imports torch when called).

Both exports use it: the NLI classifier (``toolkit.training.export``, output ``logits``) and the
routing embedder (``guard.routing.embedding``, output ``last_hidden_state``). The TorchScript
exporter (``dynamo=False``) traces BERT-family encoders reliably with named dynamic axes.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from crossingguard.io import atomic_path

OPSET = 17


def export_output(
    model: Any,
    inputs: dict[str, Any],
    path: Path,
    *,
    output: str,
    output_axes: dict[int, str],
    opset: int = OPSET,
) -> Path:
    """Write ``model``'s ``output`` for ``inputs`` (name -> tensor, in graph order) to ``path``.

    Inputs get dynamic batch and sequence axes. The file appears only when the export finished.
    """
    import torch

    names = list(inputs)

    class _Output(
        torch.nn.Module
    ):  # positional inputs in a fixed order, one named output
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return getattr(self.inner(**dict(zip(names, args, strict=True))), output)

    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "sequence"} for n in names}
    axes[output] = output_axes
    with atomic_path(path) as tmp, torch.no_grad(), warnings.catch_warnings():
        # tracer chatter about shape-dependent Python branches in HF masking code; callers check
        # parity on varied lengths and batch sizes instead
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Output(
                model
            ).eval(),  # export restores this mode onto the model: keep it eval
            tuple(inputs.values()),
            str(tmp),
            input_names=names,
            output_names=[output],
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    return path
