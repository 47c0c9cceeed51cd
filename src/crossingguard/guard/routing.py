"""Routing strategies: a registry from name to factory, and the built-in ``nli`` strategy.

A policy picks its strategy with ``routing: {strategy: nli}``. ``Guard.route`` builds the strategy
once with ``ROUTING_STRATEGIES[name](policy, guard=guard)`` and calls ``strategy.route(prompts)``,
which returns one :class:`RouteResult` per prompt. Other strategies (``embedding``, ``hybrid``,
in ``crossingguard.routing``) register themselves on import with::

    from crossingguard.guard.routing import register_strategy
    register_strategy("embedding", EmbeddingStrategy.from_policy)

They may read each route's ``examples`` and the strategy ``routing.options``. A strategy that is
not registered yet triggers one import of ``crossingguard.routing`` before the lookup fails.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from crossingguard.errors import PolicyError
from crossingguard.guard.types import RouteResult
from crossingguard.labels import ENTAILMENT

if TYPE_CHECKING:
    from crossingguard.guard.guard import Guard
    from crossingguard.policy.schema import Policy


class RoutingStrategy(Protocol):
    """Chooses a route per prompt."""

    name: str

    def route(self, prompts: Sequence[str]) -> list[RouteResult]: ...


StrategyFactory = Callable[..., RoutingStrategy]  # (policy, *, guard) -> strategy
ROUTING_STRATEGIES: dict[str, StrategyFactory] = {}


def register_strategy(name: str, factory: StrategyFactory) -> None:
    """Make ``routing: {strategy: name}`` build strategies with ``factory(policy, guard=guard)``."""
    ROUTING_STRATEGIES[name] = factory


def build_strategy(policy: Policy, *, guard: Guard) -> RoutingStrategy:
    name = policy.routing.strategy
    if name not in ROUTING_STRATEGIES:
        try:
            importlib.import_module("crossingguard.routing")
        except ImportError:
            pass
    if name not in ROUTING_STRATEGIES:
        raise PolicyError(
            f"routing -> strategy: {name!r} is not available in this installation (registered: "
            f"{', '.join(sorted(ROUTING_STRATEGIES))}); use `strategy: nli` or install the "
            "package that provides it"
        )
    return ROUTING_STRATEGIES[name](policy, guard=guard)


def decide_route(
    scores: dict[str, float],
    thresholds: dict[str, float],
    *,
    fallback: str,
    strategy: str,
) -> RouteResult:
    """Argmax over route scores (first route wins ties); the fallback if the best is below its
    threshold."""
    best = max(scores, key=scores.__getitem__)
    score = scores[best]
    matched = score >= thresholds[best]
    return RouteResult(
        route=best if matched else fallback,
        score=score,
        matched=matched,
        best=best,
        threshold=thresholds[best],
        scores=dict(scores),
        strategy=strategy,
    )


class NLIStrategy:
    """Scores each route's hypotheses as NLI pairs (entailment probability, aggregated per route
    like conditions) and takes the argmax, falling back below the route's threshold."""

    name = "nli"

    def __init__(self, policy: Policy, *, guard: Guard) -> None:
        from crossingguard.guard.guard import aggregate_rows

        self._aggregate = aggregate_rows
        self.guard = guard
        self.fallback = policy.routing.fallback
        self.routes = [
            (r.id, policy.hypotheses_of(r), r.aggregation) for r in policy.routes
        ]
        self.thresholds = {r.id: policy.route_threshold(r) for r in policy.routes}

    @classmethod
    def from_policy(cls, policy: Policy, *, guard: Guard) -> NLIStrategy:
        return cls(policy, guard=guard)

    def route(self, prompts: Sequence[str]) -> list[RouteResult]:
        hyps = [h for _, texts, _ in self.routes for h in texts]
        probs = self.guard.score_pairs([(p, h) for p in prompts for h in hyps])
        probs = probs.reshape(len(prompts), len(hyps), 3)
        out = []
        for rows in probs:
            scores: dict[str, float] = {}
            at = 0
            for rid, texts, how in self.routes:
                row = self._aggregate(rows[at : at + len(texts)], ENTAILMENT, how)
                scores[rid] = float(np.asarray(row)[ENTAILMENT])
                at += len(texts)
            out.append(
                decide_route(
                    scores, self.thresholds, fallback=self.fallback, strategy=self.name
                )
            )
        return out


register_strategy("nli", NLIStrategy.from_policy)
