"""The Ray engine: the same batch job on Ray Data, on a local Ray or a cluster.

The pipeline is ``read_datasource`` -> ``map_batches`` on a fixed-size actor pool ->
``write_parquet``:

* :class:`InputDatasource` is a Ray Data datasource over :mod:`crossingguard.batch.inputs`, one
  read task per file. Ray's own ``read_json``/``read_csv`` would stop at the first malformed line
  or invalid UTF-8 byte and number rows differently; reading through the local engine's readers
  gives every row the same row number, id and rejection reason on both engines. Each read task
  writes its file's rejected rows to ``.errors/<file>.jsonl`` (temp file + rename, so a retried
  task rewrites the same file) and passes only scorable rows on.
* :class:`GuardActor` loads the guard once per actor and turns each batch into output rows with
  :func:`crossingguard.batch.output.score_rows`, the function the local engine uses.
* ``write_parquet`` writes the shards into ``OUT/data``; the driver then joins the error files
  into ``errors.jsonl`` and writes ``summary.json``.

The Ray engine does not resume: a killed Ray run starts again in a new (or emptied) folder.
Inputs, the output folder and the model must be reachable under the same paths from every node
(a shared file system), and crossingguard must be installed on every node.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from crossingguard.batch.inputs import InputFile, plan_inputs, read_chunks
from crossingguard.batch.job import BatchJob, Layout
from crossingguard.batch.output import score_rows
from crossingguard.batch.summary import write_summary
from crossingguard.errors import CrossingGuardError, DataError, InputError
from crossingguard.io import atomic_path

if TYPE_CHECKING:
    from crossingguard.guard import Guard

ERRORS_DIR = ".errors"
READ_BLOCK_ROWS = 4096
INPUT_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64(), nullable=False),
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
    ]
)


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise InputError(
            "--engine ray needs Ray Data: pip install 'crossingguard[ray]' (or use --engine "
            "local)"
        ) from None
    return ray


def make_datasource(files: list[InputFile], job: BatchJob, errors_dir: Path) -> Any:
    """A Ray Data datasource yielding (row, id, text) blocks of the job's scorable rows.

    Built inside a function because Ray is an optional extra: importing this module must not
    need it.
    """
    _ray()
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    class _InputDatasource(Datasource):
        def estimate_inmemory_data_size(self) -> int | None:
            return sum(f.size for f in files)

        def get_read_tasks(
            self,
            parallelism: int,
            per_task_row_limit: int | None = None,
            data_context: Any = None,
        ) -> list[ReadTask]:
            return [
                ReadTask(
                    _read_task(item, index, job, errors_dir),
                    BlockMetadata(
                        num_rows=None,  # rejected rows are not passed on: unknown until read
                        size_bytes=item.size,
                        exec_stats=None,
                        input_files=(str(item.path),),
                    ),
                )
                for index, item in enumerate(files)
            ]

        def get_name(self) -> str:
            return "CrossingGuardInput"

    return _InputDatasource()


def _read_task(item: InputFile, index: int, job: BatchJob, errors_dir: Path) -> Any:
    def read() -> Iterator[pa.Table]:
        yield from read_file(item, index, job, errors_dir)

    return read


def read_file(
    item: InputFile, index: int, job: BatchJob, errors_dir: Path
) -> Iterator[pa.Table]:
    """One read task: scorable rows as tables; rejected rows to ``errors_dir/<index>.jsonl``."""
    with (
        atomic_path(errors_dir / f"{index:06d}.jsonl") as tmp,
        tmp.open("wb") as errors,
    ):
        for chunk in read_chunks(
            item,
            text_column=job.text_column,
            id_column=job.id_column,
            chunk_rows=max(job.batch_size, READ_BLOCK_ROWS),
        ):
            for record in chunk.rejected():
                if job.fail_on_error:
                    where = record["source"] + (
                        f" line {record['line']}" if "line" in record else ""
                    )
                    raise DataError(
                        f"{where}: row {record['row']} (id {record['id']}) rejected: "
                        f"{record['reason']}; fix the row, or drop --fail-on-error to send "
                        "bad rows to errors.jsonl and go on"
                    )
                errors.write(
                    json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"
                )
            rows, ids, texts = chunk.good()
            if rows:
                yield pa.Table.from_pydict(
                    {"row": rows, "id": ids, "text": texts}, schema=INPUT_SCHEMA
                )


class GuardActor:
    """A Ray Data actor: loads the guard once, then scores batches of (row, id, text)."""

    def __init__(self, job: BatchJob, threads: int) -> None:
        self.guard: Guard = job.load_guard(threads=threads)

    def __call__(self, batch: pa.Table) -> pa.Table:
        return score_rows(
            self.guard,
            batch.column("row").to_pylist(),
            batch.column("id").to_pylist(),
            batch.column("text").to_pylist(),
        )


def _absolute(job: BatchJob) -> BatchJob:
    """Ray workers do not share the driver's working directory: make every path absolute."""
    model = job.model
    if model is not None and Path(model).expanduser().exists():
        model = os.path.abspath(Path(model).expanduser())
    return replace(
        job,
        input=Path(os.path.abspath(job.input.expanduser())),
        output=Path(os.path.abspath(job.output.expanduser())),
        model=model,
    )


