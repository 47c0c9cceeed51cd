"""Routing strategies: how routes are scored, and the one registry that names them.

A strategy turns prompts into an (n_prompts, n_routes) score matrix in [0, 1] (:class:`Scores`);
the :class:`~crossingguard.guard.routing.router.Router` then picks the best route or the fallback.

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

:data:`STRATEGIES` is written out below, not filled by imports: each entry holds the factory, the
options it accepts and its default threshold, so nothing else keeps a second list.
:func:`register_strategy` adds one of your own for ``Router(strategy=NAME)``. The default weight
(0.1) and thresholds were calibrated with the shipped model on sebis and HWU64 test, never on the
held-out BANKING77 evaluation (README, "Routing results"); calibrate your own on a labelled sample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from crossingguard.errors import ConfigError, InputError
from crossingguard.guard.routing.embedding import TextEmbedder
from crossingguard.guard.types import PairScorer
from crossingguard.labels import ENTAILMENT

Aggregation = Literal["max", "mean", "min"]
DEFAULT_TOP_K = 5
DEFAULT_WEIGHT = 0.1


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
        for field, texts in (
            ("hypotheses", self.hypotheses),
            ("examples", self.examples),
        ):
            for i, text in enumerate(texts):
                if not isinstance(text, str) or not text.strip():
                    raise InputError(
                        f"{where} -> {field} -> {i}: must be a non-empty string"
                    )
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise InputError(
                f"{where} -> threshold: must be in [0, 1], got {self.threshold}"
            )
        if self.aggregation not in ("max", "mean", "min"):
            raise InputError(f"{where} -> aggregation: must be max, mean or min")
        return self


@dataclass
class Scores:
    """A strategy's output: final scores and, where computed, their parts (NaN = not scored)."""

    score: np.ndarray
    entailment: np.ndarray | None = None
    similarity: np.ndarray | None = None


class RoutingStrategy(Protocol):
    """Scores every route for every prompt."""

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
        for j in range(len(self.routes)):  # max over each route's texts
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


# ------------------------------------------------------------------------------- registry
# (routes, *, scorer, embedder, **options) -> strategy; scorer/embedder are None when not given.
StrategyFactory = Callable[..., RoutingStrategy]


@dataclass(frozen=True)
class StrategySpec:
    """A registry entry: how to build the strategy, which ``routing.options`` it reads, and the
    threshold a route gets when neither it nor the router sets one."""

    factory: StrategyFactory
    default_threshold: float
    options: frozenset[str] = frozenset({"batch_size"})


def _needs_scorer(name: str, scorer: PairScorer | None) -> PairScorer:
    if scorer is None:
        raise ConfigError(
            f"routing strategy {name!r} needs an NLI scorer (load_scorer())"
        )
    return scorer


def _embedder(embedder: TextEmbedder | None, options: dict[str, Any]) -> TextEmbedder:
    """The given embedder, else one loaded from the ``embedder_*`` options (which are consumed)."""
    path = options.pop("embedder_path", None)
    backend = options.pop("embedder_backend", "auto")
    if embedder is not None:
        return embedder
    from crossingguard.guard.routing.embedding import load_embedder

    return load_embedder(path, backend=backend)


def _build_nli(
    routes: Sequence[Route],
    *,
    scorer: PairScorer | None,
    embedder: TextEmbedder | None,
    **options: Any,
) -> NliStrategy:
    return NliStrategy(routes, _needs_scorer("nli", scorer), **options)


def _build_embedding(
    routes: Sequence[Route],
    *,
    scorer: PairScorer | None,
    embedder: TextEmbedder | None,
    **options: Any,
) -> EmbeddingStrategy:
    return EmbeddingStrategy(routes, _embedder(embedder, options), **options)


def _build_hybrid(
    routes: Sequence[Route],
    *,
    scorer: PairScorer | None,
    embedder: TextEmbedder | None,
    **options: Any,
) -> HybridStrategy:
    nli = _needs_scorer("hybrid", scorer)
    return HybridStrategy(routes, nli, _embedder(embedder, options), **options)


_EMBEDDER_OPTIONS = frozenset({"batch_size", "embedder_path", "embedder_backend"})
# Calibrated with the shipped crossingguard-nli-mini (README, "Routing results"): the hybrid weight
# is the most accurate one on sebis test (intents no training pair came from); the out-of-scope
# thresholds are `best_threshold` on HWU64 test with 20 % of its intents held out, at that weight.
STRATEGIES: dict[str, StrategySpec] = {
    "nli": StrategySpec(_build_nli, 0.87),
    "embedding": StrategySpec(_build_embedding, 0.24, _EMBEDDER_OPTIONS),
    "hybrid": StrategySpec(
        _build_hybrid, 0.24, _EMBEDDER_OPTIONS | {"top_k", "weight"}
    ),
}
# The built-in strategies' defaults, for reports that compare against them.
DEFAULT_THRESHOLDS: dict[str, float] = {
    name: spec.default_threshold for name, spec in STRATEGIES.items()
}


def register_strategy(
    name: str,
    factory: StrategyFactory,
    *,
    default_threshold: float,
    options: Sequence[str] = ("batch_size",),
) -> None:
    """Make ``Router(routes, strategy=name)`` build ``factory(routes, scorer=..., embedder=...,
    **options)``; ``options`` names the ``routing.options`` keys it accepts."""
    if not 0.0 <= default_threshold <= 1.0:
        raise ConfigError(
            f"default_threshold: must be in [0, 1], got {default_threshold!r}"
        )
    STRATEGIES[name] = StrategySpec(
        factory, float(default_threshold), frozenset(options)
    )


def strategy_spec(name: str) -> StrategySpec:
    """The registry entry for ``name``, or a ``ConfigError`` listing the registered ones."""
    if name not in STRATEGIES:
        raise ConfigError(
            f"routing -> strategy: must be one of {', '.join(STRATEGIES)}, got {name!r}"
        )
    return STRATEGIES[name]


def build_strategy(
    name: str,
    routes: Sequence[Route],
    *,
    scorer: PairScorer | None = None,
    embedder: TextEmbedder | None = None,
    options: dict[str, Any] | None = None,
) -> RoutingStrategy:
    """Build a registered strategy. ``options`` may hold any registered strategy's options (so
    one options dict serves several strategies); each strategy receives only its own."""
    spec = strategy_spec(name)
    opts = dict(options or {})
    known = frozenset().union(*(s.options for s in STRATEGIES.values()))
    unknown = set(opts) - known
    if unknown:
        raise ConfigError(
            f"routing -> options: unknown option(s) {sorted(unknown)}; known: {sorted(known)}"
        )
    own = {k: v for k, v in opts.items() if k in spec.options}
    return spec.factory(routes, scorer=scorer, embedder=embedder, **own)
