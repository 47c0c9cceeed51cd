"""`crossingguard bench`: speed and agreement side by side with what users would run instead.

The work is in :mod:`crossingguard.toolkit.benchmarking.compare` (``benchmarks/compare.py`` runs the same
function and can also write the README section).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crossingguard.cli.app import app
from crossingguard.cli.errors import handle_errors
from crossingguard.cli.options import ModelOpt, ThreadsOpt, reads_data
from crossingguard.errors import InputError


def _names(value: str | None, option: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    if not names:
        raise InputError(f"{option}: give at least one name, comma-separated")
    return names


SIZE_NAMES = (
    "nli_pairs",
    "guard_prompts",
    "long_prompts",
    "long_min_tokens",
    "latency_calls",
    "routing_calls",
)


def _size_overrides(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in SIZE_NAMES or not value.isdigit() or int(value) < 1:
            raise InputError(
                f"--size {item!r}: expected NAME=N with N >= 1 and NAME one of "
                f"{', '.join(SIZE_NAMES)}"
            )
        out[name] = int(value)
    return out


@app.command("bench")
@handle_errors
@reads_data
def bench_command(
    model: ModelOpt = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder for compare.md, compare.json and compare.png."
        ),
    ] = Path("benchmarks/results/compare"),
    quick: Annotated[
        bool,
        typer.Option(
            "--quick", help="A small CI-sized run (a few prompts per workload)."
        ),
    ] = False,
    systems: Annotated[
        str | None,
        typer.Option(
            "--systems",
            help="Comma-separated subset of: ours-onnx, ours-torch, guard, cross-encoder, "
            "zero-shot, embedding (default: all).",
        ),
    ] = None,
    workloads: Annotated[
        str | None,
        typer.Option(
            "--workloads",
            help="Comma-separated subset of: nli, guard, guard-long, latency, routing "
            "(default: all).",
        ),
    ] = None,
    threads: ThreadsOpt = None,
    embedder: Annotated[
        str | None,
        typer.Option(
            "--embedder",
            help="Embedder directory for the embedding row (default: all-MiniLM-L6-v2, "
            "exported once to the cache).",
        ),
    ] = None,
    pack: Annotated[
        str,
        typer.Option(
            "--pack",
            help="Pack (or policy file) whose hypotheses the guard workloads score.",
        ),
    ] = "moderation",
    budget: Annotated[
        float | None,
        typer.Option(
            "--budget",
            min=0.1,
            help="Seconds a slow system may spend per workload "
            "and repeat before it stops at a prefix.",
        ),
    ] = None,
    repeats: Annotated[
        int | None,
        typer.Option("--repeats", min=1, help="Interleaved repeats per workload."),
    ] = None,
    size: Annotated[
        list[str] | None,
        typer.Option(
            "--size",
            help="Override one workload size, NAME=N (repeatable): nli_pairs, guard_prompts, "
            "long_prompts, long_min_tokens, latency_calls, routing_calls.",
        ),
    ] = None,
    rss: Annotated[
        bool,
        typer.Option(
            "--rss/--no-rss", help="Measure peak RSS per system in subprocesses."
        ),
    ] = True,
    profile: Annotated[
        bool, typer.Option("--profile/--no-profile", help="Profile the guard workload.")
    ] = True,
    gpu: Annotated[
        bool,
        typer.Option("--gpu/--no-gpu", help="Run the GPU part when CUDA is available."),
    ] = True,
) -> None:
    """Compare our scorer with CrossEncoder.predict, the zero-shot pipeline and embeddings.

    All systems run in one process on the same weights and the same pairs: MNLI dev pairs, real
    guard prompts x a pack, single-prompt latency and 1 prompt x 77 routes. Writes Markdown,
    JSON and a PNG chart to --out, with a profile of where the time goes.
    """
    from dataclasses import replace

    from crossingguard.toolkit.benchmarking.compare import BenchOptions, run_bench

    options = BenchOptions(
        model=model,
        out=out,
        quick=quick,
        systems=_names(systems, "--systems"),
        workloads=_names(workloads, "--workloads"),
        threads=threads,
        embedder=embedder,
        pack=pack,
        rss=rss,
        profile=profile,
        gpu=gpu,
    )
    sizes = options.effective_sizes
    if budget is not None:
        sizes = replace(sizes, budget_s=budget)
    if repeats is not None:
        sizes = replace(sizes, repeats=repeats)
    sizes = replace(sizes, **_size_overrides(size or []))
    options = replace(options, sizes=sizes)
    result = run_bench(options, log=lambda msg: typer.echo(msg, err=True))
    from crossingguard.toolkit.benchmarking.report import targets_markdown

    typer.echo(targets_markdown(result))
    typer.echo(f"\nwrote {out}/compare.md, compare.json, compare.png")
