"""``crossingguard policy validate FILE`` and ``crossingguard packs``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from crossingguard.cli.app import app
from crossingguard.cli.errors import handle_errors

policy_app = typer.Typer(
    name="policy", help="Check and inspect policy files.", no_args_is_help=True
)


@policy_app.callback()
def _policy_group() -> None:
    """Check and inspect policy files."""


@policy_app.command("validate")
@handle_errors
def validate(
    path: Annotated[
        str,
        typer.Argument(
            help="A policy file (.yaml/.yml/.json) or built-in pack name.",
            show_default=False,
        ),
    ],
) -> None:
    """Validate a policy: unknown keys, thresholds, templates, duplicate ids, packs. Exit 2 on error.

    Also warns (on stderr, exit 0) about hypotheses that load but do not read as a claim once
    the template is applied, such as an unquoted YAML list [a, b or c] split at its commas.
    """
    from crossingguard.policy import load_policy
    from crossingguard.policy.loader import policy_warnings

    policy = load_policy(path)
    warnings = policy_warnings(path)
    for warning in warnings:
        typer.echo(f"Warning: {warning}", err=True)
    typer.echo(
        f"OK {path}: policy {policy.identity}, {len(policy.conditions)} condition(s), "
        f"{len(policy.routes)} route(s)"
        + (f", routing strategy {policy.routing.strategy}" if policy.routes else "")
        + (f", model {policy.model}" if policy.model else "")
        + (f", {len(warnings)} warning(s)" if warnings else "")
    )


@policy_app.command("show")
@handle_errors
def show(
    path: Annotated[
        str,
        typer.Argument(help="A policy file or built-in pack name.", show_default=False),
    ],
) -> None:
    """Print the resolved policy (packs expanded) as YAML."""
    import yaml

    from crossingguard.policy import load_policy

    policy = load_policy(path)
    data = {"version": 1, **policy.model_dump(mode="json", exclude_defaults=True)}
    typer.echo(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), nl=False
    )


@app.command("packs")
@handle_errors
def packs(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the packs as JSON.")
    ] = False,
) -> None:
    """List the built-in condition packs and their conditions."""
    from crossingguard.policy import builtin_packs, load_policy

    loaded = {name: load_policy(name) for name in builtin_packs()}
    if as_json:
        typer.echo(
            json.dumps(
                {
                    name: {
                        "description": p.description,
                        "policy": p.identity,
                        "conditions": [
                            {
                                "id": c.id,
                                "action": c.action,
                                "severity": c.severity,
                                "threshold": p.condition_threshold(c),
                                "hypotheses": list(p.hypotheses_of(c)),
                                "description": c.description,
                            }
                            for c in p.conditions
                        ],
                    }
                    for name, p in loaded.items()
                },
                indent=2,
            )
        )
        return
    for name, p in loaded.items():
        typer.echo(f"{name}: {p.description} ({len(p.conditions)} conditions)")
        for c in p.conditions:
            typer.echo(
                f"  {c.id:24s} {c.action:5s} {c.severity:8s} "
                f"t={p.condition_threshold(c):.2f}  {c.description}"
            )
    typer.echo("Use one with: crossingguard check PROMPT --policy PACK")


app.add_typer(policy_app, name="policy")
