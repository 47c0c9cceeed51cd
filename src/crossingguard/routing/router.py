"""Route prompts to one of several routes, or to none: strategies ``nli``, ``embedding``, ``hybrid``.

A :class:`Route` has NLI hypotheses ("The user wants to check their balance.") and optional
example utterances. Each strategy turns prompts into an (n_prompts, n_routes) score matrix in
[0, 1]; the router takes the best route and answers *none* (the fallback) when its score is under
the route's threshold.

Scores
------
* ``nli``: the route's entailment probability, aggregated over its hypotheses (max by default).
  One cross-encoder pass per (prompt, hypothesis): costs grow with the number of routes.
* ``embedding``: cosine similarity (clipped at 0) between the prompt and the route's nearest text,
  hypotheses and examples alike, with an L2-normalised bi-encoder (all-MiniLM-L6-v2 by default).
  Route texts are embedded once, when the strategy is built.
* ``hybrid``: the embedding ranks all routes and the ``top_k`` best are scored with NLI. The final
  score is ``weight * entailment + (1 - weight) * similarity`` for shortlisted routes and
  ``(1 - weight) * similarity`` for the rest. Routes off the shortlist therefore always rank below
  the shortlist (their similarity is lower and they get no entailment), so the NLI pass only
  reorders the shortlist and decides out-of-scope together with the similarity.

The default weight (0.1) and thresholds were calibrated with the shipped model on sebis and HWU64
test, never on the held-out BANKING77 evaluation; see the README's routing section. Calibrate your
own on a labelled sample of your routes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from crossingguard.errors import ConfigError, InputError
from crossingguard.labels import ENTAILMENT

StrategyName = Literal["nli", "embedding", "hybrid"]
Aggregation = Literal["max", "mean", "min"]
DEFAULT_FALLBACK = "none_of_the_above"
# Calibrated with the shipped crossingguard-nli-mini (README, "Routing results"): the hybrid weight
# is the most accurate one on sebis test (intents no training pair came from); the out-of-scope
# thresholds are `best_threshold` on HWU64 test with 20 % of its intents held out, at that weight.
DEFAULT_THRESHOLDS: dict[str, float] = {"nli": 0.87, "embedding": 0.24, "hybrid": 0.24}
DEFAULT_TOP_K = 5
DEFAULT_WEIGHT = 0.1


class PairScorer(Protocol):
    name: str

    def predict(
        self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 64
    ) -> np.ndarray: ...


class TextEmbedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray: ...


@dataclass(frozen=True)
class Route:
    """A destination: NLI ``hypotheses`` about the prompt, optional ``examples`` (utterances)."""

    id: str
    hypotheses: tuple[str, ...]
    examples: tuple[str, ...] = ()
    threshold: float | None = None
    aggregation: Aggregation = "max"

    def validate(self, where: str) -> Route:
        if not isinstance(self.id, str) or not self.id.strip():
            raise InputError(
                f"{where} -> id: must be a non-empty string, got {self.id!r}"
            )
        if isinstance(self.hypotheses, str) or not self.hypotheses:
            raise InputError(
                f"{where} -> hypotheses: give at least one hypothesis as a list"
            )
        for i, h in enumerate(self.hypotheses):
            if not isinstance(h, str) or not h.strip():
                raise InputError(
                    f"{where} -> hypotheses -> {i}: must be a non-empty string"
                )
        for i, e in enumerate(self.examples):
            if not isinstance(e, str) or not e.strip():
                raise InputError(
                    f"{where} -> examples -> {i}: must be a non-empty string"
                )
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise InputError(
                f"{where} -> threshold: must be in [0, 1], got {self.threshold}"
            )
        if self.aggregation not in ("max", "mean", "min"):
            raise InputError(f"{where} -> aggregation: must be max, mean or min")
        return self


@dataclass(frozen=True)
class RouteScore:
    id: str
    score: float
    entailment: float | None = None
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": self.score,
            "entailment": self.entailment,
            "similarity": self.similarity,
        }


@dataclass(frozen=True)
class RouteDecision:
    """The chosen route (``None`` when out of scope), its score and the best candidates."""

    route: str | None
    score: float
    threshold: float
    strategy: str
    fallback: str = DEFAULT_FALLBACK
    candidates: tuple[RouteScore, ...] = field(default_factory=tuple)

    @property
    def target(self) -> str:
        """The route id, or the fallback name when no route passed its threshold."""
        return self.route if self.route is not None else self.fallback

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "target": self.target,
            "score": self.score,
            "threshold": self.threshold,
            "strategy": self.strategy,
            "candidates": [c.to_dict() for c in self.candidates],
        }


@dataclass
class Scores:
    """A strategy's output: final scores and, where computed, their parts (NaN = not scored)."""

    score: np.ndarray
    entailment: np.ndarray | None = None
    similarity: np.ndarray | None = None


