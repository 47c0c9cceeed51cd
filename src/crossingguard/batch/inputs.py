"""Stream a batch job's input (JSONL, CSV or Parquet; one file or a folder of them) in chunks.

Every row gets a *row number*: its 0-based position in the whole input, files taken in sorted
path order. Row numbers are what the resume manifest records and what the output keys on, so the
same input must always produce the same numbering, whichever engine reads it. That is why both
engines read through :func:`read_chunks` here (Ray wraps it in a datasource) and why per-file row
counts are taken up front (:func:`plan_inputs`): a file's first row number is the sum of the rows
before it, known without reading earlier files again.

A row that cannot be scored (malformed JSON line, invalid UTF-8, missing or non-string text, empty
prompt, missing or unusable id) is not an exception: it comes out of the reader with a rejection
reason, so the engines can send it to ``errors.jsonl`` and keep going. Only problems with a whole
file (unreadable, no such column in a CSV/Parquet header) stop the job, before any scoring.

Nothing here reads a whole file: JSONL is read line by line, CSV with pyarrow's streaming reader,
Parquet batch by batch.
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from crossingguard.errors import InputError
from crossingguard.limits import MAX_PROMPT_CHARS
from crossingguard.text import unicode_problem

InputFormat = Literal["jsonl", "csv", "parquet"]
SUFFIXES: dict[str, InputFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# CSV is parsed in blocks of this many bytes; one block is the most the CSV reader holds at once.
CSV_BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One input file: where it is, how to parse it, and which row numbers it holds."""

    path: Path
    name: str  # path relative to the input root (the file name for a single-file input)
    format: InputFormat
    size: int
    rows: int
    offset: int  # row number of its first row

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "format": self.format,
            "size": self.size,
            "rows": self.rows,
        }


@dataclass
class RowChunk:
    """Consecutive rows of one file; ``texts[i]`` is None exactly when ``reasons[i]`` is set.

    ``kinds``/``reasons`` say why a row was rejected (a stable code and a sentence);
    ``lines`` is the JSONL line or CSV record number of each row where the format has one.
    """

    source: str
    rows: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    texts: list[str | None] = field(default_factory=list)
    kinds: list[str | None] = field(default_factory=list)
    reasons: list[str | None] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def add(
        self,
        row: int,
        row_id: str,
        text: str | None,
        *,
        kind: str | None = None,
        reason: str | None = None,
        line: int | None = None,
    ) -> None:
        self.rows.append(row)
        self.ids.append(row_id)
        self.texts.append(text)
        self.kinds.append(kind)
        self.reasons.append(reason)
        self.lines.append(line)

    def rejected(self) -> list[dict[str, Any]]:
        """The rejected rows as ``errors.jsonl`` records, in row order."""
        return [
            _error_record(self.rows[i], self.ids[i], self.source, self.lines[i], k, r)
            for i, (k, r) in enumerate(zip(self.kinds, self.reasons, strict=True))
            if k is not None and r is not None
        ]

    def good(self) -> tuple[list[int], list[str], list[str]]:
        """Row numbers, ids and texts of the rows that can be scored."""
        keep = [i for i, t in enumerate(self.texts) if t is not None]
        return (
            [self.rows[i] for i in keep],
            [self.ids[i] for i in keep],
            [self.texts[i] for i in keep],  # type: ignore[misc]
        )


def _error_record(
    row: int, row_id: str, source: str, line: int | None, kind: str, reason: str
) -> dict[str, Any]:
    record: dict[str, Any] = {"row": row, "id": row_id, "source": source}
    if line is not None:
        record["line"] = line
    record["kind"] = kind
    record["reason"] = reason
    return record


