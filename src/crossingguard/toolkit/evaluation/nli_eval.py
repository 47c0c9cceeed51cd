"""Evaluate an NLI model on labelled dev sets: F1 micro/macro/weighted, per-class precision and
recall, confusion matrix, and throughput (samples/s at batch 64) measured on the same run.

preprocess (load data) -> forward (``scorer.predict``, timed) -> postprocess (metrics), each usable
alone. Matplotlib is imported only when a PNG is asked for.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crossingguard.errors import InputError
from crossingguard.toolkit.evaluation.metrics import (
    ClassificationReport,
    classification_report,
)

if TYPE_CHECKING:
    from rich.table import Table

    from crossingguard.inference.scorer import Scorer
    from crossingguard.toolkit.data.nli import NLIData

LABELS = ("entailment", "neutral", "contradiction")
THROUGHPUT_BATCH = 64


@dataclass(frozen=True)
class DatasetEval:
    """One model on one dataset."""

    dataset: str
    n: int
    report: ClassificationReport
    seconds: float
    batch_size: int

    @property
    def throughput(self) -> float:
        """Pairs per second over the whole scoring call (tokenization included)."""
        return self.n / self.seconds if self.seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        rep = self.report.to_dict()
        return {
            "dataset": self.dataset,
            "n": self.n,
            "f1_micro": rep["f1_micro"],
            "f1_macro": rep["f1_macro"],
            "f1_weighted": rep["f1_weighted"],
            "accuracy": rep["accuracy"],
            "precision": {k: v["precision"] for k, v in rep["per_class"].items()},
            "recall": {k: v["recall"] for k, v in rep["per_class"].items()},
            "per_class": rep["per_class"],
            "labels": rep["labels"],
            "confusion_matrix": rep["confusion_matrix"],
            "throughput_samples_per_s": self.throughput,
            "eval_seconds": self.seconds,
            "batch_size": self.batch_size,
        }


def evaluate_predictions(
    name: str,
    labels: Sequence[int] | np.ndarray,
    probs: np.ndarray,
    *,
    seconds: float = 0.0,
    batch_size: int = THROUGHPUT_BATCH,
) -> DatasetEval:
    """Postprocess: argmax of (n, 3) E/N/C probabilities (or logits) against gold labels."""
    probs = np.asarray(probs)
    y = np.asarray(labels)
    if probs.ndim != 2 or probs.shape != (len(y), 3):
        raise InputError(
            f"expected ({len(y)}, 3) scores for dataset {name}, got {probs.shape}"
        )
    report = classification_report(y, probs.argmax(axis=1), labels=LABELS)
    return DatasetEval(
        dataset=name, n=len(y), report=report, seconds=seconds, batch_size=batch_size
    )


def evaluate_nli(
    scorer: Scorer,
    data: NLIData,
    *,
    batch_size: int = THROUGHPUT_BATCH,
    show_progress: bool = False,
) -> DatasetEval:
    """Score ``data`` with ``scorer`` (timed, for throughput) and compute its metrics."""
    if len(data) == 0:
        raise InputError(f"dataset {data.name} has no labelled pairs to evaluate")
    start = time.perf_counter()
    probs = scorer.predict(
        data.pairs, batch_size=batch_size, show_progress=show_progress
    )
    seconds = time.perf_counter() - start
    return evaluate_predictions(
        data.name, data.labels, probs, seconds=seconds, batch_size=batch_size
    )


def evaluate_model(
    model: str | Path | None,
    datasets: Sequence[str | Path],
    *,
    backend: str = "auto",
    limit: int | None = None,
    batch_size: int = THROUGHPUT_BATCH,
    threads: int | None = None,
    show_progress: bool = False,
    precision: str = "fp32",
) -> dict[str, DatasetEval]:
    """Load ``model`` once and evaluate it on each named dev set or file (first ``limit`` rows)."""
    from crossingguard.inference.scorer import load_scorer
    from crossingguard.toolkit.data.nli import load_nli

    if not datasets:
        raise InputError("no datasets given: pass at least one --data NAME_OR_FILE")
    if limit is not None and limit < 1:
        raise InputError(f"limit: must be >= 1, got {limit}")
    loaded = []
    for (
        source
    ) in datasets:  # read every dataset first: a bad path fails before the model loads
        data = load_nli(str(source), on_error="skip")
        if limit is not None:
            data = data.head(limit)
        loaded.append(data)
    scorer = load_scorer(model, backend=backend, threads=threads, precision=precision)  # type: ignore[arg-type]
    results: dict[str, DatasetEval] = {}
    for data in loaded:
        name = data.name
        while name in results:
            name += "'"
        results[name] = evaluate_nli(
            scorer, data, batch_size=batch_size, show_progress=show_progress
        )
    return results


def confusion_table(ev: DatasetEval) -> Table:
    """A Rich table: gold rows, predicted columns, per-class precision/recall beside."""
    from rich.table import Table

    rep = ev.report
    table = Table(
        title=f"{ev.dataset} (n={ev.n})  f1_micro {rep.f1_micro:.4f}  "
        f"f1_macro {rep.f1_macro:.4f}  f1_weighted {rep.f1_weighted:.4f}"
    )
    table.add_column("gold \\ predicted")
    for name in rep.labels:
        table.add_column(name, justify="right")
    table.add_column("recall", justify="right")
    for i, name in enumerate(rep.labels):
        table.add_row(
            name, *(str(int(v)) for v in rep.confusion[i]), f"{rep.recall[i]:.4f}"
        )
    table.add_row(
        "precision", *(f"{p:.4f}" for p in rep.precision), "", end_section=True
    )
    table.caption = f"{ev.throughput:.1f} samples/s at batch {ev.batch_size}"
    return table


def save_confusion_png(ev: DatasetEval, path: str | Path) -> Path:
    """Write the confusion matrix as a PNG heat map (counts annotated)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = ev.report.confusion
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(LABELS)), labels=list(ev.report.labels), rotation=30)
    ax.set_yticks(range(len(LABELS)), labels=list(ev.report.labels))
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"{ev.dataset}: F1 macro {ev.report.f1_macro:.3f}")
    peak = cm.max() if cm.size else 0
    for (i, j), v in np.ndenumerate(cm):
        ax.text(
            j,
            i,
            str(int(v)),
            ha="center",
            va="center",
            color="white" if v > peak / 2 else "black",
        )
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "dataset"


def write_results(
    results: dict[str, DatasetEval],
    out_dir: str | Path,
    *,
    model: str | None = None,
    backend: str | None = None,
) -> Path:
    """``out_dir/eval_results.json`` plus ``confusion_<dataset>.png`` per dataset."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, ev in results.items():
        save_confusion_png(ev, out / f"confusion_{_slug(name)}.png")
    path = out / "eval_results.json"
    payload = {
        "model": model,
        "backend": backend,
        "results": {name: ev.to_dict() for name, ev in results.items()},
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path
