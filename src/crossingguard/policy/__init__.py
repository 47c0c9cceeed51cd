"""Policies: the file format, the loader and the built-in packs."""

from crossingguard.policy.loader import (
    builtin_packs,
    dump_policy,
    load_policy,
    policy_from_dict,
)
from crossingguard.policy.schema import (
    ConditionSpec,
    Defaults,
    Policy,
    RouteSpec,
    RoutingSpec,
)

__all__ = [
    "ConditionSpec",
    "Defaults",
    "Policy",
    "RouteSpec",
    "RoutingSpec",
    "builtin_packs",
    "dump_policy",
    "load_policy",
    "policy_from_dict",
]
