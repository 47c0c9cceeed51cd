"""`crossingguard data ...`: build training data files.

`crossingguard data guard-pairs --out DIR` writes DIR/guard_nli_train.jsonl and
DIR/guard_nli_dev.jsonl (one {premise, hypothesis, label, source, category} object per line,
labels 0 entailment / 1 neutral / 2 contradiction) and prints the label balance per split and
source. Self-contained: `data_app` is registered on the main app in `cli/app.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from crossingguard.cli.errors import handle_errors
from crossingguard.cli.options import JsonOpt, reads_data
from crossingguard.io import write_jsonl_atomic

data_app = typer.Typer(
    name="data", help="Build training data files.", no_args_is_help=True
)


@data_app.callback()
def _data_group() -> None:
    """Build training data files."""


TRAIN_FILE = "guard_nli_train.jsonl"
DEV_FILE = "guard_nli_dev.jsonl"


def _print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(110, Console().width))
    labels = ("entailment", "neutral", "contradiction")
    table = Table(title="Guardrail NLI pairs")
    table.add_column("split / source", min_width=28, no_wrap=True)
    table.add_column("prompts", justify="right")
    table.add_column("pairs", justify="right")
    for name in labels:
        table.add_column(name[:13], justify="right")
    for split in ("train", "dev"):
        r = report[split]
        table.add_row(
            f"[bold]{split}[/bold]",
            str(r["prompts"]),
            str(r["pairs"]),
            *(
                f"{r['labels'][n]['count']} ({r['labels'][n]['share']:.0%})"
                for n in labels
            ),
        )
        for src, s in report["sources"].items():
            if s.get("split") == split:
                table.add_row(
                    f"  {src}",
                    str(s["prompts"]),
                    str(s["pairs"]),
                    *(str(s["labels"].get(n, 0)) for n in labels),
                )
    console.print(table)
    dropped = sum(report["dropped"].values())
    console.print(f"dev sources: {', '.join(report['dev_sources'])}")
    console.print(
        f"dropped duplicates/overlaps: {dropped}; contamination (in dev-only sets): "
        f"{report['contamination_total']}"
    )
    for key, n in report["contamination_dropped"].items():
        console.print(f"  {key}: {n}")


@data_app.command("guard-pairs")
@handle_errors
@reads_data
def guard_pairs_command(
    out: Annotated[
        Path, typer.Option("--out", help="Output folder for the two JSONL files.")
    ],
    seed: Annotated[
        int, typer.Option("--seed", help="Seed for every sampling choice.")
    ] = 0,
    max_per_source: Annotated[
        int | None,
        typer.Option(
            "--max-per-source", min=1, help="Cap prompts per source (quick runs)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build guardrail NLI pairs from the guard/ data sets (dev = whole held-out sources)."""
    from crossingguard.toolkit.data.guard_pairs import build_guard_pairs

    pairs = build_guard_pairs(seed=seed, max_per_source=max_per_source)
    write_jsonl_atomic(out / TRAIN_FILE, pairs.train)
    write_jsonl_atomic(out / DEV_FILE, pairs.dev)
    report = {
        **pairs.report,
        "files": {"train": str(out / TRAIN_FILE), "dev": str(out / DEV_FILE)},
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_report(report)
