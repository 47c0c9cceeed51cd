"""The ``/v1`` endpoints: validate and limit a request, queue it for a model batch, shape the answer.

Requests with the same policy (or the same ad-hoc conditions and threshold) share a batch key,
so a ``/v1/moderations`` call and a ``/v1/check`` call on the same policy can share one model
call. Prompt text is logged at DEBUG only; INFO lines carry counts and timings.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Request

from crossingguard.errors import CrossingGuardError
from crossingguard.guard import Condition, Guard
from crossingguard.labels import LABELS
from crossingguard.serve.auth import require_api_key
from crossingguard.serve.errors import ApiError
from crossingguard.serve.limits import (
    check_conditions,
    check_count,
    check_text,
    check_texts,
)
from crossingguard.serve.moderation import moderation_response, pick_policy, texts_of
from crossingguard.serve.schemas import (
    CheckRequest,
    CheckResponse,
    ClassifyRequest,
    ClassifyResponse,
    ConditionIn,
    ConditionInfo,
    ModerationRequest,
    ModerationResponse,
    PairOut,
    PoliciesResponse,
    PolicyInfo,
    RouteRequest,
    RouteResponse,
)
from crossingguard.serve.service import Service

log = logging.getLogger("crossingguard.serve")

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text}
    for code, text in {
        400: "Body is not JSON, or names an unknown policy",
        401: "Missing or invalid API key (when keys are configured)",
        413: "Body, prompt count, prompt length or condition count over the limit",
        422: "Body does not match the schema",
        429: "Queue full; see Retry-After",
        503: "Model not loaded yet, or shutting down",
        504: "No answer within the server's timeout",
    }.items()
}

router = APIRouter(
    prefix="/v1", dependencies=[Depends(require_api_key)], responses=_ERRORS
)


def service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def _log(endpoint: str, texts: list[str], detail: str) -> None:
    log.info("%s: %d item(s), %s", endpoint, len(texts), detail)
    log.debug("%s texts: %r", endpoint, texts)


def _conditions(items: list[str | ConditionIn]) -> tuple[Condition, ...]:
    out = []
    for i, c in enumerate(items):
        cond = (
            Condition(c)
            if isinstance(c, str)
            else Condition(
                c.text,
                name=c.name,
                threshold=c.threshold,
                fire_on=c.fire_on,
                hypotheses=(c.text, *c.hypotheses) if c.hypotheses else (),
                aggregation=c.aggregation,
                action=c.action,
                severity=c.severity,
            )
        )
        try:
            out.append(cond.validate(f"conditions -> {i}"))
        except CrossingGuardError as exc:
            raise ApiError(422, str(exc), param=f"conditions -> {i}") from None
    return tuple(out)


def _check_batch(
    guard: Guard,
    conditions: tuple[Condition, ...] | None,
    threshold: float | None,
    prompts: list[str],
) -> list[Any]:
    return guard.check_batch(prompts, conditions=conditions, threshold=threshold)


def _score_pairs(guard: Guard, pairs: list[tuple[str, str]]) -> list[np.ndarray]:
    return list(
        guard.score_pairs(pairs)
    )  # E/N/C rows; the guard's cache and de-duplication


async def _verdicts(
    svc: Service,
    prompts: list[str],
    policy: str | None,
    conditions: tuple[Condition, ...] | None = None,
    threshold: float | None = None,
) -> tuple[str, list[Any]]:
    name, guard = svc.guard(policy)
    key = ("check", name, conditions, threshold)
    run = partial(_check_batch, guard, conditions, threshold)
    return name, await svc.submit(key, prompts, run)


@router.post(
    "/moderations",
    response_model=ModerationResponse,
    summary="OpenAI-compatible moderation",
)
async def moderations(body: ModerationRequest, request: Request) -> ModerationResponse:
    """OpenAI's moderation API: categories are the policy's condition ids (the `moderation` pack
    answers with OpenAI's own names); `flagged` is true when any condition fired."""
    svc = service(request)
    prompts = texts_of(body.input)
    check_texts(prompts, "input", svc.settings)
    name, verdicts = await _verdicts(svc, prompts, pick_policy(body.model))
    _log("moderations", prompts, f"policy {name}")
    return moderation_response(name, verdicts)


@router.post("/check", response_model=CheckResponse, summary="Verdicts for prompts")
async def check(body: CheckRequest, request: Request) -> CheckResponse:
    """A policy's (or ad-hoc conditions') verdict per prompt, as `crossingguard check --json`."""
    svc = service(request)
    check_texts(body.prompts, "prompts", svc.settings)
    conditions = None
    if body.conditions is not None:
        if body.policy is not None:
            raise ApiError(
                422,
                "give either policy or conditions, not both (ad-hoc conditions use the "
                "default policy's model)",
                param="conditions",
            )
        check_conditions(body.conditions, svc.settings)
        conditions = _conditions(body.conditions)
    name, verdicts = await _verdicts(
        svc, body.prompts, body.policy, conditions, body.threshold
    )
    _log(
        "check",
        body.prompts,
        f"policy {name}" if conditions is None else f"{len(conditions)} conditions",
    )
    return CheckResponse(
        verdicts=[{"index": i, **v.to_dict()} for i, v in enumerate(verdicts, 1)]
    )


@router.post(
    "/classify", response_model=ClassifyResponse, summary="NLI probabilities for pairs"
)
async def classify(body: ClassifyRequest, request: Request) -> ClassifyResponse:
    """Entailment, neutral and contradiction per (premise, hypothesis) pair, with the default
    policy's model: the same numbers as `crossingguard classify`."""
    svc = service(request)
    check_count(len(body.pairs), "pairs", svc.settings, what="pairs")
    for i, pair in enumerate(body.pairs):
        check_text(pair.premise, f"pairs -> {i} -> premise", svc.settings)
        check_text(pair.hypothesis, f"pairs -> {i} -> hypothesis", svc.settings)
    name, guard = svc.guard(None)
    pairs = [(p.premise, p.hypothesis) for p in body.pairs]
    rows: list[np.ndarray] = await svc.submit(
        ("classify", name), pairs, partial(_score_pairs, guard)
    )
    _log("classify", [p for p, _ in pairs], f"model {guard.model_name}")
    return ClassifyResponse(
        model=guard.model_name,
        results=[
            PairOut(
                premise=p,
                hypothesis=h,
                label=LABELS[int(np.argmax(row))],  # type: ignore[arg-type]
                entailment=float(row[0]),
                neutral=float(row[1]),
                contradiction=float(row[2]),
            )
            for (p, h), row in zip(pairs, rows, strict=True)
        ],
    )


@router.post("/route", response_model=RouteResponse, summary="Best route per prompt")
async def route(body: RouteRequest, request: Request) -> RouteResponse:
    """The best route of a policy with `routes:` (or its fallback), as `crossingguard route --json`."""
    svc = service(request)
    check_texts(body.prompts, "prompts", svc.settings)
    name, guard = svc.guard(body.policy)
    if guard.policy is None or not guard.policy.routes:
        with_routes = [
            n
            for n, g in svc.ready_registry().guards.items()
            if g.policy is not None and g.policy.routes
        ]
        raise ApiError(
            400,
            f"policy {name!r} has no routes; "
            + (
                f"use one of {', '.join(with_routes)}"
                if with_routes
                else "start the server with --policy FILE where FILE has a `routes:` section"
            ),
            param="policy",
            code="no_routes",
        )
    results = await svc.submit(("route", name), body.prompts, guard.route_batch)
    _log("route", body.prompts, f"policy {name}")
    return RouteResponse(
        routes=[{"index": i, **r.to_dict()} for i, r in enumerate(results, 1)]
    )


@router.get("/policies", response_model=PoliciesResponse, summary="Loaded policies")
async def policies(request: Request) -> PoliciesResponse:
    """What the playground lists: every loaded policy with its conditions and routes."""
    registry = service(request).ready_registry()
    out = []
    for name, guard in registry.guards.items():
        pol = guard.policy
        out.append(
            PolicyInfo(
                name=name,
                default=name == registry.default,
                model=guard.model_name,
                identity=None if pol is None else pol.identity,
                conditions=[
                    ConditionInfo(
                        id=c.name,
                        hypotheses=list(c.texts),
                        threshold=c.threshold,
                        fire_on=c.fire_on,
                        action=c.action,
                        severity=c.severity,
                        description=c.description,
                    )
                    for c in guard.conditions
                ],
                routes=[] if pol is None else [r.id for r in pol.routes],
            )
        )
    return PoliciesResponse(policies=out)
