"""Dynamic micro-batching: requests that arrive together become one model call.

A cross-encoder scores every (prompt, hypothesis) pair, and one call over many pairs is much
cheaper per pair than many small calls (pairs are sorted by length and padded per batch, and the
fixed cost of a call is paid once). So one worker task takes the first waiting request, keeps
collecting until ``max_batch_size`` items (prompts, or pairs for classify) or ``max_wait_s`` have
passed, and runs each group of compatible requests (same key: same policy, conditions and
threshold) as one call in a worker thread, so the event loop keeps accepting and answering
``/healthz`` while the model runs. The queue is bounded: a full queue is refused at once
(:class:`QueueFull`, the caller answers 429) instead of letting latency grow without limit.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger("crossingguard.serve")

BatchFn = Callable[[list[Any]], Sequence[Any]]


class QueueFull(Exception):
    """The queue holds ``max_queue`` requests; ``retry_after`` is a guess in whole seconds."""

    def __init__(self, depth: int, retry_after: int) -> None:
        super().__init__(f"queue full ({depth} requests waiting)")
        self.depth = depth
        self.retry_after = retry_after


class BatcherClosed(Exception):
    """The server is shutting down and takes no new work."""


class BatchObserver(Protocol):
    def observe_batch(self, *, requests: int, items: int, seconds: float) -> None: ...


@dataclass(eq=False)
class _Job:
    key: Hashable
    items: list[Any]
    run: BatchFn
    future: asyncio.Future[list[Any]] = field(repr=False)


class MicroBatcher:
    """Merge concurrent jobs into batches; one worker, one inference thread.

    ``run`` of a job takes the items of every job merged with it (in order) and returns one result
    per item; jobs with the same ``key`` must pass equivalent ``run`` functions.
    """

    def __init__(
        self,
        *,
        max_batch_size: int,
        max_wait_s: float,
        max_queue: int,
        observer: BatchObserver | None = None,
    ) -> None:
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.max_queue = max_queue
        self.observer = observer
        self._pending: deque[_Job] = deque()
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._closing = False
        # One thread: batches run one after another, which is what makes merging pay off; the
        # default executor stays free for model loading and sync endpoints.
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="cg-batch"
        )
        self._seconds_per_batch = 0.0  # moving average, for Retry-After

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._worker is None:
            self._wakeup = asyncio.Event()
            self._worker = asyncio.get_running_loop().create_task(
                self._work(), name="crossingguard-batcher"
            )

    async def close(self) -> None:
        """Stop taking jobs, finish every job already queued, then stop the worker."""
        self._closing = True
        if self._wakeup is not None:
            self._wakeup.set()
        if self._worker is not None:
            await self._worker
            self._worker = None
        self._executor.shutdown(wait=True)

    @property
    def depth(self) -> int:
        """Requests waiting for a batch (not those running)."""
        return len(self._pending)

    @property
    def retry_after(self) -> int:
        """Whole seconds the current queue needs at the recent speed (at least 1)."""
        batches = math.ceil(max(1, self.depth) / self.max_batch_size)
        return max(1, math.ceil(batches * self._seconds_per_batch))

    # ------------------------------------------------------------------ submitting
    async def submit(self, key: Hashable, items: list[Any], run: BatchFn) -> list[Any]:
        """Queue ``items``; their results, in order, once their batch has run.

        Cancelling the await (a per-request timeout) drops the job if it has not started.
        """
        if self._closing or self._worker is None or self._wakeup is None:
            raise BatcherClosed("the server is shutting down")
        if len(self._pending) >= self.max_queue:
            raise QueueFull(len(self._pending), self.retry_after)
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        job = _Job(key, list(items), run, future)
        future.add_done_callback(lambda f: self._forget(job) if f.cancelled() else None)
        self._pending.append(job)
        self._wakeup.set()
        return await future

    def _forget(self, job: _Job) -> None:
        try:
            self._pending.remove(job)
        except ValueError:
            pass  # already taken by the worker; its result is dropped

    # ------------------------------------------------------------------ the worker
    async def _work(self) -> None:
        while True:
            jobs = await self._collect()
            if not jobs:
                return
            try:
                await self._run(jobs)
            except Exception as exc:  # never let one batch kill the worker
                log.exception("batch failed")
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)

    async def _wait(self, timeout: float | None) -> bool:
        """Wait for a new job; False on timeout. Waiting on an Event never loses a job."""
        assert self._wakeup is not None
        self._wakeup.clear()
        try:
            await asyncio.wait_for(self._wakeup.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def _collect(self) -> list[_Job]:
        """The next batch: the oldest job plus whatever arrives before it is full or times out."""
        while not self._pending:
            if self._closing:
                return []
            await self._wait(None)
        loop = asyncio.get_running_loop()
        first = self._pending.popleft()
        jobs, size = [first], len(first.items)
        deadline = loop.time() + self.max_wait_s
        while size < self.max_batch_size:
            if self._pending:
                nxt = self._pending[0]
                if size + len(nxt.items) > self.max_batch_size:
                    break  # stays first in line for the next batch
                jobs.append(self._pending.popleft())
                size += len(nxt.items)
                continue
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing or not await self._wait(remaining):
                break
        return jobs

    async def _run(self, jobs: list[_Job]) -> None:
        groups: dict[Hashable, list[_Job]] = {}
        for job in jobs:
            groups.setdefault(job.key, []).append(job)
        for group in groups.values():
            live = [j for j in group if not j.future.done()]
            if live:
                await self._run_group(live)

    async def _run_group(self, jobs: list[_Job]) -> None:
        loop = asyncio.get_running_loop()
        items = [item for job in jobs for item in job.items]
        start = time.perf_counter()
        try:
            results = await loop.run_in_executor(self._executor, jobs[0].run, items)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request, not swallowed
            if len(jobs) > 1:
                # One request's bad input must not fail the requests merged with it.
                for job in jobs:
                    await self._run_group([job])
                return
            if not jobs[0].future.done():
                jobs[0].future.set_exception(exc)
            return
        seconds = time.perf_counter() - start
        self._seconds_per_batch = (
            seconds
            if not self._seconds_per_batch
            else 0.8 * self._seconds_per_batch + 0.2 * seconds
        )
        if self.observer is not None:
            self.observer.observe_batch(
                requests=len(jobs), items=len(items), seconds=seconds
            )
        if len(results) != len(items):
            raise RuntimeError(
                f"batch returned {len(results)} results for {len(items)} items"
            )
        offset = 0
        for job in jobs:
            n = len(job.items)
            if not job.future.done():
                job.future.set_result(list(results[offset : offset + n]))
            offset += n
