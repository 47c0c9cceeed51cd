"""Routing evaluation: strategies side by side on an intent set with an honest out-of-scope part.

Preprocess (:func:`build_routing_set`) -> forward (a strategy's score matrix) -> postprocess
(:func:`routing_metrics`), each usable alone.

Out of scope
------------
Intent sets have no out-of-scope utterances (sebis aside, whose ``None`` class is used as is), so a
seeded fraction of the *intents* is held out: they get no route, and their utterances must be
routed to none. These are near-domain out-of-scope prompts (a banking question with no matching
banking route), harder than the off-topic prompts of CLINC150's out-of-scope set.

Metrics, per strategy
---------------------
* ``accuracy``, ``macro_f1``: in-scope utterances, best route (no threshold), F1 averaged over the
  in-scope intents.
* ``oos_auroc``: the best route's score separating in-scope (positive) from out-of-scope.
* ``oos_recall@P``: the share of out-of-scope utterances rejected at the lowest threshold at which
  at least ``P`` of the accepted utterances are in scope; ``in_scope_kept@P`` the share of
  in-scope utterances accepted there (``P`` = 0.95 by default).
* ``at_default``: at the strategy's calibrated default threshold, the share of all utterances
  answered correctly (right route, or none for out-of-scope), OOS recall and in-scope acceptance;
  ``best_threshold``: the threshold that maximises that share on this set (for calibrating the
  defaults on HWU64 test).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossingguard.errors import InputError
from crossingguard.guard.routing.embedding import TextEmbedder
from crossingguard.guard.routing.strategies import (
    DEFAULT_THRESHOLDS,
    Route,
    Scores,
    build_strategy,
    combine,
)
from crossingguard.guard.types import PairScorer
from crossingguard.toolkit.routing.intents import (
    OUT_OF_SCOPE,
    describe,
    intent_names,
    load_intents,
)

DEFAULT_SPLIT = {
    "banking77": "test",
    "hwu64": "test",
    "snips": "test",
    "massive": "test",
    "sebis": "test",
}
DEFAULT_PRECISION = 0.95
# Far out-of-scope sources: (routes' set, source set) -> source intents that are NOT out of scope
# for those routes (HWU64's currency questions are banking exchange-rate questions).
FAR_OOS_SPLIT = {"banking77": "test", "hwu64": "test", "snips": "test", "sebis": "test"}
FAR_OOS_EXCLUDE: dict[tuple[str, str], frozenset[str]] = {
    ("banking77", "hwu64"): frozenset({"qa_currency", "qa_stock"}),
}


def normalise(text: str) -> str:
    """The data README's normalisation: lower case, non-word characters removed."""
    return re.sub(r"\W+", " ", text.lower()).strip()


@dataclass
class RoutingSet:
    name: str
    routes: list[Route]
    prompts: list[str]
    gold: list[str | None]  # None: out of scope
    oos_intents: list[str] = field(default_factory=list)

    @property
    def n_in_scope(self) -> int:
        return sum(g is not None for g in self.gold)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "routes": len(self.routes),
            "utterances": len(self.prompts),
            "in_scope": self.n_in_scope,
            "out_of_scope": len(self.prompts) - self.n_in_scope,
            "oos_intents": self.oos_intents,
            "examples_per_route": max(
                (len(r.examples) for r in self.routes), default=0
            ),
        }


