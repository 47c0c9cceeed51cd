"""Prometheus metrics for one service instance (``GET /metrics``, text format).

Each app gets its own ``CollectorRegistry`` so several apps in one process (tests, a benchmark)
never share counters. Cache hits are read from the guards' own LRU caches at scrape time rather
than mirrored, so they can never drift from what the guard did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from crossingguard.guard import Guard, PairScorer

__all__ = ["CONTENT_TYPE_LATEST", "MeteredScorer", "MetricsMiddleware", "ServeMetrics"]

_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
_PAIR_BUCKETS = (1, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _CacheCollector(Collector):
    def __init__(self, guards: Callable[[], dict[str, Guard]]) -> None:
        self._guards = guards

    def collect(self) -> Iterable[CounterMetricFamily]:
        hits = CounterMetricFamily(
            "crossingguard_cache_hits",
            "Pairs answered from a guard's LRU cache",
            labels=["policy"],
        )
        misses = CounterMetricFamily(
            "crossingguard_cache_misses",
            "Pairs looked up and not found in the cache",
            labels=["policy"],
        )
        for name, guard in self._guards().items():
            hits.add_metric([name], guard.cache.hits)
            misses.add_metric([name], guard.cache.misses)
        yield hits
        yield misses


class ServeMetrics:
    """The service's counters, histograms and gauges, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "crossingguard_requests",
            "HTTP requests by endpoint and status",
            ["endpoint", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "crossingguard_request_duration_seconds",
            "Request latency by endpoint",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_requests = Histogram(
            "crossingguard_batch_requests",
            "Requests merged into one model batch",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.batch_items = Histogram(
            "crossingguard_batch_items",
            "Prompts (classify: pairs) in one model batch",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.batch_seconds = Histogram(
            "crossingguard_batch_duration_seconds",
            "Wall time of one model batch",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.model_pairs = Histogram(
            "crossingguard_model_batch_pairs",
            "Pairs sent to the model in one scorer call "
            "(after de-duplication and the cache)",
            buckets=_PAIR_BUCKETS,
            registry=r,
        )
        self.pairs_scored = Counter(
            "crossingguard_pairs_scored", "Pairs scored by the model", registry=r
        )
        self.queue_depth = Gauge(
            "crossingguard_queue_depth",
            "Requests waiting for a model batch",
            registry=r,
        )
        self.ready = Gauge(
            "crossingguard_ready", "1 once the model is loaded and warmed", registry=r
        )

    def watch_queue(self, depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(depth)

    def watch_caches(self, guards: Callable[[], dict[str, Guard]]) -> None:
        self.registry.register(_CacheCollector(guards))

    # BatchObserver
    def observe_batch(self, *, requests: int, items: int, seconds: float) -> None:
        self.batch_requests.observe(requests)
        self.batch_items.observe(items)
        self.batch_seconds.observe(seconds)

    def observe_scorer_call(self, pairs: int) -> None:
        self.model_pairs.observe(pairs)
        self.pairs_scored.inc(pairs)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MeteredScorer:
    """A scorer that reports each call's pair count; everything else is the wrapped scorer's."""

    def __init__(self, scorer: PairScorer, on_call: Callable[[int], None]) -> None:
        self.inner = scorer
        self.name = scorer.name
        self._on_call = on_call

    def predict(
        self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 64
    ) -> np.ndarray:
        self._on_call(len(pairs))
        return self.inner.predict(pairs, batch_size=batch_size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class MetricsMiddleware:
    """Counts every HTTP request by its route template (not its raw path: bounded labels)."""

    def __init__(self, app: ASGIApp, metrics: ServeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(endpoint, str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)
