"""`crossingguard export MODEL_DIR`: ONNX fp32 + gated int8, with a JSON report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from crossingguard.cli.app import app
from crossingguard.cli.errors import handle_errors
from crossingguard.cli.options import reads_data

EXIT_GATE_FAILED = 1


@app.command("export")
@handle_errors
@reads_data
def export_command(
    model_dir: Annotated[
        Path,
        typer.Argument(
            help="A trained CrossEncoder folder (config.json, model.safetensors)."
        ),
    ],
    dev: Annotated[
        str | None,
        typer.Option("--dev", help="Dev set name or file for the int8 accuracy gate."),
    ] = None,
    max_dev: Annotated[
        int, typer.Option("--max-dev", min=1, help="Use the first N dev pairs.")
    ] = 2000,
    max_f1_drop: Annotated[
        float,
        typer.Option(
            "--max-f1-drop",
            min=0.0,
            help="Allowed int8 macro-F1 drop (0.01 = one point).",
        ),
    ] = 0.01,
    no_int8: Annotated[
        bool, typer.Option("--no-int8", help="Export fp32 only.")
    ] = False,
    fp16: Annotated[
        bool,
        typer.Option(
            "--fp16",
            help="Also rewrite model.safetensors as float16 (after the export).",
        ),
    ] = False,
) -> None:
    """Write MODEL_DIR/onnx/model.onnx (fp32) and model_qint8_rowwise.onnx (per-row int8).

    fp32 logits are checked against torch; the int8 file is kept only if its macro-F1 on --dev is
    within --max-f1-drop of fp32. Prints a JSON report; exits 1 when a gate fails.
    """
    from crossingguard.toolkit.training.export import (
        export_onnx_models,
        save_fp16_safetensors,
    )

    report = export_onnx_models(
        model_dir,
        dev=dev,
        max_dev=max_dev,
        max_f1_drop=max_f1_drop,
        quantize=not no_int8,
    )
    if fp16 and report.ok:
        save_fp16_safetensors(model_dir)
    typer.echo(json.dumps(report.to_dict(), indent=2))
    for message in report.messages:
        typer.echo(("Error: " if not report.ok else "Note: ") + message, err=True)
    if not report.ok:
        raise typer.Exit(EXIT_GATE_FAILED)
