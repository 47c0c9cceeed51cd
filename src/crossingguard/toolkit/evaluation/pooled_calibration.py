"""Pooled calibration: fit a pack's thresholds for the decision the product makes.

Per-condition calibration (:mod:`crossingguard.guard.calibration`) fits each condition's threshold
for its own F1. What a user sees is the pooled decision: a prompt is stopped when *any* ``block``
or ``flag`` condition fires. With thirteen conditions, thirteen per-condition F1 optima add up
their false alarms, so the pooled false-positive rate is far above any single condition's.
This module fits all thresholds together for a target on that pooled decision:

* ``f1``: the best pooled F1 (harmful vs benign, labels from
  :func:`crossingguard.toolkit.evaluation.guard_datasets.policy_labels`);
* ``precision=P``: the most pooled recall with pooled precision >= P (a precision floor);
* ``fpr=F``: the most pooled recall with a pooled false-positive rate on benign prompts <= F.

Method: coordinate ascent from the policy's current thresholds. For one condition at a time, with
the others fixed, every threshold on the 3-decimal grid 0.000 ... 1.000 is evaluated exactly (a
prompt some other condition already fires stays fired; for the rest, sorted scores give the
counts at every grid value at once), and the condition moves to the best one if it beats the
current objective. Rounds repeat until none moves. Finally each threshold is centred in the run of
grid values that give the same objective, so it sits mid-gap between training scores instead of
on one of them. Thresholds are therefore always multiples of 0.001: readable in a pack file and
exactly what was evaluated (no rounding after the fit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from crossingguard.errors import InputError
from crossingguard.guard.calibration import BinaryMetrics, binary_metrics
from crossingguard.policy.schema import Policy

PooledMetric = Literal["f1", "precision", "fpr"]
DECIMALS = 3
GRID = np.round(np.arange(10**DECIMALS + 1) / 10**DECIMALS, DECIMALS)
_COUNTING_ACTIONS = ("block", "flag")  # the actions that stop or flag a prompt


@dataclass(frozen=True)
class PooledTarget:
    metric: PooledMetric
    value: float | None = None

    def __str__(self) -> str:
        return self.metric if self.value is None else f"{self.metric}={self.value:g}"


def parse_pooled_target(text: str) -> PooledTarget:
    """``f1``, ``precision=0.9`` (a precision floor) or ``fpr=0.1`` (a false-positive cap)."""
    raw = text.strip().lower()
    if raw == "f1":
        return PooledTarget("f1")
    match = re.fullmatch(r"(precision|fpr)\s*=\s*([0-9]*\.?[0-9]+)", raw)
    if not match:
        raise InputError(
            f"pooled target: expected f1, precision=P or fpr=F, got {text!r}; e.g. precision=0.9"
        )
    value = float(match.group(2))
    metric = match.group(1)
    if not (0.0 < value <= 1.0 if metric == "precision" else 0.0 <= value < 1.0):
        bounds = "(0, 1]" if metric == "precision" else "[0, 1)"
        raise InputError(
            f"pooled target {metric}: value must be in {bounds}, got {value:g}"
        )
    return PooledTarget(metric, value)  # type: ignore[arg-type]


def round_thresholds(policy: Policy, decimals: int = DECIMALS) -> Policy:
    """The policy with every explicit condition threshold (the model-independent ``threshold``
    and each model's ``thresholds`` entry) rounded to ``decimals`` places."""
    specs = []
    for c in policy.conditions:
        update: dict[str, Any] = {
            "thresholds": {
                m: round(float(t), decimals) for m, t in c.thresholds.items()
            }
        }
        if c.threshold is not None:
            update["threshold"] = round(float(c.threshold), decimals)
        specs.append(c.model_copy(update=update))
    return policy.model_copy(update={"conditions": specs})


def pooled_decision(
    scores: np.ndarray, thresholds: np.ndarray, counting: np.ndarray
) -> np.ndarray:
    """True where a counting (block/flag) condition's score reaches its threshold."""
    return ((scores >= thresholds) & counting).any(axis=1)


@dataclass(frozen=True)
class PooledCalibration:
    target: str
    policy: Policy
    thresholds_before: dict[str, float]
    thresholds_after: dict[str, float]
    before: BinaryMetrics
    after: BinaryMetrics
    met: bool
    rounds: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "policy": self.policy.identity,
            "met": self.met,
            "rounds": self.rounds,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "thresholds_before": self.thresholds_before,
            "thresholds_after": self.thresholds_after,
        }


