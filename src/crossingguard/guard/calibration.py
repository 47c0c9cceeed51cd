"""Fit each condition's threshold on labeled prompts.

Scores come from the guard (one ``fire_on`` probability per prompt and condition); labels are 1
(the condition should fire), 0 (it should not) or -1 (unknown for this prompt: left out). A
threshold ``t`` predicts "fires" for ``score >= t``. Targets:

* ``f1``: the threshold with the best F1;
* ``precision=P``: the lowest threshold whose precision is at least P (the most recall at that
  precision);
* ``recall=R``: the highest threshold whose recall is at least R (the most precision at that
  recall).

A fitted threshold sits halfway between the last score it admits and the next lower score, so a
prompt scored a hair below a training positive still fires. Matplotlib is imported only for PNGs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crossingguard.errors import InputError
from crossingguard.guard.guard import Guard
from crossingguard.policy.schema import Policy

TargetMetric = Literal["f1", "precision", "recall"]


@dataclass(frozen=True)
class Target:
    metric: TargetMetric
    value: float | None = None

    def __post_init__(self) -> None:
        if self.metric != "f1" and self.value is None:
            raise InputError(
                f"target: {self.metric} needs a value, e.g. Target({self.metric!r}, 0.9)"
            )

    def __str__(self) -> str:
        return self.metric if self.value is None else f"{self.metric}={self.value:g}"


def parse_target(text: str) -> Target:
    """``f1``, ``precision=0.95`` or ``recall=0.9``."""
    raw = text.strip().lower()
    if raw == "f1":
        return Target("f1")
    match = re.fullmatch(r"(precision|recall)\s*=\s*([0-9]*\.?[0-9]+)", raw)
    if not match or not 0.0 < float(match.group(2)) <= 1.0:
        raise InputError(
            f"target: expected f1, precision=P or recall=R with P, R in (0, 1], got {text!r}; "
            "e.g. --target precision=0.95"
        )
    return Target(match.group(1), float(match.group(2)))  # type: ignore[arg-type]


@dataclass(frozen=True)
class BinaryMetrics:
    threshold: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "support": self.support, "fpr": self.fpr}


def _known(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.shape != labels.shape or scores.ndim != 1:
        raise InputError(
            f"scores and labels must be 1-D and the same length, got {scores.shape} and "
            f"{labels.shape}"
        )
    keep = labels >= 0
    return scores[keep], labels[keep].astype(bool)


def binary_metrics(
    scores: np.ndarray, labels: np.ndarray, threshold: float
) -> BinaryMetrics:
    """Precision, recall, F1 and counts of ``score >= threshold`` against labels (-1 ignored)."""
    s, y = _known(scores, labels)
    pred = s >= threshold
    tp = int((pred & y).sum())
    fp = int((pred & ~y).sum())
    fn = int((~pred & y).sum())
    tn = int((~pred & ~y).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return BinaryMetrics(float(threshold), p, r, f1, tp, fp, fn, tn)


@dataclass(frozen=True)
class PRCurve:
    """Precision and recall at each distinct score used as threshold (highest first)."""

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray

    @property
    def average_precision(self) -> float:
        """Area under the step PR curve (scikit-learn's definition)."""
        if not len(self.recall):
            return 0.0
        r = np.concatenate([[0.0], self.recall])
        return float(np.sum(np.diff(r) * self.precision))


def pr_curve(scores: np.ndarray, labels: np.ndarray) -> PRCurve:
    s, y = _known(scores, labels)
    if not len(s):
        empty = np.zeros(0)
        return PRCurve(empty, empty, empty)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    tp = np.cumsum(y)
    fp = np.cumsum(~y)
    last = np.r_[
        np.flatnonzero(np.diff(s) != 0), len(s) - 1
    ]  # last index of each distinct score
    pos = max(int(y.sum()), 1)
    return PRCurve(s[last], tp[last] / (tp[last] + fp[last]), tp[last] / pos)


@dataclass(frozen=True)
class ThresholdFit:
    target: str
    threshold: float
    met: bool
    metrics: BinaryMetrics

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "threshold": self.threshold,
            "met": self.met,
            **self.metrics.to_dict(),
        }


def _between(s_sorted_desc: np.ndarray, k: int) -> float:
    """A threshold admitting the k+1 highest distinct scores: halfway to the next lower one."""
    hi = float(s_sorted_desc[k])
    if k + 1 >= len(s_sorted_desc):
        return hi
    lo = float(s_sorted_desc[k + 1])
    mid = (hi + lo) / 2.0
    # readable in the policy file, as long as it admits the same scores
    short = round(mid, 4)
    if lo < short <= hi:
        return short
    # scores too close to halve (e.g. 0 and 5e-324): the higher one still separates them
    return mid if lo < mid <= hi else hi


