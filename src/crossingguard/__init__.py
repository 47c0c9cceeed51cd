"""CrossingGuard: zero-shot guardrails with NLI cross-encoders.

Kept light on purpose: names are imported on first use, so ``import crossingguard`` pulls in
neither torch nor ONNX Runtime.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_scorer": "crossingguard.inference.scorer",
    "Scorer": "crossingguard.inference.scorer",
    "Guard": "crossingguard.guard",
    "Condition": "crossingguard.guard",
    "Verdict": "crossingguard.guard",
    "ConditionResult": "crossingguard.guard",
    "LABELS": "crossingguard.labels",
    "label_to_id": "crossingguard.labels",
    "CrossingGuardError": "crossingguard.errors",
    "ModelError": "crossingguard.errors",
    "InputError": "crossingguard.errors",
    "ConfigError": "crossingguard.errors",
    "DataError": "crossingguard.errors",
    "PolicyError": "crossingguard.errors",
    "Policy": "crossingguard.policy",
    "load_policy": "crossingguard.policy",
    "RouteResult": "crossingguard.guard",
    "Route": "crossingguard.guard",
    "Router": "crossingguard.guard",
    "ThresholdWarning": "crossingguard.guard",
}

__all__ = [
    "LABELS",
    "Condition",
    "ConditionResult",
    "ConfigError",
    "CrossingGuardError",
    "DataError",
    "Guard",
    "InputError",
    "ModelError",
    "Policy",
    "PolicyError",
    "Route",
    "RouteResult",
    "Router",
    "Scorer",
    "ThresholdWarning",
    "Verdict",
    "label_to_id",
    "load_policy",
    "load_scorer",
]

if TYPE_CHECKING:
    from crossingguard.errors import (
        ConfigError,
        CrossingGuardError,
        DataError,
        InputError,
        ModelError,
        PolicyError,
    )
    from crossingguard.guard import (
        Condition,
        ConditionResult,
        Guard,
        Route,
        Router,
        RouteResult,
        ThresholdWarning,
        Verdict,
    )
    from crossingguard.inference.scorer import Scorer, load_scorer
    from crossingguard.labels import LABELS, label_to_id
    from crossingguard.policy import Policy, load_policy


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crossingguard' has no attribute {name!r}")
    return getattr(import_module(module), name)
