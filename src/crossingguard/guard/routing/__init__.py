"""Prompt routing: send a prompt to the route (intent, tool, agent) it belongs to, or to none.

:class:`Router` is the one routing path: standalone with ``Router(routes, strategy="hybrid",
scorer=load_scorer())``, and behind ``Guard.route`` for a policy's ``routes:`` section
(``Router.from_policy``). Strategies ``nli``, ``embedding`` and ``hybrid`` live in one registry,
:data:`STRATEGIES`. No torch is imported here.
"""

from crossingguard.guard.routing.router import (
    DEFAULT_FALLBACK,
    Router,
    resolve_thresholds,
)
from crossingguard.guard.routing.strategies import (
    DEFAULT_THRESHOLDS,
    DEFAULT_TOP_K,
    DEFAULT_WEIGHT,
    STRATEGIES,
    Route,
    RoutingStrategy,
    Scores,
    StrategySpec,
    build_strategy,
    register_strategy,
)
from crossingguard.guard.types import RouteResult, RouteScore

__all__ = [
    "DEFAULT_FALLBACK",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_TOP_K",
    "DEFAULT_WEIGHT",
    "STRATEGIES",
    "Route",
    "RouteResult",
    "RouteScore",
    "Router",
    "RoutingStrategy",
    "Scores",
    "StrategySpec",
    "build_strategy",
    "register_strategy",
    "resolve_thresholds",
]
