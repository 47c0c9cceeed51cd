"""Guard decisions on top of the scorer: conditions and policies in, verdicts and routes out."""

from crossingguard.guard.guard import (
    Guard,
    PairCache,
    PairScorer,
    conditions_from_policy,
)
from crossingguard.guard.routing import (
    ROUTING_STRATEGIES,
    RoutingStrategy,
    register_strategy,
)
from crossingguard.guard.types import Condition, ConditionResult, RouteResult, Verdict

__all__ = [
    "ROUTING_STRATEGIES",
    "Condition",
    "ConditionResult",
    "Guard",
    "PairCache",
    "PairScorer",
    "RouteResult",
    "RoutingStrategy",
    "Verdict",
    "conditions_from_policy",
    "register_strategy",
]
