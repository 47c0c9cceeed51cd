"""The training mix: named sources with caps, the contamination filter, a seeded shuffle.

Labels are label codes (:mod:`crossingguard.toolkit.data.label_sets`): 0/1/2 full labels and 3 for
two-way ``not-entailed`` rows (Curriculum, RTE), which the trainer's partial-label loss trains as
"neutral or contradiction". ``data.partial_labels: false`` drops those rows instead.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from crossingguard.errors import DataError
from crossingguard.io import write_jsonl_atomic
from crossingguard.toolkit.data.label_sets import (
    LABEL_SET_NAMES,
    N_CODES,
    NOT_ENTAILED,
    label_set_name,
)
from crossingguard.toolkit.data.nli import contamination_keys, load_nli
from crossingguard.toolkit.training.config import DataConfig, TrainConfig


@dataclass
class TrainingMix:
    premises: list[str]
    hypotheses: list[str]
    labels: np.ndarray
    sources: list[str]
    report: dict[str, dict] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.premises)


def build_mix(
    config: DataConfig, *, seed: int, console: Console | None = None
) -> TrainingMix:
    """Read each source, drop pairs found in the eval sets, cap, and shuffle deterministically."""
    excluded: set[tuple[str, str]] = set()
    missing_eval = []
    for name in (
        config.eval_sets
    ):  # read each eval set once; report every unreadable one together
        try:
            excluded |= contamination_keys([name])
        except DataError as exc:
            missing_eval.append(f"{name} ({exc})")
    if missing_eval:
        raise DataError(
            "contamination filter needs every eval set named in data.eval_sets; unreadable: "
            + "; ".join(missing_eval)
        )
    rng = random.Random(seed)
    rows: list[tuple[str, str, int, str]] = []
    report: dict[str, dict] = {}
    seen: set[tuple[str, str]] = set()
    for entry in config.train:
        data = load_nli(entry.source, exclude=excluded, partial_labels=True)
        order = list(range(len(data)))
        rng.shuffle(order)
        cap = entry.cap or config.cap
        taken = 0
        cross_duplicates = 0
        two_way_dropped = 0
        used_labels = np.zeros(N_CODES, dtype=np.int64)
        for index in order:
            if cap is not None and taken >= cap:
                break
            label = int(data.labels[index])
            if label == NOT_ENTAILED and not config.partial_labels:
                two_way_dropped += 1
                continue
            key = (data.premises[index].lower(), data.hypotheses[index].lower())
            if (
                key in seen
            ):  # the same pair from two sources (e.g. MNLI samples and TaxiNLI)
                cross_duplicates += 1
                continue
            seen.add(key)
            rows.append(
                (data.premises[index], data.hypotheses[index], label, entry.source)
            )
            used_labels[label] += 1
            taken += 1
        report[entry.source] = {
            **data.report.as_dict(),
            "cross_source_duplicates": cross_duplicates,
            "two_way_dropped": two_way_dropped,
            "used": taken,
            "used_labels": {
                name: int(n)
                for name, n in zip(LABEL_SET_NAMES, used_labels, strict=True)
            },
        }
    rng.shuffle(rows)
    if config.total_cap is not None:
        rows = rows[: config.total_cap]
    if not rows:
        raise DataError("the training mix is empty: check data.train sources and caps")
    mix = TrainingMix(
        [r[0] for r in rows],
        [r[1] for r in rows],
        np.asarray([r[2] for r in rows]),
        [r[3] for r in rows],
        report,
    )
    if console is not None:
        print_mix_report(mix, console)
    return mix


def write_data_report(out: Path, mix: TrainingMix) -> None:
    """``out/data_report.json``: pairs, label counts and per-source counts of a training mix."""
    report = {
        "pairs": len(mix),
        "labels": mix_label_counts(mix.labels),
        "sources": mix.report,
    }
    (out / "data_report.json").write_text(json.dumps(report, indent=2))


def mix_label_counts(labels: np.ndarray) -> dict[str, int]:
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=N_CODES)
    return {name: int(n) for name, n in zip(LABEL_SET_NAMES, counts, strict=True)}


def print_mix_report(mix: TrainingMix, console: Console) -> None:
    """Per source: rows read, what each filter dropped, pairs used and their labels (E/N/C/NE,
    NE = two-way not-entailed); then the totals."""
    table = Table(title=f"training mix: {len(mix)} pairs")
    columns = (
        "source",
        "read",
        "unlabeled",
        "dup",
        "conflicting",
        "contaminated",
        "malformed",
        "used",
        "E / N / C / NE",
    )
    for column in columns:
        table.add_column(column, justify="right" if column != "source" else "left")
    for name, r in mix.report.items():
        used = r.get("used_labels", {})
        table.add_row(
            name, str(r["rows"]), str(r["unlabeled"]), str(r["duplicates"] + r["cross_source_duplicates"]),
            str(r["conflicting"]), str(r["contaminated"]), str(r["malformed"]), str(r["used"]),
            " / ".join(str(used.get(n, 0)) for n in LABEL_SET_NAMES),
        )  # fmt: skip
    # wide enough for one line per source even where stderr is not a terminal (80 columns)
    Console(file=console.file, width=max(console.width, 150)).print(table)
    counts = mix_label_counts(mix.labels)
    console.print(
        "labels E/N/C: {} / {} / {}; two-way not-entailed (N or C): {}".format(
            *counts.values()
        )
    )


def export_mix(
    config: TrainConfig, out: Path, *, console: Console | None = None
) -> list[str]:
    """Write the config's mix and dev subsets to ``out`` so the same run can happen elsewhere.

    Files: ``train.jsonl.gz`` (premise, hypothesis, label name, source; already filtered, capped
    and shuffled), ``dev/<name>.jsonl`` (the first ``data.dev_limit`` pairs of each dev set),
    ``data_report.json`` (the per-source report of the real mix) and ``overrides.txt``. Returns the
    overrides that make ``crossingguard train`` read these files instead of the named sources.
    """
    mix = build_mix(config.data, seed=config.training.seed, console=console)
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(
        out / "train.jsonl.gz",
        (
            {
                "premise": p,
                "hypothesis": h,
                "label": label_set_name(int(y)),
                "source": s,
            }
            for p, h, y, s in zip(
                mix.premises, mix.hypotheses, mix.labels, mix.sources, strict=True
            )
        ),
    )
    dev_files = []
    for name in config.data.dev:
        dev = load_nli(name, limit=config.data.dev_limit)
        path = out / "dev" / f"{name.replace('/', '_')}.jsonl"
        write_jsonl_atomic(
            path,
            (
                {"premise": p, "hypothesis": h, "label": label_set_name(int(y))}
                for (p, h), y in zip(dev.pairs, dev.labels, strict=True)
            ),
        )
        dev_files.append(str(path))
    write_data_report(out, mix)
    overrides = [
        f"data.train=[{{source: {out / 'train.jsonl.gz'}}}]",
        "data.eval_sets=[]",
        f"data.dev=[{', '.join(dev_files)}]",
    ]
    (out / "overrides.txt").write_text("\n".join(overrides) + "\n")
    return overrides
