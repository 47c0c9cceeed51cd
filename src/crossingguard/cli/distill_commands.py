"""`crossingguard distill teacher-logits`: score the training pairs with a teacher, once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crossingguard.cli.app import app
from crossingguard.cli.errors import handle_errors
from crossingguard.cli.options import reads_data
from crossingguard.errors import InputError

distill_app = typer.Typer(help="Distillation helpers.", no_args_is_help=True)
app.add_typer(distill_app, name="distill")


@distill_app.command("teacher-logits")
@handle_errors
@reads_data
def teacher_logits_command(
    teacher: Annotated[
        str,
        typer.Option(
            "--teacher", help="Teacher model folder or hub id.", show_default=False
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Cache folder (default: the config's distillation.teacher_logits).",
        ),
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data", "-d", help="Named set or file; repeat to concatenate in order."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Training YAML: score exactly the data mix `crossingguard train` will use.",
        ),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Dotted config override, as `crossingguard train` takes them (repeat), "
            "e.g. --set data.total_cap=1000.",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 64,
    backend: Annotated[
        str,
        typer.Option(
            "--backend", help="torch or onnx (the teacher's onnx/model.onnx)."
        ),
    ] = "torch",
    threads: Annotated[int | None, typer.Option("--threads", min=1)] = None,
    shard_rows: Annotated[
        int, typer.Option("--shard-rows", min=1, help="Rows per resumable shard.")
    ] = 8192,
) -> None:
    """Compute raw teacher logits (stored in E/N/C order), resumable and cached by (teacher, data) hash.

    Use --config for training: the trainer looks logits up by the hash of its exact pair list, after
    its contamination filter, caps and shuffle.
    """
    from crossingguard.toolkit.training.teacher_logits import compute_teacher_logits

    if backend not in ("torch", "onnx"):
        raise InputError(f"--backend must be torch or onnx, got {backend!r}")
    if (config is None) == (not data):
        raise InputError(
            "pass either --config TRAIN_YAML or one or more --data sources (not both)"
        )
    if overrides and config is None:
        raise InputError(
            "--set needs --config (it overrides the training config's values)"
        )
    if config is not None:
        from rich.console import Console

        from crossingguard.toolkit.training.config import load_config
        from crossingguard.toolkit.training.mix import build_mix

        cfg = load_config(config, overrides or [])
        mix = build_mix(cfg.data, seed=cfg.training.seed, console=Console(stderr=True))
        premises, hypotheses, names = mix.premises, mix.hypotheses, [f"config:{config}"]
        if out is None and cfg.distillation.teacher_logits:
            out = Path(cfg.distillation.teacher_logits)
    else:
        from crossingguard.toolkit.data.nli import load_nli

        premises, hypotheses, names = [], [], []
        for source in data or []:
            part = load_nli(source, on_error="skip")
            premises += part.premises
            hypotheses += part.hypotheses
            names.append(part.name)
    if out is None:
        raise InputError(
            "--out is required (the config names no distillation.teacher_logits)"
        )
    entry = compute_teacher_logits(
        teacher,
        list(zip(premises, hypotheses, strict=True)),
        out,
        batch_size=batch_size,
        backend=backend,  # type: ignore[arg-type]
        shard_rows=shard_rows,
        data_names=names,
        threads=threads,
    )
    typer.echo(str(entry))
