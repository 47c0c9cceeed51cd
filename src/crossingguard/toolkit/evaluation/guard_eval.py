"""Guard evaluation: how well a policy's decisions match labeled prompts.

For a set of :class:`GuardExample`s and a guard:

* **overall**: a prompt counts as flagged when a condition with action ``block`` or ``flag``
  fires (``log`` conditions do not count); precision, recall, F1 against the policy's labels
  (``guard_datasets.policy_labels``: harmful prompts in the policy's scope, i.e. the union of its
  conditions' categories; harm outside the scope is a negative) and the false-positive rate on
  benign prompts, with the 2x2 confusion matrix;
* **per condition**: precision, recall, F1 and average precision against the condition's labels
  (``guard_datasets.condition_labels``: the prompt's categories against the condition's);
* **look-alikes**: the flagged rate on benign prompts that imitate a harm category (JBB benign
  twins, HateCheck non-hateful cases, PhysicalSafetySafe, clean BIPIA contexts ...);
* **per group**: the flagged rate per source and group (a HateCheck functionality, a JBB category);
* **routing**: accuracy of the best route (or fallback) on examples with a gold route; a gold
  route that is not one of the policy's routes (e.g. ``out_of_scope``) should get the fallback.

Scores are computed once (``score_conditions``) and decisions are made from them, so the same
scores can be evaluated under several threshold sets (before / after calibration).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crossingguard.guard.calibration import (
    BinaryMetrics,
    binary_metrics,
    pr_curve,
    score_conditions,
)
from crossingguard.guard.guard import Guard
from crossingguard.guard.types import ACTION_RANK, RouteResult
from crossingguard.policy.schema import Policy
from crossingguard.toolkit.evaluation.guard_datasets import (
    GuardExample,
    condition_labels,
    policy_labels,
)


@dataclass(frozen=True)
class RoutingMetrics:
    n: int
    accuracy: float
    in_scope_accuracy: float | None
    out_of_scope: int
    oos_recall: float | None
    oos_precision: float | None
    fallback: str
    top_confusions: tuple[tuple[str, str, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "in_scope_accuracy": self.in_scope_accuracy,
            "out_of_scope": self.out_of_scope,
            "oos_recall": self.oos_recall,
            "oos_precision": self.oos_precision,
            "fallback": self.fallback,
            "top_confusions": [list(x) for x in self.top_confusions],
        }


@dataclass(frozen=True)
class ConditionEval:
    id: str
    metrics: BinaryMetrics
    average_precision: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "average_precision": self.average_precision,
            **self.metrics.to_dict(),
        }


@dataclass(frozen=True)
class GuardEvalResult:
    dataset: str
    policy: str
    model: str
    n: int
    overall: BinaryMetrics | None
    flagged_rate: float
    lookalike_fpr: float | None
    lookalikes: int
    conditions: tuple[ConditionEval, ...]
    groups: tuple[dict[str, Any], ...]
    routing: RoutingMetrics | None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "policy": self.policy,
            "model": self.model,
            "n": self.n,
            "overall": None if self.overall is None else self.overall.to_dict(),
            "flagged_rate": self.flagged_rate,
            "lookalike_fpr": self.lookalike_fpr,
            "lookalikes": self.lookalikes,
            "conditions": [c.to_dict() for c in self.conditions],
            "groups": list(self.groups),
            "routing": None if self.routing is None else self.routing.to_dict(),
            "seconds": self.seconds,
            **self.extra,
        }


def flagged_from_scores(
    policy: Policy, scores: np.ndarray, model: str | None = None
) -> np.ndarray:
    """Which prompts a block/flag condition fires on, from (n, k) scores and the policy's
    thresholds for ``model`` (the same rule as ``Verdict.action``)."""
    if not policy.conditions:
        return np.zeros(len(scores), dtype=bool)
    thresholds = np.array(
        [policy.condition_threshold(c, model) for c in policy.conditions]
    )
    counts = np.array(
        [ACTION_RANK[c.action] >= ACTION_RANK["flag"] for c in policy.conditions]
    )
    return ((scores >= thresholds) & counts).any(axis=1)


def routing_metrics(
    policy: Policy, examples: Sequence[GuardExample], routes: Sequence[RouteResult]
) -> RoutingMetrics:
    known = {r.id for r in policy.routes}
    fallback = policy.routing.fallback
    gold = [ex.route if ex.route in known else fallback for ex in examples]
    pred = [r.route for r in routes]
    n = len(gold)
    correct = [g == p for g, p in zip(gold, pred, strict=True)]
    ins = [c for c, g in zip(correct, gold, strict=True) if g != fallback]
    oos_gold = [g == fallback for g in gold]
    oos_pred = [p == fallback for p in pred]
    both = sum(a and b for a, b in zip(oos_gold, oos_pred, strict=True))
    confusions = Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p)
    return RoutingMetrics(
        n=n,
        accuracy=sum(correct) / n if n else 0.0,
        in_scope_accuracy=sum(ins) / len(ins) if ins else None,
        out_of_scope=sum(oos_gold),
        oos_recall=both / sum(oos_gold) if sum(oos_gold) else None,
        oos_precision=both / sum(oos_pred) if sum(oos_pred) else None,
        fallback=fallback,
        top_confusions=tuple((g, p, c) for (g, p), c in confusions.most_common(10)),
    )


def evaluate_scores(
    policy: Policy,
    ids: Sequence[str],
    scores: np.ndarray,
    examples: Sequence[GuardExample],
    *,
    dataset: str,
    model: str,
    routes: Sequence[RouteResult | None] | None = None,
    seconds: float = 0.0,
) -> GuardEvalResult:
    """Metrics from precomputed condition scores (n, k) under the policy's thresholds.

    ``routes`` holds one route result per example (``None`` for examples without a gold route).
    """
    flagged = (
        flagged_from_scores(policy, scores, model)
        if len(ids)
        else np.zeros(len(examples), bool)
    )
    harmful = policy_labels([c.categories for c in policy.conditions], examples)
    overall = None
    if (harmful >= 0).any():
        overall = binary_metrics(flagged.astype(float), harmful, 0.5)
    look = np.array(
        [ex.harmful is False and bool(ex.contrast) for ex in examples], dtype=bool
    )
    conds = []
    for j, spec in enumerate(policy.conditions):
        y = condition_labels(spec.categories, examples)
        if not (y >= 0).any():
            continue
        conds.append(
            ConditionEval(
                ids[j],
                binary_metrics(
                    scores[:, j], y, policy.condition_threshold(spec, model)
                ),
                pr_curve(scores[:, j], y).average_precision,
            )
        )
    by_group: dict[tuple[str, str, str], list[bool]] = defaultdict(list)
    for ex, f in zip(examples, flagged, strict=True):
        label = {True: "harmful", False: "benign", None: "unlabeled"}[ex.harmful]
        by_group[(ex.source, ex.group, label)].append(bool(f))
    groups = tuple(
        {
            "source": s,
            "group": g,
            "label": lab,
            "n": len(v),
            "flagged_rate": sum(v) / len(v),
        }
        for (s, g, lab), v in sorted(by_group.items())
    )
    route_metrics = None
    if routes is not None and policy.routes:
        pairs = [
            (ex, r)
            for ex, r in zip(examples, routes, strict=True)
            if ex.route is not None and r
        ]
        if pairs:
            route_metrics = routing_metrics(
                policy, [ex for ex, _ in pairs], [r for _, r in pairs]
            )
    return GuardEvalResult(
        dataset=dataset,
        policy=policy.identity,
        model=model,
        n=len(examples),
        overall=overall,
        flagged_rate=float(flagged.mean()) if len(flagged) else 0.0,
        lookalike_fpr=float(flagged[look].mean()) if look.any() else None,
        lookalikes=int(look.sum()),
        conditions=tuple(conds),
        groups=groups,
        routing=route_metrics,
        seconds=seconds,
    )


def evaluate_guard(
    guard: Guard,
    examples: Sequence[GuardExample],
    *,
    dataset: str,
    chunk: int = 32,
    progress: Callable[[int], None] | None = None,
) -> tuple[GuardEvalResult, np.ndarray]:
    """Score the examples with the guard's policy and evaluate; also returns the (n, k) scores."""
    if guard.policy is None:
        from crossingguard.errors import InputError

        raise InputError(
            "eval-guard needs a guard built from a policy (Guard.from_policy)"
        )
    start = time.perf_counter()
    texts = [ex.text for ex in examples]
    ids: tuple[str, ...] = tuple(c.id for c in guard.policy.conditions)
    scores = np.zeros((len(texts), len(ids)))
    if ids:
        ids, scores = score_conditions(guard, texts, chunk=chunk, progress=progress)
    routes: list[RouteResult | None] | None = None
    routed = [i for i, ex in enumerate(examples) if ex.route is not None]
    if guard.policy.routes and routed:
        routes = [None] * len(examples)
        for s in range(0, len(routed), chunk):
            part = routed[s : s + chunk]
            for i, r in zip(
                part, guard.route_batch([texts[i] for i in part]), strict=True
            ):
                routes[i] = r
            if progress is not None and not ids:
                progress(len(part))
    result = evaluate_scores(
        guard.policy,
        ids,
        scores,
        examples,
        dataset=dataset,
        model=guard.model_name,
        routes=routes,
        seconds=time.perf_counter() - start,
    )
    return result, scores


