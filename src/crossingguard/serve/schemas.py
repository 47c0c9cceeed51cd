"""Request and response bodies (pydantic), which FastAPI also publishes at ``/docs``.

The moderation models follow OpenAI's ``/v1/moderations`` exactly, so their SDKs parse our
answers; the others return the same JSON as the command line (``check --json`` verdicts,
``classify`` rows, ``route --json`` results). Size limits are checked after parsing (they are
settings, see :mod:`crossingguard.serve.limits`); here only shapes and value ranges.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------- moderation (OpenAI)
class ModerationInputPart(BaseModel):
    """One element of OpenAI's multi-modal input; only ``{"type": "text", "text": ...}`` is scored."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ModerationRequest(BaseModel):
    # extra keys are ignored, as OpenAI's SDKs may send fields newer than this server
    input: str | list[str | ModerationInputPart] = Field(
        description="A prompt, or a list of prompts (strings or `{type: text, text}` parts)."
    )
    model: str | None = Field(
        default=None,
        description="A loaded policy or pack name; omitted or an OpenAI moderation model name "
        "(omni-moderation-latest, text-moderation-latest, ...) means the default policy.",
    )


class ModerationResult(BaseModel):
    flagged: bool
    categories: dict[str, bool]
    category_scores: dict[str, float]
    category_applied_input_types: dict[str, list[Literal["text"]]]


class ModerationResponse(BaseModel):
    id: str
    model: str
    results: list[ModerationResult]


# ---------------------------------------------------------------------- check
class ConditionIn(_Request):
    """An ad-hoc condition: a claim about the prompt, as in a policy file's `conditions`."""

    text: str = Field(min_length=1, description="The claim (NLI hypothesis).")
    name: str | None = None
    threshold: float | None = Field(default=None, ge=0, le=1)
    fire_on: Literal["entailment", "contradiction"] = "entailment"
    hypotheses: list[str] = Field(default_factory=list, description="Extra phrasings.")
    aggregation: Literal["max", "mean", "min"] = "max"
    action: Literal["block", "flag", "log"] = "block"
    severity: Literal["low", "medium", "high", "critical"] = "medium"


class CheckRequest(_Request):
    prompts: list[str] = Field(
        min_length=1, description="Prompts to check (NLI premises)."
    )
    policy: str | None = Field(
        default=None,
        description="A loaded policy or pack name (default: the server's first).",
    )
    conditions: list[str | ConditionIn] | None = Field(
        default=None,
        description="Ad-hoc conditions instead of a policy; scored with the default policy's model.",
    )
    threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Default threshold for conditions without their own (0.5 if omitted).",
    )


class CheckResponse(BaseModel):
    verdicts: list[dict[str, Any]] = Field(
        description="One verdict per prompt, as `crossingguard check --json` prints it: index "
        "(from 1), allowed, action, fired, fired_conditions, route, model, policy, latency_ms "
        "and every condition's label, entailment, neutral, contradiction, score and threshold."
    )


# ---------------------------------------------------------------------- classify
class PairIn(_Request):
    premise: str
    hypothesis: str


class ClassifyRequest(_Request):
    pairs: list[PairIn] = Field(min_length=1)


class PairOut(BaseModel):
    premise: str
    hypothesis: str
    label: Literal["entailment", "neutral", "contradiction"]
    entailment: float
    neutral: float
    contradiction: float


class ClassifyResponse(BaseModel):
    model: str
    results: list[PairOut]


# ---------------------------------------------------------------------- route
class RouteRequest(_Request):
    prompts: list[str] = Field(min_length=1)
    policy: str | None = Field(
        default=None, description="A loaded policy with `routes:`."
    )


class RouteResponse(BaseModel):
    routes: list[dict[str, Any]] = Field(
        description="Per prompt: index (from 1), route, score, matched, best, threshold, "
        "scores (every route's), strategy."
    )


# ---------------------------------------------------------------------- policies (playground)
class ConditionInfo(BaseModel):
    id: str | None
    hypotheses: list[str]
    threshold: float | None
    fire_on: str
    action: str
    severity: str
    description: str


class PolicyInfo(BaseModel):
    name: str
    default: bool
    model: str
    identity: str | None
    conditions: list[ConditionInfo]
    routes: list[str]


class PoliciesResponse(BaseModel):
    policies: list[PolicyInfo]
