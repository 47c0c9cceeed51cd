"""`crossingguard eval`: F1 micro/macro/weighted, per-class precision/recall, confusion matrix and
throughput of a model on NLI dev sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from crossingguard.cli.app import app
from crossingguard.cli.errors import handle_errors
from crossingguard.cli.options import (
    BackendChoice,
    BackendOpt,
    JsonOpt,
    ModelOpt,
    PrecisionChoice,
    PrecisionOpt,
    ThreadsOpt,
    reads_data,
)


@app.command("eval")
@handle_errors
@reads_data
def eval_command(
    data: Annotated[
        list[str],
        typer.Option(
            "--data",
            "-d",
            help="Named dev set (mnli-dev-matched, snli-dev, xnli-en-dev, "
            "guard-nli-dev, ...) or a JSONL/TSV file. Repeat for several.",
            show_default=False,
        ),
    ] = ...,  # type: ignore[assignment]
    model: ModelOpt = None,
    backend: BackendOpt = BackendChoice.auto,
    precision: PrecisionOpt = PrecisionChoice.fp32,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", min=1, help="Evaluate only the first N pairs of each set."
        ),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size",
            min=1,
            help="Pairs per model call (throughput is reported at this size).",
        ),
    ] = 64,
    threads: ThreadsOpt = None,
    as_json: JsonOpt = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write eval_results.json and confusion_<set>.png here."
        ),
    ] = None,
) -> None:
    """Evaluate a model on labelled NLI data (labels 0 entailment, 1 neutral, 2 contradiction)."""
    from rich.console import Console

    from crossingguard.toolkit.evaluation.nli_eval import (
        confusion_table,
        evaluate_model,
        write_results,
    )

    console = Console(stderr=True)
    results = evaluate_model(
        model,
        data,
        backend=backend.value,
        limit=limit,
        batch_size=batch_size,
        threads=threads,
        show_progress=not as_json,
        precision=precision.value,
    )
    if out is not None:
        path = write_results(results, out, model=model, backend=backend.value)
        console.print(f"wrote {path} and confusion matrices to {out}")
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "model": model,
                    "backend": backend.value,
                    "precision": precision.value,
                    "results": {k: v.to_dict() for k, v in results.items()},
                },
                indent=2,
            )
        )
        return
    stdout = Console()
    for ev in results.values():
        stdout.print(confusion_table(ev))
