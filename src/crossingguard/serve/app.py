"""``create_app``: the FastAPI application for one guard service process.

Lifespan: start the batch worker, start loading the model in a thread, serve; on shutdown
(uvicorn stops accepting on SIGTERM and waits for requests in flight, which the still-running
worker answers) stop the worker after it has finished every queued job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

import crossingguard
from crossingguard.serve.api import router
from crossingguard.serve.errors import install_error_handlers
from crossingguard.serve.limits import BodyLimitMiddleware
from crossingguard.serve.metrics import CONTENT_TYPE_LATEST, MetricsMiddleware
from crossingguard.serve.registry import ScorerFactory
from crossingguard.serve.service import Service
from crossingguard.serve.settings import ServeSettings

log = logging.getLogger("crossingguard.serve")


def static_dir() -> Path:
    """The playground's files, shipped inside the package (no build step, no CDN)."""
    return Path(str(resources.files("crossingguard.serve") / "static"))


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    svc: Service = app.state.service
    svc.batcher.start()
    loading = asyncio.get_running_loop().create_task(svc.load_in_background())
    try:
        yield
    finally:
        log.info("shutting down: finishing %d queued request(s)", svc.batcher.depth)
        await svc.batcher.close()
        if not loading.done():
            loading.cancel()


def create_app(
    settings: ServeSettings | None = None,
    *,
    scorer_factory: ScorerFactory | None = None,
) -> FastAPI:
    """The service app; ``scorer_factory(model_name)`` replaces model loading (tests, fakes)."""
    settings = settings or ServeSettings()
    svc = Service(settings, scorer_factory)
    app = FastAPI(
        title="CrossingGuard",
        version=crossingguard.__version__,
        description="Zero-shot guardrails with NLI cross-encoders: OpenAI-compatible moderation, "
        "policy checks, pair classification and routing, with dynamic micro-batching.",
        lifespan=_lifespan,
    )
    app.state.service = svc
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=svc.metrics)
    app.include_router(router)

    @app.get("/healthz", summary="Process is alive")
    async def healthz() -> JSONResponse:
        """200 while the process runs (loading or ready); 503 once loading failed, so an
        orchestrator restarts it instead of waiting forever."""
        if svc.load_error is not None:
            return JSONResponse(
                {"status": "failed", "error": svc.load_error}, status_code=503
            )
        return JSONResponse({"status": "ok", "ready": svc.registry is not None})

    @app.get("/readyz", summary="Model loaded and warmed")
    async def readyz() -> JSONResponse:
        """200 once every policy's model is loaded and warmed; route traffic only then."""
        if svc.registry is None:
            body = {
                "status": "failed" if svc.load_error else "loading",
                "error": svc.load_error,
            }
            return JSONResponse(body, status_code=503, headers={"Retry-After": "2"})
        return JSONResponse(
            {
                "status": "ready",
                "policies": list(svc.registry.guards),
                "default": svc.registry.default,
                "models": sorted({g.model_name for g in svc.registry.guards.values()}),
            }
        )

    @app.get("/metrics", summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(svc.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    async def playground(request: Request) -> FileResponse:
        return FileResponse(static_dir() / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    return app