def _objective(
    target: PooledTarget, tp: np.ndarray, fp: np.ndarray, pos: int, neg: int
) -> np.ndarray:
    """A scalar per candidate, larger is better. Constrained targets: feasible candidates score
    2 + recall (ties broken toward fewer false positives); infeasible ones score how close they
    come to the constraint (< 1), so the ascent first moves toward feasibility."""
    tp = tp.astype(np.float64)
    fp = fp.astype(np.float64)
    recall = tp / pos if pos else np.zeros_like(tp)
    fpr = fp / neg if neg else np.zeros_like(fp)
    if target.metric == "f1":
        denom = 2 * tp + fp + (pos - tp)
        return np.where(denom > 0, 2 * tp / np.maximum(denom, 1e-12), 0.0)
    if target.metric == "precision":
        flagged = tp + fp
        precision = np.where(flagged > 0, tp / np.maximum(flagged, 1e-12), 1.0)
        ok = precision >= target.value - 1e-12  # type: ignore[operator]
        return np.where(ok, 2.0 + recall - 1e-6 * fpr, precision)
    ok = fpr <= target.value + 1e-12  # type: ignore[operator]
    return np.where(ok, 2.0 + recall - 1e-6 * fpr, 1.0 - fpr)


def _sweep(
    column: np.ndarray, y: np.ndarray, fired_by_others: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pooled (tp, fp) at every grid threshold for one condition, the others fixed."""
    tp0 = int((fired_by_others & y).sum())
    fp0 = int((fired_by_others & ~y).sum())
    rest = ~fired_by_others
    pos_scores = np.sort(column[rest & y])
    neg_scores = np.sort(column[rest & ~y])
    tp = tp0 + len(pos_scores) - np.searchsorted(pos_scores, GRID, side="left")
    fp = fp0 + len(neg_scores) - np.searchsorted(neg_scores, GRID, side="left")
    return tp, fp


def _run_around(values: np.ndarray, index: int) -> int:
    """The middle grid index of the run of equal objective values that contains ``index``."""
    lo = hi = index
    while lo > 0 and values[lo - 1] == values[index]:
        lo -= 1
    while hi + 1 < len(values) and values[hi + 1] == values[index]:
        hi += 1
    return (lo + hi) // 2


def _best_index(values: np.ndarray) -> int:
    """Middle of the longest run of grid values at the maximum (first run on a tie)."""
    best = values.max()
    at_best = np.flatnonzero(values == best)
    runs = np.split(at_best, np.flatnonzero(np.diff(at_best) != 1) + 1)
    longest = max(runs, key=len)
    return int(longest[len(longest) // 2])


def fit_pooled_thresholds(
    policy: Policy,
    ids: Sequence[str],
    scores: np.ndarray,
    labels: np.ndarray,
    *,
    target: PooledTarget | str = "f1",
    start: Mapping[str, float] | None = None,
    model: str | None = None,
    max_rounds: int = 20,
) -> PooledCalibration:
    """Fit the thresholds of the policy's ``block``/``flag`` conditions for a pooled target.

    ``scores``: (n_prompts, n_conditions) fire-on scores in the order of ``ids`` (as
    :func:`crossingguard.guard.calibration.score_conditions` returns them); ``labels``: 1 harmful
    (the pack should stop it), 0 benign, -1 unknown (left out), one per prompt.
    ``start``: thresholds to start from (default: the policy's for ``model``, e.g. per-condition
    F1 fits). ``model``: the model the scores come from; as in
    :func:`crossingguard.guard.calibration.calibrate_scores`, the fitted thresholds are stored as
    that model's ``thresholds`` entry (other models' entries kept), or as the model-independent
    ``threshold`` when it is None. ``log`` conditions never stop a prompt and keep their thresholds.
    """
    tgt = parse_pooled_target(target) if isinstance(target, str) else target
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if (
        scores.ndim != 2
        or scores.shape[1] != len(ids)
        or len(ids) != len(policy.conditions)
    ):
        raise InputError(
            f"scores must be (n_prompts, {len(policy.conditions)}) for the policy's "
            f"{len(policy.conditions)} conditions (ids {len(ids)}), got {scores.shape}"
        )
    if labels.shape != (scores.shape[0],):
        raise InputError(
            f"labels must hold one value per prompt ({scores.shape[0]}), got shape {labels.shape}"
        )
    if max_rounds < 1:
        raise InputError(f"max_rounds must be >= 1, got {max_rounds}")
    known = labels >= 0
    s = scores[known]
    y = labels[known] == 1
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        raise InputError(
            f"pooled calibration needs harmful and benign prompts, got {pos} harmful and {neg} "
            "benign among the labeled ones; add data with both"
        )
    counting = np.array([c.action in _COUNTING_ACTIONS for c in policy.conditions])
    before_t = np.array(
        [start.get(cid, policy.condition_threshold(c, model)) if start else policy.condition_threshold(c, model)
         for cid, c in zip(ids, policy.conditions, strict=True)],
        dtype=np.float64,
    )  # fmt: skip
    t = np.round(before_t, DECIMALS)

    def value() -> float:
        fired = pooled_decision(s, t, counting)
        return float(
            _objective(
                tgt,
                np.array([(fired & y).sum()]),
                np.array([(fired & ~y).sum()]),
                pos,
                neg,
            )[0]
        )

    tunable = np.flatnonzero(counting)
    rounds = 0
    current = value()
    while rounds < max_rounds:
        rounds += 1
        moved = False
        for j in tunable:
            others = counting.copy()
            others[j] = False
            fired = pooled_decision(s, t, others)
            tp, fp = _sweep(s[:, j], y, fired)
            values = _objective(tgt, tp, fp, pos, neg)
            k = _best_index(values)
            if values[k] > current + 1e-12:
                t[j] = GRID[k]
                current = float(values[k])
                moved = True
        if not moved:
            break
    for (
        j
    ) in tunable:  # centre each threshold in its plateau: same objective, more margin
        others = counting.copy()
        others[j] = False
        tp, fp = _sweep(s[:, j], y, pooled_decision(s, t, others))
        values = _objective(tgt, tp, fp, pos, neg)
        t[j] = GRID[_run_around(values, int(np.rint(t[j] * 10**DECIMALS)))]

    specs = []
    for k, c in enumerate(policy.conditions):
        if not counting[k]:
            specs.append(c)
        elif model is None:
            specs.append(c.model_copy(update={"threshold": float(t[k])}))
        else:
            specs.append(
                c.model_copy(
                    update={"thresholds": {**c.thresholds, model: float(t[k])}}
                )
            )
    fitted = policy.model_copy(update={"conditions": specs})
    y_all = np.where(known, labels, -1)
    before = binary_metrics(
        pooled_decision(scores, before_t, counting).astype(float), y_all, 0.5
    )
    after = binary_metrics(
        pooled_decision(scores, t, counting).astype(float), y_all, 0.5
    )
    final = value()
    met = final >= 2.0 and after.recall > 0 if tgt.metric != "f1" else True
    return PooledCalibration(
        target=str(tgt),
        policy=fitted,
        thresholds_before={cid: float(v) for cid, v in zip(ids, before_t, strict=True)},
        thresholds_after={
            cid: float(t[j] if counting[j] else before_t[j])
            for j, cid in enumerate(ids)
        },
        before=before,
        after=after,
        met=bool(met),
        rounds=rounds,
    )
