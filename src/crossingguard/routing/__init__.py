"""Prompt routing: send a prompt to the route (intent) it belongs to, or to none of them.

Strategies ``nli`` (cross-encoder entailment per route), ``embedding`` (bi-encoder cosine to route
descriptions and examples) and ``hybrid`` (embedding shortlist reranked with NLI). Use them
standalone with :class:`Router`, or from a policy (``routing: {strategy: hybrid}``): importing this
package registers ``embedding`` and ``hybrid`` with ``Guard.route``. No torch is imported here.
"""

from crossingguard.routing import policy_strategies as _policy_strategies  # noqa: F401  (registers)
from crossingguard.routing.router import (
    DEFAULT_THRESHOLDS,
    Route,
    RouteDecision,
    Router,
    RouteScore,
    build_strategy,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Route",
    "RouteDecision",
    "RouteScore",
    "Router",
    "build_strategy",
]
