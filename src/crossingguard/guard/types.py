"""Plain data for guard decisions: conditions in, verdicts and routes out (frozen, JSON-ready),
and the two checks every entry point shares (thresholds, prompts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from crossingguard.errors import InputError
from crossingguard.limits import MAX_PROMPTS_PER_CALL
from crossingguard.text import check_text

FireOn = Literal["entailment", "contradiction"]
Action = Literal["block", "flag", "log"]
VerdictAction = Literal["allow", "log", "flag", "block"]
Severity = Literal["low", "medium", "high", "critical"]
Aggregation = Literal["max", "mean", "min"]
DEFAULT_THRESHOLD = 0.5
ACTION_RANK: dict[str, int] = {"allow": 0, "log": 1, "flag": 2, "block": 3}


class PairScorer(Protocol):
    """What the guard and the router need from a scorer: (n, 3) E/N/C rows for n pairs (the real
    :class:`~crossingguard.inference.scorer.Scorer`, a caching wrapper, or a fake in tests)."""

    @property
    def name(self) -> str: ...

    def predict(
        self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 64
    ) -> np.ndarray: ...


def check_prompts(prompts: Sequence[str]) -> list[str]:
    """A list of non-empty prompt strings, or an ``InputError`` naming the bad one.

    At most ``limits.MAX_PROMPTS_PER_CALL`` prompts: a whole dataset in one call would hold all
    its pairs in memory at once (``crossingguard batch`` streams it instead)."""
    if isinstance(prompts, str):
        raise InputError("prompts: expected a list of prompts, got a single string")
    if len(prompts) > MAX_PROMPTS_PER_CALL:
        raise InputError(
            f"prompts: {len(prompts):,} prompts in one call, more than the limit of "
            f"{MAX_PROMPTS_PER_CALL:,}; check them in smaller calls, or score a dataset with "
            "`crossingguard batch`"
        )
    return [
        check_text(prompt, f"prompts -> {i}", what="prompt ")
        for i, prompt in enumerate(prompts)
    ]


class ThresholdWarning(UserWarning):
    """A policy's thresholds were fitted for another model than the one checking prompts."""


