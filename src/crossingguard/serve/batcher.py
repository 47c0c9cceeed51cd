"""Dynamic micro-batching: requests that arrive together become one model call.

A cross-encoder scores every (prompt, hypothesis) pair, and one call over many pairs costs less
per pair than many small calls (pairs are sorted by length and padded per batch, and the fixed
cost of a call is paid once). So one worker task takes the oldest waiting request, keeps
collecting until ``max_batch_size`` items (prompts, or pairs for classify) or ``max_wait_s`` have
passed, and runs each group of compatible requests (same key: same policy, conditions and
threshold) as one call in a worker thread, so the event loop keeps accepting and answering
``/healthz`` while the model runs.

Overload is refused early instead of served late. The queue is bounded in requests
(``max_queue``) and, once the speed of the model is known (seconds per item, a moving average of
the batches run, seeded by the warm-up), in time: a request that would wait longer than its own
timeout is refused at once (:class:`QueueFull`, the caller answers 429 with ``Retry-After``). A
batch takes only as many requests as it can finish before the oldest of them times out, and a
request that can no longer finish in time is failed at once (``asyncio.TimeoutError``, 504)
rather than computed for nobody. Without this, one batch too large for the timeout wastes its
whole model call and every request in it times out.
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
from typing import Any, Literal, Protocol

log = logging.getLogger("crossingguard.serve")

BatchFn = Callable[[list[Any]], Sequence[Any]]


class QueueFull(Exception):
    """Refused at the door: ``reason`` says whether the request count or the wait was too high;
    ``retry_after`` is the estimated time, in whole seconds, to work off the current queue."""

    def __init__(
        self,
        reason: Literal["depth", "wait"],
        depth: int,
        wait_s: float,
        retry_after: int,
    ) -> None:
        super().__init__(f"queue full ({depth} requests, about {wait_s:.1f} s of work)")
        self.reason = reason
        self.depth = depth
        self.wait_s = wait_s
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
    deadline: float  # loop time; inf without a timeout
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
        self._running_items = 0
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._closing = False
        # One thread: batches run one after another, which is what makes merging pay off; the
        # default executor stays free for model loading and sync endpoints.
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="cg-batch"
        )
        self.seconds_per_item: float | None = (
            None  # moving average; None until measured
        )

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

    # ------------------------------------------------------------------ speed and backlog
    def observe_speed(self, items: int, seconds: float) -> None:
        """Fold a measured call (a batch, or the warm-up) into the seconds-per-item average."""
        if items <= 0:
            return
        sample = seconds / items
        spi = self.seconds_per_item
        self.seconds_per_item = sample if spi is None else 0.7 * spi + 0.3 * sample

    @property
    def depth(self) -> int:
        """Requests waiting for a batch (not those running)."""
        return len(self._pending)

    def backlog_s(self, extra_items: int = 0) -> float:
        """Seconds of work queued and running (plus ``extra_items``) at the recent speed."""
        if self.seconds_per_item is None:
            return 0.0
        items = (
            sum(len(j.items) for j in self._pending) + self._running_items + extra_items
        )
        return items * self.seconds_per_item

    @property
    def retry_after(self) -> int:
        """Whole seconds the current backlog needs at the recent speed (at least 1)."""
        return max(1, math.ceil(self.backlog_s()))

    # ------------------------------------------------------------------ submitting
    async def submit(
        self,
        key: Hashable,
        items: list[Any],
        run: BatchFn,
        *,
        timeout: float | None = None,
    ) -> list[Any]:
        """Queue ``items``; their results, in order, once their batch has run.

        Raises :class:`QueueFull` at once when the queue is full or the wait would exceed
        ``timeout``, and ``asyncio.TimeoutError`` when no result came within ``timeout`` (a job
        that has not started is dropped; one that has is left to finish, its result unused).
        """
        if self._closing or self._worker is None or self._wakeup is None:
            raise BatcherClosed("the server is shutting down")
        if len(self._pending) >= self.max_queue:
            raise QueueFull(
                "depth", len(self._pending), self.backlog_s(), self.retry_after
            )
        wait = self.backlog_s(len(items))
        if timeout is not None and wait > timeout:
            raise QueueFull("wait", len(self._pending), wait, self.retry_after)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        deadline = math.inf if timeout is None else loop.time() + timeout
        job = _Job(key, list(items), run, deadline, future)
        future.add_done_callback(lambda f: self._forget(job) if f.cancelled() else None)
        self._pending.append(job)
        self._wakeup.set()
        return await asyncio.wait_for(future, timeout)

    def _forget(self, job: _Job) -> None:
        try:
            self._pending.remove(job)
        except ValueError:
            pass  # already taken by the worker; its result is dropped

    # ------------------------------------------------------------------ the worker
    async def _work(self) -> None:
        while True:
            jobs = await self._collect()
            if jobs is None:
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

    async def _collect(self) -> list[_Job] | None:
        """The next batch (None once closed and empty): the oldest job plus whatever arrives
        before it is full or ``max_wait_s`` has passed, trimmed to what can finish in time."""
        while not self._pending:
            if self._closing:
                return None
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
        return self._fit(jobs, loop.time())

    def _fit(self, jobs: list[_Job], now: float) -> list[_Job]:
        """Keep the oldest jobs whose batch finishes before every kept job's deadline; fail
        those that cannot finish even alone, and put the rest back at the head of the queue."""
        spi = self.seconds_per_item
        if spi is None:
            return jobs
        kept: list[_Job] = []
        back: list[_Job] = []
        items, earliest = 0, math.inf
        for job in jobs:
            if job.future.done():
                continue
            if now + len(job.items) * spi > job.deadline:
                job.future.set_exception(asyncio.TimeoutError())
                continue
            if kept and now + (items + len(job.items)) * spi > min(
                earliest, job.deadline
            ):
                back.append(job)
                continue
            kept.append(job)
            items += len(job.items)
            earliest = min(earliest, job.deadline)
        self._pending.extendleft(reversed(back))
        return kept

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
        self._running_items = len(items)
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
        finally:
            self._running_items = 0
        seconds = time.perf_counter() - start
        self.observe_speed(len(items), seconds)
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
