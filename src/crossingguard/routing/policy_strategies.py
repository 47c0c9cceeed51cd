"""Plug the ``embedding`` and ``hybrid`` strategies into policies (``routing: {strategy: ...}``).

``Guard.route`` builds strategies from the registry in :mod:`crossingguard.guard.routing` with
``factory(policy, guard=guard)``; importing :mod:`crossingguard.routing` registers these two.
NLI scores go through ``guard.score_pairs`` (so the guard's pair cache is shared with conditions).

Thresholds: a route's own ``threshold``, else ``routing.threshold``, else the strategy's calibrated
default (:data:`~crossingguard.routing.router.DEFAULT_THRESHOLDS`); a policy's
``defaults.threshold`` is for conditions (entailment probabilities) and is not used here, because
embedding and hybrid scores live on other scales. ``routing.options`` takes ``top_k``, ``weight``
(hybrid), ``embedder_path`` and ``embedder_backend`` (auto, onnx, torch), ``batch_size``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from crossingguard.guard.routing import decide_route, register_strategy
from crossingguard.guard.types import RouteResult
from crossingguard.routing.router import Route, Router

if TYPE_CHECKING:
    from crossingguard.guard.guard import Guard
    from crossingguard.policy.schema import Policy


class _GuardScorer:
    """The guard's cached pair scoring behind the ``PairScorer`` interface."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.name = guard.model_name

    def predict(
        self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 64
    ) -> np.ndarray:
        return self.guard.score_pairs(list(pairs))


class PolicyRouting:
    """A :class:`Router` built from a policy's routes; answers with the guard's ``RouteResult``."""

    def __init__(self, policy: Policy, *, guard: Guard, strategy: str) -> None:
        self.name = strategy
        routes = [
            Route(
                r.id,
                tuple(policy.hypotheses_of(r)),
                tuple(r.examples),
                threshold=r.threshold
                if r.threshold is not None
                else policy.routing.threshold,
                aggregation=r.aggregation,
            )
            for r in policy.routes
        ]
        self.router = Router(
            routes,
            strategy=strategy,  # type: ignore[arg-type]
            scorer=_GuardScorer(guard),
            fallback=policy.routing.fallback,
            options=dict(policy.routing.options),
        )
        self.fallback = policy.routing.fallback
        self.thresholds = dict(
            zip((r.id for r in self.router.routes), self.router.thresholds)
        )

    def route(self, prompts: Sequence[str]) -> list[RouteResult]:
        s = self.router.scores(prompts)
        ids = [r.id for r in self.router.routes]
        return [
            decide_route(
                {rid: float(v) for rid, v in zip(ids, row)},
                self.thresholds,
                fallback=self.fallback,
                strategy=self.name,
            )
            for row in s.score
        ]


def embedding_from_policy(policy: Policy, *, guard: Guard) -> PolicyRouting:
    return PolicyRouting(policy, guard=guard, strategy="embedding")


def hybrid_from_policy(policy: Policy, *, guard: Guard) -> PolicyRouting:
    return PolicyRouting(policy, guard=guard, strategy="hybrid")


register_strategy("embedding", embedding_from_policy)
register_strategy("hybrid", hybrid_from_policy)
