"""Readers for the NLI sets in the shared data folder, one small reader per file format.

Every reader yields raw rows; `load_nli` normalises labels to the project order
(0 entailment, 1 neutral, 2 contradiction), or, with ``partial_labels=True``, to label codes that
also allow the two-way set {neutral, contradiction} (code 3, ``not-entailed``; see
:mod:`crossingguard.toolkit.data.label_sets`), drops and counts unlabelled rows, reports malformed
rows with their file and line (skipped, or fatal with ``on_error="raise"``), and removes
duplicate pairs (pairs that occur with conflicting labels are dropped whole).
Named sources (``mnli-dev-matched``, ``lingnli-train``, ...) follow the data README's
suggested use and handle each defect it lists; any other path is read by its extension.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import sys
import tarfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from crossingguard.errors import DataError, InputError
from crossingguard.labels import label_to_id
from crossingguard.toolkit.data.label_sets import (
    LABEL_SET_NAMES,
    N_CODES,
    NOT_ENTAILED,
    two_way_code,
)
from crossingguard.toolkit.data.paths import data_root

csv.field_size_limit(sys.maxsize)

OnError = Literal["skip", "raise"]
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_text(text: str) -> str:
    """The data README's normalisation for duplicate and overlap checks."""
    return _NON_WORD.sub("", text.lower())


def pair_key(premise: str, hypothesis: str) -> tuple[str, str]:
    return normalize_text(premise), normalize_text(hypothesis)


@dataclass(frozen=True)
class RawRow:
    premise: str
    hypothesis: str
    label: str | int | None  # None or "-" means unlabelled
    where: str  # "file:line" for error messages


@dataclass
class ReadReport:
    rows: int = 0
    kept: int = 0
    unlabeled: int = 0
    duplicates: int = 0
    conflicting: int = 0
    contaminated: int = 0
    malformed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "kept": self.kept,
            "unlabeled": self.unlabeled,
            "duplicates": self.duplicates,
            "conflicting": self.conflicting,
            "contaminated": self.contaminated,
            "malformed": len(self.malformed),
            "malformed_examples": self.malformed[:5],
        }


@dataclass
class NLIData:
    name: str
    premises: list[str]
    hypotheses: list[str]
    labels: np.ndarray
    report: ReadReport = field(default_factory=ReadReport)

    def __len__(self) -> int:
        return len(self.premises)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return list(zip(self.premises, self.hypotheses, strict=True))

    def label_counts(self) -> dict[str, int]:
        """Rows per label; ``not-entailed`` appears only when the data holds two-way rows."""
        counts = (
            np.bincount(self.labels, minlength=N_CODES)
            if len(self.labels)
            else np.zeros(N_CODES, int)
        )
        out = {name: int(counts[i]) for i, name in enumerate(LABEL_SET_NAMES[:3])}
        if counts[NOT_ENTAILED]:
            out[LABEL_SET_NAMES[NOT_ENTAILED]] = int(counts[NOT_ENTAILED])
        return out

    @property
    def has_partial_labels(self) -> bool:
        return bool(len(self.labels)) and bool((self.labels >= NOT_ENTAILED).any())

    def head(self, n: int) -> NLIData:
        return NLIData(
            self.name,
            self.premises[:n],
            self.hypotheses[:n],
            self.labels[:n],
            self.report,
        )


class MalformedRow(ValueError):
    """A row that cannot be parsed; readers yield it (a raised exception would end the generator)."""


# ---------------------------------------------------------------------------------------------
# Opening files, including members of archives ("archive.tar.gz::member" or a single member).


