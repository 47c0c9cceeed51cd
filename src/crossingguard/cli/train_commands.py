"""`crossingguard train CONFIG [KEY=VALUE ...]`: fine-tune or distil a model from a YAML config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crossingguard.cli.app import app


@app.command("train")
def train_command(
    config: Annotated[Path, typer.Argument(help="YAML training config, e.g. configs/mini.yaml.")],
    overrides: Annotated[
        list[str] | None,
        typer.Argument(help="Dotted overrides such as training.learning_rate=3e-5 data.cap=2000."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the newest checkpoint in OUTPUT_DIR/checkpoints.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate the config and print the data mix, then stop.")
    ] = False,
) -> None:
    """Train a CrossEncoder with the model card's recipe (one epoch; CE or CE + MSE distillation).

    Checkpoints go to OUTPUT_DIR/checkpoints every `training.save_steps`; the final model is a
    standard CrossEncoder directory in OUTPUT_DIR/final with its learning curve.
    """
    from rich.console import Console

    from crossingguard.cli.errors import cli_errors
    from crossingguard.training.config import load_config

    console = Console(stderr=True)
    with cli_errors():
        cfg = load_config(config, overrides or [])
        if dry_run:
            from crossingguard.training.mix import build_mix

            build_mix(cfg.data, seed=cfg.training.seed, console=console)
            return
        from crossingguard.training.trainer import train

        final = train(cfg, resume=resume, console=console)
        typer.echo(str(final))
