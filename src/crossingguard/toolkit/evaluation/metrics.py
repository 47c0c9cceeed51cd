"""Classification metrics from a confusion matrix, numpy only (no torch, no sklearn).

Conventions follow scikit-learn so numbers can be compared with published results: rows of the
confusion matrix are gold labels, columns are predictions; a class with no predictions (or no gold
rows) gets precision (or recall) 0 rather than NaN, and ``f1_micro`` equals accuracy for
single-label multi-class data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from crossingguard.errors import InputError


def confusion_matrix(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    *,
    num_classes: int = 3,
) -> np.ndarray:
    """Return an integer ``(num_classes, num_classes)`` matrix: ``cm[gold, predicted]``."""
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.ndim != 1 or p.ndim != 1 or t.shape != p.shape:
        raise InputError(
            f"y_true and y_pred must be 1-D and the same length, got shapes {t.shape} and {p.shape}"
        )
    if t.size == 0:
        raise InputError("cannot compute metrics on 0 examples: the dataset is empty")
    for name, arr in (("y_true", t), ("y_pred", p)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise InputError(
                f"{name} must hold integer class ids, got dtype {arr.dtype}"
            )
        bad = arr[(arr < 0) | (arr >= num_classes)]
        if bad.size:
            raise InputError(
                f"{name} holds class id {int(bad[0])}, expected ids in 0..{num_classes - 1}"
            )
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros_like(num, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


@dataclass(frozen=True)
class ClassificationReport:
    """Metrics of one evaluation; plain data that ``to_dict`` turns into JSON-ready values."""

    labels: tuple[str, ...]
    confusion: np.ndarray = field(repr=False)
    precision: np.ndarray = field(repr=False)
    recall: np.ndarray = field(repr=False)
    f1: np.ndarray = field(repr=False)
    support: np.ndarray = field(repr=False)
    f1_micro: float
    f1_macro: float
    f1_weighted: float
    accuracy: float

    def to_dict(self) -> dict:
        per_class = {
            name: {
                "precision": float(self.precision[i]),
                "recall": float(self.recall[i]),
                "f1": float(self.f1[i]),
                "support": int(self.support[i]),
            }
            for i, name in enumerate(self.labels)
        }
        return {
            "f1_micro": self.f1_micro,
            "f1_macro": self.f1_macro,
            "f1_weighted": self.f1_weighted,
            "accuracy": self.accuracy,
            "per_class": per_class,
            "labels": list(self.labels),
            "confusion_matrix": self.confusion.tolist(),
        }


def report_from_confusion(
    cm: np.ndarray, *, labels: Sequence[str] | None = None
) -> ClassificationReport:
    """Per-class precision/recall/F1 and micro/macro/weighted F1 from a confusion matrix."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise InputError(f"confusion matrix must be square, got shape {cm.shape}")
    k = cm.shape[0]
    names = tuple(labels) if labels is not None else tuple(str(i) for i in range(k))
    if len(names) != k:
        raise InputError(f"got {len(names)} label names for a {k}x{k} confusion matrix")
    total = int(cm.sum())
    if total == 0:
        raise InputError("cannot compute metrics on 0 examples: the dataset is empty")
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = _safe_div(tp, predicted.astype(np.float64))
    recall = _safe_div(tp, support.astype(np.float64))
    f1 = _safe_div(2 * precision * recall, precision + recall)
    accuracy = float(tp.sum() / total)
    # Micro F1 pools TP/FP/FN over classes; with one label per example it equals accuracy.
    micro_p = tp.sum() / max(int(predicted.sum()), 1)
    micro_r = tp.sum() / max(int(support.sum()), 1)
    f1_micro = (
        float(2 * micro_p * micro_r / (micro_p + micro_r))
        if micro_p + micro_r > 0
        else 0.0
    )
    return ClassificationReport(
        labels=names,
        confusion=cm.astype(np.int64),
        precision=precision,
        recall=recall,
        f1=f1,
        support=support.astype(np.int64),
        f1_micro=f1_micro,
        f1_macro=float(f1.mean()),
        f1_weighted=float((f1 * support).sum() / support.sum()),
        accuracy=accuracy,
    )


def classification_report(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    *,
    labels: Sequence[str] = ("entailment", "neutral", "contradiction"),
) -> ClassificationReport:
    """Metrics for integer gold labels and predictions (project order 0/1/2 by default)."""
    cm = confusion_matrix(y_true, y_pred, num_classes=len(labels))
    return report_from_confusion(cm, labels=labels)


def f1_scores(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    *,
    num_classes: int = 3,
) -> dict[str, float]:
    """Just ``{"f1_micro", "f1_macro", "f1_weighted"}``, e.g. for an export accuracy gate."""
    rep = report_from_confusion(
        confusion_matrix(y_true, y_pred, num_classes=num_classes)
    )
    return {
        "f1_micro": rep.f1_micro,
        "f1_macro": rep.f1_macro,
        "f1_weighted": rep.f1_weighted,
    }
