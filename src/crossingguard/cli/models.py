"""``crossingguard models``: list the built-in models and where they live."""

from __future__ import annotations

import typer

from crossingguard.cli.app import app
from crossingguard.inference.loading import (
    BUILTIN_MODELS,
    DEFAULT_MODEL,
    MODELS_DIR,
    builtin_model_dirs,
    pick_onnx_file,
)


@app.command()
def models() -> None:
    """List built-in models: name, whether installed, their directory and ONNX file."""
    installed = builtin_model_dirs()
    typer.echo(f"Built-in models (in {MODELS_DIR}):")
    for name in sorted(set(BUILTIN_MODELS) | set(installed)):
        tag = " (default)" if name == DEFAULT_MODEL else ""
        path = installed.get(name)
        if path is None:
            typer.echo(f"  {name}{tag}: not installed")
            continue
        onnx = pick_onnx_file(path)
        backend = f"onnx: {onnx.relative_to(path)}" if onnx else "torch only (no onnx/)"
        typer.echo(f"  {name}{tag}: {path} [{backend}]")
    typer.echo(
        "Any other model: pass --model with a local Hugging Face / CrossEncoder directory or a "
        "hub id (e.g. dleemiller/crossingguard-nli-m)."
    )