def build_routing_set(
    dataset: str,
    *,
    split: str | None = None,
    oos_fraction: float = 0.2,
    limit: int | None = None,
    examples: int = 0,
    seed: int = 0,
    oos_from: Sequence[str] = (),
    oos_share: float = 0.2,
    intents: Sequence[str] | None = None,
) -> RoutingSet:
    """Routes from the reviewed descriptions; a seeded share of intents held out as out-of-scope.

    ``limit`` samples that many utterances (seeded); ``examples`` adds that many train-split
    utterances per route as examples (never ones that also occur in the evaluated split).
    ``oos_from`` adds *far* out-of-scope utterances from other sets' test splits (other domains),
    ``oos_share`` of the final sample, split evenly over the sources; only pairs of sets whose
    intents cannot overlap are allowed (see :data:`FAR_OOS_EXCLUDE`).
    """
    if not 0.0 <= oos_fraction < 1.0:
        raise InputError(f"oos_fraction: must be in [0, 1), got {oos_fraction}")
    if limit is not None and limit < 1:
        raise InputError(f"limit: must be >= 1, got {limit}")
    split = split or DEFAULT_SPLIT.get(dataset, "test")
    rows = load_intents(dataset, split)
    names = intent_names(dataset, rows)
    if intents is not None:
        unknown = sorted(set(intents) - set(names))
        if unknown:
            raise InputError(
                f"intents: {dataset}/{split} has no intent {', '.join(map(repr, unknown[:5]))}"
                f"{' ...' if len(unknown) > 5 else ''}; its intents are {', '.join(names[:5])}, ..."
            )
        keep = set(intents)
        names = [i for i in names if i in keep]
        rows = [r for r in rows if r.intent in keep or r.intent == OUT_OF_SCOPE]
    rng = random.Random(seed)
    n_oos = 0 if dataset == "sebis" else round(oos_fraction * len(names))
    oos = sorted(rng.sample(names, n_oos))
    in_scope = [i for i in names if i not in set(oos)]
    if len(in_scope) < 2:
        raise InputError(f"{dataset}: too few in-scope intents left ({len(in_scope)})")

    order = list(range(len(rows)))
    random.Random(seed + 1).shuffle(order)
    if limit is not None:
        order = order[:limit]
    chosen = [rows[i] for i in order]  # shuffled: any prefix is a random sample
    prompts = [r.text for r in chosen]
    gold = [
        None if (r.intent in oos or r.intent == OUT_OF_SCOPE) else r.intent
        for r in chosen
    ]

    far: list[str] = []
    for k, src in enumerate(oos_from):
        if src == dataset or src not in FAR_OOS_SPLIT or dataset != "banking77":
            raise InputError(
                f"oos_from: far out-of-scope utterances are defined for banking77 routes from "
                f"{', '.join(s for s in FAR_OOS_SPLIT if s != 'banking77')}, got {dataset} <- {src}"
            )
        skip = FAR_OOS_EXCLUDE.get((dataset, src), frozenset())
        cand = [
            r.text
            for r in load_intents(src, FAR_OOS_SPLIT[src])
            if r.intent not in skip
        ]
        want = round(len(prompts) * oos_share / (1 - oos_share) / len(oos_from))
        far += random.Random(f"{seed}:{src}:{k}").sample(cand, min(want, len(cand)))
    prompts += far
    gold += [None] * len(far)
    if far:  # interleave, so a prefix (nli_limit) keeps the mix
        mix = list(range(len(prompts)))
        random.Random(seed + 2).shuffle(mix)
        prompts = [prompts[i] for i in mix]
        gold = [gold[i] for i in mix]

    pool: dict[str, list[str]] = {}
    if examples > 0:
        if dataset == "massive":
            raise InputError("massive has no train split to draw route examples from")
        evaluated = {normalise(r.text) for r in rows}
        for r in load_intents(dataset, "train"):
            if r.intent in in_scope and normalise(r.text) not in evaluated:
                pool.setdefault(r.intent, []).append(r.text)
    routes = []
    for intent in in_scope:
        ex = pool.get(intent, [])
        ex = (
            random.Random(f"{seed}:{intent}").sample(ex, min(examples, len(ex)))
            if ex
            else []
        )
        routes.append(Route(intent, (describe(dataset, intent),), tuple(ex)))
    name = f"{dataset}/{split}" + "".join(f"+oos:{src}" for src in oos_from)
    return RoutingSet(name, routes, prompts, gold, oos)


def routing_policy(
    rset: RoutingSet, *, strategy: str = "hybrid", options: dict[str, Any] | None = None
) -> Any:
    """A policy (``version: 1``) routing to ``rset``'s routes, for ``crossingguard route``."""
    from crossingguard.policy import policy_from_dict

    routes = []
    for r in rset.routes:
        spec: dict[str, Any] = {"id": r.id, "hypotheses": list(r.hypotheses)}
        if r.examples:
            spec["examples"] = list(r.examples)
        routes.append(spec)
    return policy_from_dict(
        {
            "version": 1,
            "name": f"{rset.name.split('/')[0]}-routes",
            "description": f"Routes for the {rset.name.split('/')[0]} intents (reviewed descriptions).",
            "routes": routes,
            "routing": {"strategy": strategy, "options": dict(options or {})},
        },
        source=rset.name,
    )


# --------------------------------------------------------------------------- metrics
def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    scores = np.concatenate([pos, neg])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    r_pos = ranks[: len(pos)].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def threshold_at_precision(
    in_scores: np.ndarray, oos_scores: np.ndarray, precision: float = DEFAULT_PRECISION
) -> float | None:
    """The lowest threshold at which at least ``precision`` of accepted prompts are in scope.

    ``None`` when no threshold reaches it. Use it to calibrate a router's threshold on a labelled
    sample with out-of-scope prompts.
    """
    cands = np.unique(np.concatenate([in_scores, oos_scores]))
    for t in cands:  # ascending: the first hit keeps the most in-scope prompts
        kept_in = int((in_scores >= t).sum())
        kept_out = int((oos_scores >= t).sum())
        if kept_in and kept_in / (kept_in + kept_out) >= precision:
            return float(t)
    return None


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    f1s = []
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred, strict=True))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred, strict=True))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred, strict=True))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s)) if f1s else float("nan")


