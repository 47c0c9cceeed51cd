"""Per-request limits: how many prompts, how long each, how many conditions.

Too much of something is 413 with the limit, the amount sent and both fixes (send less, or start
the server with a larger limit); a blank prompt, or text that is not valid Unicode (a lone
surrogate from a ``\\ud800`` JSON escape), is 422. The body size is checked before the body is
parsed (:class:`BodyLimitMiddleware`). The numbers are :class:`ServeSettings` fields whose
defaults come from :mod:`crossingguard.limits`, the limits the library, CLI and batch share.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crossingguard.serve.errors import ApiError, error_body
from crossingguard.serve.schemas import ConditionIn
from crossingguard.serve.settings import ServeSettings
from crossingguard.text import unicode_problem


def check_count(
    n: int, field: str, settings: ServeSettings, *, what: str = "prompts"
) -> None:
    if n > settings.max_prompts:
        raise ApiError(
            413,
            f"{field}: {n} {what} in one request, the limit is {settings.max_prompts}; "
            "split them over several requests or start the server with a larger --max-prompts",
            param=field,
            code="too_many_prompts",
        )


def check_texts(texts: Sequence[str], field: str, settings: ServeSettings) -> None:
    """Count, length and non-blankness of the prompts in ``field``."""
    check_count(len(texts), field, settings)
    for i, text in enumerate(texts):
        check_text(text, f"{field} -> {i}", settings)


def check_text(text: str, where: str, settings: ServeSettings) -> None:
    if not text.strip():
        raise ApiError(
            422, f"{where}: empty text; send a non-blank string", param=where
        )
    problem = unicode_problem(text)
    if problem is not None:
        raise ApiError(422, f"{where}: the text {problem}", param=where)
    if len(text) > settings.max_prompt_chars:
        raise ApiError(
            413,
            f"{where}: {len(text)} characters, the limit is {settings.max_prompt_chars}; "
            "shorten it or start the server with a larger --max-prompt-chars",
            param=where,
            code="text_too_long",
        )


def check_conditions(
    conditions: Sequence[str | ConditionIn], settings: ServeSettings
) -> None:
    if not conditions:
        raise ApiError(
            422,
            "conditions: empty list; give at least one condition or leave it out to use a policy",
            param="conditions",
        )
    # Every phrasing is one more pair per prompt, so extra hypotheses count like conditions.
    phrasings = sum(
        1 if isinstance(c, str) else 1 + len(c.hypotheses) for c in conditions
    )
    if phrasings > settings.max_conditions:
        raise ApiError(
            413,
            f"conditions: {phrasings} hypotheses in {len(conditions)} conditions, the limit is "
            f"{settings.max_conditions}; put them in a policy file loaded with --policy, or "
            "start the server with a larger --max-conditions",
            param="conditions",
            code="too_many_conditions",
        )
    for i, cond in enumerate(conditions):
        texts = [cond] if isinstance(cond, str) else [cond.text, *cond.hypotheses]
        for j, text in enumerate(texts):
            where = f"conditions -> {i}" + (
                "" if j == 0 else f" -> hypotheses -> {j - 1}"
            )
            check_text(text, where, settings)


def body_too_large_message(limit: int) -> str:
    return (
        f"the request body is larger than this server's limit of {limit} bytes; send fewer "
        "prompts per request or start the server with a larger --max-body-bytes"
    )


class BodyLimitMiddleware:
    """413 for a body over ``max_bytes``: at once when Content-Length says so, else as it streams.

    A body that streams past the limit raises an ``HTTPException(413)`` from ``receive``, which
    FastAPI re-raises from its body parsing, so it reaches the JSON error handler.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse(
                error_body(
                    413, body_too_large_message(self.max_bytes), code="body_too_large"
                ),
                status_code=413,
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, body_too_large_message(self.max_bytes))
            return message

        await self.app(scope, limited_receive, send)
