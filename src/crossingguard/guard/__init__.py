"""Guard decisions on top of the scorer: conditions and policies in, verdicts and routes out."""

from crossingguard.guard.cache import PairCache
from crossingguard.guard.guard import Guard, conditions_from_policy
from crossingguard.guard.routing import Route, Router
from crossingguard.guard.types import (
    Condition,
    ConditionResult,
    PairScorer,
    RouteResult,
    RouteScore,
    ThresholdWarning,
    Verdict,
)

__all__ = [
    "Condition",
    "ConditionResult",
    "Guard",
    "PairCache",
    "PairScorer",
    "Route",
    "RouteResult",
    "RouteScore",
    "Router",
    "ThresholdWarning",
    "Verdict",
    "conditions_from_policy",
]
