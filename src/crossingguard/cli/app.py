"""The ``crossingguard`` Typer app. Command modules register themselves on ``app``."""

from __future__ import annotations

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
# Add your own below with a line like `from crossingguard.cli import train_commands  # noqa`.
from crossingguard.cli import check, classify, models  # noqa: E402,F401
from crossingguard.cli.data_commands import data_app  # noqa: E402

app.add_typer(data_app, name="data")
from crossingguard.cli import distill_commands, eval_commands, export_commands  # noqa: E402,F401
from crossingguard.cli import train_commands  # noqa: E402,F401
from crossingguard.cli import guard_commands, policy_commands  # noqa: E402,F401
from crossingguard.cli import routing_commands  # noqa: E402,F401
from crossingguard.cli import serve_commands  # noqa: E402,F401
from crossingguard.cli import batch_commands  # noqa: E402,F401
from crossingguard.cli import bench_commands  # noqa: E402,F401