def _open_text(path: Path) -> io.TextIOBase:
    text = str(path)
    member = None
    if "::" in text:
        text, member = text.split("::", 1)
        path = Path(text)
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        tar = tarfile.open(path)  # noqa: SIM115 - stays open while the returned stream is read
        members = [
            m
            for m in tar.getmembers()
            if m.isfile() and not m.name.split("/")[-1].startswith(".")
        ]
        picked = [m for m in members if member is None or m.name == member]
        if len(picked) != 1:
            listed = ", ".join(m.name for m in members)
            raise DataError(
                f"{path}: name one member as '{path}::MEMBER' (members: {listed})"
            )
        raw = tar.extractfile(picked[0])
        if raw is None:  # unreachable: members are regular files
            raise DataError(f"{path}: cannot read member {picked[0].name}")
        return io.TextIOWrapper(raw, encoding="utf-8-sig")
    if name.endswith(".zip"):
        zf = zipfile.ZipFile(path)
        names = [
            n for n in zf.namelist() if not n.endswith("/") and "__MACOSX" not in n
        ]
        chosen = [n for n in names if member is None or n == member]
        if len(chosen) != 1:
            raise DataError(
                f"{path}: name one member as '{path}::MEMBER' (members: {', '.join(names)})"
            )
        return io.TextIOWrapper(zf.open(chosen[0]), encoding="utf-8-sig")
    if name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig", newline="")


def _inner_name(path: Path) -> str:
    """File name that decides the format: the member for archives, else the path."""
    text = str(path)
    if "::" in text:
        return text.split("::", 1)[1].lower()
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar")) and path.is_file():
        with tarfile.open(path) as archive:
            members = [m.name for m in archive.getmembers() if m.isfile()]
        return members[0].lower() if len(members) == 1 else name
    if name.endswith(".zip") and path.is_file():
        with zipfile.ZipFile(path) as archive:
            members = [
                n
                for n in archive.namelist()
                if not n.endswith("/") and "__MACOSX" not in n
            ]
        return members[0].lower() if len(members) == 1 else name
    return name.removesuffix(".gz")


# ---------------------------------------------------------------------------------------------
# Format readers. Each yields RawRow and raises MalformedRow for rows it cannot parse.

_PREMISE_KEYS = (
    "premise",
    "sentence1",
    "prem",
    "sentence_A",
    "Premise",
    "evidence",
    "text_a",
)
_HYPOTHESIS_KEYS = (
    "hypothesis",
    "sentence2",
    "hyp",
    "sentence_B",
    "Hypothesis",
    "claim",
    "text_b",
)
_LABEL_KEYS = ("gold_label", "label", "entailment_label", "Label", "evidence_label")


def _pick(record: dict, keys: tuple[str, ...], where: str, what: str) -> object:
    for key in keys:
        if key in record:
            return record[key]
    raise MalformedRow(f"{where}: no {what} field (expected one of {', '.join(keys)})")


def _record_row(record: dict, where: str) -> RawRow:
    premise = _pick(record, _PREMISE_KEYS, where, "premise")
    hypothesis = _pick(record, _HYPOTHESIS_KEYS, where, "hypothesis")
    label = next((record[k] for k in _LABEL_KEYS if k in record), None)
    if not isinstance(premise, str) or not isinstance(hypothesis, str):
        raise MalformedRow(f"{where}: premise and hypothesis must be strings")
    return RawRow(premise, hypothesis, label, where)


def read_jsonl(path: Path) -> Iterator[RawRow | MalformedRow]:
    with _open_text(path) as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise MalformedRow(f"{where}: expected a JSON object per line")
                yield _record_row(record, where)
            except json.JSONDecodeError as exc:
                yield MalformedRow(f"{where}: not valid JSON ({exc.msg})")
            except MalformedRow as exc:
                yield exc


def _delimited(
    path: Path, delimiter: str, *, quoting: Literal[0, 1, 2, 3]
) -> Iterator[tuple[int, list[str], list[str]]]:
    with _open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter, quoting=quoting)
        header = next(reader, None)
        if header is None:
            return
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            yield reader.line_num, header, row


def read_table(
    path: Path,
    *,
    delimiter: str = ",",
    quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL,
) -> Iterator[RawRow | MalformedRow]:
    """CSV/TSV with a header naming premise, hypothesis and label columns."""
    for line_no, header, row in _delimited(path, delimiter, quoting=quoting):
        where = f"{path}:{line_no}"
        if len(row) != len(header):
            yield MalformedRow(f"{where}: {len(row)} fields, header has {len(header)}")
            continue
        try:
            yield _record_row(dict(zip(header, row, strict=False)), where)
        except MalformedRow as exc:
            yield exc