# ------------------------------------------------------------------------------------ reports


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def summary_rows(results: Sequence[GuardEvalResult]) -> list[list[str]]:
    rows = []
    for r in results:
        o = r.overall
        rows.append(
            [
                r.dataset,
                str(r.n),
                _pct(o.precision if o and o.tp + o.fp else None),
                _pct(o.recall if o and o.support else None),
                _pct(o.f1 if o and o.support else None),
                _pct(o.fpr if o and o.fp + o.tn else None),
                _pct(r.lookalike_fpr),
                _pct(r.routing.accuracy if r.routing else None),
            ]
        )
    return rows


SUMMARY_HEADER = [
    "data",
    "n",
    "precision",
    "recall",
    "F1",
    "FPR benign",
    "FPR look-alikes",
    "routing acc",
]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def markdown_report(results: Sequence[GuardEvalResult]) -> str:
    if not results:
        return ""
    head = results[0]
    parts = [
        f"# Guard evaluation: `{head.policy}` with `{head.model}`",
        "",
        (
            "Percentages. A prompt is flagged when a block/flag condition fires. FPR benign: "
            "share of benign prompts flagged; FPR look-alikes: the same on benign prompts that "
            "imitate a harm category."
        ),
        "",
        markdown_table(SUMMARY_HEADER, summary_rows(results)),
    ]
    for r in results:
        if r.conditions:
            parts += ["", f"## {r.dataset}: per condition", ""]
            parts.append(
                markdown_table(
                    [
                        "condition",
                        "threshold",
                        "precision",
                        "recall",
                        "F1",
                        "AP",
                        "positives",
                        "FP",
                    ],
                    [
                        [
                            c.id,
                            f"{c.metrics.threshold:.3g}",
                            _pct(c.metrics.precision),
                            _pct(c.metrics.recall),
                            _pct(c.metrics.f1),
                            _pct(c.average_precision),
                            str(c.metrics.support),
                            str(c.metrics.fp),
                        ]
                        for c in r.conditions
                    ],
                )
            )
        if r.overall is not None:
            o = r.overall
            confusion = (
                f"Confusion ({r.dataset}): harmful flagged {o.tp}, harmful passed {o.fn}, "
                f"benign flagged {o.fp}, benign passed {o.tn}."
            )
            parts += ["", confusion]
        if r.routing is not None:
            rt = r.routing
            routing = (
                f"Routing ({r.dataset}): accuracy {_pct(rt.accuracy)}, in-scope "
                f"{_pct(rt.in_scope_accuracy)}, out-of-scope {rt.out_of_scope} (recall "
                f"{_pct(rt.oos_recall)}, precision {_pct(rt.oos_precision)})."
            )
            parts += ["", routing]
    return "\n".join(parts) + "\n"


