"""Everything the service can be told, validated once where it enters (CLI, environment, tests).

Limits are part of the settings rather than of the request schemas because operators change them
per deployment; the request models stay static and the limits are checked after parsing.
API keys are deliberately not a command-line option: a key on the command line shows up in `ps`
and shell history, so keys come from a file or the ``CROSSINGGUARD_API_KEYS`` variable only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crossingguard.errors import ConfigError
from crossingguard.limits import (
    MAX_PROMPT_CHARS,
    MAX_PROMPTS_PER_CALL,
    MAX_REQUEST_BYTES,
    MAX_REQUEST_HYPOTHESES,
    MAX_REQUEST_PROMPTS,
)

API_KEYS_ENV = "CROSSINGGUARD_API_KEYS"
DEFAULT_POLICY = "moderation"


class ServeSettings(BaseModel):
    """How to run one guard service process; every field has a ``crossingguard serve`` option."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policies: tuple[str, ...] = (DEFAULT_POLICY,)
    model: str | None = None
    backend: Literal["auto", "onnx", "torch"] = "auto"
    precision: Literal["fp32", "int8"] = "fp32"
    threads: int | None = Field(default=None, ge=1)
    cache_size: int = Field(default=4096, ge=0)

    # micro-batching
    max_batch_size: int = Field(default=32, ge=1)
    max_wait_ms: float = Field(default=5.0, ge=0)
    max_queue: int = Field(default=256, ge=1)
    timeout_s: float = Field(default=30.0, gt=0)

    # limits: defaults from crossingguard.limits, shared with the library, CLI and batch; a
    # request can never hold more prompts than one guard call accepts
    max_body_bytes: int = Field(default=MAX_REQUEST_BYTES, ge=1024)
    max_prompts: int = Field(default=MAX_REQUEST_PROMPTS, ge=1, le=MAX_PROMPTS_PER_CALL)
    max_prompt_chars: int = Field(default=MAX_PROMPT_CHARS, ge=1)
    max_conditions: int = Field(default=MAX_REQUEST_HYPOTHESES, ge=1)

    # security
    api_keys: tuple[str, ...] = Field(
        default=(), repr=False
    )  # never in logs or tracebacks
    cors_origins: tuple[str, ...] = ()

    warmup: bool = True

    @field_validator("policies")
    @classmethod
    def _some_policy(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(v.strip() for v in value if v.strip())
        return cleaned or (DEFAULT_POLICY,)

    @field_validator("api_keys")
    @classmethod
    def _no_blank_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for i, key in enumerate(value):
            if len(key) < 16:
                raise ValueError(
                    f"api key number {i + 1} is {len(key)} characters; use at least 16 random "
                    "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`)"
                )
        return value

    @property
    def default_policy(self) -> str:
        """The policy used when a request names none: the first one given."""
        return self.policies[0]


def read_api_keys(
    path: str | Path | None, environ: dict[str, str] | None = None
) -> tuple[str, ...]:
    """Keys from ``path`` (one per line, ``#`` comments) plus ``CROSSINGGUARD_API_KEYS`` (commas).

    No keys at all means the service is open; that is the default for a loopback-only service.
    """
    env = os.environ if environ is None else environ
    keys: list[str] = []
    if path is not None:
        file = Path(path).expanduser()
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"--api-keys-file {file}: cannot read it ({exc.strerror}); give a readable file "
                "with one key per line"
            ) from None
        keys += [
            line.strip()
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if not keys:
            raise ConfigError(
                f"--api-keys-file {file}: no keys in it; put one key per line or drop the option"
            )
    keys += [k.strip() for k in env.get(API_KEYS_ENV, "").split(",") if k.strip()]
    return tuple(dict.fromkeys(keys))
