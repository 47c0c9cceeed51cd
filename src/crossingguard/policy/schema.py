"""The policy file format (``version: 1``), validated where it enters.

A policy names the model, default threshold and hypothesis template, the *conditions* a prompt is
checked against (each one or several plain-English claims about the prompt) and optionally the
*routes* a prompt is sent to. Every model forbids unknown keys, so a typo (``treshold``) is an
error that names the key, never a silently ignored setting.

Hypothesis text is built as ``template.replace("{}", hypothesis)``: the default template ``"{}"``
uses each hypothesis as written; ``"The prompt asks for {}"`` lets conditions say only
``"instructions for making a weapon"``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Action = Literal["block", "flag", "log"]
Severity = Literal["low", "medium", "high", "critical"]
Aggregation = Literal["max", "mean", "min"]
FireOn = Literal["entailment", "contradiction"]
RoutingStrategyName = Literal["nli", "embedding", "hybrid"]

ACTION_RANK: dict[str, int] = {"allow": 0, "log": 1, "flag": 2, "block": 3}
DEFAULT_FALLBACK = "none_of_the_above"


def _threshold(value: Any) -> Any:
    if value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number in [0, 1], got {value!r}")  # noqa: TRY004 (pydantic wants ValueError)
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(
            f"must be in [0, 1], got {value!r}; use a probability such as 0.5"
        )
    return float(value)


def _template(value: Any) -> Any:
    if isinstance(value, str) and value.count("{}") != 1:
        raise ValueError(
            f"template must contain the placeholder {{}} exactly once, got {value!r}; "
            'write e.g. "The prompt asks for {}" (or "{}" to use hypotheses as written)'
        )
    return value


def _hypotheses(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        if not value:
            raise ValueError("needs at least one hypothesis (a claim about the prompt)")
        for i, text in enumerate(value):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(
                    f"hypothesis {i} must be a non-empty string, got {text!r}"
                )
    return value


def _ident(value: Any) -> Any:
    if isinstance(value, str) and (not value.strip() or value != value.strip()):
        raise ValueError(
            f"id must be a non-empty string without surrounding spaces, got {value!r}"
        )
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    """Settings that conditions and routes inherit unless they set their own."""

    threshold: float = 0.5
    template: str = "{}"

    _check_threshold = field_validator("threshold", mode="before")(_threshold)
    _check_template = field_validator("template")(_template)


class ConditionSpec(_Strict):
    """One rule: fires when the prompt entails (or contradicts) its hypotheses."""

    id: str
    hypotheses: list[str]
    aggregation: Aggregation = "max"
    threshold: float | None = None
    fire_on: FireOn = "entailment"
    action: Action = "block"
    severity: Severity = "medium"
    description: str = ""
    template: str | None = None
    categories: list[str] = Field(default_factory=list)

    _check_id = field_validator("id")(_ident)
    _check_hyps = field_validator("hypotheses", mode="before")(_hypotheses)
    _check_threshold = field_validator("threshold", mode="before")(_threshold)
    _check_template = field_validator("template")(_template)


class RouteSpec(_Strict):
    """A destination for prompts; ``examples`` are utterances for embedding-based strategies."""

    id: str
    hypotheses: list[str]
    aggregation: Aggregation = "max"
    threshold: float | None = None
    description: str = ""
    template: str | None = None
    examples: list[str] = Field(default_factory=list)

    _check_id = field_validator("id")(_ident)
    _check_hyps = field_validator("hypotheses", mode="before")(_hypotheses)
    _check_threshold = field_validator("threshold", mode="before")(_threshold)
    _check_template = field_validator("template")(_template)


class RoutingSpec(_Strict):
    """How routes are chosen. ``options`` is passed to the strategy (e.g. an embedding model).

    ``threshold`` applies to routes without their own; unset, each strategy's default applies
    (resolved in :func:`crossingguard.guard.routing.resolve_thresholds`), never
    ``defaults.threshold``, which is for conditions.
    """

    strategy: RoutingStrategyName = "nli"
    fallback: str = DEFAULT_FALLBACK
    threshold: float | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    _check_threshold = field_validator("threshold", mode="before")(_threshold)
    _check_fallback = field_validator("fallback")(_ident)


class Policy(_Strict):
    """A whole policy file. Build one with :func:`crossingguard.policy.load_policy`."""

    version: Literal[1]
    name: str = "policy"
    description: str = ""
    model: str | None = None
    packs: list[str] = Field(default_factory=list)
    defaults: Defaults = Field(default_factory=Defaults)
    conditions: list[ConditionSpec] = Field(default_factory=list)
    routes: list[RouteSpec] = Field(default_factory=list)
    routing: RoutingSpec = Field(default_factory=RoutingSpec)

    @model_validator(mode="after")
    def _unique_ids(self) -> Policy:
        for field in ("conditions", "routes"):
            seen: dict[str, int] = {}
            for i, item in enumerate(getattr(self, field)):
                if item.id in seen:
                    raise ValueError(
                        f"{field} -> {i} -> id: duplicate id {item.id!r} (first used at "
                        f"{field} -> {seen[item.id]}); give each one a unique id"
                    )
                seen[item.id] = i
        if self.routes and self.routing.fallback in {r.id for r in self.routes}:
            raise ValueError(
                f"routing -> fallback: {self.routing.fallback!r} is also a route id; the "
                "fallback names the none-of-the-above answer, so pick another name"
            )
        return self

    # ---------------------------------------------------------------- derived values
    def condition_threshold(self, cond: ConditionSpec) -> float:
        return self.defaults.threshold if cond.threshold is None else cond.threshold

    def hypotheses_of(self, item: ConditionSpec | RouteSpec) -> tuple[str, ...]:
        """The item's hypotheses with its (or the default) template applied."""
        template = item.template or self.defaults.template
        return tuple(template.replace("{}", h.strip()) for h in item.hypotheses)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=False)

    @property
    def digest(self) -> str:
        """A short content hash: two policies with the same rules have the same digest."""
        canon = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:12]

    @property
    def identity(self) -> str:
        """``name@digest``, reported in every verdict."""
        return f"{self.name}@{self.digest}"
