"""``crossingguard check``: score prompts against conditions and print the verdict."""

from __future__ import annotations

import json
import sys
import warnings
from typing import Annotated, Any

import typer

from crossingguard.cli.app import app
from crossingguard.cli.errors import handle_errors
from crossingguard.cli.options import (
    BackendChoice,
    BackendOpt,
    MaxLengthOpt,
    ModelOpt,
    PrecisionChoice,
    PrecisionOpt,
    ThreadsOpt,
    VerboseOpt,
    third_party_output,
)
from crossingguard.errors import InputError
from crossingguard.guard import ConditionResult, Guard, Verdict
from crossingguard.guard.types import DEFAULT_THRESHOLD, ThresholdWarning


def read_stdin_prompts() -> list[str]:
    """One prompt per non-blank line of stdin."""
    stream = getattr(sys.stdin, "buffer", None)
    try:
        data = stream.read().decode("utf-8") if stream is not None else sys.stdin.read()
    except UnicodeDecodeError as exc:
        raise InputError(
            f"stdin is not UTF-8 text (byte {exc.start}): pipe UTF-8 prompts"
        ) from exc
    # lines end at "\n" (and "\r\n"), not at U+2028 or U+0085 inside a prompt as splitlines() would
    prompts = [line.strip() for line in data.split("\n") if line.strip()]
    if not prompts:
        raise InputError(
            "no prompt given: pass PROMPT or pipe prompts on stdin, one per line"
        )
    return prompts


def format_result(result: ConditionResult) -> str:
    """The card's usage-example line, e.g. ``✓ ENTAILMENT: 99.9% (E: 99.9% N: 0.0%, C: 0.0%)``;
    the ``✓`` marks a condition that fired, so a line without it did not."""
    mark = "✓" if result.fired else " "
    line = (
        f" {mark} {result.label.upper()}: {result.probability * 100:.1f}% "
        f"(E: {result.entailment * 100:.1f}% N: {result.neutral * 100:.1f}%, "
        f"C: {result.contradiction * 100:.1f}%)"
    )
    return line + ("  [FIRED]" if result.fired else "")


def score_vs_threshold(score: float, threshold: float) -> tuple[str, str]:
    """Both as percentages, rounded alike to one decimal, or to as many more (up to four) as it
    takes to show which side of the threshold the score is on."""
    for decimals in range(1, 5):
        a, b = f"{score * 100:.{decimals}f}", f"{threshold * 100:.{decimals}f}"
        if a != b or score == threshold:
            break
    return f"{a}%", f"{b}%"


def print_text(index: int, prompt: str, verdict: Verdict) -> None:
    preview = prompt if len(prompt) <= 70 else prompt[:70] + "..."
    typer.echo(f"\n{index}. {preview}")
    for result in verdict.results:
        typer.echo(f" → {result.condition}")
        typer.echo(format_result(result))


def print_policy_text(index: int, prompt: str, verdict: Verdict) -> None:
    """Per condition its id, card-style line and threshold; then the decision and route."""
    preview = prompt if len(prompt) <= 70 else prompt[:70] + "..."
    typer.echo(f"\n{index}. {preview}")
    for result in verdict.results:
        typer.echo(f" → [{result.name}] {result.hypothesis or result.condition}")
        score, threshold = score_vs_threshold(result.score, result.threshold)
        typer.echo(
            format_result(result)
            + f"  ({result.fire_on} {score} vs threshold {threshold})"
        )
    fired = ", ".join(
        f"{r.name} ({r.action}, {r.score * 100:.1f}%)" for r in verdict.fired_conditions
    )
    decision = "ALLOWED" if verdict.allowed else "BLOCKED"
    typer.echo(
        f" = {decision}: action {verdict.action}"
        + (f"; fired: {fired}" if fired else "")
    )
    if verdict.route is not None:
        r = verdict.route
        typer.echo(f" ⇒ route {r.route} (best {r.best}: {r.score * 100:.1f}%)")


def verdict_json(index: int, verdict: Verdict) -> str:
    """One line of ``--json``: the prompt's 1-based ``index`` and ``Verdict.to_dict()``, the same
    shape for ad-hoc conditions and policies (and for the library and the server)."""
    return json.dumps({"index": index, **verdict.to_dict()}, ensure_ascii=False)


