"""Optional API keys: ``Authorization: Bearer <key>``, compared in constant time.

Keys are kept only as SHA-256 digests and every digest is compared on every request (no early
exit), so neither the comparison time nor a memory dump gives a key away. With no keys
configured the service is open, which suits a loopback-only deployment.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crossingguard.serve.errors import ApiError

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An API key the server was started with (--api-keys-file or CROSSINGGUARD_API_KEYS).",
)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class ApiKeys:
    def __init__(self, keys: tuple[str, ...]) -> None:
        self._digests = tuple(_digest(k) for k in keys)

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def accepts(self, presented: str) -> bool:
        candidate = _digest(presented)
        ok = False
        for known in self._digests:
            ok |= hmac.compare_digest(candidate, known)
        return ok


async def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    """FastAPI dependency: 401 unless keys are off or the request carries a valid one."""
    keys: ApiKeys = request.app.state.service.api_keys
    if not keys.enabled:
        return
    if credentials is None:
        raise ApiError(
            401,
            "missing API key: send the header `Authorization: Bearer <key>` with a key this "
            "server was started with",
            code="missing_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not keys.accepts(credentials.credentials):
        raise ApiError(
            401,
            "invalid API key: the bearer token matches none of this server's keys; check the "
            "key or ask the operator for one",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
