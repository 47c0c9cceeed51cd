"""Service test helpers: apps on fake scorers, a gate to hold the model mid-batch, a live server.

``GatedScorer`` blocks inside ``predict`` until the test opens the gate, which makes batching,
queueing, timeouts and draining deterministic without sleeping for "long enough".
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fakes import FakeScorer  # tests/ is on sys.path (tests/conftest.py)
from fastapi import FastAPI

from crossingguard.serve import ServeSettings, create_app

KEY = "test-key-0123456789abcdef"


class GatedScorer(FakeScorer):
    """FakeScorer that waits for ``gate`` in every call and says when a call has started."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Event()

    def predict(self, pairs: Any, *, batch_size: int = 64) -> Any:
        self.entered.set()
        if not self.gate.wait(timeout=10):
            raise RuntimeError("test gate never opened")
        return super().predict(pairs, batch_size=batch_size)


def make_app(scorer: FakeScorer | None = None, **settings: Any) -> FastAPI:
    """An app on ``scorer`` (a fresh FakeScorer by default), no warm-up (exact call counts)."""
    fake = scorer or FakeScorer()
    settings.setdefault("warmup", False)
    return create_app(ServeSettings(**settings), scorer_factory=lambda model: fake)


@asynccontextmanager
async def running(
    app: FastAPI, *, ready: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give an async client over ASGI (no sockets)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test"
        ) as client:
            if ready:
                await wait_ready(client)
            yield client


async def wait_ready(client: httpx.AsyncClient, timeout: float = 10.0) -> None:
    import anyio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await client.get("/readyz")).status_code == 200:
            return
        await anyio.sleep(0.01)
    raise AssertionError("the app never became ready")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn in a background thread on 127.0.0.1 (for real HTTP clients and the browser)."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_graceful_shutdown=10,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise AssertionError("live server never became ready")

    def stop(self) -> None:
        """What uvicorn's SIGTERM handler does: stop accepting, drain, run lifespan shutdown."""
        self.server.should_exit = True
        self.thread.join(timeout=20)
