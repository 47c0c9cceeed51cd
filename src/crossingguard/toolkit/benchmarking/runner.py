"""Time every system on every workload in one process, then compare their scores.

Timing protocol, chosen for a shared CPU where neighbours only ever add time:

* a warm-up call first (lazy initialisation, embedding the shared hypotheses, allocator growth);
* repeats are interleaved (repeat 1 of every system, then repeat 2, ...), so a burst of load
  from elsewhere hits all systems alike, and a system's throughput is its best repeat (as
  ``timeit`` reports the minimum);
* a per-workload time budget: a slow system scores the workload's first prompts until the
  budget is spent (at least one chunk or ``MIN_CALLS`` calls), later repeats score the same
  prefix, and its agreement is measured on that prefix. The row says how many it scored.

Agreement is always against the reference system (``CrossEncoder.predict`` fp32 with its default
batch size, the card's usage) on exactly the pairs both scored.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossingguard.toolkit.benchmarking.systems import Scores, System
from crossingguard.toolkit.benchmarking.workloads import Workload

CHUNK_PAIRS = 256  # pairs per call in throughput mode (prompt workloads: whole prompts)
MIN_CALLS = 5
DECISION_THRESHOLD = 0.5  # a condition fires at entailment >= 0.5 (the Guard's default)


@dataclass
class Run:
    """One system on one workload: how much it scored, how fast, and its scores."""

    system: str
    workload: str
    prompts: int = 0
    pairs: int = 0
    seconds: list[float] = field(
        default_factory=list
    )  # per repeat, for the scored prefix
    call_ms: list[float] = field(
        default_factory=list
    )  # calls mode: every call of every repeat
    steps: list[list[tuple[int, float]]] = field(
        default_factory=list
    )  # per repeat: (prompts done after the step, seconds of the step)
    scores: Scores | None = None
    error: str | None = None

    @property
    def best_s(self) -> float:
        return min(self.seconds) if self.seconds else float("nan")

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {"prompts": self.prompts, "pairs": self.pairs}
        if self.error:
            return {**out, "error": self.error}
        best = self.best_s
        out["seconds_per_repeat"] = [round(s, 4) for s in self.seconds]
        out["pairs_per_s"] = self.pairs / best if best > 0 else None
        out["prompts_per_s"] = self.prompts / best if best > 0 else None
        if self.call_ms:
            ms = np.asarray(self.call_ms)
            out["latency_ms"] = {
                "p50": float(np.percentile(ms, 50)),
                "p99": float(np.percentile(ms, 99)),
                "mean": float(ms.mean()),
                "calls": int(ms.size),
            }
        return out


def _chunk_prompts(workload: Workload) -> int:
    return max(1, CHUNK_PAIRS // workload.pairs_per_prompt)


def _score(system: System, workload: Workload, start: int, stop: int) -> Scores:
    if workload.shared:
        return system.score_prompts(workload.prompts[start:stop], workload.hypotheses)
    return system.score_pairs(workload.pairs(start, stop))


def _concat(parts: Sequence[Scores]) -> Scores:
    probs = [p.probs for p in parts]
    return Scores(
        np.concatenate([p.entail for p in parts]),
        None if any(p is None for p in probs) else np.concatenate(probs),  # type: ignore[arg-type]
        parts[0].three_way,
    )


def run_once(
    system: System, workload: Workload, *, budget_s: float, limit: int | None
) -> tuple[int, list[tuple[int, float]], Scores]:
    """Score the workload (or its first ``limit`` prompts; ``None``: as far as the budget goes).

    Returns (prompts scored, (prompts done, seconds) per step, scores). A step is one call in
    calls mode, one chunk otherwise; chunk boundaries depend on the workload only, so two
    systems' steps line up and can be compared on a common prefix.
    """
    step = 1 if workload.mode == "calls" else _chunk_prompts(workload)
    end = len(workload) if limit is None else limit
    parts: list[Scores] = []
    steps: list[tuple[int, float]] = []
    total = 0.0
    done = 0
    min_done = MIN_CALLS if workload.mode == "calls" else step
    while done < end:
        stop = min(done + step, end)
        t0 = time.perf_counter()
        parts.append(_score(system, workload, done, stop))
        dt = time.perf_counter() - t0
        total += dt
        steps.append((stop, dt))
        done = stop
        if limit is None and total > budget_s and done >= min_done:
            break
    return done, steps, _concat(parts)


def time_systems(
    systems: dict[str, System],
    workload: Workload,
    *,
    repeats: int,
    budget_s: float,
    log: Any = None,
) -> dict[str, Run]:
    """Interleaved repeats of every system on one workload (see the module docstring)."""
    runs = {name: Run(name, workload.name) for name in systems}
    usable = {
        name: s for name, s in systems.items() if workload.shared or s.spec.pair_scoring
    }
    for name in systems.keys() - usable.keys():
        runs[
            name
        ].error = "not applicable (scores prompts against shared conditions only)"
    for name, system in usable.items():
        try:
            _score(system, workload, 0, 1)  # warm-up
        except Exception as exc:  # noqa: BLE001 - reported in its row; the others go on
            runs[name].error = f"{type(exc).__name__}: {exc}"
    for r in range(repeats):
        for name, system in usable.items():
            run = runs[name]
            if run.error:
                continue
            limit = None if r == 0 else run.prompts
            done, steps, scores = run_once(
                system, workload, budget_s=budget_s, limit=limit
            )
            seconds = sum(dt for _, dt in steps)
            run.prompts, run.pairs = done, done * workload.pairs_per_prompt
            run.seconds.append(seconds)
            run.steps.append(steps)
            if workload.mode == "calls":
                run.call_ms.extend(dt * 1000.0 for _, dt in steps)
            run.scores = scores
            if log is not None:
                log(
                    f"  {workload.name} r{r + 1} {name}: {done} prompts, "
                    f"{run.pairs / seconds:.1f} pairs/s"
                )
    return runs


def speed_ratio(run: Run, other: Run, *, calls: bool) -> dict[str, Any] | None:
    """How much faster ``run`` is than ``other`` on the prompts both scored (their common prefix).

    Throughput: ``other``'s best time over the prefix / ``run``'s. Calls: ``other``'s p50 latency
    over the prefix's calls / ``run``'s. Comparing prefixes keeps a budget-limited system from
    being compared on different (shorter or longer) prompts.
    """
    if run.error or other.error or not run.steps or not other.steps:
        return None
    m = min(run.prompts, other.prompts)

    def prefix(r: Run) -> list[list[float]]:
        return [[dt for stop, dt in rep if stop <= m] for rep in r.steps]

    mine, theirs = prefix(run), prefix(other)
    if calls:
        a = float(np.percentile([d for rep in mine for d in rep], 50))
        b = float(np.percentile([d for rep in theirs for d in rep], 50))
    else:
        a, b = min(sum(rep) for rep in mine), min(sum(rep) for rep in theirs)
    return {"ratio": b / a if a > 0 else None, "prompts": m}


# --------------------------------------------------------------------------- accuracy
def macro_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    from crossingguard.toolkit.evaluation.metrics import f1_scores

    return float(f1_scores(gold, pred, num_classes=3)["f1_macro"])


def _labels(scores: Scores) -> np.ndarray:
    """Predicted NLI labels; a two-way system predicts entailment or contradiction only."""
    if scores.three_way and scores.probs is not None:
        return scores.probs.argmax(axis=1)
    return np.where(scores.entail >= DECISION_THRESHOLD, 0, 2)


def accuracy_metrics(
    run: Run, reference: Run | None, workload: Workload
) -> dict[str, Any]:
    """Agreement with the reference on the pairs both scored; macro-F1 and routing accuracy."""
    s = run.scores
    if s is None:
        return {}
    out: dict[str, Any] = {}
    nli_scores = s.probs is not None
    if workload.labels is not None and nli_scores:
        gold = workload.labels[: run.pairs]
        out["macro_f1"] = macro_f1(gold, _labels(s))
        out["macro_f1_pairs"] = run.pairs
    if workload.gold_routes:
        k = len(workload.hypotheses)
        best = s.entail.reshape(-1, k).argmax(axis=1)
        out["route_accuracy"] = float(
            (best == np.asarray(workload.gold_routes[: run.prompts])).mean()
        )
    ref = reference.scores if reference is not None else None
    if ref is None:
        return out
    n = min(run.pairs, reference.pairs)  # type: ignore[union-attr]
    out["compared_pairs"] = n
    if nli_scores:
        if s.three_way:
            out["argmax_agreement"] = float((_labels(s)[:n] == _labels(ref)[:n]).mean())
        fires = s.entail[:n] >= DECISION_THRESHOLD
        out["decision_agreement"] = float(
            (fires == (ref.entail[:n] >= DECISION_THRESHOLD)).mean()
        )
        if workload.labels is not None:
            gold = workload.labels[:n]
            out["macro_f1_delta_vs_reference"] = macro_f1(
                gold, _labels(s)[:n]
            ) - macro_f1(gold, _labels(ref)[:n])
    if workload.gold_routes:
        k = len(workload.hypotheses)
        m = n // k
        mine = s.entail[: m * k].reshape(m, k).argmax(axis=1)
        theirs = ref.entail[: m * k].reshape(m, k).argmax(axis=1)
        out["route_agreement"] = float((mine == theirs).mean())
    return out
