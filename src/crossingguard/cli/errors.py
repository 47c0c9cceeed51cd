"""Turn CrossingGuard errors into a one-line message on stderr and exit code 2.

Use ``@handle_errors`` under ``@app.command()`` on any command, or ``with cli_errors():`` around
a block. Unexpected exceptions are bugs and keep their traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer

from crossingguard.errors import CrossingGuardError

EXIT_BAD_INPUT = 2

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``Error: message`` to stderr and return the ``typer.Exit`` to raise."""
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Report any ``CrossingGuardError`` raised inside the block and exit 2."""
    try:
        yield
    except CrossingGuardError as exc:
        raise fail(str(exc)) from None


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`cli_errors` that keeps the signature Typer reads."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with cli_errors():
            return func(*args, **kwargs)

    return wrapper
