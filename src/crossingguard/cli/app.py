"""The ``crossingguard`` Typer app. Command modules register themselves on ``app``."""

from __future__ import annotations

import importlib
import importlib.util

import typer

app = typer.Typer(
    name="crossingguard",
    help="Zero-shot guardrails with NLI cross-encoders: check prompts against plain-text conditions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Console-script entry point."""
    app()


# --- Command modules: each registers its commands on `app` when imported. --------------------
from crossingguard.cli import check, classify, models  # noqa: E402,F401
from crossingguard.cli.data_commands import data_app  # noqa: E402

app.add_typer(data_app, name="data")
from crossingguard.cli import (  # noqa: E402,F401
    batch_commands,  # noqa: E402,F401
    bench_commands,  # noqa: E402,F401
    eval_commands,  # noqa: E402,F401
    guard_commands,
    policy_commands,
    routing_commands,  # noqa: E402,F401
    serve_commands,  # noqa: E402,F401
)

# Offline commands that need an extra: registered only when its packages are importable (found
# with find_spec, so nothing heavy is imported here); otherwise a hidden command of the same name
# says which extra to install. `data`, `eval*`, `calibrate` and `bench` need only the base
# install (bench skips the systems whose packages are missing).
TRAIN_PACKAGES = ("torch", "transformers", "sentence_transformers")
OFFLINE_COMMANDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    # module: (extra, packages it needs, the command names it registers)
    "train_commands": ("train", (*TRAIN_PACKAGES, "datasets"), ("train", "ship")),
    "distill_commands": ("train", TRAIN_PACKAGES, ("distill",)),
    "export_commands": ("train", (*TRAIN_PACKAGES, "onnx"), ("export",)),
}


def extra_installed(packages: tuple[str, ...]) -> bool:
    """Whether every package can be imported, found without importing it."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in packages)
    except (ImportError, ValueError):  # a broken install, or a module set to None
        return False


def _needs_extra(command: str, extra: str) -> None:
    @app.command(
        command,
        hidden=True,
        add_help_option=False,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def _missing() -> None:
        typer.echo(
            f"Error: 'crossingguard {command}' needs the {extra} extra: "
            f"pip install 'crossingguard[{extra}]'",
            err=True,
        )
        raise typer.Exit(2)


for _module, (_extra, _packages, _commands) in OFFLINE_COMMANDS.items():
    if extra_installed(_packages):
        importlib.import_module(f"crossingguard.cli.{_module}")
    else:
        for _command in _commands:
            _needs_extra(_command, _extra)