def read_mnli_style_tsv(path: Path) -> Iterator[RawRow | MalformedRow]:
    """GLUE-MNLI column order (nli_new_protocols train): quoting off; a premise with a tab is rejoined."""
    for line_no, header, row in _delimited(path, "\t", quoting=csv.QUOTE_NONE):
        where = f"{path}:{line_no}"
        if len(row) < len(header):
            yield MalformedRow(f"{where}: {len(row)} fields, header has {len(header)}")
            continue
        first = header.index("sentence1")
        tail = len(header) - first - 1  # sentence2, label1, gold_label
        premise = " ".join(row[first : len(row) - tail]).strip().strip('"')
        hypothesis, gold = row[len(row) - tail], row[-1]
        yield RawRow(premise, hypothesis.strip(), gold, where)


def read_mpe(path: Path) -> Iterator[RawRow | MalformedRow]:
    """Four captions joined into one premise; one dev row has spaces before its label."""
    for line_no, header, row in _delimited(path, "\t", quoting=csv.QUOTE_NONE):
        where = f"{path}:{line_no}"
        if (
            len(row) == len(header) - 1
        ):  # "3   contradiction": vote count and label run together
            row = row[:-1] + row[-1].split()
        if len(row) != len(header):
            yield MalformedRow(f"{where}: {len(row)} fields, header has {len(header)}")
            continue
        record = dict(zip(header, row, strict=False))
        captions = [
            record[f"premise{i}"].split("/", 1)[-1].strip() for i in range(1, 5)
        ]
        yield RawRow(
            " ".join(captions), record["hypothesis"], record["gold_label"], where
        )


def read_sick(path: Path, *, split: str) -> Iterator[RawRow | MalformedRow]:
    for line_no, header, row in _delimited(path, "\t", quoting=csv.QUOTE_NONE):
        record = dict(zip(header, row, strict=False))
        if record.get("SemEval_set") == split:
            yield RawRow(
                record["sentence_A"],
                record["sentence_B"],
                record["entailment_label"],
                f"{path}:{line_no}",
            )


_DETOKENIZE = [
    (re.compile(r" (n't|'s|'re|'ve|'m|'ll|'d)\b", re.IGNORECASE), r"\1"),
    (re.compile(r" ([.,!?;:%)\]}])"), r"\1"),
    (re.compile(r"([(\[{$]) "), r"\1"),
    (re.compile(r"\bca n't\b"), "can't"),
    (re.compile(r"\bwo n't\b"), "won't"),
    (re.compile(r"`` ?| ?''"), '"'),
]


def detokenize(text: str) -> str:
    """Undo PTB-style spacing (`it 's`, `do n't`, `word .`) of the 20k MultiNLI sample."""
    for pattern, repl in _DETOKENIZE:
        text = pattern.sub(repl, text)
    return text


def read_mnli_tokenized(path: Path) -> Iterator[RawRow | MalformedRow]:
    for row in read_table(path, delimiter="\t", quoting=csv.QUOTE_NONE):
        if isinstance(row, MalformedRow):
            yield row
            continue
        yield RawRow(
            detokenize(row.premise), detokenize(row.hypothesis), row.label, row.where
        )


def read_taxinli_train(path: Path) -> Iterator[RawRow | MalformedRow]:
    """TaxiNLI rows that are MultiNLI train pairs (pairID not in the dev file)."""
    dev_ids = set()
    for _, header, row in _delimited(
        path.with_name("taxinli10k_MNLIDev.tsv"), "\t", quoting=csv.QUOTE_NONE
    ):
        dev_ids.add(dict(zip(header, row, strict=False)).get("pairID"))
    for line_no, header, row in _delimited(path, "\t", quoting=csv.QUOTE_NONE):
        record = dict(zip(header, row, strict=False))
        if record.get("pairID") not in dev_ids:
            yield RawRow(
                record["prem"], record["hyp"], record["label"], f"{path}:{line_no}"
            )


