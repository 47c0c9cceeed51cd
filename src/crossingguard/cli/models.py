"""``crossingguard models``: list the built-in models and where they live."""

from __future__ import annotations

import typer

from crossingguard.cli.app import app
from crossingguard.inference.loading import (
    BUILTIN_MODELS,
    DEFAULT_MODEL,
    MODELS_DIR,
    builtin_model_dirs,
)
from crossingguard.inference.onnx_files import (
    INT8_GRAPH_FILE,
    fp32_model,
    int8_candidates,
)


@app.command()
def models() -> None:
    """List built-in models: name, whether installed, their directory and ONNX graphs."""
    installed = builtin_model_dirs()
    typer.echo(f"Built-in models (in {MODELS_DIR}):")
    for name in sorted(set(BUILTIN_MODELS) | set(installed)):
        tag = " (default)" if name == DEFAULT_MODEL else ""
        path = installed.get(name)
        if path is None:
            typer.echo(f"  {name}{tag}: not installed")
            continue
        fp32 = fp32_model(path)
        int8 = int8_candidates(path)
        parts = []
        if fp32 is not None:
            weights = " + model.safetensors" if fp32.initializers else ""
            parts.append(f"onnx fp32: {fp32.path.relative_to(path)}{weights}")
        if int8:
            parts.append(f"onnx int8 (opt-in): {int8[0].relative_to(path)}")
        elif (path / "onnx" / INT8_GRAPH_FILE).is_file():
            parts.append(
                f"onnx int8 (opt-in, --precision int8): onnx/{INT8_GRAPH_FILE} + model.safetensors"
            )
        backend = "; ".join(parts) or "torch only (no onnx/)"
        typer.echo(f"  {name}{tag}: {path} [{backend}]")
    typer.echo(
        "Any other model: pass --model with a local Hugging Face / CrossEncoder directory or a "
        "hub id (e.g. dleemiller/crossingguard-nli-m)."
    )
