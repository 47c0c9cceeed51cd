"""The router: a strategy's scores in, one :class:`RouteResult` per prompt out.

``Router(routes, strategy=..., scorer=...)`` is the whole routing path; ``Guard.route`` is a
``Router.from_policy`` built on the guard's cached scorer, so both answer the same way.

Thresholds are resolved here and nowhere else (:func:`resolve_thresholds`): a route's own
``threshold``, else the router's (``routing.threshold`` in a policy), else the strategy's default
in the registry (``nli`` 0.87, ``embedding`` 0.24, ``hybrid`` 0.24). A policy's
``defaults.threshold`` is for conditions (entailment probabilities) and is not used, because
embedding and hybrid scores live on other scales.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from crossingguard.errors import InputError
from crossingguard.guard.routing.embedding import TextEmbedder
from crossingguard.guard.routing.strategies import (
    Route,
    Scores,
    build_strategy,
    strategy_spec,
)
from crossingguard.guard.types import PairScorer, RouteResult, RouteScore, check_prompts

if TYPE_CHECKING:
    from crossingguard.policy.schema import Policy

DEFAULT_FALLBACK = "none_of_the_above"
DEFAULT_CANDIDATES = 3


def resolve_thresholds(
    routes: Sequence[Route], strategy: str, threshold: float | None = None
) -> tuple[float, ...]:
    """Each route's threshold: its own, else ``threshold``, else the strategy's default."""
    default = (
        strategy_spec(strategy).default_threshold if threshold is None else threshold
    )
    return tuple(float(default if r.threshold is None else r.threshold) for r in routes)


class Router:
    """Routes prompts with one strategy; the fallback when the best score is under its threshold.

    ``threshold`` is the default for routes without their own (``None``: the strategy's default,
    see :func:`resolve_thresholds`). ``candidates`` is how many best routes each result lists
    with their score parts.
    """

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        strategy: str = "hybrid",
        scorer: PairScorer | None = None,
        embedder: TextEmbedder | None = None,
        threshold: float | None = None,
        fallback: str = DEFAULT_FALLBACK,
        options: dict[str, Any] | None = None,
        candidates: int = DEFAULT_CANDIDATES,
    ) -> None:
        if isinstance(routes, (str, Route)) or not routes:
            raise InputError("routes: give a list of at least one Route")
        checked = [r.validate(f"routes -> {i}") for i, r in enumerate(routes)]
        seen: set[str] = set()
        for i, r in enumerate(checked):
            if r.id in seen:
                raise InputError(f"routes -> {i} -> id: duplicate id {r.id!r}")
            seen.add(r.id)
        if fallback in seen:
            raise InputError(
                f"fallback: {fallback!r} is also a route id; pick another name"
            )
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise InputError(f"threshold: must be in [0, 1], got {threshold}")
        self.routes = tuple(checked)
        self.strategy_name = strategy
        self.thresholds = resolve_thresholds(self.routes, strategy, threshold)
        self.strategy = build_strategy(
            strategy, self.routes, scorer=scorer, embedder=embedder, options=options
        )
        self.fallback = fallback
        self.candidates = candidates

    @classmethod
    def from_policy(
        cls,
        policy: Policy,
        *,
        scorer: PairScorer | None = None,
        embedder: TextEmbedder | None = None,
        options: dict[str, Any] | None = None,
    ) -> Router:
        """The router a policy's ``routes`` and ``routing`` describe (templates applied).

        ``options`` are defaults under the policy's own ``routing.options``.
        """
        if not policy.routes:
            raise InputError(
                "route: this policy has no routes; use a policy with a `routes:` section"
            )
        routes = [
            Route(
                r.id,
                policy.hypotheses_of(r),
                tuple(r.examples),
                threshold=r.threshold,
                aggregation=r.aggregation,
            )
            for r in policy.routes
        ]
        return cls(
            routes,
            strategy=policy.routing.strategy,
            scorer=scorer,
            embedder=embedder,
            threshold=policy.routing.threshold,
            fallback=policy.routing.fallback,
            options={**(options or {}), **policy.routing.options},
        )

    def scores(self, prompts: Sequence[str]) -> Scores:
        checked = check_prompts(prompts)
        if not checked:
            raise InputError("prompts: give at least one prompt")
        return self.strategy.scores(checked)

    def route(self, prompt: str) -> RouteResult:
        """The best route for ``prompt``, or the fallback when none is good enough."""
        return self.route_batch([prompt])[0]

    def route_batch(self, prompts: Sequence[str]) -> list[RouteResult]:
        if not check_prompts(prompts):
            return []
        s = self.scores(prompts)
        return [self._decide(i, s) for i in range(len(prompts))]

    def _decide(self, i: int, s: Scores) -> RouteResult:
        row = s.score[i]
        order = np.argsort(-row, kind="stable")  # first route wins ties
        best = int(order[0])
        score = float(row[best])
        matched = score >= self.thresholds[best]
        return RouteResult(
            route=self.routes[best].id if matched else self.fallback,
            score=score,
            matched=matched,
            best=self.routes[best].id,
            threshold=self.thresholds[best],
            scores={r.id: float(v) for r, v in zip(self.routes, row, strict=True)},
            strategy=self.strategy_name,
            candidates=tuple(
                RouteScore(
                    id=self.routes[j].id,
                    score=float(row[j]),
                    entailment=_part(s.entailment, i, j),
                    similarity=_part(s.similarity, i, j),
                )
                for j in order[: self.candidates]
            ),
        )


def _part(arr: np.ndarray | None, i: int, j: int) -> float | None:
    if arr is None or np.isnan(arr[i, j]):
        return None
    return float(arr[i, j])
