"""Crash-safe output for the local engine: shards committed one at a time, resumable after a kill.

A shard is committed in three steps, each durable before the next starts:

1. its Parquet file is written to ``data/.part-N.parquet.tmp``, fsynced and renamed to
   ``data/part-N.parquet``;
2. its rejected rows are appended to ``errors.jsonl`` and fsynced;
3. a line naming the file, the row ranges it covers and the new length of ``errors.jsonl`` is
   appended to ``manifest.jsonl`` and fsynced. Only now is the shard committed.

Killed anywhere in between, the next run (:func:`open_output`) finds the shard missing from the
manifest, deletes its file, cuts ``errors.jsonl`` back to the committed length and scores those
rows again. So every input row ends up in exactly one committed shard or error line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from crossingguard.batch.job import Layout
from crossingguard.batch.manifest import (
    Manifest,
    RangeSet,
    ShardCommit,
    append_commit,
    check_same_job,
    read_manifest,
    truncate,
    write_job,
)
from crossingguard.errors import InputError
from crossingguard.io import atomic_path


def open_output(layout: Layout, job: dict[str, Any]) -> Manifest:
    """Start a new output folder, or reopen one for resuming: check it belongs to the same job,
    then drop whatever a killed run left uncommitted."""
    layout.make()
    manifest = read_manifest(layout.manifest)
    if manifest is None:
        leftovers = [p.name for p in layout.data.iterdir()] + [
            p.name for p in (layout.errors, layout.summary) if p.exists()
        ]
        if leftovers:
            raise InputError(
                f"--output {layout.root}: holds output without a {layout.manifest.name} "
                f"({', '.join(sorted(leftovers)[:5])}), so it was not started by a local batch "
                "run and cannot be resumed; write to a new --output folder or empty this one"
            )
        write_job(layout.manifest, job)
        layout.errors.touch()
        return Manifest(job, committed_bytes=layout.manifest.stat().st_size)

    check_same_job(layout.manifest, manifest.job, job)
    if layout.manifest.stat().st_size > manifest.committed_bytes:
        truncate(
            layout.manifest, manifest.committed_bytes
        )  # a torn, uncommitted last line
    committed = {s.file for s in manifest.shards if s.file}
    for path in layout.data.iterdir():
        if f"data/{path.name}" not in committed:
            path.unlink()  # a shard written but never committed, or a temp file
    for name in committed:
        if not (layout.root / name).is_file():
            raise InputError(
                f"{layout.manifest}: committed shard {name} is missing; the folder was changed "
                "by hand, so its rows are lost: write to a new --output folder"
            )
    size = layout.errors.stat().st_size if layout.errors.exists() else 0
    if size < manifest.errors_bytes:
        raise InputError(
            f"{layout.errors}: shorter ({size} bytes) than committed ({manifest.errors_bytes}); "
            "the folder was changed by hand: write to a new --output folder"
        )
    if not layout.errors.exists():
        layout.errors.touch()
    truncate(layout.errors, manifest.errors_bytes)
    layout.summary.unlink(missing_ok=True)  # rewritten when this run finishes
    return manifest


class ShardWriter:
    """Collects scored tables and rejected rows, and commits them as one shard."""

    def __init__(self, layout: Layout, schema: pa.Schema, manifest: Manifest) -> None:
        self.layout = layout
        self.schema = schema
        self.index = len(manifest.shards)
        self.errors_bytes = manifest.errors_bytes
        self._tables: list[pa.Table] = []
        self._errors: list[dict[str, Any]] = []
        self._rows = RangeSet()
        self.pending = 0  # input rows in the open shard, scored and rejected
        self.committed_rows = 0

    def add(
        self, rows: list[int], table: pa.Table, rejected: list[dict[str, Any]]
    ) -> None:
        """Add the results for input rows ``rows`` (``table`` scored, ``rejected`` not)."""
        if table.num_rows:
            self._tables.append(table)
        self._errors.extend(rejected)
        self._rows.add_rows(rows)
        self.pending += len(rows)

    def commit(self) -> None:
        """Make the open shard durable (see the module docstring for the three steps)."""
        if not self.pending:
            return
        name = f"part-{self.index:06d}.parquet"
        written = sum(t.num_rows for t in self._tables)
        file = None
        if written:
            table = pa.concat_tables(self._tables).replace_schema_metadata(
                self.schema.metadata
            )
            self._write_shard(table, self.layout.data / name)
            file = f"data/{name}"
        if self._errors:
            self.errors_bytes = self._append_errors(self._errors)
        append_commit(
            self.layout.manifest,
            ShardCommit(
                file, self._rows, written, len(self._errors), self.errors_bytes
            ),
        )
        self.committed_rows += self.pending
        self.index += 1
        self._tables, self._errors, self._rows, self.pending = [], [], RangeSet(), 0

    def _write_shard(self, table: pa.Table, path: Path) -> None:
        with atomic_path(path, durable=True) as tmp:
            pq.write_table(table, str(tmp))

    def _append_errors(self, records: list[dict[str, Any]]) -> int:
        data = b"".join(
            json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in records
        )
        with self.layout.errors.open("ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            return handle.tell()
