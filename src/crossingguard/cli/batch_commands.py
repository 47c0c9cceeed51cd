"""``crossingguard batch``: moderate a whole dataset (JSONL, CSV or Parquet) into Parquet shards."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from crossingguard.cli.app import app
from crossingguard.cli.errors import handle_errors
from crossingguard.cli.options import (
    BackendChoice,
    BackendOpt,
    ModelOpt,
    PrecisionChoice,
    PrecisionOpt,
    ThreadsOpt,
)
from crossingguard.errors import InputError


class EngineChoice(str, Enum):
    local = "local"
    ray = "ray"


@app.command("batch")
@handle_errors
def batch(
    policy: Annotated[
        str,
        typer.Argument(
            help="A policy file (.yaml/.json) or built-in pack (moderation, mlcommons, "
            "prompt-injection).",
            show_default=False,
        ),
    ],
    input_path: Annotated[
        Path,
        typer.Option(
            "--input",
            "-i",
            help="A .jsonl, .csv or .parquet file, or a folder of them (read in sorted order).",
            show_default=False,
        ),
    ] = ...,  # type: ignore[assignment]
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Output folder: data/part-*.parquet, errors.jsonl, summary.json, manifest.jsonl. "
            "Run again with the same arguments to resume a killed local run.",
            show_default=False,
        ),
    ] = ...,  # type: ignore[assignment]
    text_column: Annotated[
        str,
        typer.Option("--text-column", help="Column (or JSON key) holding the prompt."),
    ] = "text",
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id-column",
            help="Column holding each row's id (strings or integers); default: the row number.",
            show_default=False,
        ),
    ] = None,
    engine: Annotated[
        EngineChoice,
        typer.Option(
            "--engine",
            help="local: this machine, crash-safe and resumable; ray: Ray Data (pip install "
            "'crossingguard[ray]').",
        ),
    ] = EngineChoice.local,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="Ray cluster to run on (e.g. ray://head:10001 or auto); default: start a "
            "local Ray. Needs --engine ray.",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size", min=1, help="Rows per guard call (and per Ray batch)."
        ),
    ] = 256,
    shard_rows: Annotated[
        int,
        typer.Option(
            "--shard-rows",
            min=1,
            help="Input rows per committed shard (local engine): the most work a kill can lose.",
        ),
    ] = 10_000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Scoring processes (local) or Ray actors (ray), each loading the model once.",
        ),
    ] = 1,
    fail_on_error: Annotated[
        bool,
        typer.Option(
            "--fail-on-error",
            help="Stop at the first bad row instead of sending it to errors.jsonl.",
        ),
    ] = False,
    progress: Annotated[
        bool,
        typer.Option("--progress/--no-progress", help="Show a progress bar on stderr."),
    ] = True,
    model: ModelOpt = None,
    backend: BackendOpt = BackendChoice.auto,
    precision: PrecisionOpt = PrecisionChoice.fp32,
    threads: ThreadsOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print summary.json to stdout.")
    ] = False,
) -> None:
    """Score every row of a dataset against a policy; write Parquet verdicts and a summary.

    Bad rows (malformed line, invalid UTF-8, missing or empty text) go to errors.jsonl and are
    counted in summary.json; they never stop the run unless --fail-on-error.
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError(
            "crossingguard batch needs pyarrow: pip install 'crossingguard[batch]'"
        ) from None
    from crossingguard.batch.job import BatchJob
    from crossingguard.policy import load_policy

    if ray_address is not None and engine is not EngineChoice.ray:
        raise InputError("--ray-address: only the ray engine uses it; add --engine ray")
    job = BatchJob(
        load_policy(policy),
        input_path,
        output,
        text_column=text_column,
        id_column=id_column,
        model=model,
        backend=backend.value,
        precision=precision.value,
        threads=threads,
        batch_size=batch_size,
        shard_rows=shard_rows,
        workers=workers,
        fail_on_error=fail_on_error,
        progress=progress,
    )
    if engine is EngineChoice.ray:
        from crossingguard.batch.ray_engine import run_ray

        summary = run_ray(job, address=ray_address)
    else:
        from crossingguard.batch.local import run_local

        summary = run_local(job)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        typer.echo(_report(summary, output))


def _report(summary: dict[str, Any], output: Path) -> str:
    actions = ", ".join(f"{k} {v}" for k, v in summary["actions"].items() if v)
    rate = summary["rows_per_s"]
    lines = [
        f"{summary['rows_in']} rows in: {summary['rows_out']} scored ({actions or 'none'}), "
        f"{summary['rows_rejected']} rejected"
        + (f" (see {output / 'errors.jsonl'})" if summary["rows_rejected"] else ""),
        f"this run: {summary['rows_this_run']} rows in {summary['seconds']:.1f} s"
        + (f" ({rate:,.0f} rows/s)" if rate else "")
        + (
            f", {summary['rows_resumed']} resumed from earlier runs"
            if summary["rows_resumed"]
            else ""
        ),
        f"wrote {output / 'data'} and {output / 'summary.json'}",
    ]
    return "\n".join(lines)