class Strategy(Protocol):
    name: str

    def scores(self, prompts: Sequence[str]) -> Scores: ...


def _aggregate(values: np.ndarray, how: str) -> float:
    if how == "mean":
        return float(values.mean())
    if how == "min":
        return float(values.min())
    return float(values.max())


class NliStrategy:
    """Entailment probability of each route's hypotheses; every route scored for every prompt."""

    name = "nli"

    def __init__(
        self, routes: Sequence[Route], scorer: PairScorer, *, batch_size: int = 64
    ) -> None:
        self.routes = tuple(routes)
        self.scorer = scorer
        self.batch_size = batch_size

    def entailment(
        self, prompts: Sequence[str], route_idx: np.ndarray | None = None
    ) -> np.ndarray:
        """(n, n_routes) entailment; with ``route_idx`` (n, k) only those routes (rest NaN)."""
        n, r = len(prompts), len(self.routes)
        out = np.full((n, r), np.nan, dtype=np.float32)
        pairs: list[tuple[str, str]] = []
        owners: list[tuple[int, int]] = []
        for i, prompt in enumerate(prompts):
            cols = range(r) if route_idx is None else route_idx[i]
            for j in cols:
                for h in self.routes[j].hypotheses:
                    pairs.append((prompt, h))
                    owners.append((i, int(j)))
        if not pairs:
            return out
        ent = self.scorer.predict(pairs, batch_size=self.batch_size)[:, ENTAILMENT]
        start = 0
        while start < len(owners):
            i, j = owners[start]
            k = len(self.routes[j].hypotheses)
            out[i, j] = _aggregate(ent[start : start + k], self.routes[j].aggregation)
            start += k
        return out

    def scores(self, prompts: Sequence[str]) -> Scores:
        ent = self.entailment(prompts)
        return Scores(score=ent, entailment=ent)


class EmbeddingStrategy:
    """Cosine similarity to the nearest route text (hypotheses and examples), embedded once."""

    name = "embedding"

    def __init__(
        self, routes: Sequence[Route], embedder: TextEmbedder, *, batch_size: int = 64
    ) -> None:
        self.routes = tuple(routes)
        self.embedder = embedder
        self.batch_size = batch_size
        texts: list[str] = []
        owner: list[int] = []
        for j, route in enumerate(self.routes):
            for t in (*route.hypotheses, *route.examples):
                texts.append(t)
                owner.append(j)
        self._owner = np.asarray(owner, dtype=np.int64)
        self._vectors = embedder.embed(texts, batch_size=batch_size)

    def similarity(self, prompts: Sequence[str]) -> np.ndarray:
        vec = self.embedder.embed(list(prompts), batch_size=self.batch_size)
        sims = vec @ self._vectors.T  # (n, n_texts)
        out = np.full((len(prompts), len(self.routes)), -1.0, dtype=np.float32)
        # max over each route's texts: scatter-max by owner
        for j in range(len(self.routes)):
            out[:, j] = sims[:, self._owner == j].max(axis=1)
        return np.clip(out, 0.0, 1.0)

    def scores(self, prompts: Sequence[str]) -> Scores:
        sim = self.similarity(prompts)
        return Scores(score=sim, similarity=sim)


