"""OpenAI ``/v1/moderations`` on top of the guard: inputs in, OpenAI's result shape out.

Category names: the built-in ``moderation`` pack answers with OpenAI's own category names, so
code written against OpenAI (``result.categories.harassment_threatening``) works unchanged. The
table below is the one place that decides them; today the pack's condition ids were chosen to
equal OpenAI's names, and the table keeps the API stable if a pack id is ever renamed (a test
checks that every pack condition and every OpenAI category is covered). Every other policy
answers with its own condition ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from crossingguard.guard import Verdict
from crossingguard.serve.errors import ApiError
from crossingguard.serve.schemas import (
    ModerationInputPart,
    ModerationResponse,
    ModerationResult,
)

# pack name -> {condition id -> OpenAI category name}
OPENAI_CATEGORY_NAMES: dict[str, dict[str, str]] = {
    "moderation": {
        "harassment": "harassment",
        "harassment/threatening": "harassment/threatening",
        "hate": "hate",
        "hate/threatening": "hate/threatening",
        "illicit": "illicit",
        "illicit/violent": "illicit/violent",
        "self-harm": "self-harm",
        "self-harm/intent": "self-harm/intent",
        "self-harm/instructions": "self-harm/instructions",
        "sexual": "sexual",
        "sexual/minors": "sexual/minors",
        "violence": "violence",
        "violence/graphic": "violence/graphic",
    }
}

# OpenAI's moderation model names: existing code passes one of these; it means "the default".
OPENAI_MODEL_PREFIXES = ("omni-moderation", "text-moderation")


def pick_policy(model: str | None) -> str | None:
    """The policy a request's ``model`` names; ``None`` (the default) for OpenAI's own models."""
    if model is None or model.startswith(OPENAI_MODEL_PREFIXES):
        return None
    return model


def texts_of(value: str | list[str | ModerationInputPart]) -> list[str]:
    """The prompts of an OpenAI ``input``; non-text parts are refused, not silently skipped."""
    if isinstance(value, str):
        return [value]
    out = []
    for i, part in enumerate(value):
        if isinstance(part, str):
            out.append(part)
        elif part.type == "text" and part.text is not None:
            out.append(part.text)
        else:
            raise ApiError(
                422,
                f"input -> {i}: type {part.type!r} is not supported; this service moderates "
                'text only, send {"type": "text", "text": ...} parts or plain strings',
                param=f"input -> {i}",
            )
    if not out:
        raise ApiError(
            422, "input: empty list; send at least one prompt", param="input"
        )
    return out


def category_name(policy: str, condition_id: str | None, fallback: str) -> str:
    table = OPENAI_CATEGORY_NAMES.get(policy, {})
    key = condition_id if condition_id is not None else fallback
    return table.get(key, key)


def moderation_response(policy: str, verdicts: Sequence[Verdict]) -> ModerationResponse:
    """OpenAI's response: a category per condition, ``flagged`` when any fired."""
    results = []
    for verdict in verdicts:
        names = [category_name(policy, r.name, r.condition) for r in verdict.results]
        results.append(
            ModerationResult(
                flagged=verdict.fired,
                categories={
                    n: r.fired for n, r in zip(names, verdict.results, strict=True)
                },
                category_scores={
                    n: r.score for n, r in zip(names, verdict.results, strict=True)
                },
                category_applied_input_types={n: ["text"] for n in names},
            )
        )
    return ModerationResponse(
        id=f"modr-{uuid.uuid4().hex}", model=policy, results=results
    )
