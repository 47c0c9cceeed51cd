"""One JSON error shape for every failure, the one OpenAI clients already parse.

``{"error": {"message", "type", "param", "code"}}``: the ``openai`` package turns it into its
``APIStatusError`` subclasses with our message, so a client sees why a call failed and what to
change. Messages never quote prompt text (they go to clients, and tracebacks of 500s go to logs).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from crossingguard.errors import CrossingGuardError

log = logging.getLogger("crossingguard.serve")

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "service_unavailable_error",
    504: "timeout_error",
}


class ApiError(Exception):
    """An answer other than 200, raised anywhere in a request and rendered by the handler below."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}


def error_body(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": _TYPES.get(status, "invalid_request_error"),
            "param": param,
            "code": code,
        }
    }


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.status, exc.message, param=exc.param, code=exc.code),
        status_code=exc.status,
        headers=exc.headers,
    )


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return " -> ".join(parts) or "body"


def validation_message(exc: RequestValidationError) -> tuple[int, str, str | None]:
    """Status, message and param for a request that did not match the schema.

    A body that is not JSON at all is a 400 (nothing could be read); a JSON body with a wrong
    field is a 422 that names every bad field, as in ``prompts -> 0: String should have at least
    1 character``.
    """
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next(
            (
                e.get("ctx", {}).get("error")
                for e in errors
                if e.get("type") == "json_invalid"
            ),
            "",
        )
        return (
            400,
            (
                f"the request body is not valid JSON ({detail}); send a JSON object with "
                "`Content-Type: application/json`"
            ),
            None,
        )
    lines = []
    for e in errors[:5]:
        msg = str(e.get("msg", "invalid value")).removeprefix("Value error, ")
        lines.append(f"{_loc(tuple(e.get('loc', ())))}: {msg}")
    if len(errors) > 5:
        lines.append(f"... and {len(errors) - 5} more")
    param = _loc(tuple(errors[0].get("loc", ()))) if errors else None
    return 422, "; ".join(lines) + " (see /docs for the request schema)", param


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through :func:`error_body` so clients parse one shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message, param = validation_message(exc)
        return error_response(ApiError(status, message, param=param))

    @app.exception_handler(CrossingGuardError)
    async def _guard_error(request: Request, exc: CrossingGuardError) -> JSONResponse:
        # Raised by the guard's own validation (a condition, a threshold): the request was wrong.
        return error_response(ApiError(422, str(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = f"no endpoint at {request.url.path}; see /docs for the API"
        elif exc.status_code == 405:
            message = (
                f"{request.method} is not allowed on {request.url.path}; see /docs"
            )
        else:
            message = str(exc.detail)
        return error_response(
            ApiError(exc.status_code, message, headers=dict(exc.headers or {}))
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "unhandled error on %s %s", request.method, request.url.path, exc_info=exc
        )
        return error_response(
            ApiError(500, "internal error; the server log has the traceback")
        )
