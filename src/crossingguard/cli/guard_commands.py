"""``crossingguard route``, ``calibrate`` and ``eval-guard``: routing, fitted thresholds and an
honest measure of a policy on labeled prompts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crossingguard.cli.app import app
from crossingguard.cli.errors import handle_errors
from crossingguard.cli.options import (
    BackendChoice,
    BackendOpt,
    JsonOpt,
    ModelOpt,
    ThreadsOpt,
    reads_data,
)
from crossingguard.errors import InputError

if TYPE_CHECKING:
    from crossingguard.guard import Guard
    from crossingguard.toolkit.evaluation.guard_datasets import GuardExample

PolicyArg = Annotated[
    str,
    typer.Argument(
        help="A policy file (.yaml/.json) or built-in pack (moderation, mlcommons, "
        "prompt-injection).",
        show_default=False,
    ),
]
DataOpt = Annotated[
    list[str],
    typer.Option(
        "--data",
        "-d",
        help="Labeled prompts: a JSONL file ({text, harmful, categories, route} per line) or a "
        "data set name (jbb_behaviors, harmbench, hatecheck, banking77, ...; see "
        "crossingguard.toolkit.evaluation.guard_datasets.DATASETS). Repeat for several.",
        show_default=False,
    ),
]
SplitOpt = Annotated[
    str,
    typer.Option(
        "--split",
        help="all, select or eval: a fixed hash split of each set's prompts. Calibrate on "
        "select, evaluate on eval.",
    ),
]
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit", min=1, help="At most N prompts per data set (seeded sample)."
    ),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the --limit sample.")]


def _guard(
    policy: str,
    model: str | None,
    backend: BackendChoice,
    threads: int | None,
    *,
    warn: bool = True,
) -> Guard:
    """The policy's guard; its warnings (thresholds fitted for another model) go to stderr once,
    as ``Warning: ...``, unless ``warn`` is false."""
    import warnings

    from crossingguard.guard import Guard
    from crossingguard.guard.types import ThresholdWarning

    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", ThresholdWarning
        )  # printed below, in our format
        guard = Guard.from_policy(
            policy, model=model, backend=backend.value, threads=threads
        )
    if warn:
        for message in guard.warnings:
            typer.echo(f"Warning: {message}", err=True)
    return guard


def _split(split: str) -> str:
    if split not in ("all", "select", "eval"):
        raise InputError(f"--split: must be all, select or eval, got {split!r}")
    return split


def _load(
    data: list[str], split: str, limit: int | None, seed: int
) -> dict[str, list[GuardExample]]:
    from crossingguard.toolkit.evaluation.guard_datasets import load_examples

    if not data:
        raise InputError("--data: give at least one JSONL file or data set name")
    out = {}
    for name in data:
        examples = load_examples(name, split=_split(split), limit=limit, seed=seed)  # type: ignore[arg-type]
        if not examples:
            raise InputError(f"--data {name}: no prompts in split {split!r}")
        out[Path(name).stem if name.endswith(".jsonl") else name] = examples
    return out


class _Progress:
    def __init__(self, total: int, label: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.progress.add_task(label, total=total)

    def __enter__(self) -> _Progress:  # noqa: PYI034
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, n: int) -> None:
        self.progress.advance(self.task, n)


@app.command("route")
@handle_errors
def route(
    prompt: Annotated[
        str, typer.Argument(help="The prompt to route.", show_default=False)
    ],
    policy: Annotated[
        str,
        typer.Option(
            "--policy",
            "-p",
            help="A policy file with a `routes:` section.",
            show_default=False,
        ),
    ] = ...,  # type: ignore[assignment]
    model: ModelOpt = None,
    backend: BackendOpt = BackendChoice.auto,
    threads: ThreadsOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the route result as JSON.")
    ] = False,
    top: Annotated[
        int, typer.Option("--top", min=1, help="Show this many best routes.")
    ] = 3,
) -> None:
    """Send a prompt to the best route of a policy, or to its fallback when none is good enough."""
    if not prompt.strip():
        raise InputError("PROMPT is empty: pass the text to route")
    guard = _guard(policy, model, backend, threads)
    result = guard.route(prompt)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    how = (
        "matched"
        if result.matched
        else f"fallback: best {result.best} below its threshold"
    )
    typer.echo(
        f"route: {result.route} ({how}; score {result.score * 100:.1f}%, threshold "
        f"{result.threshold * 100:.0f}%)"
    )
    for rid, score in sorted(result.scores.items(), key=lambda kv: -kv[1])[:top]:
        typer.echo(f"  {rid:30s} {score * 100:5.1f}%")


@app.command("calibrate")
@handle_errors
@reads_data
def calibrate(
    policy: PolicyArg,
    data: DataOpt = ...,  # type: ignore[assignment]
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="f1 (best F1), precision=P (most recall at precision >= P) or recall=R (most "
            "precision at recall >= R).",
        ),
    ] = "f1",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the calibrated policy here (default: "
            "<policy>.calibrated.yaml in the current folder).",
            show_default=False,
        ),
    ] = None,
    curves: Annotated[
        Path | None,
        typer.Option(
            "--curves",
            help="Save the precision-recall curves PNG here (default: beside "
            "--out, <name>.pr.png).",
            show_default=False,
        ),
    ] = None,
    split: SplitOpt = "all",
    limit: LimitOpt = None,
    seed: SeedOpt = 0,
    model: ModelOpt = None,
    backend: BackendOpt = BackendChoice.auto,
    threads: ThreadsOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the before/after table as JSON.")
    ] = False,
) -> None:
    """Fit each condition's threshold on labeled prompts and write the calibrated policy."""
    from rich.console import Console
    from rich.table import Table

    from crossingguard.guard.calibration import (
        calibrate_scores,
        parse_target,
        save_pr_curves,
        score_conditions,
    )
    from crossingguard.policy import dump_policy
    from crossingguard.toolkit.evaluation.guard_datasets import condition_labels

    tgt = parse_target(target)
    guard = _guard(
        policy, model, backend, threads, warn=False
    )  # calibrating is the fix
    pol = guard.policy
    if pol is None or not pol.conditions:
        raise InputError(f"{policy}: the policy has no conditions to calibrate")
    examples = [ex for exs in _load(data, split, limit, seed).values() for ex in exs]
    with _Progress(len(examples), "scoring") as progress:
        ids, scores = score_conditions(
            guard, [ex.text for ex in examples], progress=progress
        )
    labels = {
        cid: condition_labels(spec.categories, examples)
        for cid, spec in zip(ids, pol.conditions, strict=True)
    }
    result = calibrate_scores(
        pol, ids, scores, labels, target=tgt, model=guard.model_name
    )
    if not result.conditions:
        raise InputError(
            "no condition has labeled positives in --data: give prompts with harmful=true (and "
            "categories that match the conditions' `categories`)"
        )
    stem = pol.name.replace("/", "_")
    out = out or Path(f"{stem}.calibrated.yaml")
    dump_policy(result.policy, out)
    png = curves or out.with_name(out.name.rsplit(".", 1)[0] + ".pr.png")
    save_pr_curves(result, png)
    if as_json:
        typer.echo(
            json.dumps(
                {**result.to_dict(), "policy_file": str(out), "curves": str(png)},
                indent=2,
            )
        )
        return
    table = Table(
        title=f"{pol.name}: thresholds fitted for {tgt} on {len(examples)} prompts"
    )
    for col in ("condition", "pos", "AP", "threshold", "precision", "recall", "F1"):
        table.add_column(col, justify="left" if col == "condition" else "right")
    for c in result.conditions:
        b, a = c.before, c.after.metrics

        def arrow(x: float, y: float) -> str:
            return f"{x:.2f} → {y:.2f}"

        table.add_row(
            c.id + ("" if c.after.met else " (target not met)"),
            str(b.support),
            f"{c.average_precision:.2f}",
            arrow(b.threshold, a.threshold),
            arrow(b.precision, a.precision),
            arrow(b.recall, a.recall),
            arrow(b.f1, a.f1),
        )
    Console().print(table)
    typer.echo(f"wrote {out} and {png}")


