"""The policy file format (``version: 1``), validated where it enters.

A policy names the model, default threshold and hypothesis template, the *conditions* a prompt is
checked against (each one or several plain-English claims about the prompt) and optionally the
*routes* a prompt is sent to. Every model forbids unknown keys, so a typo (``treshold``) is an
error that names the key, never a silently ignored setting.

Hypothesis text is built as ``template.replace("{}", hypothesis)``: the default template ``"{}"``
uses each hypothesis as written; ``"The prompt asks for {}"`` lets conditions say only
``"instructions for making a weapon"``.

Thresholds depend on the model: a threshold fitted for one model's probabilities is not right for
another's. A condition therefore keeps fitted thresholds per model
(``thresholds: {crossingguard-nli-mini: 0.91, crossingguard-nli-micro: 0.88}``, keyed by the name
``verdict.model`` reports) beside an optional model-independent ``threshold``. For a model, a
condition's threshold is its ``thresholds`` entry, else its ``threshold``, else
``defaults.threshold`` (:meth:`Policy.condition_threshold`); thresholds fitted for other models
are never applied to it.
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


def _model_thresholds(value: Any) -> Any:
    if not isinstance(value, dict):
        return value  # pydantic names the type error
    for model, threshold in value.items():
        if not isinstance(model, str) or not model.strip() or model != model.strip():
            raise ValueError(
                f"model names must be non-empty strings without surrounding spaces, got "
                f"{model!r}; write e.g. {{crossingguard-nli-mini: 0.9}}"
            )
        try:
            _threshold(threshold)
        except ValueError as exc:
            raise ValueError(f"{model}: {exc}") from None
    return value


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
    thresholds: dict[str, float] = Field(default_factory=dict)
    fire_on: FireOn = "entailment"
    action: Action = "block"
    severity: Severity = "medium"
    description: str = ""
    template: str | None = None
    categories: list[str] = Field(default_factory=list)

    _check_id = field_validator("id")(_ident)
    _check_hyps = field_validator("hypotheses", mode="before")(_hypotheses)
    _check_threshold = field_validator("threshold", mode="before")(_threshold)
    _check_thresholds = field_validator("thresholds", mode="before")(_model_thresholds)
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
    def model_key(self, model: str | None = None) -> str:
        """The model whose thresholds apply: ``model``, else this policy's ``model``, else the
        default built-in model (the one ``Guard.from_policy`` would load)."""
        if model is not None:
            return model
        if self.model is not None:
            return self.model
        from crossingguard.inference.loading import DEFAULT_MODEL

        return DEFAULT_MODEL

    def own_threshold(
        self, cond: ConditionSpec, model: str | None = None
    ) -> float | None:
        """The condition's own threshold for ``model`` (see :meth:`model_key`): its
        ``thresholds`` entry, else its ``threshold``; ``None`` when it has neither."""
        fitted = cond.thresholds.get(self.model_key(model))
        return fitted if fitted is not None else cond.threshold

    def condition_threshold(
        self, cond: ConditionSpec, model: str | None = None
    ) -> float:
        """The threshold ``cond`` fires at with ``model``; ``defaults.threshold`` if it has no
        threshold of its own for that model."""
        own = self.own_threshold(cond, model)
        return self.defaults.threshold if own is None else own

    @property
    def calibrated_models(self) -> tuple[str, ...]:
        """Models some condition has fitted ``thresholds`` for, in order of first mention."""
        seen: dict[str, None] = {}
        for cond in self.conditions:
            seen.update(dict.fromkeys(cond.thresholds))
        return tuple(seen)

    def uncalibrated_conditions(self, model: str | None = None) -> tuple[str, ...]:
        """Ids of conditions with thresholds fitted for other models but none for ``model``:
        they fall back to a threshold that was not fitted for it."""
        key = self.model_key(model)
        return tuple(
            c.id for c in self.conditions if c.thresholds and key not in c.thresholds
        )

    def for_model(self, model: str | None = None) -> Policy:
        """This policy as ``model`` applies it: each condition's threshold for that model in its
        ``threshold``, and no per-model ``thresholds``, for code that reads ``threshold`` alone
        (evaluation reports). Keep the original for writing files back."""
        conditions = [
            c.model_copy(
                update={"threshold": self.own_threshold(c, model), "thresholds": {}}
            )
            for c in self.conditions
        ]
        return self.model_copy(update={"conditions": conditions})

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