def routing_metrics(
    score: np.ndarray,
    gold: Sequence[str | None],
    route_ids: Sequence[str],
    *,
    default_threshold: float,
    precision: float = DEFAULT_PRECISION,
) -> dict[str, Any]:
    """Postprocess an (n, n_routes) score matrix against gold route ids (``None``: out of scope)."""
    best = score.argmax(axis=1)
    top = score[np.arange(len(score)), best]
    pred = [route_ids[b] for b in best]
    inside = np.asarray([g is not None for g in gold])
    gold_in = [g for g in gold if g is not None]
    pred_in = [p for p, m in zip(pred, inside, strict=True) if m]
    correct_in = np.asarray([p == g for p, g in zip(pred_in, gold_in, strict=True)])
    out: dict[str, Any] = {
        "n": len(gold),
        "in_scope": int(inside.sum()),
        "out_of_scope": int((~inside).sum()),
        "accuracy": float(correct_in.mean()) if len(gold_in) else float("nan"),
        "macro_f1": macro_f1(gold_in, pred_in, route_ids),
    }
    p_key = f"{precision:.2f}".rstrip("0")
    if (~inside).any():
        out["oos_auroc"] = auroc(top[inside], top[~inside])
        t = threshold_at_precision(top[inside], top[~inside], precision)
        out[f"threshold@P{p_key}"] = t
        out[f"oos_recall@P{p_key}"] = (
            None if t is None else float((top[~inside] < t).mean())
        )
        out[f"in_scope_kept@P{p_key}"] = (
            None if t is None else float((top[inside] >= t).mean())
        )
    hit = np.asarray([p == g for p, g in zip(pred, gold, strict=True)])
    accepted = top >= default_threshold
    right = np.where(inside, accepted & hit, ~accepted)
    out["at_default"] = {
        "threshold": default_threshold,
        "accuracy_with_oos": float(right.mean()),
        "in_scope_accepted": float(accepted[inside].mean()) if inside.any() else None,
        "oos_recall": float((~accepted[~inside]).mean()) if (~inside).any() else None,
    }
    if (~inside).any():
        out["best_threshold"] = best_threshold(top, inside, hit)
    return out


def best_threshold(
    top: np.ndarray, inside: np.ndarray, hit: np.ndarray
) -> dict[str, float]:
    """The threshold with the most right answers (right route, or none for out-of-scope).

    Use it to calibrate the strategies' default thresholds (on HWU64 test, never on the evaluation set).
    """
    best = (-1.0, 0.0)
    for t in np.unique(np.concatenate([top, [np.inf]])):
        acc = float(np.where(inside, (top >= t) & hit, top < t).mean())
        if acc > best[0]:
            best = (acc, float(t))
    return {"threshold": best[1], "accuracy_with_oos": best[0]}


# --------------------------------------------------------------------------- driver
def evaluate_routing(
    rset: RoutingSet,
    strategies: Sequence[str],
    *,
    scorer: PairScorer | None = None,
    embedder: TextEmbedder | None = None,
    options: dict[str, Any] | None = None,
    nli_limit: int | None = 200,
    weights: Sequence[float] = (),
    precision: float = DEFAULT_PRECISION,
) -> dict[str, Any]:
    """Score ``rset`` with each strategy and return ``{"set": ..., "strategies": {name: metrics}}``.

    The ``nli`` strategy scores every route for every prompt, so it runs on the first
    ``nli_limit`` utterances only (the sample is already shuffled). ``weights`` re-combines the
    hybrid's cached parts at other weights, without scoring again.
    """
    opts = dict(options or {})
    route_ids = [r.id for r in rset.routes]
    results: dict[str, Any] = {}
    for name in strategies:
        n = len(rset.prompts)
        if name == "nli" and nli_limit is not None:
            n = min(n, nli_limit)
        prompts, gold = rset.prompts[:n], rset.gold[:n]
        strategy = build_strategy(
            name, rset.routes, scorer=scorer, embedder=embedder, options=opts
        )
        start = time.perf_counter()
        s: Scores = strategy.scores(prompts)
        seconds = time.perf_counter() - start
        threshold = DEFAULT_THRESHOLDS[name]
        m = routing_metrics(
            s.score, gold, route_ids, default_threshold=threshold, precision=precision
        )
        m["seconds"] = round(seconds, 2)
        m["prompts_per_s"] = round(n / seconds, 1) if seconds > 0 else None
        if name == "hybrid":
            m["top_k"] = strategy.top_k  # type: ignore[attr-defined]
            m["weight"] = strategy.weight  # type: ignore[attr-defined]
            sl = strategy.shortlist(s.similarity)  # type: ignore[attr-defined]
            idx = {r: j for j, r in enumerate(route_ids)}
            in_sl = [idx[g] in sl[i] for i, g in enumerate(gold) if g is not None]
            m["shortlist_recall"] = float(np.mean(in_sl)) if in_sl else None
            if weights and s.entailment is not None and s.similarity is not None:
                m["weight_sweep"] = {
                    f"{w:g}": _short(
                        routing_metrics(
                            combine(s.similarity, s.entailment, w),
                            gold,
                            route_ids,
                            default_threshold=threshold,
                            precision=precision,
                        )
                    )
                    for w in weights
                }
        results[name] = m
    return {"set": rset.describe(), "strategies": results}


def _short(m: dict[str, Any]) -> dict[str, Any]:
    return {k: m[k] for k in ("accuracy", "macro_f1", "oos_auroc") if k in m}
