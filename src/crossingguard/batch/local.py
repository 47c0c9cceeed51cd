"""The local engine: stream the input, score it with the guard, commit shards, resume after a kill.

Memory stays bounded by the open shard (``shard_rows`` rows of results) plus the chunks in flight,
whatever the input size. With ``workers > 1`` chunks are scored by that many processes, each
loading the model once; results are still committed in input order by this process, which alone
writes the output folder.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from crossingguard.batch.inputs import (
    InputFile,
    RowChunk,
    input_identity,
    plan_inputs,
    read_chunks,
)
from crossingguard.batch.job import BatchJob, Layout, job_identity
from crossingguard.batch.output import (
    output_schema,
    score_rows,
)
from crossingguard.batch.progress import RowProgress
from crossingguard.batch.shards import ShardWriter, open_output
from crossingguard.batch.summary import write_summary
from crossingguard.errors import DataError

if TYPE_CHECKING:
    from crossingguard.guard import Guard


def run_local(job: BatchJob, *, guard: Guard | None = None) -> dict[str, Any]:
    """Run (or resume) ``job`` in this process; return the summary it wrote to ``summary.json``.

    ``guard`` reuses a loaded guard (tests pass one on a fake scorer); by default the job loads
    its own. With ``workers > 1`` each worker process loads the model from the job instead.
    """
    start = time.perf_counter()
    files = plan_inputs(job.input, text_column=job.text_column, id_column=job.id_column)
    total = sum(f.rows for f in files)
    layout = Layout(job.output)
    layout.make()
    with layout.lock():
        guard = guard if guard is not None else job.load_guard()
        manifest = open_output(layout, job_identity(job, guard, input_identity(files)))
        done = manifest.done
        writer = ShardWriter(layout, output_schema(guard), manifest)
        startup = time.perf_counter() - start
        scoring_start = time.perf_counter()
        with RowProgress(total, len(done), enabled=job.progress) as progress:
            for chunk, table in _scored(job, guard, _chunks(job, files, done)):
                writer.add(chunk.rows, table, chunk.rejected())
                progress.advance(len(chunk))
                if writer.pending >= job.shard_rows:
                    writer.commit()
            writer.commit()
        seconds = time.perf_counter() - scoring_start
        run: dict[str, Any] = {
            "engine": "local",
            "rows_this_run": writer.committed_rows,
        }
        run.update(rows_resumed=len(done), seconds=seconds, startup_seconds=startup)
        return write_summary(layout, guard, job, rows_in=total, run=run)


def _chunks(job: BatchJob, files: list[InputFile], done: Any) -> Iterator[RowChunk]:
    """The rows still to do, file by file; files already fully committed are not opened."""
    for item in files:
        if done.covers(item.offset, item.offset + item.rows):
            continue
        for chunk in read_chunks(
            item,
            text_column=job.text_column,
            id_column=job.id_column,
            chunk_rows=job.batch_size,
            skip=done,
        ):
            if job.fail_on_error:
                _fail_on_first_rejected(chunk)
            yield chunk


def _fail_on_first_rejected(chunk: RowChunk) -> None:
    for record in chunk.rejected()[:1]:
        where = record["source"] + (
            f" line {record['line']}" if "line" in record else ""
        )
        raise DataError(
            f"{where}: row {record['row']} (id {record['id']}) rejected: {record['reason']}; "
            "fix the row, or drop --fail-on-error to send bad rows to errors.jsonl and go on"
        )


def _scored(
    job: BatchJob, guard: Guard, chunks: Iterator[RowChunk]
) -> Iterator[tuple[RowChunk, pa.Table]]:
    """Each chunk with its scored table, in input order."""
    if job.workers == 1:
        for chunk in chunks:
            yield chunk, score_rows(guard, *chunk.good())
        return
    threads = job.threads or max(1, (os.cpu_count() or 1) // job.workers)
    with ProcessPoolExecutor(
        max_workers=job.workers,
        mp_context=get_context(
            "spawn"
        ),  # no forked copy of this process's threads and locks
        initializer=_init_worker,
        initargs=(job, threads, os.getpid()),
    ) as pool:
        pending: deque[tuple[RowChunk, Future[pa.Table]]] = deque()
        for chunk in chunks:
            pending.append((chunk, pool.submit(_score_in_worker, *chunk.good())))
            if (
                len(pending) > 2 * job.workers
            ):  # bounded: a few chunks in flight per worker
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


_WORKER_GUARD: Guard | None = None


def _init_worker(job: BatchJob, threads: int, parent: int) -> None:
    global _WORKER_GUARD
    _WORKER_GUARD = job.load_guard(threads=threads)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A killed parent (``kill -9``) cannot shut the pool down; workers notice and exit."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _score_in_worker(rows: list[int], ids: list[str], texts: list[str]) -> pa.Table:
    if _WORKER_GUARD is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("batch worker used before its guard was loaded")
    return score_rows(_WORKER_GUARD, rows, ids, texts)