@app.command()
@handle_errors
def check(
    prompt: Annotated[
        str | None,
        typer.Argument(
            help="The prompt to check (the NLI premise). Use - or omit it to read prompts from "
            "stdin, one per line.",
            show_default=False,
        ),
    ] = None,
    condition: Annotated[
        list[str] | None,
        typer.Option(
            "--condition",
            "-c",
            help="A claim about the prompt (the NLI hypothesis), e.g. 'The prompt requests "
            "instructions for making a weapon'. Repeat for several; each is scored on its own. "
            "Without --condition or --policy the built-in moderation pack is applied.",
            show_default=False,
        ),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            "-p",
            help="A policy file (.yaml/.json) or built-in pack (moderation, mlcommons, "
            "prompt-injection; see `crossingguard packs`).",
            show_default=False,
        ),
    ] = None,
    model: ModelOpt = None,
    backend: BackendOpt = BackendChoice.auto,
    precision: PrecisionOpt = PrecisionChoice.fp32,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            "-t",
            min=0.0,
            max=1.0,
            help="A condition fires when its entailment probability is at least this "
            f"(default {DEFAULT_THRESHOLD}). With a policy: its default threshold (conditions "
            "with their own threshold keep it).",
            show_default=False,
        ),
    ] = None,
    threads: ThreadsOpt = None,
    max_length: MaxLengthOpt = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object per prompt: its index and the verdict (allowed, action, "
            "fired, fired_conditions, route, model, policy, latency_ms, warnings and per "
            "condition its label, entailment, neutral, contradiction, score, threshold, fired).",
        ),
    ] = False,
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code",
            help="Exit with status 1 when any prompt is not allowed (a blocking condition "
            "fired), for shell pipelines; 0 when all are allowed.",
        ),
    ] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Check prompts against conditions or a policy (default: the moderation pack).

    Per condition the label, its probability and E/N/C; with a policy also the decision
    (allowed, action) and the route.
    """
    if prompt is None or prompt == "-":
        if prompt is None and sys.stdin.isatty():
            raise InputError(
                "no prompt given: pass PROMPT or pipe prompts on stdin, one per line"
            )
        prompts = read_stdin_prompts()
    else:
        if not prompt.strip():
            raise InputError("PROMPT is empty: pass the text to check")
        prompts = [prompt]
    condition = condition or []
    for i, text in enumerate(condition):
        if not text.strip():
            raise InputError(
                f"--condition number {i + 1} is empty: pass a claim about the prompt"
            )
    if condition and policy is not None:
        raise InputError(
            "pass --condition or --policy, not both: add the conditions to the policy file"
        )

    with third_party_output(verbose):
        guard = _guard(
            condition, policy, model, backend, threshold, threads, max_length, precision
        )
        verdicts = guard.check_batch(prompts)
    for message in guard.warnings:  # once per run; --json also has them in each verdict
        typer.echo(f"Warning: {message}", err=True)
    for i, (text, verdict) in enumerate(zip(prompts, verdicts, strict=True), 1):
        if json_output:
            typer.echo(verdict_json(i, verdict))
        elif condition:
            print_text(i, text, verdict)
        else:
            print_policy_text(i, text, verdict)
    if exit_code and not all(v.allowed for v in verdicts):
        raise typer.Exit(1)


def _guard(
    condition: list[str],
    policy: str | None,
    model: str | None,
    backend: BackendChoice,
    threshold: float | None,
    threads: int | None,
    max_length: int | None,
    precision: PrecisionChoice = PrecisionChoice.fp32,
) -> Guard:
    options: dict[str, Any] = {
        "backend": backend.value,
        "precision": precision.value,
        "threads": threads,
        "max_length": max_length,
    }
    if condition:
        return Guard.from_model(
            model, conditions=condition, threshold=threshold, **options
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThresholdWarning)  # printed by `check`, once
        return Guard.from_policy(
            policy if policy is not None else "moderation",
            model=model,
            threshold=threshold,
            **options,
        )