class HybridStrategy:
    """Embedding shortlist of ``top_k`` routes, reranked by ``weight * E + (1 - weight) * sim``."""

    name = "hybrid"

    def __init__(
        self,
        routes: Sequence[Route],
        scorer: PairScorer,
        embedder: TextEmbedder,
        *,
        top_k: int = DEFAULT_TOP_K,
        weight: float = DEFAULT_WEIGHT,
        batch_size: int = 64,
    ) -> None:
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ConfigError(
                f"routing -> options -> top_k: must be an integer >= 1, got {top_k!r}"
            )
        if not 0.0 <= float(weight) <= 1.0:
            raise ConfigError(
                f"routing -> options -> weight: must be in [0, 1], got {weight!r}"
            )
        self.routes = tuple(routes)
        self.top_k = min(top_k, len(self.routes))
        self.weight = float(weight)
        self.embedding = EmbeddingStrategy(routes, embedder, batch_size=batch_size)
        self.nli = NliStrategy(routes, scorer, batch_size=batch_size)

    def shortlist(self, sim: np.ndarray) -> np.ndarray:
        """(n, top_k) route indices, best first (ties broken by route order)."""
        return np.argsort(-sim, axis=1, kind="stable")[:, : self.top_k]

    def scores(self, prompts: Sequence[str]) -> Scores:
        sim = self.embedding.similarity(prompts)
        ent = self.nli.entailment(prompts, self.shortlist(sim))
        return Scores(
            score=combine(sim, ent, self.weight), entailment=ent, similarity=sim
        )


def combine(sim: np.ndarray, ent: np.ndarray, weight: float) -> np.ndarray:
    """The hybrid score: ``weight * E + (1 - weight) * sim``, E = 0 off the shortlist (NaN)."""
    return (weight * np.nan_to_num(ent, nan=0.0) + (1.0 - weight) * sim).astype(
        np.float32
    )


StrategyFactory = Callable[..., Strategy]


def _nli(
    routes: Sequence[Route], *, scorer: PairScorer | None = None, **opts: Any
) -> Strategy:
    if scorer is None:
        raise ConfigError("routing strategy 'nli' needs an NLI scorer (load_scorer())")
    return NliStrategy(routes, scorer, **opts)


def _embedding(
    routes: Sequence[Route], *, embedder: TextEmbedder | None = None, **opts: Any
) -> Strategy:
    opts.pop("scorer", None)
    return EmbeddingStrategy(routes, embedder or _default_embedder(opts), **opts)


def _hybrid(
    routes: Sequence[Route],
    *,
    scorer: PairScorer | None = None,
    embedder: TextEmbedder | None = None,
    **opts: Any,
) -> Strategy:
    if scorer is None:
        raise ConfigError(
            "routing strategy 'hybrid' needs an NLI scorer (load_scorer())"
        )
    return HybridStrategy(routes, scorer, embedder or _default_embedder(opts), **opts)


def _default_embedder(opts: dict[str, Any]) -> TextEmbedder:
    from crossingguard.routing.embedding import load_embedder

    return load_embedder(
        opts.pop("embedder_path", None), backend=opts.pop("embedder_backend", "auto")
    )


STRATEGIES: dict[str, StrategyFactory] = {
    "nli": _nli,
    "embedding": _embedding,
    "hybrid": _hybrid,
}
_KNOWN_OPTIONS = {"top_k", "weight", "batch_size", "embedder_path", "embedder_backend"}


