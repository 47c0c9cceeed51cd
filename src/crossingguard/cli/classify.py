"""``crossingguard classify``: score many premise/hypothesis pairs from a JSONL file.

Everything that can be wrong with the request is checked before the model runs: the output path
(a directory, a missing folder, a folder we cannot write), output fields that would overwrite
input fields, and over-long premises. Scoring a large file takes minutes; failing after it would
throw that work away.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from crossingguard.cli.app import app
from crossingguard.cli.errors import handle_errors
from crossingguard.cli.jsonl import read_pairs_jsonl, write_jsonl_atomic
from crossingguard.cli.options import (
    BackendChoice,
    BackendOpt,
    BatchSizeOpt,
    MaxLengthOpt,
    ModelOpt,
    PrecisionChoice,
    PrecisionOpt,
    ThreadsOpt,
)
from crossingguard.errors import InputError
from crossingguard.labels import LABELS
from crossingguard.limits import (
    LONG_PROMPT_WINDOW_TOKENS,
    MAX_PAIRS_PER_CALL,
    MAX_PROMPT_CHARS,
)
from crossingguard.text import unicode_problem


def output_fields(prefix: str) -> tuple[str, ...]:
    """The fields classify adds to each row: label, entailment, neutral, contradiction."""
    return tuple(f"{prefix}{name}" for name in ("label", *LABELS))


def check_output_path(path: Path) -> None:
    """Fail now, not after scoring, if ``path`` cannot be written as a file."""
    if path.is_dir():
        raise InputError(
            f"--output {path} is a directory; pass a file path such as {path / 'out.jsonl'}"
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        raise InputError(
            f"--output folder {parent} {what}; create it (mkdir -p {parent}) or pick another "
            "--output"
        )
    try:  # the same temp file the atomic write will create: the only sure test of access
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(
            f"--output {path}: cannot write in {parent} ({exc.strerror or exc}); pick a "
            "writable folder"
        ) from None
    os.close(fd)
    Path(probe).unlink(missing_ok=True)


def check_field_clash(
    rows: list[dict[str, Any]], input_path: Path, prefix: str
) -> None:
    """Refuse input rows that already hold a field classify would overwrite."""
    fields = output_fields(prefix)
    for i, row in enumerate(rows, 1):
        clash = [f for f in fields if f in row]
        if clash:
            suggestion = "nli_" if prefix != "nli_" else "nli2_"
            raise InputError(
                f"{input_path} row {i} already has the field(s) {', '.join(clash)}, which "
                f"classify writes ({', '.join(fields)}); rename the input field(s), or pass "
                f"--prefix {suggestion} to write {', '.join(output_fields(suggestion))}"
            )


@app.command()
@handle_errors
def classify(
    input_path: Annotated[
        Path,
        typer.Option(
            "--input",
            "-i",
            help='JSONL file, one object per line with "premise" and "hypothesis" strings.',
            show_default=False,
        ),
    ],
    output_path: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Where to write JSONL: each input object plus label, entailment, neutral and "
            "contradiction (named with --prefix). Checked before scoring (a directory, a missing "
            "or unwritable folder is an error); written atomically (temp file + rename).",
            show_default=False,
        ),
    ],
    model: ModelOpt = None,
    backend: BackendOpt = BackendChoice.auto,
    precision: PrecisionOpt = PrecisionChoice.fp32,
    batch_size: BatchSizeOpt = 64,
    threads: ThreadsOpt = None,
    max_length: MaxLengthOpt = None,
    prefix: Annotated[
        str,
        typer.Option(
            "--prefix",
            help="Put this before the output field names, e.g. --prefix nli_ writes nli_label, "
            "nli_entailment, nli_neutral, nli_contradiction. An input row that already has an "
            "output field is an error (classify never overwrites input fields).",
        ),
    ] = "",
    max_prompt_chars: Annotated[
        int,
        typer.Option(
            "--max-prompt-chars",
            min=1,
            help="Longest premise accepted, in characters; a longer one is an error before "
            "scoring (time grows with length).",
        ),
    ] = MAX_PROMPT_CHARS,
    window_tokens: Annotated[
        int,
        typer.Option(
            "--window-tokens",
            min=8,
            help="Premise tokens per window for premises too long for the model: windows hold "
            "whole sentences, scored separately and merged (entailment max, contradiction min).",
        ),
    ] = LONG_PROMPT_WINDOW_TOKENS,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress",
            help="Progress bar on stderr. Default: shown when there are many model inputs "
            "(pairs plus windows of long premises).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Classify many premise/hypothesis pairs (NLI) from a JSONL file into a JSONL file."""
    check_output_path(output_path)
    if unicode_problem(prefix) is not None:
        raise InputError(f"--prefix {unicode_problem(prefix)}")
    rows = read_pairs_jsonl(input_path)
    check_field_clash(rows, input_path, prefix)
    pairs = [(r["premise"], r["hypothesis"]) for r in rows]
    if len(pairs) > MAX_PAIRS_PER_CALL:
        raise InputError(
            f"{input_path}: {len(pairs):,} pairs, more than the limit of {MAX_PAIRS_PER_CALL:,} "
            "per run (crossingguard.limits.MAX_PAIRS_PER_CALL); split the file into parts "
            f"of at most {MAX_PAIRS_PER_CALL:,} lines (e.g. `split -l {MAX_PAIRS_PER_CALL}`)"
        )
    for i, (premise, _) in enumerate(pairs, 1):
        if len(premise) > max_prompt_chars:
            raise InputError(
                f"{input_path} row {i} -> premise: {len(premise):,} characters, more than "
                f"--max-prompt-chars {max_prompt_chars:,}; shorten or split it, or raise the limit"
            )

    from crossingguard.inference.encoding import Windowing
    from crossingguard.inference.scorer import load_scorer

    scorer = load_scorer(
        model,
        backend=backend.value,
        threads=threads,
        max_length=max_length,
        precision=precision.value,
    )
    scorer.max_prompt_chars = max_prompt_chars
    scorer.windowing = Windowing(tokens=window_tokens)
    probs = scorer.predict(
        pairs,
        batch_size=batch_size,
        show_progress="auto" if progress is None else progress,
    )
    fields = output_fields(prefix)
    out = (
        {
            **row,
            fields[0]: LABELS[int(p.argmax())],
            **{k: float(v) for k, v in zip(fields[1:], p, strict=True)},
        }
        for row, p in zip(rows, probs, strict=True)
    )
    try:
        write_jsonl_atomic(output_path, out)
    except OSError as exc:
        raise InputError(
            f"cannot write --output {output_path}: {exc.strerror or exc}"
        ) from None
    typer.echo(f"Wrote {len(rows)} rows to {output_path}", err=True)
