"""Fixtures for the service tests (helpers live in servekit.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

pytest.importorskip("fastapi", reason="the service tests need the serve extra")

from fastapi import FastAPI
from servekit import LiveServer


@pytest.fixture()
def shop_policy(tmp_path: Path) -> Path:
    """A small policy with conditions the FakeScorer fires on exact words, and routes."""
    path = tmp_path / "shop.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "name": "shop",
                "conditions": [
                    {"id": "weapons", "hypotheses": ["buy a gun"], "threshold": 0.5},
                    {"id": "refund", "hypotheses": ["want a refund"], "action": "flag"},
                ],
                "routes": [
                    {"id": "billing", "hypotheses": ["my bill is wrong"]},
                    {"id": "tech", "hypotheses": ["the app crashes"]},
                ],
                "routing": {"strategy": "nli", "threshold": 0.5},
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture()
def live_server() -> Iterator[Callable[[FastAPI], LiveServer]]:
    started: list[LiveServer] = []

    def start(app: FastAPI) -> LiveServer:
        server = LiveServer(app).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"