def build_strategy(
    name: str,
    routes: Sequence[Route],
    *,
    scorer: PairScorer | None = None,
    embedder: TextEmbedder | None = None,
    options: dict[str, Any] | None = None,
) -> Strategy:
    """Build a strategy by name from :data:`STRATEGIES` (``routing -> strategy`` in a policy)."""
    if name not in STRATEGIES:
        raise ConfigError(
            f"routing -> strategy: must be one of {', '.join(STRATEGIES)}, got {name!r}"
        )
    opts = dict(options or {})
    unknown = set(opts) - _KNOWN_OPTIONS
    if unknown:
        raise ConfigError(
            f"routing -> options: unknown option(s) {sorted(unknown)}; known: {sorted(_KNOWN_OPTIONS)}"
        )
    if name == "nli":
        opts = {k: v for k, v in opts.items() if k == "batch_size"}
    elif name == "embedding":
        opts = {
            k: v
            for k, v in opts.items()
            if k in ("batch_size", "embedder_path", "embedder_backend")
        }
    kwargs: dict[str, Any] = {"scorer": scorer, **opts}
    if name != "nli":
        kwargs["embedder"] = embedder
    return STRATEGIES[name](routes, **kwargs)


class Router:
    """Routes prompts with one strategy; out of scope when the best score is under threshold.

    ``threshold`` is the default for routes without their own (``None``: the strategy's
    calibrated default in :data:`DEFAULT_THRESHOLDS`).
    """

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        strategy: StrategyName = "hybrid",
        scorer: PairScorer | None = None,
        embedder: TextEmbedder | None = None,
        threshold: float | None = None,
        fallback: str = DEFAULT_FALLBACK,
        options: dict[str, Any] | None = None,
        candidates: int = 3,
    ) -> None:
        if isinstance(routes, (str, Route)) or not routes:
            raise InputError("routes: give a list of at least one Route")
        checked = [r.validate(f"routes -> {i}") for i, r in enumerate(routes)]
        seen: set[str] = set()
        for i, r in enumerate(checked):
            if r.id in seen:
                raise InputError(f"routes -> {i} -> id: duplicate id {r.id!r}")
            seen.add(r.id)
        if fallback in seen:
            raise InputError(
                f"fallback: {fallback!r} is also a route id; pick another name"
            )
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise InputError(f"threshold: must be in [0, 1], got {threshold}")
        self.routes = tuple(checked)
        self.strategy_name = strategy
        self.strategy = build_strategy(
            strategy, self.routes, scorer=scorer, embedder=embedder, options=options
        )
        default = DEFAULT_THRESHOLDS[strategy] if threshold is None else threshold
        self.thresholds: tuple[float, ...] = tuple(
            float(default if r.threshold is None else r.threshold) for r in self.routes
        )
        self.fallback = fallback
        self.candidates = candidates

    def scores(self, prompts: Sequence[str]) -> Scores:
        return self.strategy.scores(_check_prompts(prompts))

    def route(self, prompt: str) -> RouteDecision:
        return self.route_batch([prompt])[0]

    def route_batch(self, prompts: Sequence[str]) -> list[RouteDecision]:
        s = self.scores(prompts)
        return [self._decide(i, s) for i in range(len(prompts))]

    def _decide(self, i: int, s: Scores) -> RouteDecision:
        row = s.score[i]
        order = np.argsort(-row, kind="stable")
        best = int(order[0])
        threshold = self.thresholds[best]
        cands = tuple(
            RouteScore(
                id=self.routes[j].id,
                score=float(row[j]),
                entailment=_opt(s.entailment, i, j),
                similarity=_opt(s.similarity, i, j),
            )
            for j in order[: self.candidates]
        )
        passed = float(row[best]) >= threshold
        return RouteDecision(
            route=self.routes[best].id if passed else None,
            score=float(row[best]),
            threshold=threshold,
            strategy=self.strategy_name,
            fallback=self.fallback,
            candidates=cands,
        )


def _opt(arr: np.ndarray | None, i: int, j: int) -> float | None:
    if arr is None or np.isnan(arr[i, j]):
        return None
    return float(arr[i, j])


def _check_prompts(prompts: Sequence[str]) -> list[str]:
    if isinstance(prompts, str):
        raise InputError("prompts: expected a list of prompts, got a single string")
    out = []
    for i, p in enumerate(prompts):
        if not isinstance(p, str) or not p.strip():
            raise InputError(
                f"prompts -> {i}: prompt must be a non-empty string, got {p!r:.80}"
            )
        out.append(p)
    if not out:
        raise InputError("prompts: give at least one prompt")
    return out
