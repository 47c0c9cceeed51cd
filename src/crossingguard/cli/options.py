"""Options shared by commands that load a model."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class BackendChoice(str, Enum):
    auto = "auto"
    onnx = "onnx"
    torch = "torch"


ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Built-in model name, local model directory, or Hugging Face hub id "
        "(e.g. dleemiller/crossingguard-nli-m). Default: the built-in crossingguard-nli-mini.",
        show_default=False,
    ),
]
BackendOpt = Annotated[
    BackendChoice,
    typer.Option(
        "--backend",
        "-b",
        help="Inference backend: onnx (ONNX Runtime, CPU), torch (sentence-transformers), or "
        "auto (onnx when the model has onnx/model*.onnx, else torch).",
    ),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        "--threads", min=1, help="CPU threads for inference (default: the backend's)."
    ),
]
MaxLengthOpt = Annotated[
    int | None,
    typer.Option(
        "--max-length",
        min=16,
        help="Token window per pair (default: the model's limit). Longer prompts are scored in "
        "overlapping windows, never cut.",
    ),
]
BatchSizeOpt = Annotated[
    int,
    typer.Option(
        "--batch-size", min=1, help="Pairs per model call; results do not depend on it."
    ),
]