def fit_threshold(
    scores: np.ndarray,
    labels: np.ndarray,
    *,
    target: Target | str = "f1",
    fallback: float = 0.5,
) -> ThresholdFit:
    """The threshold that best meets ``target`` on these scores (see the module docstring).

    With no positives or no known labels the ``fallback`` threshold is kept (``met=False``); if a
    precision/recall target cannot be met, the threshold with the best F1 is used (``met=False``).
    """
    tgt = parse_target(target) if isinstance(target, str) else target
    curve = pr_curve(scores, labels)
    _, y = _known(scores, labels)
    if not len(curve.thresholds) or not y.any():
        return ThresholdFit(
            str(tgt), fallback, False, binary_metrics(scores, labels, fallback)
        )
    p, r = curve.precision, curve.recall
    f1 = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)
    met = True
    goal = 0.0 if tgt.value is None else tgt.value  # set for precision / recall
    if tgt.metric == "f1":
        k = int(np.argmax(f1))  # first (highest threshold) among ties
    elif tgt.metric == "precision":
        ok = np.flatnonzero(p >= goal - 1e-12)
        if ok.size:
            k = int(ok[-1])  # lowest threshold that still meets the precision
        else:
            k, met = int(np.argmax(f1)), False
    else:
        ok = np.flatnonzero(r >= goal - 1e-12)
        if ok.size:
            k = int(ok[0])  # highest threshold that reaches the recall
        else:
            k, met = int(np.argmax(f1)), False
    threshold = float(np.clip(_between(curve.thresholds, k), 0.0, 1.0))
    return ThresholdFit(
        str(tgt), threshold, met, binary_metrics(scores, labels, threshold)
    )


# ---------------------------------------------------------------------------- whole policies


def score_conditions(
    guard: Guard,
    texts: Sequence[str],
    *,
    chunk: int = 32,
    progress: Callable[[int], None] | None = None,
) -> tuple[tuple[str, ...], np.ndarray]:
    """Condition ids and the (n_texts, n_conditions) ``fire_on`` scores of the guard's policy."""
    ids = tuple(c.name or c.text for c in guard.conditions)
    out = np.zeros((len(texts), len(ids)), dtype=np.float64)
    for start in range(0, len(texts), chunk):
        batch = list(texts[start : start + chunk])
        for i, verdict in enumerate(guard.check_batch(batch)):
            out[start + i] = [r.score for r in verdict.results]
        if progress is not None:
            progress(len(batch))
    return ids, out


@dataclass(frozen=True)
class ConditionCalibration:
    id: str
    before: BinaryMetrics
    after: ThresholdFit
    average_precision: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "average_precision": self.average_precision,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
        }


@dataclass(frozen=True)
class CalibrationResult:
    target: str
    policy: Policy
    conditions: tuple[ConditionCalibration, ...]
    curves: Mapping[str, PRCurve]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "policy": self.policy.identity,
            "conditions": [c.to_dict() for c in self.conditions],
        }


def calibrate_scores(
    policy: Policy,
    ids: Sequence[str],
    scores: np.ndarray,
    labels: Mapping[str, np.ndarray],
    *,
    target: Target | str = "f1",
    min_positives: int = 1,
    model: str | None = None,
) -> CalibrationResult:
    """Fit every condition that has labels; returns the policy with the new thresholds.

    ``scores`` come from ``model`` (the guard's ``model_name``): each fitted threshold is stored
    as that model's entry in the condition's ``thresholds``, keeping other models' entries (a
    threshold fitted for one model is not right for another). ``model=None`` writes the
    model-independent ``threshold`` instead. Conditions with fewer than ``min_positives`` known
    positives keep their threshold.
    """
    tgt = parse_target(target) if isinstance(target, str) else target
    rows: list[ConditionCalibration] = []
    curves: dict[str, PRCurve] = {}
    new_specs = []
    for j, spec in enumerate(policy.conditions):
        cid = ids[j]
        old = policy.condition_threshold(spec, model)
        y = labels.get(cid)
        if y is None or int((np.asarray(y) == 1).sum()) < min_positives:
            new_specs.append(spec)
            continue
        curve = pr_curve(scores[:, j], y)
        fit = fit_threshold(scores[:, j], y, target=tgt, fallback=old)
        rows.append(
            ConditionCalibration(
                cid, binary_metrics(scores[:, j], y, old), fit, curve.average_precision
            )
        )
        curves[cid] = curve
        if model is None:
            new_specs.append(spec.model_copy(update={"threshold": fit.threshold}))
        else:
            fitted = {**spec.thresholds, model: fit.threshold}
            new_specs.append(spec.model_copy(update={"thresholds": fitted}))
    calibrated = policy.model_copy(update={"conditions": new_specs})
    return CalibrationResult(str(tgt), calibrated, tuple(rows), curves)


def save_pr_curves(result: CalibrationResult, path: str | Path) -> Path:
    """One PNG with a precision-recall panel per calibrated condition, old and new thresholds
    marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    n = max(len(result.conditions), 1)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.2 * cols, 3.0 * rows), squeeze=False
    )
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, cal in zip(axes.flat, result.conditions, strict=True):
        curve = result.curves[cal.id]
        ax.step(curve.recall, curve.precision, where="post", color="tab:blue")
        ax.plot(
            cal.before.recall,
            cal.before.precision,
            "o",
            color="tab:gray",
            label="before",
        )
        ax.plot(
            cal.after.metrics.recall, cal.after.metrics.precision, "*", color="tab:red",
            markersize=10, label="after",
        )  # fmt: skip
        ax.set_title(f"{cal.id} (AP {cal.average_precision:.2f})", fontsize=9)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall", fontsize=8)
        ax.set_ylabel("precision", fontsize=8)
        ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(
        f"{result.policy.name}: precision-recall, target {result.target}", fontsize=10
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