@app.command("eval-guard")
@handle_errors
@reads_data
def eval_guard(
    policy: PolicyArg,
    data: DataOpt = ...,  # type: ignore[assignment]
    split: SplitOpt = "all",
    limit: LimitOpt = None,
    seed: SeedOpt = 0,
    model: ModelOpt = None,
    backend: BackendOpt = BackendChoice.auto,
    threads: ThreadsOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write eval_guard.json, eval_guard.md and PNGs here.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate a policy on labeled prompts (P/R/F1, false-positive rates, routing accuracy).

    Overall and per-condition precision, recall and F1, the false-positive rate on benign and
    look-alike prompts, and routing accuracy including out-of-scope prompts.
    """
    from crossingguard.toolkit.evaluation.guard_eval import (
        evaluate_guard,
        markdown_report,
        write_reports,
    )

    guard = _guard(policy, model, backend, threads)
    sets = _load(data, split, limit, seed)
    results = []
    with _Progress(sum(len(v) for v in sets.values()), "evaluating") as progress:
        for name, examples in sets.items():
            result, _ = evaluate_guard(guard, examples, dataset=name, progress=progress)
            results.append(result)
    if out is not None:
        paths = write_reports(results, out)
        typer.echo(f"wrote {', '.join(str(p) for p in paths.values())}", err=True)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        typer.echo(markdown_report(results))
