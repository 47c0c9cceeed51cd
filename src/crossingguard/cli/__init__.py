"""Command line interface; ``crossingguard.cli.app:app`` is the Typer app."""
