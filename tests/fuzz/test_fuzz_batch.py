"""Generated datasets for ``crossingguard batch``: JSONL with bad lines, invalid UTF-8, lone
surrogate escapes, wrong types and blank lines; CSV with quotes, ragged records and bad bytes;
Parquet with nulls; long and empty prompts; odd column names and options.

A run exits 0 with every input row accounted for exactly once (scored in ``data/`` or rejected in
``errors.jsonl`` with a kind and a reason, the counts matching ``summary.json``), or exits 2
with an ``Error:`` line (a whole-file problem, or ``--fail-on-error`` meeting a bad row).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import traceback
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyarrow", reason="the batch fuzz needs the batch extra")

import pyarrow as pa
import pyarrow.parquet as pq
import typer
from click.testing import CliRunner
from fuzz_strategies import dump_json, json_tree, long_text, plain_text, short_text
from fuzzcount import record
from hypothesis import given
from hypothesis import strategies as st

from crossingguard.cli.app import app

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.usefixtures("cli_on_tiny_model", "no_fsync"),
]
runner = CliRunner()
COMMAND = typer.main.get_command(app)
POLICY = (
    "version: 1\nname: fuzz\nconditions:\n  - {id: cake, hypotheses: [a cake recipe]}\n"
)

text = st.one_of(plain_text, plain_text, short_text, long_text)
value = st.one_of(
    text,
    text,
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.integers(), max_size=1),
)

jsonl_line = st.one_of(
    st.fixed_dictionaries({"text": value}, optional={"id": value, "other": value}).map(
        lambda d: dump_json(d).encode()
    ),
    st.fixed_dictionaries({"text": text}, optional={"id": st.integers()}).map(
        lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")
    ),
    json_tree.map(lambda t: dump_json(t).encode()),
    st.binary(max_size=30),
    st.sampled_from(
        [
            b"",
            b"   ",
            b'\xef\xbb\xbf{"text": "bom"}',
            b'{"text": "a"',
            b"[1, 2]",
            b"null",
        ]
    ),
)


@pytest.fixture(scope="module")
def no_fsync() -> Any:
    """Each run commits its shards, manifest and summary with fsync, which is most of a run's
    time on this disk; what is under test here is the handling of the input, and durability is
    tested where it matters (tests/batch/test_batch_kill.py kills runs and resumes them)."""
    import os

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fsync", lambda fd: None)
        yield


def _csv(rows: list[tuple[Any, Any]], header: tuple[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def dataset(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["jsonl", "jsonl", "csv", "parquet"]))
    if kind == "jsonl":
        return "in.jsonl", b"\n".join(draw(st.lists(jsonl_line, max_size=8)))
    if kind == "csv":
        header = draw(
            st.sampled_from(
                [("text", "id"), ("id", "text"), ("prompt", "id"), ("text", "text")]
            )
        )
        rows = draw(
            st.lists(
                st.tuples(
                    st.one_of(text, st.just("")),
                    st.one_of(st.integers(), plain_text, st.just("")),
                ),
                max_size=6,
            )
        )
        raw = _csv(rows, header)
        if draw(st.booleans()):  # a ragged record, a stray quote or a bad byte
            raw += draw(
                st.sampled_from([b"a,b,c\n", b'"unclosed\n', b"\xff\xfe,1\n", b"\n\n"])
            )
        return "in.csv", raw
    texts = draw(
        st.lists(
            st.one_of(
                plain_text,
                short_text.filter(
                    lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t)
                ),
                st.none(),
            ),
            max_size=6,
        )
    )
    ids = draw(
        st.lists(
            st.one_of(st.integers(-(2**63), 2**63 - 1), st.none()),
            min_size=len(texts),
            max_size=len(texts),
        )
    )
    sink = pa.BufferOutputStream()
    pq.write_table(
        pa.table(
            {"text": pa.array(texts, pa.string()), "id": pa.array(ids, pa.int64())}
        ),
        sink,
    )
    return "in.parquet", sink.getvalue().to_pybytes()


@given(
    data=dataset(),
    text_column=st.sampled_from(["text", "text", "text", "prompt", "missing", ""]),
    id_column=st.sampled_from([None, None, "id", "nope"]),
    batch_size=st.sampled_from([None, 1, 3, 0]),
    shard_rows=st.sampled_from([None, 1, 2, 0]),
    fail_on_error=st.booleans(),
)
def test_batch(data: tuple[str, bytes], text_column: str, id_column: Any, batch_size: Any, shard_rows: Any,
               fail_on_error: bool) -> None:  # fmt: skip
    name, content = data
    with tempfile.TemporaryDirectory(prefix="cg-batch-fuzz-") as folder:
        root = Path(folder)
        (root / "policy.yaml").write_text(POLICY, encoding="utf-8")
        (root / name).write_bytes(content)
        out = root / "out"
        args = ["batch", str(root / "policy.yaml"), "-i", str(root / name), "-o", str(out),
                "--text-column", text_column, "--no-progress", "--json"]  # fmt: skip
        args += [] if id_column is None else ["--id-column", id_column]
        args += [] if batch_size is None else ["--batch-size", str(batch_size)]
        args += [] if shard_rows is None else ["--shard-rows", str(shard_rows)]
        args += ["--fail-on-error"] * fail_on_error
        result = runner.invoke(COMMAND, args)
        record("CLI batch", f"{name.split('.')[-1]} exit {result.exit_code}")
        exc = result.exception
        if exc is not None and not isinstance(exc, SystemExit):
            raise AssertionError("".join(traceback.format_exception(exc)))
        assert result.exit_code in (0, 2), result.output
        if result.exit_code == 2:
            assert "Error" in result.stderr, result.stderr
            return
        assert not fail_on_error or json.loads(result.stdout)["rows_rejected"] == 0
        check_accounted_for(out, json.loads(result.stdout))


def check_accounted_for(out: Path, summary: dict[str, Any]) -> None:
    """Each input row exactly once: scored in data/ or rejected in errors.jsonl."""
    assert summary["rows_in"] == summary["rows_out"] + summary["rows_rejected"]
    scored = [
        row
        for part in sorted((out / "data").glob("*.parquet"))
        for row in pq.read_table(part).column("row").to_pylist()
    ]
    errors = (
        [
            json.loads(line)
            for line in (out / "errors.jsonl").read_text(encoding="utf-8").split("\n")
            if line
        ]
        if (out / "errors.jsonl").exists()
        else []
    )
    assert all(e["kind"] and e["reason"] for e in errors)
    assert (
        len(scored) == summary["rows_out"] and len(errors) == summary["rows_rejected"]
    )
    assert sorted(scored + [e["row"] for e in errors]) == list(
        range(summary["rows_in"])
    )
