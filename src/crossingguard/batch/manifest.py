"""The resume manifest: which input rows the committed shards cover, and for which job.

``manifest.jsonl`` in the output folder is an append-only log. Its first line (written
atomically, by rename) describes the job: input files, columns, policy identity and digest,
model. Each later line commits one shard: the shard file, the row ranges it covers (scored and
rejected rows alike) and the size of ``errors.jsonl`` after that shard's rejected rows were
appended. A commit counts once its line is complete; a torn last line (the process died while
writing it) is dropped on resume, together with the shard file it named.

Appending a line per shard keeps each commit O(1) however long the job runs; rewriting a
JSON file per commit would make a run of many shards quadratic.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossingguard.errors import InputError
from crossingguard.io import atomic_path

MANIFEST = "manifest.jsonl"
FORMAT_VERSION = 1


class RangeSet:
    """A set of row numbers stored as sorted, merged half-open ranges [start, stop)."""

    def __init__(self, ranges: Iterable[Iterable[int]] = ()) -> None:
        self._ranges: list[list[int]] = []
        for start, stop in ranges:
            self.add(start, stop)

    def add(self, start: int, stop: int) -> None:
        if stop <= start:
            return
        merged = [start, stop]
        keep = []
        for a, b in self._ranges:
            if b < merged[0] or a > merged[1]:
                keep.append([a, b])
            else:
                merged = [min(a, merged[0]), max(b, merged[1])]
        keep.append(merged)
        self._ranges = sorted(keep)

    def add_rows(self, rows: Iterable[int]) -> None:
        """Add row numbers, merging runs of consecutive rows into one range each."""
        start = stop = None
        for row in rows:
            if start is not None and row == stop:
                stop += 1
                continue
            if start is not None:
                self.add(start, stop)  # type: ignore[arg-type]
            start, stop = row, row + 1
        if start is not None:
            self.add(start, stop)  # type: ignore[arg-type]

    def __contains__(self, row: object) -> bool:
        if not isinstance(row, int):
            return False
        lo, hi = 0, len(self._ranges)
        while lo < hi:  # the last range starting at or before ``row``
            mid = (lo + hi) // 2
            if self._ranges[mid][0] <= row:
                lo = mid + 1
            else:
                hi = mid
        return lo > 0 and row < self._ranges[lo - 1][1]

    def covers(self, start: int, stop: int) -> bool:
        """Whether every row in [start, stop) is in the set."""
        return stop <= start or any(a <= start and stop <= b for a, b in self._ranges)

    def __len__(self) -> int:
        return sum(b - a for a, b in self._ranges)

    def to_list(self) -> list[list[int]]:
        return [list(r) for r in self._ranges]


@dataclass
class ShardCommit:
    """One committed shard: its file (None when every row was rejected) and the rows it covers."""

    file: str | None
    ranges: RangeSet
    written: int
    rejected: int
    errors_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "shard",
            "file": self.file,
            "rows": self.ranges.to_list(),
            "written": self.written,
            "rejected": self.rejected,
            "errors_bytes": self.errors_bytes,
        }


@dataclass
class Manifest:
    """The job description and its committed shards, as read back from ``manifest.jsonl``."""

    job: dict[str, Any]
    shards: list[ShardCommit] = field(default_factory=list)
    committed_bytes: int = 0  # length of the valid prefix of the file

    @property
    def done(self) -> RangeSet:
        out = RangeSet()
        for s in self.shards:
            for a, b in s.ranges.to_list():
                out.add(a, b)
        return out

    @property
    def errors_bytes(self) -> int:
        return self.shards[-1].errors_bytes if self.shards else 0


def job_record(
    *,
    input_path: str,
    files: list[dict[str, Any]],
    text_column: str,
    id_column: str | None,
    policy_identity: str,
    policy_digest: str,
    model: str,
    model_fingerprint: str,
) -> dict[str, Any]:
    return {
        "kind": "job",
        "version": FORMAT_VERSION,
        "input": input_path,
        "files": files,
        "text_column": text_column,
        "id_column": id_column,
        "policy": policy_identity,
        "policy_digest": policy_digest,
        "model": model,
        "model_fingerprint": model_fingerprint,
    }


def check_same_job(path: Path, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Refuse to resume a job whose policy, model, input or columns changed, and say which."""
    fix = (
        f"rerun with the original settings to resume, or write to a new --output folder "
        f"(or delete {path.parent})"
    )
    if old.get("version") != FORMAT_VERSION:
        raise InputError(
            f"{path}: written by another version of the batch format "
            f"({old.get('version')!r}, this is {FORMAT_VERSION}); write to a new --output folder"
        )
    if old.get("policy_digest") != new["policy_digest"]:
        raise InputError(
            f"{path}: the policy changed since this output was started (it was "
            f"{old.get('policy')}, now {new['policy']}); resuming would mix verdicts of two "
            f"policies; {fix}"
        )
    if (old.get("model"), old.get("model_fingerprint")) != (
        new["model"],
        new["model_fingerprint"],
    ):
        raise InputError(
            f"{path}: the model changed since this output was started (it was "
            f"{old.get('model')} [{old.get('model_fingerprint')}], now {new['model']} "
            f"[{new['model_fingerprint']}]); resuming would mix scores of two models; {fix}"
        )
    for key, what in (("text_column", "--text-column"), ("id_column", "--id-column")):
        if old.get(key) != new[key]:
            raise InputError(
                f"{path}: {what} changed since this output was started "
                f"({old.get(key)!r}, now {new[key]!r}); {fix}"
            )
    if old.get("files") != new["files"]:
        raise InputError(
            f"{path}: the input changed since this output was started (its files, sizes or "
            f"row counts differ: {old.get('input')} then, {new['input']} now); committed row "
            f"numbers would no longer name the same rows; {fix}"
        )


def read_manifest(path: Path) -> Manifest | None:
    """The manifest in ``path``'s folder, or None if there is none. A torn last line is ignored."""
    if not path.exists():
        return None
    data = path.read_bytes()
    # Everything after the last newline is a commit line torn by a kill: not committed.
    complete = data.split(b"\n")[:-1]
    manifest: Manifest | None = None
    offset = 0
    for i, raw in enumerate(complete):
        try:
            rec = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InputError(
                f"{path}: line {i + 1} is not valid JSON; the manifest is damaged, so the "
                "committed rows are unknown: write to a new --output folder"
            ) from None
        if manifest is None:
            if rec.get("kind") != "job":
                raise InputError(
                    f"{path}: the first line is not a job record; write to a new --output folder"
                )
            manifest = Manifest(rec)
        else:
            manifest.shards.append(
                ShardCommit(
                    rec["file"],
                    RangeSet(rec["rows"]),
                    rec["written"],
                    rec["rejected"],
                    rec["errors_bytes"],
                )
            )
        offset += len(raw) + 1
    if manifest is None:
        raise InputError(
            f"{path}: empty or damaged manifest; write to a new --output folder"
        )
    manifest.committed_bytes = offset
    return manifest


def write_job(path: Path, job: dict[str, Any]) -> None:
    """Start a manifest holding only the job line (temp file + rename: all or nothing)."""
    with atomic_path(path, durable=True) as tmp:
        tmp.write_bytes(json.dumps(job, ensure_ascii=False).encode("utf-8") + b"\n")


def append_commit(path: Path, commit: ShardCommit) -> None:
    """Commit a shard: one line, flushed to disk before the function returns."""
    line = json.dumps(commit.to_dict()).encode("utf-8") + b"\n"
    with path.open("ab") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def truncate(path: Path, size: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(size)
        handle.flush()
        os.fsync(handle.fileno())
