"""Batch input readers: row numbering across files, and every kind of bad row becoming a
rejection with its reason (never an exception), for JSONL, CSV and Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq

from crossingguard.batch.inputs import (
    count_rows,
    plan_inputs,
    read_chunks,
)
from crossingguard.batch.manifest import RangeSet
from crossingguard.errors import InputError


def read_all(path: Path, *, id_column: str | None = None, chunk_rows: int = 3, skip=()):
    files = plan_inputs(path, text_column="text", id_column=id_column)
    chunks = [
        c
        for f in files
        for c in read_chunks(
            f, text_column="text", id_column=id_column, chunk_rows=chunk_rows, skip=skip
        )
    ]
    return files, chunks


def rows_of(chunks):
    return [
        (r, i, t, k)
        for c in chunks
        for r, i, t, k in zip(c.rows, c.ids, c.texts, c.kinds, strict=True)
    ]


def test_jsonl_bad_lines_are_rejections_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + b'{"id": "a", "text": "hello"}\n'
        + b"\n"  # blank: not a row
        + b'{"id": "b", "text": "bad \xff byte"}\n'
        + b'{"id": "c", "text": oops}\n'
        + b'["a list"]\n'
        + b'{"id": "d"}\n'
        + b'{"id": "e", "text": 7}\n'
        + b'{"id": "f", "text": "   "}\n'
        + b'{"id": 3.5, "text": "float id"}\n'
        + b'{"text": "no id"}\n'
        + b'{"id": 12, "text": "int id"}\n'
    )
    files, chunks = read_all(path, id_column="id")
    assert files[0].rows == 10 == count_rows(path, "jsonl", "text")
    assert max(len(c) for c in chunks) == 3
    assert rows_of(chunks) == [
        (0, "a", "hello", None),
        (1, "1", None, "invalid_utf8"),
        (2, "2", None, "malformed_json"),
        (3, "3", None, "malformed_json"),
        (4, "d", None, "missing_text"),
        (5, "e", None, "not_a_string"),
        (6, "f", None, "empty_prompt"),
        (7, "7", None, "bad_id"),
        (8, "8", None, "missing_id"),
        (9, "12", "int id", None),
    ]
    errors = [e for c in chunks for e in c.rejected()]
    assert [e["line"] for e in errors] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert errors[0] == {
        "row": 1,
        "id": "1",
        "source": "in.jsonl",
        "line": 3,
        "kind": "invalid_utf8",
        "reason": "line is not valid UTF-8 (at byte offset 25)",
    }
    assert "not valid JSON" in errors[1]["reason"]
    assert errors[4]["reason"] == "'text' is int 7, expected a string"


def test_csv_malformed_record_bad_utf8_and_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(
        b"id,text\n"
        b"1,hello\n"
        b'2,"two\nlines"\n'
        b"3,a,b\n"  # one field too many
        b"4,\xff\xfe bad\n"
        b"5,\n"
        b"6,ok\n"
    )
    files, chunks = read_all(path, id_column="id", chunk_rows=100)
    assert files[0].rows == 6 == count_rows(path, "csv", "text")
    assert rows_of(chunks) == [
        (0, "1", "hello", None),
        (1, "2", "two\nlines", None),
        (2, "4", None, "invalid_utf8"),
        (3, "5", None, "empty_prompt"),
        (4, "6", "ok", None),
        (
            5,
            "5",
            None,
            "malformed_csv",
        ),  # skipped records follow the rows of their block
    ]
    bad = [e for c in chunks for e in c.rejected() if e["kind"] == "malformed_csv"]
    assert bad[0]["line"] == 4


def test_parquet_nulls_and_non_string_types(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": ["a", None, "", "d"], "n": [1, 2, 3, 4]}), path)
    _, chunks = read_all(path)
    assert [k for c in chunks for k in c.kinds] == [
        None,
        "missing_text",
        "empty_prompt",
        None,
    ]
    pq.write_table(pa.table({"text": [1, 2]}), path)
    _, chunks = read_all(path)
    assert {k for c in chunks for k in c.kinds} == {"not_a_string"}
    pq.write_table(pa.table({"text": pa.array([b"ok", b"\xff"], pa.binary())}), path)
    _, chunks = read_all(path)
    assert [k for c in chunks for k in c.kinds] == [None, "invalid_utf8"]


def test_folder_rows_are_numbered_across_sorted_files(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.csv").write_text("text\nthree\nfour\n", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text(
        '{"text": "one"}\n{"text": "two"}\n', encoding="utf-8"
    )
    pq.write_table(pa.table({"text": ["five"]}), tmp_path / "c.parquet")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    (tmp_path / "_SUCCESS").write_text("", encoding="utf-8")
    files, chunks = read_all(tmp_path)
    assert [(f.name, f.offset, f.rows) for f in files] == [
        ("a.jsonl", 0, 2),
        ("b/x.csv", 2, 2),
        ("c.parquet", 4, 1),
    ]
    assert [(r, t) for r, _, t, _ in rows_of(chunks)] == [
        (0, "one"),
        (1, "two"),
        (2, "three"),
        (3, "four"),
        (4, "five"),
    ]
    assert [c.source for c in chunks] == ["a.jsonl", "b/x.csv", "c.parquet"]


def test_skip_leaves_out_committed_rows(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(json.dumps({"text": f"t{i}"}) + "\n" for i in range(10)),
        encoding="utf-8",
    )
    _, chunks = read_all(path, skip=RangeSet([[0, 4], [6, 7]]))
    assert [r for c in chunks for r in c.rows] == [4, 5, 7, 8, 9]


def test_missing_columns_and_inputs_are_errors_before_scoring(tmp_path: Path) -> None:
    csv = tmp_path / "in.csv"
    csv.write_text("prompt,id\nhi,1\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"no column 'text' \(columns: prompt, id\).*--text-column"
    ):
        plan_inputs(csv, text_column="text", id_column=None)
    with pytest.raises(InputError, match="no column 'key'.*--id-column"):
        plan_inputs(csv, text_column="prompt", id_column="key")
    with pytest.raises(InputError, match="no such file or folder"):
        plan_inputs(tmp_path / "nope.jsonl", text_column="text", id_column=None)
    (tmp_path / "x.txt").write_text("hi", encoding="utf-8")
    with pytest.raises(InputError, match="unsupported file type '.txt'"):
        plan_inputs(tmp_path / "x.txt", text_column="text", id_column=None)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="holds no .jsonl"):
        plan_inputs(empty, text_column="text", id_column=None)


def test_range_set_merges_and_answers_membership() -> None:
    s = RangeSet()
    s.add_rows([5, 6, 7, 1, 2, 9])
    s.add(3, 5)
    assert s.to_list() == [[1, 8], [9, 10]]
    assert len(s) == 8
    assert [r for r in range(12) if r in s] == [1, 2, 3, 4, 5, 6, 7, 9]
    assert s.covers(2, 8) and not s.covers(7, 10) and s.covers(4, 4)