def check_threshold(value: float, where: str) -> float:
    """Validate a probability threshold; ``where`` is the path named in the error."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0.0 <= value <= 1.0
    ):
        raise InputError(f"{where}: must be a number in [0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Condition:
    """A claim about the prompt (the NLI hypothesis) and when it counts as fired.

    ``fire_on="entailment"`` fires when the prompt entails the claim with probability >=
    ``threshold``; ``"contradiction"`` fires when the prompt contradicts it. ``threshold=None``
    uses the guard's default. Policy conditions map onto these fields: ``name`` is the policy id,
    ``hypotheses`` holds several phrasings whose scores are combined with ``aggregation`` (``text``
    is then the first), and ``action`` says what a fired condition does to the verdict.
    """

    text: str
    name: str | None = None
    threshold: float | None = None
    fire_on: FireOn = "entailment"
    hypotheses: tuple[str, ...] = ()
    aggregation: Aggregation = "max"
    action: Action = "block"
    severity: Severity = "medium"
    description: str = ""

    @property
    def texts(self) -> tuple[str, ...]:
        """Every hypothesis that is scored for this condition."""
        return self.hypotheses or (self.text,)

    def validate(self, where: str) -> Condition:
        if not isinstance(self.text, str) or not self.text.strip():
            raise InputError(
                f"{where} -> text: condition must be a non-empty string, got {self.text!r}"
            )
        if self.threshold is not None:
            check_threshold(self.threshold, f"{where} -> threshold")
        if self.fire_on not in ("entailment", "contradiction"):
            raise InputError(
                f"{where} -> fire_on: must be entailment or contradiction, got {self.fire_on!r}"
            )
        for i, text in enumerate(self.hypotheses):
            if not isinstance(text, str) or not text.strip():
                raise InputError(
                    f"{where} -> hypotheses -> {i}: must be a non-empty string, got {text!r}"
                )
        if self.aggregation not in ("max", "mean", "min"):
            raise InputError(
                f"{where} -> aggregation: must be max, mean or min, got {self.aggregation!r}"
            )
        if self.action not in ("block", "flag", "log"):
            raise InputError(
                f"{where} -> action: must be block, flag or log, got {self.action!r}"
            )
        return self


@dataclass(frozen=True)
class ConditionResult:
    """One condition's scores on one prompt.

    ``entailment``/``neutral``/``contradiction`` are the condition's three probabilities: for one
    hypothesis its own, for several the aggregate (``max``/``min``: the row of the hypothesis with
    the highest/lowest ``fire_on`` probability; ``mean``: the mean row), so they always sum to 1.
    ``score`` is the ``fire_on`` probability that was compared with ``threshold``;
    ``hypothesis`` the phrasing it came from (``max``/``min``; the first one for ``mean``) and
    ``hypothesis_scores`` every phrasing's ``fire_on`` probability.
    """

    condition: str
    name: str | None
    label: str
    entailment: float
    neutral: float
    contradiction: float
    threshold: float
    fire_on: FireOn
    fired: bool
    score: float = 0.0
    action: Action = "block"
    severity: Severity = "medium"
    hypothesis_scores: tuple[float, ...] = ()
    hypothesis: str = ""

    @property
    def probability(self) -> float:
        """Probability of the predicted label."""
        return float(getattr(self, self.label))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RouteScore:
    """One route's score for a prompt and, where the strategy computed them, its parts."""

    id: str
    score: float
    entailment: float | None = None
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RouteResult:
    """Where a prompt goes, from :class:`~crossingguard.guard.routing.Router` and ``Guard.route``.

    ``best`` is the highest-scoring route (first route wins ties); ``matched`` says whether its
    ``score`` reached its ``threshold``, and ``route`` is ``best`` if so, else the fallback
    (``none_of_the_above`` by default). ``scores`` holds every route's final score;
    ``candidates`` the best few with the strategy's parts (entailment, similarity), best first.
    """

    route: str
    score: float
    matched: bool
    best: str
    threshold: float
    scores: dict[str, float]
    strategy: str
    candidates: tuple[RouteScore, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    """The guard's answer for one prompt.

    ``fired``: any condition fired. ``action``: the strongest action among fired conditions
    (block > flag > log), ``"allow"`` if none fired. ``allowed``: no fired condition blocks.
    ``route``: the best route when the policy has routes. ``policy``: ``name@digest`` of the
    policy, ``None`` for ad-hoc conditions. ``latency_ms``: wall time of the call that made this
    verdict (shared by every verdict of one ``check_batch``). ``warnings``: what the caller should
    know about how far to trust the decision (e.g. thresholds fitted for another model).
    """

    results: tuple[ConditionResult, ...]
    model: str
    policy: str | None = None
    route: RouteResult | None = None
    latency_ms: float = 0.0
    warnings: tuple[str, ...] = ()
    fired: bool = field(init=False)
    allowed: bool = field(init=False)
    action: VerdictAction = field(init=False)

    def __post_init__(self) -> None:
        fired = [r for r in self.results if r.fired]
        action: VerdictAction = "allow"
        for r in fired:
            if ACTION_RANK[r.action] > ACTION_RANK[action]:
                action = r.action
        object.__setattr__(self, "fired", bool(fired))
        object.__setattr__(self, "allowed", action != "block")
        object.__setattr__(self, "action", action)

    @property
    def fired_conditions(self) -> tuple[ConditionResult, ...]:
        return tuple(r for r in self.results if r.fired)

    def result(self, name: str) -> ConditionResult:
        """The result of the condition with this name (policy id) or text."""
        for r in self.results:
            if name in (r.name, r.condition):
                return r
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "action": self.action,
            "fired": self.fired,
            "fired_conditions": [
                {
                    "id": r.name,
                    "condition": r.condition,
                    "score": r.score,
                    "threshold": r.threshold,
                    "action": r.action,
                    "severity": r.severity,
                }
                for r in self.fired_conditions
            ],
            "route": None if self.route is None else self.route.to_dict(),
            "model": self.model,
            "policy": self.policy,
            "latency_ms": self.latency_ms,
            "warnings": list(self.warnings),
            "conditions": [r.to_dict() for r in self.results],
        }
