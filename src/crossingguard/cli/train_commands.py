"""`crossingguard train CONFIG [KEY=VALUE ...]`: fine-tune or distil a model from a YAML config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crossingguard.cli.app import app
from crossingguard.cli.options import reads_data


@app.command("train")
@reads_data
def train_command(
    config: Annotated[
        Path, typer.Argument(help="YAML training config, e.g. configs/mini.yaml.")
    ],
    overrides: Annotated[
        list[str] | None,
        typer.Argument(
            help="Dotted overrides such as training.learning_rate=3e-5 data.cap=2000."
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue from the newest checkpoint in OUTPUT_DIR/checkpoints.",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Validate the config and print the data mix, then stop."
        ),
    ] = False,
    export_mix: Annotated[
        Path | None,
        typer.Option(
            "--export-mix",
            help="Build the data mix, write it to this folder (train.jsonl.gz, dev/, data_report.json, "
            "overrides.txt) so the same run can happen on another machine, then stop.",
        ),
    ] = None,
) -> None:
    """Train a CrossEncoder with the model card's recipe (one epoch; CE or CE + MSE distillation).

    Checkpoints go to OUTPUT_DIR/checkpoints every `training.save_steps`; the final model is a
    standard CrossEncoder directory in OUTPUT_DIR/final with its learning curve.
    """
    from rich.console import Console

    from crossingguard.cli.errors import cli_errors
    from crossingguard.toolkit.training.config import load_config

    console = Console(stderr=True)
    with cli_errors():
        cfg = load_config(config, overrides or [])
        if export_mix is not None:
            from crossingguard.toolkit.training.mix import export_mix as write_mix

            overrides_out = write_mix(cfg, export_mix, console=console)
            console.print(f"mix written to {export_mix}; train from it with:")
            typer.echo(
                f"crossingguard train {config} "
                + " ".join(f"'{o}'" for o in overrides_out)
            )
            return
        if dry_run:
            from crossingguard.toolkit.training.mix import build_mix

            build_mix(cfg.data, seed=cfg.training.seed, console=console)
            return
        from crossingguard.toolkit.training.trainer import train

        final = train(cfg, resume=resume, console=console)
        typer.echo(str(final))


@app.command("ship")
@reads_data
def ship_command(
    run_dir: Annotated[
        Path, typer.Argument(help="A training run folder (holds final/, config.json).")
    ],
    name: Annotated[
        str,
        typer.Option(
            "--name", help="Built-in model name, e.g. crossingguard-nli-mini."
        ),
    ],
    dest: Annotated[
        Path | None,
        typer.Option(
            "--dest", help="Install under this folder instead of the package's models/."
        ),
    ] = None,
    eval_set: Annotated[
        list[str] | None,
        typer.Option(
            "--eval-set",
            help="Dev sets for the card (default: MNLI-m, SNLI, XNLI-en, guard NLI dev).",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Evaluate only the first N pairs per set."),
    ] = None,
) -> None:
    """Shrink to fp16, export the weightless fp32 ONNX graph, evaluate and install a run as a built-in model."""
    from rich.console import Console

    from crossingguard.cli.errors import cli_errors
    from crossingguard.toolkit.training.ship import SHIPPED_EVAL_SETS, ship_model

    with cli_errors():
        path = ship_model(
            run_dir,
            name=name,
            dest_root=dest,
            eval_sets=tuple(eval_set or SHIPPED_EVAL_SETS),
            limit=limit,
            console=Console(stderr=True),
        )
        typer.echo(str(path))
