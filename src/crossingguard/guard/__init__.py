"""Guard decisions on top of the scorer: conditions in, verdicts out."""

from crossingguard.guard.guard import Guard, PairScorer
from crossingguard.guard.types import Condition, ConditionResult, Verdict

__all__ = ["Condition", "ConditionResult", "Guard", "PairScorer", "Verdict"]
