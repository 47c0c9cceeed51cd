"""The guards one service holds: one per loaded policy, one scorer per model, picked by name.

Policies that name the same model share one loaded scorer (models are the expensive part);
each guard keeps its own pair cache. A request names a policy by its ``name:`` (a pack by its
pack name); the first policy given is the default.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crossingguard.errors import ConfigError
from crossingguard.guard import Guard
from crossingguard.policy import Policy, load_policy
from crossingguard.policy.loader import builtin_packs

if TYPE_CHECKING:
    from crossingguard.guard import PairScorer
    from crossingguard.serve.settings import ServeSettings

log = logging.getLogger("crossingguard.serve")

ScorerFactory = Callable[[str | None], "PairScorer"]
WARMUP_PROMPT = "Could you help me plan a three-day trip to Lisbon next spring?"


class UnknownPolicy(LookupError):
    def __init__(self, name: str, loaded: list[str]) -> None:
        super().__init__(
            f"no loaded policy named {name!r}; this server has {', '.join(loaded)} "
            "(start it with --policy NAME_OR_FILE to load more)"
        )


@dataclass(frozen=True)
class GuardRegistry:
    guards: dict[str, Guard]
    default: str

    def get(self, name: str | None) -> tuple[str, Guard]:
        """The policy name and its guard; ``None`` means the default policy."""
        key = self.default if name is None else name
        guard = self.guards.get(key)
        if guard is None:
            raise UnknownPolicy(key, list(self.guards))
        return key, guard

    @property
    def default_guard(self) -> Guard:
        return self.guards[self.default]


def policy_name(spec: str, policy: Policy) -> str:
    """A pack's name, else the file's ``name:``, else (no name given) the file's stem."""
    if spec in builtin_packs():
        return spec
    if "name" in policy.model_fields_set or policy.name != "policy":
        return policy.name
    return Path(spec).stem


def load_policies(specs: tuple[str, ...]) -> list[tuple[str, Policy]]:
    """Read and validate every policy (fast, no model): errors surface before the server starts."""
    named: dict[str, Policy] = {}
    for spec in specs:
        policy = load_policy(spec)
        name = policy_name(spec, policy)
        if name in named:
            raise ConfigError(
                f"--policy {spec}: a policy named {name!r} is already loaded; give each policy "
                "file its own `name:`"
            )
        named[name] = policy
    return list(named.items())


def build_registry(
    settings: ServeSettings,
    scorer_factory: ScorerFactory,
    *,
    wrap: Callable[[PairScorer], PairScorer] = lambda s: s,
) -> GuardRegistry:
    """Load every policy's model (each model once) and build its guard."""
    scorers: dict[str | None, PairScorer] = {}
    guards: dict[str, Guard] = {}
    for name, policy in load_policies(settings.policies):
        model = settings.model if settings.model is not None else policy.model
        if model not in scorers:
            start = time.perf_counter()
            scorers[model] = wrap(scorer_factory(model))
            log.info(
                "loaded model %s (%s %s) in %.1f s",
                scorers[model].name,
                getattr(scorers[model], "backend", "?"),
                getattr(scorers[model], "precision", "?"),
                time.perf_counter() - start,
            )
        guards[name] = Guard(
            scorers[model], policy=policy, cache_size=settings.cache_size
        )
    return GuardRegistry(guards, default=next(iter(guards)))


def warm_up(registry: GuardRegistry) -> tuple[int, float]:
    """Run each guard once so the first real request does not pay for lazy set-up; returns
    (prompts, seconds) of the slowest guard, the batcher's first guess of the model's speed.

    ONNX Runtime allocates its buffers and routing strategies embed their routes on first use;
    the caches are cleared afterwards so the warm-up prompt never counts as a hit.
    """
    slowest = 0.0
    for guard in registry.guards.values():
        guard.check_batch([WARMUP_PROMPT])  # first use: allocation, lazy set-up
        guard.cache.clear()
        start = time.perf_counter()
        guard.check_batch([WARMUP_PROMPT])  # steady state: the speed guess
        slowest = max(slowest, time.perf_counter() - start)
        guard.cache.clear()
    return 1, slowest
