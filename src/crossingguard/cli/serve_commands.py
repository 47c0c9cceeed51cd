"""``crossingguard serve``: the guard service (OpenAI-compatible moderation, checks, playground).

Every option can also come from a ``CROSSINGGUARD_*`` environment variable (shown in ``--help``),
which is how containers and process managers usually configure a service. API keys have no
option on purpose: command lines end up in ``ps`` output and shell history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crossingguard.cli.app import app
from crossingguard.cli.errors import fail, handle_errors
from crossingguard.cli.options import PRECISION_HELP, BackendChoice, PrecisionChoice
from crossingguard.limits import (
    MAX_PROMPT_CHARS,
    MAX_PROMPTS_PER_CALL,
    MAX_REQUEST_BYTES,
    MAX_REQUEST_HYPOTHESES,
    MAX_REQUEST_PROMPTS,
)


def _env(name: str) -> dict[str, object]:
    return {"envvar": f"CROSSINGGUARD_{name}", "show_envvar": True}


@app.command(
    "serve",
    epilog="API keys: put one per line in a file given with --api-keys-file "
    "(CROSSINGGUARD_API_KEYS_FILE), or set CROSSINGGUARD_API_KEYS=key1,key2. With keys, every "
    "/v1 request needs `Authorization: Bearer KEY`; /healthz, /readyz, /metrics and the "
    "playground page stay open. Several replicas: start one process per port (or host) and put "
    "a load balancer in front that checks GET /readyz.",
)
@handle_errors
def serve(
    policy: Annotated[
        list[str] | None,
        typer.Option(
            "--policy",
            "-p",
            help="A policy file (.yaml/.json) or built-in pack to load; repeat for several "
            "(env: space-separated). Requests pick one by name; the first is the default. "
            "Default: the moderation pack.",
            show_default=False,
            **_env("POLICY"),  # type: ignore[arg-type]
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Model for every policy (built-in name, directory or hub id). Default: each "
            "policy's `model:`, else the built-in crossingguard-nli-mini.",
            show_default=False,
            **_env("MODEL"),  # type: ignore[arg-type]
        ),
    ] = None,
    backend: Annotated[
        BackendChoice,
        typer.Option("--backend", "-b", help="Inference backend.", **_env("BACKEND")),  # type: ignore[arg-type]
    ] = BackendChoice.auto,
    precision: Annotated[
        PrecisionChoice,
        typer.Option(
            "--precision",
            help=PRECISION_HELP,
            **_env("PRECISION"),  # type: ignore[arg-type]
        ),
    ] = PrecisionChoice.fp32,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            min=1,
            help="CPU threads for inference (default: the backend's).",
            show_default=False,
            **_env("THREADS"),
        ),  # type: ignore[arg-type]
    ] = None,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on; 0.0.0.0 for every interface "
            "(then configure API keys).",
            **_env("HOST"),
        ),  # type: ignore[arg-type]
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="TCP port.", **_env("PORT"))  # type: ignore[arg-type]
    ] = 8000,
    max_batch_size: Annotated[
        int,
        typer.Option(
            "--max-batch-size",
            min=1,
            help="Most prompts (classify: pairs) merged into "
            "one model batch; 1 turns micro-batching off.",
            **_env("MAX_BATCH_SIZE"),
        ),  # type: ignore[arg-type]
    ] = 32,
    max_wait_ms: Annotated[
        float,
        typer.Option(
            "--max-wait-ms",
            min=0.0,
            help="How long the first request of a batch waits for others to join it.",
            **_env("MAX_WAIT_MS"),
        ),  # type: ignore[arg-type]
    ] = 5.0,
    max_queue: Annotated[
        int,
        typer.Option(
            "--max-queue",
            min=1,
            help="Requests that may wait for a batch; more are "
            "answered 429 with Retry-After.",
            **_env("MAX_QUEUE"),
        ),  # type: ignore[arg-type]
    ] = 256,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=0.001,
            help="Seconds a request may wait and run before it is answered 504.",
            **_env("TIMEOUT"),
        ),  # type: ignore[arg-type]
    ] = 30.0,
    max_body_bytes: Annotated[
        int,
        typer.Option(
            "--max-body-bytes",
            min=1024,
            help="Largest request body (413 above).",
            **_env("MAX_BODY_BYTES"),
        ),  # type: ignore[arg-type]
    ] = MAX_REQUEST_BYTES,
    max_prompts: Annotated[
        int,
        typer.Option(
            "--max-prompts",
            min=1,
            max=MAX_PROMPTS_PER_CALL,
            help="Most prompts (classify: pairs) per request (413 above).",
            **_env("MAX_PROMPTS"),
        ),  # type: ignore[arg-type]
    ] = MAX_REQUEST_PROMPTS,
    max_prompt_chars: Annotated[
        int,
        typer.Option(
            "--max-prompt-chars",
            min=1,
            help="Longest prompt or condition in characters (413 above).",
            **_env("MAX_PROMPT_CHARS"),
        ),  # type: ignore[arg-type]
    ] = MAX_PROMPT_CHARS,
    max_conditions: Annotated[
        int,
        typer.Option(
            "--max-conditions",
            min=1,
            help="Most ad-hoc hypotheses per /v1/check "
            "request (413 above); policies loaded with --policy are not limited.",
            **_env("MAX_CONDITIONS"),
        ),  # type: ignore[arg-type]
    ] = MAX_REQUEST_HYPOTHESES,
    cache_size: Annotated[
        int,
        typer.Option(
            "--cache-size",
            min=0,
            help="Scored pairs each policy's LRU cache keeps (0: off).",
            **_env("CACHE_SIZE"),
        ),  # type: ignore[arg-type]
    ] = 4096,
    api_keys_file: Annotated[
        Path | None,
        typer.Option(
            "--api-keys-file",
            help="File with one API key per line; enables auth.",
            show_default=False,
            **_env("API_KEYS_FILE"),
        ),  # type: ignore[arg-type]
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help="Browser origin allowed to call the API "
            "(e.g. https://app.example.com); repeat for several. Default: CORS off.",
            show_default=False,
            **_env("CORS_ORIGINS"),
        ),  # type: ignore[arg-type]
    ] = None,
    graceful_timeout: Annotated[
        int,
        typer.Option(
            "--graceful-timeout",
            min=1,
            help="Seconds to finish requests in flight "
            "after SIGTERM before closing them.",
            **_env("GRACEFUL_TIMEOUT"),
        ),  # type: ignore[arg-type]
    ] = 30,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            help="debug, info, warning or error. Prompt text is logged at debug only.",
            **_env("LOG_LEVEL"),
        ),  # type: ignore[arg-type]
    ] = "info",
) -> None:
    """Run the guard service: OpenAI-compatible /v1/moderations, /v1/check, /v1/classify,
    /v1/route, /healthz, /readyz, /metrics and a playground page at /.

    Needs the serve extra (fastapi, uvicorn, prometheus-client).
    """
    try:
        import uvicorn

        from crossingguard.serve import ServeSettings, create_app
        from crossingguard.serve.registry import load_policies
        from crossingguard.serve.settings import read_api_keys
    except ImportError as exc:
        raise fail(
            f"the server needs the serve extra ({exc.name} is missing): "
            "pip install 'crossingguard[serve]'"
        ) from None
    if log_level.lower() not in ("debug", "info", "warning", "error"):
        raise fail(
            f"--log-level: must be debug, info, warning or error, got {log_level!r}"
        )
    from pydantic import ValidationError

    try:
        settings = ServeSettings(
            policies=tuple(policy or ()),
            model=model,
            backend=backend.value,
            precision=precision.value,
            threads=threads,
            cache_size=cache_size,
            max_batch_size=max_batch_size,
            max_wait_ms=max_wait_ms,
            max_queue=max_queue,
            timeout_s=timeout,
            max_body_bytes=max_body_bytes,
            max_prompts=max_prompts,
            max_prompt_chars=max_prompt_chars,
            max_conditions=max_conditions,
            api_keys=read_api_keys(api_keys_file),
            cors_origins=tuple(cors_origin or ()),
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = " -> ".join(str(p) for p in err["loc"]) or "settings"
        raise fail(
            f"{where}: {str(err['msg']).removeprefix('Value error, ')}"
        ) from None
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.api_keys:
        typer.echo(
            f"Warning: listening on {host} without API keys; anyone who can reach the port "
            "can use the service (see --api-keys-file)",
            err=True,
        )
    load_policies(
        settings.policies
    )  # bad policy files fail here, before the port is bound
    _configure_logging(log_level.lower())
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level.lower(),
        timeout_graceful_shutdown=graceful_timeout,
    )


def _configure_logging(level: str) -> None:
    import logging

    logger = logging.getLogger("crossingguard.serve")
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(levelname)s:     %(name)s: %(message)s")
        )
        logger.addHandler(handler)
        logger.propagate = False
