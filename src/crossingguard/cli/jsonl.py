"""Read pair files and write outputs atomically."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crossingguard.errors import InputError
from crossingguard.io import atomic_path, jsonl_objects
from crossingguard.text import unicode_problem


def read_pairs_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file, each an object with non-empty string premise and hypothesis."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"input file not found: {path}") from exc
    except IsADirectoryError as exc:
        raise InputError(
            f"input is a directory, expected a JSONL file: {path}"
        ) from exc
    except OSError as exc:
        raise InputError(
            f"cannot read {path} ({exc.strerror or exc}); check the path and its permissions"
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8 JSONL"
        ) from exc
    rows: list[dict[str, Any]] = []
    example = '{"premise": "...", "hypothesis": "..."}'
    for lineno, row in jsonl_objects(text, str(path), example=example):
        for key in ("premise", "hypothesis"):
            value = row.get(key)
            if not isinstance(value, str) or not value.strip():
                raise InputError(
                    f"{path} line {lineno} -> {key}: must be a non-empty string, got {value!r:.80}"
                )
        rows.append(row)
    if not rows:
        raise InputError(
            f"{path} has no rows; expected JSONL with premise and hypothesis"
        )
    return rows


def write_jsonl_atomic(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write JSONL to a temp file beside ``path`` and rename it over, so no half file appears."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"output folder does not exist: {parent}")
    with (
        atomic_path(path, durable=True) as tmp,
        tmp.open("w", encoding="utf-8") as handle,
    ):
        for row in rows:
            line = json.dumps(row, ensure_ascii=False)
            if unicode_problem(line) is not None:
                # a lone surrogate read from a \ud800 escape cannot be written as UTF-8:
                # write the row with escapes, which reads back to the same value
                line = json.dumps(row)
            handle.write(line + "\n")