def read_climate_fever(path: Path) -> Iterator[RawRow | MalformedRow]:
    with _open_text(path) as handle:
        for line_no, line in enumerate(handle, 1):
            if line.strip():
                claim = json.loads(line)
                for evidence in claim["evidences"]:
                    yield RawRow(
                        evidence["evidence"],
                        claim["claim"],
                        evidence["evidence_label"],
                        f"{path}:{line_no}",
                    )


# Curriculum (nli/curriculum): 7 tasks with project 3-way labels, one (monotonicity_infer train) with
# entailment / neutral only where neutral means "not entailed", 28 two-way tasks.
CURRICULUM_3WAY_TASKS = frozenset(
    {
        "boolean",
        "comparative",
        "conditional",
        "control",
        "counting",
        "negation",
        "quantifier",
    }
)
CURRICULUM_EN_ONLY_TASKS = frozenset({"monotonicity_infer"})
# `transitive` hypotheses are SICK TEST sentences (data README): never train on it, SICK TEST is
# reserved for final evaluation.
CURRICULUM_EXCLUDED_TASKS = frozenset({"transitive"})
CURRICULUM_TASK_CAP = 3000  # two-way rows per task: task sizes span 1.4k to 111k


def _hash_rank(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


def read_curriculum(
    path: Path, *, kind: Literal["3way", "2way"], task_cap: int | None = None
) -> Iterator[RawRow | MalformedRow]:
    """Curriculum rows of one kind. ``3way``: the 7 tasks with project labels. ``2way``: the other
    tasks except ``transitive``, two-way labels as they are (``not-entailed`` is a label set, never
    contradiction) and ``monotonicity_infer``'s neutral as ``not-entailed``; at most ``task_cap``
    rows per task, chosen by a hash of the pair so the sample is the same on every machine."""
    by_task: dict[str, list[RawRow]] = {}
    with _open_text(path) as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield MalformedRow(f"{where}: not valid JSON ({exc.msg})")
                continue
            task = record.get("task")
            if not isinstance(task, str):
                yield MalformedRow(f"{where}: no task field")
                continue
            if task in CURRICULUM_EXCLUDED_TASKS or (kind == "3way") != (
                task in CURRICULUM_3WAY_TASKS
            ):
                continue
            label = record.get("label")
            if (
                task in CURRICULUM_EN_ONLY_TASKS
                and isinstance(label, str)
                and label.strip().lower() == "neutral"
            ):
                label = LABEL_SET_NAMES[NOT_ENTAILED]
            try:
                row = _record_row({**record, "label": label}, where)
            except MalformedRow as exc:
                yield exc
                continue
            by_task.setdefault(task, []).append(row)
    for task in sorted(by_task):
        rows = by_task[task]
        if task_cap is not None and len(rows) > task_cap:
            rows = sorted(
                rows, key=lambda r: _hash_rank(task, r.premise, r.hypothesis)
            )[:task_cap]
        yield from rows


def read_by_extension(path: Path) -> Iterator[RawRow | MalformedRow]:
    name = _inner_name(path)
    if name.endswith((".jsonl", ".json")):
        return read_jsonl(path)
    if name.endswith((".tsv", ".txt")):
        return read_table(path, delimiter="\t", quoting=csv.QUOTE_NONE)
    if name.endswith(".csv"):
        return read_table(path)
    raise DataError(
        f"{path}: unknown data format; use .jsonl, .tsv, .csv (optionally .gz, .zip or .tar.gz)"
    )


# ---------------------------------------------------------------------------------------------
# Named sources from the shared data folder.


@dataclass(frozen=True)
class Source:
    files: tuple[str, ...]  # relative to data_root(); globs allowed
    reader: Callable[[Path], Iterable[RawRow | MalformedRow]] = read_by_extension
    split: Literal["train", "dev", "test"] = "train"
    licence: str = "unstated"
    integer_labels: bool = False  # string digits 0/1/2 in the project order (XNLI)
    two_way: bool = (
        False  # holds not-entailed rows: readable only with partial_labels=True
    )


def _tsv(path: Path) -> Iterator[RawRow | MalformedRow]:
    return read_table(path, delimiter="\t", quoting=csv.QUOTE_NONE)


SOURCES: dict[str, Source] = {
    # Training sets (the data README's "Suggested use" table).
    "lingnli-train": Source(
        ("nli/lingnli/*/train_*.jsonl",), licence="unstated (MultiNLI premises)"
    ),
    "nli-new-protocols-train": Source(
        tuple(
            f"nli/nli_new_protocols/{p}/train.tsv"
            for p in ("base", "edit_premise", "edit_other")
        ),
        read_mnli_style_tsv,
        licence="unstated (Wikipedia text, CC BY-SA 3.0)",
    ),
    "semi-automatic-nli-train": Source(
        ("nli/semi_automatic_nli/*/train.jsonl",), licence="unstated (Wikipedia text)"
    ),
    "cad-snli-train": Source(
        ("nli/cad_snli/*/train.tsv",), _tsv, licence="Apache-2.0 / CC BY-SA 4.0"
    ),
    "mpe-train": Source(
        ("nli/mpe/mpe_train.txt",), read_mpe, licence="unstated (Flickr30k captions)"
    ),
    "sick-train": Source(
        ("nli/sick/SICK.txt",),
        lambda p: read_sick(p, split="TRAIN"),
        licence="CC BY-NC-SA 3.0 (non-commercial)",
    ),
    "mnli-train-3k": Source(
        ("nli/mnli/train_mnli3000.jsonl",), licence="MultiNLI terms"
    ),
    "mnli-train-20k": Source(
        ("nli/mnli/mnli_train_20k_tokenized.tsv",),
        read_mnli_tokenized,
        licence="MultiNLI terms",
    ),
    "snli-train-1pct": Source(
        ("nli/snli/snli_1.0_train_0.01.jsonl.gz",), licence="CC BY-SA 4.0"
    ),
    "taxinli-train": Source(
        ("nli/taxinli/taxinli10k.tsv",), read_taxinli_train, licence="C-UDA 1.0"
    ),
    "cb-train": Source(("nli/commitment_bank/train.csv",), licence="SuperGLUE terms"),
    "fracas-train": Source(("nli/fracas/train.csv",), licence="research resource"),
    "conjnli-train": Source(
        ("nli/conjnli/adversarial_train_15k.tsv",), _tsv, licence="MIT"
    ),
    # Partial-label training sets (two-way or entailment/neutral-only rows): a training mix reads
    # them with partial_labels=True and trains them with the marginal-likelihood loss.
    "curriculum-3way-train": Source(
        ("nli/curriculum/curriculum_train.jsonl.gz",),
        lambda p: read_curriculum(p, kind="3way"),
        licence="MIT repo; each task keeps its source's licence",
    ),
    "curriculum-2way-train": Source(
        ("nli/curriculum/curriculum_train.jsonl.gz",),
        lambda p: read_curriculum(p, kind="2way", task_cap=CURRICULUM_TASK_CAP),
        licence="MIT repo; each task keeps its source's licence (drop: CC BY-SA 4.0)",
        two_way=True,
    ),
    "rte-train": Source(
        ("nli/rte_2way/train.csv",), licence="research use (PASCAL RTE)", two_way=True
    ),
    # Dev sets: never train on these.
    "mnli-dev-matched": Source(
        ("nli/mnli/mnli_development_set_number_of_correct_responses.txt",),
        _tsv,
        "dev",
        "MultiNLI terms",
    ),
    "snli-dev": Source(
        ("nli/snli/snli_1.0_dev.jsonl.gz",), split="dev", licence="CC BY-SA 4.0"
    ),
    "xnli-en-dev": Source(
        ("nli/xnli_en/xnli_validation_en.tar.gz",),
        _tsv,
        "dev",
        "CC BY-NC 4.0",
        integer_labels=True,
    ),
    "sick-trial": Source(
        ("nli/sick/SICK.txt",), lambda p: read_sick(p, split="TRIAL"), "dev"
    ),
    "mpe-dev": Source(("nli/mpe/mpe_dev.txt",), read_mpe, "dev"),
    "semi-automatic-nli-test": Source(
        ("nli/semi_automatic_nli/*/test.jsonl",), split="dev"
    ),
    "conjnli-dev": Source(("nli/conjnli/conj_dev.tsv",), _tsv, "dev"),
    "cb-dev": Source(("nli/commitment_bank/dev.csv",), split="dev"),
    "fracas-dev": Source(("nli/fracas/dev.csv",), split="dev"),
    "nli-new-protocols-val": Source(
        tuple(
            f"nli/nli_new_protocols/{p}/val.jsonl"
            for p in ("base", "edit_premise", "edit_other", "paragraph")
        ),
        split="dev",
    ),
    "climate-fever": Source(
        ("nli/climate_fever/climate-fever.jsonl",), read_climate_fever, "test"
    ),
    "healthver-dev": Source(("nli/healthver/healthver_dev.csv",), split="dev"),
    "curriculum-3way-val": Source(
        ("nli/curriculum/curriculum_val.jsonl.gz",),
        lambda p: read_curriculum(p, kind="3way"),
        "dev",
    ),
    # Two-way dev/test sets: contamination checks and two-way evaluation only.
    "rte-dev": Source(("nli/rte_2way/dev.csv",), split="dev", two_way=True),
    "scitail-2way": Source(("nli/scitail_2way/dev.csv",), split="test", two_way=True),
}

# Generated sets: name -> (file under runs/data by default, the command that builds it).
GENERATED = {
    "guard-nli-train": ("guard_nli_train.jsonl", "data guard-pairs"),
    "guard-nli-dev": ("guard_nli_dev.jsonl", "data guard-pairs"),
    "intent-nli-train": ("intent_nli_train.jsonl", "data intent-pairs"),
    "intent-nli-dev": ("intent_nli_dev.jsonl", "data intent-pairs"),
}

# The dev sets every training mix is filtered against by default.
DEFAULT_EVAL_SETS = ("mnli-dev-matched", "snli-dev", "xnli-en-dev", "guard-nli-dev")


def generated_dir() -> Path:
    import os

    return Path(os.environ.get("CROSSINGGUARD_GENERATED", "runs/data"))


def resolve_files(
    source: str | Path,
) -> tuple[list[Path], Callable[[Path], Iterable[RawRow | MalformedRow]], str, bool]:
    """Map a source name or path to (files, reader, display name, integer_labels)."""
    text = str(source)
    if text in SOURCES:
        spec = SOURCES[text]
        root = data_root()
        files: list[Path] = []
        for pattern in spec.files:
            matches = sorted(root.glob(pattern))
            if not matches:
                raise DataError(f"source {text!r}: no file matches {root / pattern}")
            files += matches
        return files, spec.reader, text, spec.integer_labels
    if text in GENERATED:
        file_name, command = GENERATED[text]
        path = generated_dir() / file_name
        if not path.exists():
            raise DataError(
                f"{text!r} is generated: run `crossingguard {command} --out {generated_dir()}` first"
            )
        return [path], read_jsonl, text, False
    path = Path(text)
    if not path.exists() and "::" not in text:
        known = ", ".join(sorted([*SOURCES, *GENERATED]))
        raise DataError(f"no data file or named source {text!r}; known names: {known}")
    return [path], read_by_extension, path.name, False


def _parse_label(
    label: str | int | None,
    where: str,
    *,
    integer_labels: bool,
    partial_labels: bool = False,
) -> int | None:
    """Label names map by `label_to_id`; integers only where the format fixes the project order.

    Two-way names: ``entailed`` is entailment; ``not-entailed`` / ``not_entailment`` is code 3
    (neutral or contradiction) with ``partial_labels``, and a malformed row without it.
    """
    if label is None or (isinstance(label, str) and label.strip() in ("", "-")):
        return None
    code = two_way_code(label)
    if code is not None:
        if code == NOT_ENTAILED and not partial_labels:
            raise MalformedRow(
                f"{where}: two-way label {label!r} (neutral or contradiction) has no 3-way label; "
                "read it with partial_labels=True (training mixes do)"
            )
        return code
    if isinstance(label, str) and integer_labels and label.strip() in ("0", "1", "2"):
        return int(label)
    if isinstance(label, int) and not isinstance(label, bool):
        if label in (
            0,
            1,
            2,
        ):  # JSON integers: the project order (0 E, 1 N, 2 C), as our JSONL documents
            return label
        raise MalformedRow(f"{where}: integer label {label} is not 0, 1 or 2")
    try:
        return label_to_id(label)  # type: ignore[arg-type]  # label_to_id checks the type itself
    except InputError as exc:
        raise MalformedRow(f"{where}: {exc}") from None


def load_nli(
    source: str | Path,
    *,
    on_error: OnError = "skip",
    exclude: set[tuple[str, str]] | None = None,
    limit: int | None = None,
    partial_labels: bool = False,
) -> NLIData:
    """Read one named source or file into project-ordered labels.

    ``exclude`` holds normalised (premise, hypothesis) keys to drop (the contamination filter).
    Malformed rows are listed in the report with file and line; ``on_error="raise"`` stops at the first.
    ``partial_labels``: also keep two-way ``not-entailed`` rows, as label code 3
    (:mod:`crossingguard.toolkit.data.label_sets`); without it a named two-way source is an error.
    """
    spec = SOURCES.get(str(source))
    if spec is not None and spec.two_way and not partial_labels:
        raise DataError(
            f"{source}: a two-way source (entailed / not-entailed), with no 3-way label for its "
            "not-entailed rows; read it with partial_labels=True (training mixes do) or evaluate "
            "it as entailment vs not-entailment"
        )
    files, reader, name, integer_labels = resolve_files(source)
    report = ReadReport()
    kept: dict[tuple[str, str], tuple[str, str, int]] = {}
    label_seen: dict[tuple[str, str], set[int]] = {}
    for path in files:
        try:
            rows = list(reader(path))
        except (
            UnicodeDecodeError,
            csv.Error,
            EOFError,
            OSError,
            tarfile.TarError,
            zipfile.BadZipFile,
        ) as exc:
            raise DataError(
                f"{path}: cannot be read as UTF-8 text data ({exc})"
            ) from None
        for row in rows:
            report.rows += 1
            if isinstance(row, MalformedRow):
                _malformed(report, str(row), on_error)
                continue
            try:
                label = _parse_label(
                    row.label,
                    row.where,
                    integer_labels=integer_labels,
                    partial_labels=partial_labels,
                )
            except MalformedRow as exc:
                _malformed(report, str(exc), on_error)
                continue
            if label is None:
                report.unlabeled += 1
                continue
            premise, hypothesis = row.premise.strip(), row.hypothesis.strip()
            if not premise or not hypothesis:
                _malformed(
                    report, f"{row.where}: empty premise or hypothesis", on_error
                )
                continue
            key = pair_key(premise, hypothesis)
            if exclude and key in exclude:
                report.contaminated += 1
                continue
            if key in label_seen:
                report.duplicates += 1
                label_seen[key].add(label)
                continue
            label_seen[key] = {label}
            kept[key] = (premise, hypothesis, label)
    conflicting = [key for key, labels in label_seen.items() if len(labels) > 1]
    for key in conflicting:
        del kept[key]
    report.conflicting = len(conflicting)
    pairs = list(kept.values())
    if limit is not None:
        pairs = pairs[:limit]
    report.kept = len(pairs)
    if not pairs:
        raise DataError(
            f"{name}: no usable labelled pairs (report: {report.as_dict()})"
        )
    return NLIData(
        name,
        [r[0] for r in pairs],
        [r[1] for r in pairs],
        np.asarray([r[2] for r in pairs], dtype=np.int64),
        report,
    )


def _malformed(report: ReadReport, message: str, on_error: OnError) -> None:
    if on_error == "raise":
        raise DataError(
            f"malformed row: {message} (use on_error='skip' to skip and count such rows)"
        )
    report.malformed.append(message)


def contamination_keys(sources: Iterable[str | Path]) -> set[tuple[str, str]]:
    """Normalised pairs of every evaluation set named, for filtering training data."""
    keys: set[tuple[str, str]] = set()
    for source in sources:
        data = load_nli(source, partial_labels=True)
        keys.update(pair_key(p, h) for p, h in data.pairs)
    return keys


def label_counter(labels: np.ndarray) -> Counter:
    return Counter(int(x) for x in labels)
