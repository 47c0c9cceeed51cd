"""``crossingguard classify``: score many premise/hypothesis pairs from a JSONL file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crossingguard.cli.app import app
from crossingguard.cli.errors import handle_errors
from crossingguard.cli.jsonl import read_pairs_jsonl, write_jsonl_atomic
from crossingguard.cli.options import (
    BackendChoice,
    BackendOpt,
    BatchSizeOpt,
    MaxLengthOpt,
    ModelOpt,
    ThreadsOpt,
)
from crossingguard.labels import LABELS


@app.command()
@handle_errors
def classify(
    input_path: Annotated[
        Path,
        typer.Option(
            "--input",
            "-i",
            help='JSONL file, one object per line with "premise" and "hypothesis" strings.',
            show_default=False,
        ),
    ],
    output_path: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Where to write JSONL: each input object plus label, entailment, neutral and "
            "contradiction. Written atomically (temp file + rename).",
            show_default=False,
        ),
    ],
    model: ModelOpt = None,
    backend: BackendOpt = BackendChoice.auto,
    batch_size: BatchSizeOpt = 64,
    threads: ThreadsOpt = None,
    max_length: MaxLengthOpt = None,
    progress: Annotated[
        bool,
        typer.Option("--progress/--no-progress", help="Show a progress bar on stderr."),
    ] = True,
) -> None:
    """Classify many premise/hypothesis pairs (NLI) from a JSONL file into a JSONL file."""
    rows = read_pairs_jsonl(input_path)

    from crossingguard.inference.scorer import load_scorer

    scorer = load_scorer(
        model, backend=backend.value, threads=threads, max_length=max_length
    )
    probs = scorer.predict(
        [(r["premise"], r["hypothesis"]) for r in rows],
        batch_size=batch_size,
        show_progress=progress,
    )
    out = (
        {
            **row,
            "label": LABELS[int(p.argmax())],
            **{k: float(v) for k, v in zip(LABELS, p)},
        }
        for row, p in zip(rows, probs, strict=True)
    )
    write_jsonl_atomic(output_path, out)
    typer.echo(f"Wrote {len(rows)} rows to {output_path}", err=True)