# ---------------------------------------------------------------------- planning
def find_input_files(path: Path) -> list[tuple[Path, str, InputFormat]]:
    """The files of an input: the file itself, or every supported file under a folder, sorted."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"--input {path}: no such file or folder")
    if path.is_file():
        fmt = SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            raise InputError(
                f"--input {path}: unsupported file type {path.suffix or '(none)'!r}; expected "
                f"{', '.join(SUFFIXES)} (or a folder of such files)"
            )
        return [(path, path.name, fmt)]
    found = []
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path)
        if any(part.startswith((".", "_")) for part in rel.parts) or not p.is_file():
            continue  # hidden files and _SUCCESS-style markers are not data
        fmt = SUFFIXES.get(p.suffix.lower())
        if fmt is not None:
            found.append((p, rel.as_posix(), fmt))
    if not found:
        raise InputError(
            f"--input {path}: the folder holds no {', '.join(SUFFIXES)} files; point --input "
            "at a data file or a folder of them"
        )
    return found


def plan_inputs(
    path: Path, *, text_column: str, id_column: str | None
) -> list[InputFile]:
    """Find the input files, check their columns and count their rows (to number rows and to
    show progress). Parquet counts come from the footer; JSONL and CSV are scanned once."""
    out: list[InputFile] = []
    offset = 0
    for p, name, fmt in find_input_files(path):
        if fmt != "jsonl":
            _check_columns(p, name, fmt, text_column, id_column)
        rows = count_rows(p, fmt, text_column)
        out.append(InputFile(p, name, fmt, p.stat().st_size, rows, offset))
        offset += rows
    return out


def _columns(path: Path, fmt: InputFormat) -> list[str]:
    try:
        if fmt == "parquet":
            return list(pq.ParquetFile(path).schema_arrow.names)
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                use_threads=False, block_size=CSV_BLOCK_BYTES
            ),
            # bad records and bytes are rows for errors.jsonl, not a reason to fail here
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=lambda row: "skip"
            ),
        )
        names = list(reader.schema.names)
        reader.close()
        return names
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: cannot read it as {fmt.upper()} ({exc})") from None


def _check_columns(
    path: Path, name: str, fmt: InputFormat, text_column: str, id_column: str | None
) -> None:
    names = _columns(path, fmt)
    for option, col in (("--text-column", text_column), ("--id-column", id_column)):
        if col is not None and col not in names:
            raise InputError(
                f"{name}: no column {col!r} (columns: {', '.join(names) or 'none'}); pass the "
                f"right name with {option}"
            )


def count_rows(path: Path, fmt: InputFormat, text_column: str) -> int:
    """How many rows :func:`read_chunks` will yield for this file (bad rows included)."""
    if fmt == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    if fmt == "csv":
        bad: list[int] = []
        rows = 0
        for batch in _csv_batches(path, [text_column], bad):
            rows += batch.num_rows
        return rows + len(bad)
    rows = 0
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                rows += 1
    return rows


# ---------------------------------------------------------------------- reading
def read_chunks(
    item: InputFile,
    *,
    text_column: str,
    id_column: str | None,
    chunk_rows: int,
    skip: Container[int] = (),
) -> Iterator[RowChunk]:
    """Yield the file's rows in order, in chunks of at most ``chunk_rows`` rows.

    Rows whose number is in ``skip`` (already committed by an earlier run) are counted but not
    parsed or checked, and do not appear in the chunks.
    """
    readers = {"jsonl": _jsonl_chunks, "csv": _csv_chunks, "parquet": _parquet_chunks}
    yield from readers[item.format](item, text_column, id_column, chunk_rows, skip)


Checked = tuple[str | None, str | None, str | None]  # (value, kind, reason)


def _present(value: Any, column: str, missing: str) -> tuple[Any, Checked | None]:
    """``value`` with bytes decoded, or the rejection of a missing or non-UTF-8 value."""
    if value is None:
        return None, (None, missing, f"no {column!r} value")
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            reason = f"{column!r} is not valid UTF-8 (at byte offset {exc.start})"
            return None, (None, "invalid_utf8", reason)
    return value, None


def _check_text(value: Any, column: str) -> Checked:
    """(text, kind, reason): a usable prompt, or why the row is rejected."""
    value, rejected = _present(value, column, "missing_text")
    if rejected is not None:
        return rejected
    if not isinstance(value, str):
        return (
            None,
            "not_a_string",
            f"{column!r} is {type(value).__name__} {value!r:.40}, expected a string",
        )
    if not value.strip():
        return None, "empty_prompt", f"{column!r} is empty"
    problem = unicode_problem(value)
    if problem is not None:
        return None, "invalid_text", f"{column!r} {problem}"
    if len(value) > MAX_PROMPT_CHARS:
        return (
            None,
            "too_long",
            (
                f"{column!r} has {len(value):,} characters, more than the limit of "
                f"{MAX_PROMPT_CHARS:,} (crossingguard.limits.MAX_PROMPT_CHARS); shorten or "
                "split it"
            ),
        )
    return value, None, None


def _check_id(value: Any, column: str) -> Checked:
    """(id as text, kind, reason): ids are strings or integers, kept as text."""
    value, rejected = _present(value, column, "missing_id")
    if rejected is not None:
        return rejected
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return (
            None,
            "bad_id",
            f"{column!r} is {type(value).__name__} {value!r:.40}, expected a string or integer",
        )
    if isinstance(value, str) and unicode_problem(value) is not None:
        return None, "bad_id", f"{column!r} {unicode_problem(value)}"
    return str(value), None, None


def _add_row(
    chunk: RowChunk,
    row: int,
    text: Any,
    row_id: Any,
    *,
    text_column: str,
    id_column: str | None,
    line: int | None = None,
) -> None:
    rid, kind, reason = (str(row), None, None)
    if id_column is not None:
        checked, kind, reason = _check_id(row_id, id_column)
        rid = checked if checked is not None else str(row)
    if kind is None:
        value, kind, reason = _check_text(text, text_column)
        if kind is None:
            chunk.add(row, rid, value, line=line)
            return
    chunk.add(row, rid, None, kind=kind, reason=reason, line=line)


def _jsonl_chunks(
    item: InputFile,
    text_column: str,
    id_column: str | None,
    chunk_rows: int,
    skip: Container[int],
) -> Iterator[RowChunk]:
    row = item.offset
    chunk = RowChunk(item.name)
    with item.path.open("rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue  # blank lines are not rows (and count_rows skips them too)
            if row not in skip:
                _jsonl_row(chunk, row, raw, lineno, text_column, id_column)
            row += 1
            if len(chunk) >= chunk_rows:
                yield chunk
                chunk = RowChunk(item.name)
    if chunk.rows:
        yield chunk


def _jsonl_row(
    chunk: RowChunk,
    row: int,
    raw: bytes,
    lineno: int,
    text_column: str,
    id_column: str | None,
) -> None:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        chunk.add(
            row,
            str(row),
            None,
            kind="invalid_utf8",
            reason=f"line is not valid UTF-8 (at byte offset {exc.start})",
            line=lineno,
        )
        return
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        chunk.add(
            row,
            str(row),
            None,
            kind="malformed_json",
            reason=f"not valid JSON ({exc.msg} at column {exc.colno})",
            line=lineno,
        )
        return
    except (
        ValueError,
        RecursionError,
    ) as exc:  # a 5,000-digit number; nesting 1,000 deep
        chunk.add(
            row,
            str(row),
            None,
            kind="malformed_json",
            reason=f"JSON that cannot be read ({type(exc).__name__}: {str(exc)[:80]})",
            line=lineno,
        )
        return
    if not isinstance(obj, dict):
        chunk.add(
            row,
            str(row),
            None,
            kind="malformed_json",
            reason=f"expected a JSON object, got {type(obj).__name__}",
            line=lineno,
        )
        return
    _add_row(
        chunk,
        row,
        obj.get(text_column),
        obj.get(id_column) if id_column is not None else None,
        text_column=text_column,
        id_column=id_column,
        line=lineno,
    )


def _csv_batches(
    path: Path, columns: list[str], bad: list[int]
) -> Iterator[pa.RecordBatch]:
    """CSV record batches of ``columns`` as raw bytes (decoded per value, so one bad byte
    rejects one row, not the file); malformed records are skipped and their numbers appended
    to ``bad`` as they are met. Single-threaded, so the order is always the same."""

    def skip(row: Any) -> str:
        bad.append(int(row.number) if row.number is not None else -1)
        return "skip"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                use_threads=False, block_size=CSV_BLOCK_BYTES
            ),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=skip
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=columns,
                column_types={c: pa.binary() for c in columns},
            ),
        )
        yield from reader
    except pa.ArrowException as exc:
        raise InputError(f"{path}: cannot parse it as CSV ({exc})") from None


def _csv_chunks(
    item: InputFile,
    text_column: str,
    id_column: str | None,
    chunk_rows: int,
    skip: Container[int],
) -> Iterator[RowChunk]:
    columns = [text_column] + ([id_column] if id_column else [])
    bad: list[int] = []
    row = item.offset

    def malformed(chunk: RowChunk) -> None:
        nonlocal row
        for number in bad:
            if row in skip:
                row += 1
                continue
            chunk.add(
                row,
                str(row),
                None,
                kind="malformed_csv",
                reason="wrong number of fields for the header",
                line=number if number >= 0 else None,
            )
            row += 1
        bad.clear()

    for batch in _csv_batches(item.path, columns, bad):
        texts = batch.column(text_column).to_pylist()
        ids = batch.column(id_column).to_pylist() if id_column else [None] * len(texts)
        for start in range(0, len(texts), chunk_rows):
            chunk = RowChunk(item.name)
            stop = start + chunk_rows
            for text, rid in zip(texts[start:stop], ids[start:stop], strict=True):
                if row not in skip:
                    _add_row(
                        chunk,
                        row,
                        text,
                        rid,
                        text_column=text_column,
                        id_column=id_column,
                    )
                row += 1
            if stop >= len(texts):
                malformed(
                    chunk
                )  # records skipped while parsing this batch follow its rows
            if chunk.rows:
                yield chunk
    if bad:
        chunk = RowChunk(item.name)
        malformed(chunk)
        if chunk.rows:
            yield chunk


def _parquet_chunks(
    item: InputFile,
    text_column: str,
    id_column: str | None,
    chunk_rows: int,
    skip: Container[int],
) -> Iterator[RowChunk]:
    columns = [text_column] + ([id_column] if id_column else [])
    row = item.offset
    pf = pq.ParquetFile(item.path)
    for batch in pf.iter_batches(batch_size=chunk_rows, columns=columns):
        texts = batch.column(text_column).to_pylist()
        ids = batch.column(id_column).to_pylist() if id_column else [None] * len(texts)
        chunk = RowChunk(item.name)
        for text, rid in zip(texts, ids, strict=True):
            if row not in skip:
                _add_row(
                    chunk, row, text, rid, text_column=text_column, id_column=id_column
                )
            row += 1
        if chunk.rows:
            yield chunk


def input_identity(files: list[InputFile]) -> list[dict[str, Any]]:
    """What the resume check compares: each file's name, format, size and row count."""
    return [f.to_dict() for f in files]
