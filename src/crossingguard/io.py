"""Small file helpers shared by every package: atomic writes and JSONL reading.

A write goes to a temporary file beside the target and is renamed over it only when complete, so
a reader (or a resumed run after a kill) sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

from crossingguard.errors import CrossingGuardError, DataError, InputError

FILE_MODE = 0o644  # mkstemp makes 0600; our outputs are shared data files


def fsync_dir(path: Path) -> None:
    """Persist a rename inside ``path`` (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | Path, *, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    On an exception the temporary file is removed and ``path`` is left as it was. ``durable``
    fsyncs the file and its folder, so the new content survives a power cut, not only a kill.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        if durable:
            with tmp.open("rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
        if durable:
            fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | Path, data: Any, *, indent: int | None = 2) -> None:
    """``data`` as JSON (UTF-8, non-ASCII kept) with a trailing newline."""
    write_text_atomic(path, json.dumps(data, indent=indent, ensure_ascii=False) + "\n")


def write_jsonl_atomic(path: str | Path, rows: Iterable[Any]) -> int:
    """One JSON value per line (gzip-compressed for a ``.gz`` name); return the rows written."""
    path = Path(path)
    n = 0
    with atomic_path(path) as tmp:
        opener: Any = gzip.open if path.name.endswith(".gz") else open
        with opener(tmp, "wt", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
    return n


def replace_dir(staged: Path, dest: Path) -> None:
    """Move a fully written folder ``staged`` to ``dest``, replacing what was there."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(staged, dest)


def open_text(path: str | Path) -> IO[str]:
    """A text handle on ``path``, decompressing ``.gz`` files."""
    path = Path(path)
    if path.name.endswith(".gz"):
        return cast(IO[str], gzip.open(path, "rt", encoding="utf-8"))
    return path.open(encoding="utf-8")


def read_jsonl(
    path: str | Path, *, error: type[CrossingGuardError] = DataError
) -> Iterator[Any]:
    """The JSON value on each non-blank line of ``path`` (``.gz`` too).

    A line that is not JSON raises ``error`` naming ``path:line``. Lines end at ``\\n`` only, so
    U+2028 and friends inside JSON strings do not split a row.
    """
    with open_text(path) as handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{path}:{n}: not valid JSON ({exc.msg})") from None


def jsonl_objects(
    text: str,
    where: str,
    *,
    error: type[CrossingGuardError] = InputError,
    example: str = "",
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of decoded JSONL ``text``.

    Lines end at ``\\n`` only: ``str.splitlines()`` also breaks at U+0085/U+2028/U+2029, which
    JSON strings may hold raw (our own ``--json`` output does). A line that is not a JSON object
    raises ``error`` naming ``where`` and the line; ``example`` shows the expected row.
    """
    hint = f"; expected one object per line like {example}" if example else ""
    for n, line in enumerate(text.lstrip("\ufeff").split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{where} line {n}: not valid JSON ({exc.msg}){hint}") from None
        except (ValueError, RecursionError) as exc:  # 5,000-digit numbers, deep nesting
            raise error(
                f"{where} line {n}: JSON that cannot be read ({type(exc).__name__}){hint}"
            ) from None
        if not isinstance(row, dict):
            raise error(
                f"{where} line {n}: expected a JSON object, got {type(row).__name__}"
            )
        yield n, row
