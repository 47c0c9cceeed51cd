"""Micro-batching: merging, batch limits, the bounded queue (429), timeouts (504) and draining.

A ``GatedScorer`` holds the model inside a batch so requests pile up deterministically.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import anyio
import httpx
import pytest
from fakes import FakeScorer
from servekit import GatedScorer, make_app, running

from crossingguard.guard import Guard
from crossingguard.serve.batcher import BatcherClosed, MicroBatcher, QueueFull

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.observed: list[tuple[int, int]] = []

    def run(self, items: list[int]) -> Sequence[int]:
        self.batches.append(list(items))
        return [i * 10 for i in items]

    def observe_batch(self, *, requests: int, items: int, seconds: float) -> None:
        self.observed.append((requests, items))


# ---------------------------------------------------------------------- the batcher alone
async def test_jobs_that_arrive_together_share_one_call_and_get_their_own_results() -> (
    None
):
    rec = Recorder()
    batcher = MicroBatcher(
        max_batch_size=100, max_wait_s=0.05, max_queue=10, observer=rec
    )
    batcher.start()
    results = await asyncio.gather(
        *(batcher.submit("k", [i, i + 100], rec.run) for i in range(5))
    )
    await batcher.close()
    assert results == [[i * 10, (i + 100) * 10] for i in range(5)]
    assert len(rec.batches) == 1 and sorted(rec.batches[0]) == sorted(
        x for i in range(5) for x in (i, i + 100)
    )
    assert rec.observed == [(5, 10)]


async def test_batches_stop_at_max_batch_size_without_splitting_a_job() -> None:
    rec = Recorder()
    batcher = MicroBatcher(max_batch_size=4, max_wait_s=0.05, max_queue=10)
    batcher.start()
    await asyncio.gather(*(batcher.submit("k", [i, i], rec.run) for i in range(5)))
    await batcher.close()
    assert [len(b) for b in rec.batches] == [4, 4, 2]


async def test_different_keys_are_never_merged() -> None:
    rec = Recorder()
    batcher = MicroBatcher(max_batch_size=100, max_wait_s=0.05, max_queue=10)
    batcher.start()
    await asyncio.gather(
        batcher.submit("a", [1], rec.run),
        batcher.submit("b", [2], rec.run),
        batcher.submit("a", [3], rec.run),
    )
    await batcher.close()
    assert sorted(rec.batches) == [[1, 3], [2]]


async def test_one_bad_job_fails_alone_not_the_jobs_merged_with_it() -> None:
    def run(items: list[int]) -> list[int]:
        if -1 in items:
            raise ValueError("bad item")
        return items

    batcher = MicroBatcher(max_batch_size=100, max_wait_s=0.05, max_queue=10)
    batcher.start()
    results = await asyncio.gather(
        batcher.submit("k", [1], run), batcher.submit("k", [-1], run),
        batcher.submit("k", [2], run), return_exceptions=True,
    )  # fmt: skip
    await batcher.close()
    assert results[0] == [1] and results[2] == [2]
    assert isinstance(results[1], ValueError)


async def test_full_queue_refuses_at_once_and_close_drains_what_was_queued() -> None:
    gate = threading.Event()
    ran: list[list[int]] = []

    def slow(items: list[int]) -> list[int]:
        gate.wait(5)
        ran.append(items)
        return items

    batcher = MicroBatcher(max_batch_size=1, max_wait_s=0, max_queue=2)
    batcher.start()
    first = asyncio.ensure_future(batcher.submit("k", [1], slow))
    await asyncio.sleep(0.05)  # the worker has taken job 1 and is blocked in `slow`
    queued = [asyncio.ensure_future(batcher.submit("k", [i], slow)) for i in (2, 3)]
    await asyncio.sleep(0.01)
    assert batcher.depth == 2
    with pytest.raises(QueueFull) as full:
        await batcher.submit("k", [4], slow)
    assert full.value.retry_after >= 1
    closing = asyncio.ensure_future(batcher.close())
    await asyncio.sleep(0.01)
    with pytest.raises(BatcherClosed):
        await batcher.submit("k", [5], slow)
    gate.set()
    await closing
    assert await first == [1] and [await q for q in queued] == [[2], [3]]
    assert ran == [[1], [2], [3]]


async def test_a_cancelled_job_leaves_the_queue() -> None:
    gate = threading.Event()

    def slow(items: list[int]) -> list[int]:
        gate.wait(5)
        return items

    batcher = MicroBatcher(max_batch_size=1, max_wait_s=0, max_queue=5)
    batcher.start()
    running_job = asyncio.ensure_future(batcher.submit("k", [1], slow))
    await asyncio.sleep(0.05)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(batcher.submit("k", [2], slow), 0.01)
    assert batcher.depth == 0
    gate.set()
    assert await running_job == [1]
    await batcher.close()


class FixedSpeed(MicroBatcher):
    """A batcher whose speed estimate is whatever the test sets (the fake model is instant)."""

    def observe_speed(self, items: int, seconds: float) -> None:
        pass


def test_speed_is_a_moving_average_of_seconds_per_item() -> None:
    batcher = MicroBatcher(max_batch_size=8, max_wait_s=0, max_queue=10)
    assert batcher.seconds_per_item is None and batcher.backlog_s(5) == 0
    batcher.observe_speed(4, 2.0)
    assert batcher.seconds_per_item == 0.5
    batcher.observe_speed(1, 1.5)
    assert batcher.seconds_per_item == pytest.approx(0.7 * 0.5 + 0.3 * 1.5)


async def test_a_request_that_would_wait_past_its_timeout_is_refused_at_once() -> None:
    rec = Recorder()
    batcher = FixedSpeed(max_batch_size=8, max_wait_s=0, max_queue=100)
    batcher.start()
    assert await batcher.submit("k", [1], rec.run, timeout=0.5) == [10]  # speed unknown
    batcher.seconds_per_item = 1.0  # as if measured: one item takes a second
    with pytest.raises(QueueFull) as refused:
        await batcher.submit("k", [2], rec.run, timeout=0.5)
    assert refused.value.reason == "wait" and refused.value.retry_after >= 1
    assert await batcher.submit("k", [3], rec.run, timeout=5) == [30]
    await batcher.close()
    assert rec.batches == [[1], [3]]


async def test_a_batch_takes_only_what_finishes_before_the_oldest_deadline() -> None:
    gate = threading.Event()
    rec = Recorder()

    def gated(items: list[int]) -> Sequence[int]:
        gate.wait(5)
        return rec.run(items)

    batcher = FixedSpeed(max_batch_size=100, max_wait_s=0, max_queue=100)
    batcher.start()
    busy = asyncio.ensure_future(batcher.submit("busy", [-1], gated))
    await asyncio.sleep(
        0.05
    )  # the worker is held; the next jobs queue (speed unknown: admitted)
    jobs = [
        asyncio.ensure_future(batcher.submit("k", [i], rec.run, timeout=0.9))
        for i in range(6)
    ]
    await asyncio.sleep(0.01)
    batcher.seconds_per_item = 0.2
    gate.set()
    results = [await j for j in jobs]
    await busy
    await batcher.close()
    assert results == [[i * 10] for i in range(6)]
    assert rec.batches[1:] == [
        [0, 1, 2, 3],
        [4, 5],
    ]  # 4 x 0.2 s fit in 0.9 s, 5 would not


async def test_a_job_that_can_no_longer_finish_fails_at_once_without_running() -> None:
    gate = threading.Event()
    rec = Recorder()

    def slow(items: list[int]) -> Sequence[int]:
        gate.wait(5)
        return rec.run(items)

    batcher = FixedSpeed(max_batch_size=1, max_wait_s=0, max_queue=10)
    batcher.start()
    first = asyncio.ensure_future(batcher.submit("k", [1], slow))
    await asyncio.sleep(0.05)  # job 1 holds the worker
    late = asyncio.ensure_future(batcher.submit("k", [2], slow, timeout=0.6))
    await asyncio.sleep(0.05)
    batcher.seconds_per_item = (
        1.0  # learned meanwhile: job 2 cannot finish in its 0.6 s
    )
    start = time.perf_counter()
    gate.set()
    with pytest.raises(asyncio.TimeoutError):
        await late
    assert (
        time.perf_counter() - start < 0.4
    )  # failed when collected, not at its deadline
    await first
    await batcher.close()
    assert rec.batches == [[1]]


# ---------------------------------------------------------------------- through HTTP
async def _wait_entered(scorer: GatedScorer) -> None:
    assert await anyio.to_thread.run_sync(scorer.entered.wait, 5)


async def test_concurrent_requests_become_one_model_call_with_unchanged_answers() -> (
    None
):
    scorer = GatedScorer()
    app = make_app(scorer, max_batch_size=32, max_wait_ms=20, cache_size=0)
    prompts = [f"prompt number {i} about the cat" for i in range(6)]
    async with running(app) as client:
        first = asyncio.ensure_future(
            client.post(
                "/v1/check", json={"prompts": [prompts[0]], "conditions": ["cat"]}
            )
        )
        await _wait_entered(scorer)  # the model is busy with request 0 ...
        rest = [
            asyncio.ensure_future(
                client.post("/v1/check", json={"prompts": [p], "conditions": ["cat"]})
            )
            for p in prompts[1:]
        ]
        await asyncio.sleep(0.1)  # ... while requests 1-5 queue up
        scorer.gate.set()
        responses = [await first, *[await r for r in rest]]
        metrics = (await client.get("/metrics")).text
    assert [len(call) for call in scorer.calls] == [1, 5]  # pairs: one per prompt
    reference = Guard(FakeScorer(), conditions=["cat"])
    for prompt, response in zip(prompts, responses, strict=True):
        got = response.json()["verdicts"][0]["conditions"][0]
        assert got["entailment"] == reference.check(prompt).results[0].entailment
    assert 'crossingguard_batch_requests_bucket{le="8.0"} 2.0' in metrics
    assert "crossingguard_batch_requests_count 2.0" in metrics
    assert "crossingguard_batch_requests_sum 6.0" in metrics


async def test_batching_off_runs_each_request_alone() -> None:
    scorer = FakeScorer()
    app = make_app(scorer, max_batch_size=1, cache_size=0)
    async with running(app) as client:
        await asyncio.gather(
            *(
                client.post(
                    "/v1/check", json={"prompts": [f"p {i}"], "conditions": ["p"]}
                )
                for i in range(4)
            )
        )
    assert [len(c) for c in scorer.calls] == [1, 1, 1, 1]


async def test_full_queue_answers_429_with_retry_after_while_healthz_answers() -> None:
    scorer = GatedScorer()
    app = make_app(scorer, max_batch_size=1, max_wait_ms=0, max_queue=1)
    body = {"prompts": ["hello"], "conditions": ["hello"]}
    async with running(app) as client:
        busy = asyncio.ensure_future(client.post("/v1/check", json=body))
        await _wait_entered(scorer)
        queued = asyncio.ensure_future(client.post("/v1/check", json=body))
        await asyncio.sleep(0.05)
        refused = await client.post("/v1/check", json=body)
        health = await client.get("/healthz")
        metrics = (await client.get("/metrics")).text
        scorer.gate.set()
        assert (await busy).status_code == 200 and (await queued).status_code == 200
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    error = refused.json()["error"]
    assert error["type"] == "rate_limit_error" and "--max-queue" in error["message"]
    assert health.status_code == 200
    assert "crossingguard_queue_depth 1.0" in metrics
    assert (
        'crossingguard_requests_total{endpoint="/v1/check",status="429"} 1.0' in metrics
    )


async def test_a_request_over_the_timeout_answers_504() -> None:
    scorer = GatedScorer()
    app = make_app(scorer, timeout_s=0.2)
    async with running(app) as client:
        r = await client.post("/v1/check", json={"prompts": ["x"], "conditions": ["x"]})
        scorer.gate.set()
    assert r.status_code == 504
    assert (
        r.json()["error"]["code"] == "timeout"
        and "--timeout" in r.json()["error"]["message"]
    )


def test_shutdown_finishes_requests_in_flight(live_server) -> None:
    """uvicorn's SIGTERM handler sets should_exit; the request already running still gets its
    answer, and the port stops accepting."""
    scorer = GatedScorer()
    server = live_server(make_app(scorer))
    result: dict[str, httpx.Response] = {}

    def call() -> None:
        result["r"] = httpx.post(
            server.url + "/v1/check",
            json={"prompts": ["bye"], "conditions": ["bye"]},
            timeout=20,
        )

    caller = threading.Thread(target=call)
    caller.start()
    assert scorer.entered.wait(5)
    server.server.should_exit = True  # what SIGTERM does
    threading.Timer(0.3, scorer.gate.set).start()
    caller.join(20)
    server.thread.join(20)
    assert result["r"].status_code == 200
    assert result["r"].json()["verdicts"][0]["fired"] is True
    assert not server.thread.is_alive()
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/healthz", timeout=1)
