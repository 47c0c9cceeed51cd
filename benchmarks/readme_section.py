"""Replace one generated section of the README: the text between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->`` (only that), so benchmark scripts can keep their tables current."""

from __future__ import annotations

from pathlib import Path


def replace_section(path: Path, name: str, text: str) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if not path.is_file():
        raise SystemExit(
            f"{path}: no such file (give the README to update with --readme)"
        )
    doc = path.read_text(encoding="utf-8")
    if start not in doc or end not in doc:
        raise SystemExit(f"{path}: markers {start} / {end} not found")
    head, rest = doc.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{text.strip()}\n{end}{tail}", encoding="utf-8")
