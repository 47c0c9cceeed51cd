"""The state one server process holds: settings, guards, the batcher, metrics and keys.

The model loads in a thread after the server has started, so ``/healthz`` answers at once and
``/readyz`` says 503 until the guards are built and warmed; requests that need the model get the
same 503 (with ``Retry-After``) until then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable
from typing import Any

from crossingguard.errors import CrossingGuardError
from crossingguard.guard import Guard
from crossingguard.serve.auth import ApiKeys
from crossingguard.serve.batcher import BatcherClosed, BatchFn, MicroBatcher, QueueFull
from crossingguard.serve.errors import ApiError
from crossingguard.serve.metrics import MeteredScorer, ServeMetrics
from crossingguard.serve.registry import (
    GuardRegistry,
    ScorerFactory,
    UnknownPolicy,
    build_registry,
    warm_up,
)
from crossingguard.serve.settings import ServeSettings

log = logging.getLogger("crossingguard.serve")


def default_scorer_factory(settings: ServeSettings) -> ScorerFactory:
    def load(model: str | None) -> Any:
        from crossingguard.inference.scorer import load_scorer

        scorer = load_scorer(
            model,
            backend=settings.backend,
            threads=settings.threads,
            precision=settings.precision,
        )
        # the request limit decides; the scorer's own default would refuse a longer prompt
        # that --max-prompt-chars allows
        scorer.max_prompt_chars = settings.max_prompt_chars
        return scorer

    return load


class Service:
    def __init__(
        self, settings: ServeSettings, scorer_factory: ScorerFactory | None = None
    ) -> None:
        self.settings = settings
        self.scorer_factory = scorer_factory or default_scorer_factory(settings)
        self.metrics = ServeMetrics()
        self.api_keys = ApiKeys(settings.api_keys)
        self.batcher = MicroBatcher(
            max_batch_size=settings.max_batch_size,
            max_wait_s=settings.max_wait_ms / 1000.0,
            max_queue=settings.max_queue,
            observer=self.metrics,
        )
        self.registry: GuardRegistry | None = None
        self.load_error: str | None = None
        self.metrics.watch_queue(lambda: self.batcher.depth)
        self.metrics.watch_caches(lambda: self.registry.guards if self.registry else {})

    # ------------------------------------------------------------------ loading
    def _count_pairs(self, n: int) -> None:
        if self.registry is not None:  # warm-up calls are not traffic
            self.metrics.observe_scorer_call(n)

    def load(self) -> None:
        """Build and warm every guard (blocking: run it in a thread)."""
        start = time.perf_counter()
        registry = build_registry(
            self.settings,
            self.scorer_factory,
            wrap=lambda scorer: MeteredScorer(scorer, self._count_pairs),
        )
        if self.settings.warmup:
            prompts, seconds = warm_up(registry)
            # the batcher's first guess of the model's speed
            self.batcher.observe_speed(prompts, seconds)
        self.registry = registry
        self.metrics.ready.set(1)
        log.info(
            "ready in %.1f s: policies %s (default %s)",
            time.perf_counter() - start,
            ", ".join(registry.guards),
            registry.default,
        )

    async def load_in_background(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.load)
        except CrossingGuardError as exc:
            self.load_error = str(exc)
            log.error("could not load the guards: %s", exc)
        except Exception as exc:  # keep serving /healthz so the failure is visible
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.exception("could not load the guards")

    def ready_registry(self) -> GuardRegistry:
        if self.registry is not None:
            return self.registry
        if self.load_error is not None:
            raise ApiError(
                503, f"the guards failed to load: {self.load_error}", code="load_failed"
            )
        raise ApiError(
            503,
            "the model is still loading; retry shortly (GET /readyz turns 200 when ready)",
            code="loading",
            headers={"Retry-After": "2"},
        )

    def guard(self, name: str | None) -> tuple[str, Guard]:
        try:
            return self.ready_registry().get(name)
        except UnknownPolicy as exc:
            raise ApiError(
                400, str(exc), param="policy", code="unknown_policy"
            ) from None

    # ------------------------------------------------------------------ work
    async def submit(self, key: Hashable, items: list[Any], run: BatchFn) -> list[Any]:
        """Run ``items`` in a model batch, mapping overload, timeout and shutdown to 429/504/503."""
        timeout = self.settings.timeout_s
        try:
            return await self.batcher.submit(key, items, run, timeout=timeout)
        except QueueFull as exc:
            why = (
                f"{exc.depth} requests are queued, the limit is {self.settings.max_queue} "
                "(--max-queue)"
                if exc.reason == "depth"
                else f"the queue holds about {exc.wait_s:.0f} s of work, more than the "
                f"{timeout:g} s timeout (--timeout)"
            )
            raise ApiError(
                429,
                f"server busy: {why}; retry after {exc.retry_after} s, or add replicas",
                code="queue_full",
                headers={"Retry-After": str(exc.retry_after)},
            ) from None
        except asyncio.TimeoutError:
            raise ApiError(
                504,
                f"no answer within {timeout:g} s (--timeout); the server is overloaded or the "
                "request is large: send fewer prompts per request or retry later",
                code="timeout",
            ) from None
        except BatcherClosed:
            raise ApiError(
                503,
                "the server is shutting down; retry on another replica",
                code="shutting_down",
                headers={"Retry-After": "1"},
            ) from None