def save_eval_png(result: GuardEvalResult, path: str | Path) -> Path:
    """Confusion matrix (flagged vs harmful) and per-condition precision/recall/F1 bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (ax1, ax2) = plt.subplots(
        1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1, 2.4]}
    )
    o = result.overall
    if o is not None:
        cm = np.array([[o.tp, o.fn], [o.fp, o.tn]])
        ax1.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax1.text(
                j,
                i,
                str(v),
                ha="center",
                va="center",
                color="white" if v > cm.max() / 2 else "black",
            )
        ax1.set_xticks([0, 1], ["flagged", "passed"])
        ax1.set_yticks([0, 1], ["harmful", "benign"])
        ax1.set_title("decisions", fontsize=10)
    else:
        ax1.axis("off")
    if result.conditions:
        x = np.arange(len(result.conditions))
        w = 0.27
        for k, (name, key) in enumerate(
            (("precision", "precision"), ("recall", "recall"), ("F1", "f1"))
        ):
            ax2.bar(
                x + (k - 1) * w,
                [getattr(c.metrics, key) for c in result.conditions],
                w,
                label=name,
            )
        ax2.set_xticks(
            x, [c.id for c in result.conditions], rotation=45, ha="right", fontsize=8
        )
        ax2.set_ylim(0, 1)
        ax2.legend(fontsize=8)
        ax2.set_title("per condition", fontsize=10)
    else:
        ax2.axis("off")
    fig.suptitle(f"{result.dataset}: {result.policy}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_reports(
    results: Sequence[GuardEvalResult], out: str | Path, *, png: bool = True
) -> dict[str, Path]:
    """``eval_guard.json``, ``eval_guard.md`` and one ``eval_guard_<data>.png`` per data set."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "eval_guard.json", "markdown": out / "eval_guard.md"}
    paths["json"].write_text(
        json.dumps([r.to_dict() for r in results], indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    paths["markdown"].write_text(markdown_report(results), encoding="utf-8")
    if png:
        for r in results:
            slug = "".join(
                ch if ch.isalnum() or ch in "-_" else "_" for ch in r.dataset
            )
            paths[f"png:{r.dataset}"] = save_eval_png(r, out / f"eval_guard_{slug}.png")
    return paths