def _check_empty(layout: Layout) -> None:
    if layout.root.exists() and any(
        p.name != layout.lock_file.name for p in layout.root.iterdir()
    ):
        raise InputError(
            f"--output {layout.root}: not empty; the ray engine writes a fresh folder and does "
            "not resume (the local engine does); use a new --output folder or empty this one"
        )


def _cause(exc: BaseException) -> CrossingGuardError | None:
    """The CrossingGuard error inside a Ray task failure, if that is what failed."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        # Ray re-raises task errors as subclasses of both RayTaskError and the original class,
        # whose message is the whole remote traceback; the original sits in ``.cause``.
        if isinstance(e, CrossingGuardError) and type(e).__module__.startswith(
            "crossingguard"
        ):
            return e
        stack += [e.__cause__, e.__context__, getattr(e, "cause", None)]
    return None


def _join_errors(errors_dir: Path, out: Path, count: int) -> None:
    """Concatenate the read tasks' error files in input order into ``errors.jsonl``."""
    with atomic_path(out) as tmp, tmp.open("wb") as handle:
        for index in range(count):
            part = errors_dir / f"{index:06d}.jsonl"
            if not part.is_file():
                raise DataError(
                    f"{part}: missing; a read task did not finish, so the run is incomplete"
                )
            handle.write(part.read_bytes())
    for part in errors_dir.iterdir():
        part.unlink()
    errors_dir.rmdir()


def run_ray(job: BatchJob, *, address: str | None = None) -> dict[str, Any]:
    """Run ``job`` on Ray Data; return the summary written to ``summary.json``.

    ``address`` joins a running cluster (``ray.init(address=...)``); without it, a Ray already
    initialised in this process is used, else a local Ray with ``workers + 1`` CPUs is started
    (one per actor, one for reading) and shut down at the end.
    """
    ray = _ray()
    start = time.perf_counter()
    job = _absolute(job)
    files = plan_inputs(job.input, text_column=job.text_column, id_column=job.id_column)
    total = sum(f.rows for f in files)
    layout = Layout(job.output)
    _check_empty(layout)
    layout.make()
    with layout.lock():
        guard = job.load_guard(
            threads=1
        )  # fail here, clearly, if the model cannot load
        started = not ray.is_initialized()
        if started:
            ray.init(
                address=address,
                num_cpus=None if address else job.workers + 1,
                include_dashboard=False,
                logging_level=logging.WARNING,
            )
        try:
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = job.progress
            startup = time.perf_counter() - start
            scoring_start = time.perf_counter()
            threads = job.threads or max(1, (os.cpu_count() or 1) // job.workers)
            errors_dir = layout.root / ERRORS_DIR
            try:
                (
                    ray.data.read_datasource(make_datasource(files, job, errors_dir))
                    .map_batches(
                        GuardActor,
                        fn_constructor_kwargs={"job": job, "threads": threads},
                        batch_size=job.batch_size,
                        batch_format="pyarrow",
                        compute=ray.data.ActorPoolStrategy(size=job.workers),
                        num_cpus=1,
                    )
                    .write_parquet(str(layout.data), min_rows_per_file=job.shard_rows)
                )
            except Exception as exc:
                cause = _cause(exc)
                if cause is not None:
                    raise type(cause)(str(cause)) from None
                raise
            seconds = time.perf_counter() - scoring_start
        finally:
            if started:
                ray.shutdown()
        _join_errors(errors_dir, layout.errors, len(files))
        run: dict[str, Any] = {"engine": "ray", "rows_this_run": total}
        run.update(seconds=seconds, startup_seconds=startup)
        return write_summary(layout, guard, job, rows_in=total, run=run)
