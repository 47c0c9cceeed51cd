from __future__ import annotations

import numpy as np
import pytest
from fakes import FakeScorer
from routing_fakes import FakeEmbedder

from crossingguard.errors import ConfigError, InputError
from crossingguard.guard.routing import (
    DEFAULT_THRESHOLDS,
    DEFAULT_WEIGHT,
    Route,
    Router,
)
from crossingguard.guard.routing.strategies import HybridStrategy, combine

ROUTES = [
    Route("balance", ("check account balance",), ("how much money is in my account",)),
    Route("weather", ("know the weather",), ("will it rain tomorrow",)),
    Route("music", ("play music",)),
]


def test_nli_scores_are_entailment_and_route_by_argmax() -> None:
    router = Router(ROUTES, strategy="nli", scorer=FakeScorer())
    d = router.route("please check account balance now")
    assert (d.route, d.best, d.matched, d.strategy) == (
        "balance",
        "balance",
        True,
        "nli",
    )
    assert d.score == pytest.approx(0.9)
    assert d.candidates[0].entailment == pytest.approx(0.9)
    assert d.candidates[0].similarity is None


def test_out_of_scope_goes_to_the_fallback() -> None:
    router = Router(ROUTES, strategy="nli", scorer=FakeScorer(), fallback="other")
    d = router.route("tell me a joke")
    assert (d.route, d.matched) == ("other", False) and d.best in {
        "balance",
        "weather",
        "music",
    }
    assert d.score < d.threshold == DEFAULT_THRESHOLDS["nli"]
    assert d.to_dict()["route"] == "other"


def test_route_threshold_overrides_the_default() -> None:
    routes = [Route("weather", ("know the weather",), threshold=0.95), ROUTES[0]]
    d = Router(routes, strategy="nli", scorer=FakeScorer(), threshold=0.1).route(
        "know the weather"
    )
    assert not d.matched and d.route == "none_of_the_above" and d.threshold == 0.95


def test_embedding_uses_examples_as_well_as_hypotheses() -> None:
    router = Router(
        ROUTES, strategy="embedding", embedder=FakeEmbedder(), threshold=0.3
    )
    d = router.route(
        "will it rain tomorrow"
    )  # matches the weather example word for word
    assert d.route == "weather"
    assert d.score == pytest.approx(1.0, abs=1e-6)
    assert d.candidates[0].entailment is None


def test_embedding_embeds_route_texts_once() -> None:
    emb = FakeEmbedder()
    router = Router(ROUTES, strategy="embedding", embedder=emb)
    router.route_batch(["a b", "c d"])
    router.route_batch(["e f"])
    assert (
        len(emb.calls) == 3 and len(emb.calls[0]) == 5
    )  # route texts, then one call per batch


def test_hybrid_scores_only_the_shortlist_with_nli() -> None:
    scorer = FakeScorer()
    router = Router(
        ROUTES,
        strategy="hybrid",
        scorer=scorer,
        embedder=FakeEmbedder(),
        options={"top_k": 1},
    )
    s = router.scores(["play music please"])
    assert len(scorer.calls) == 1 and scorer.calls[0] == [
        ("play music please", "play music")
    ]
    assert np.isnan(s.entailment[0, 0]) and s.entailment[0, 2] == pytest.approx(0.9)
    np.testing.assert_allclose(
        s.score, combine(s.similarity, s.entailment, DEFAULT_WEIGHT)
    )


def test_hybrid_off_shortlist_routes_never_outrank_the_shortlist() -> None:
    rng = np.random.default_rng(0)
    sim = rng.random((50, 8)).astype(np.float32)
    ent = np.full_like(sim, np.nan)
    k = 3
    top = np.argsort(-sim, axis=1)[:, :k]
    for i in range(50):
        ent[i, top[i]] = rng.random(k)
    for w in (0.0, 0.3, 0.5, 1.0):
        score = combine(sim, ent, w)
        best = score.argmax(axis=1)
        assert all(
            best[i] in top[i] or w == 0 and sim[i, best[i]] == sim[i, top[i][0]]
            for i in range(50)
        )


def test_hybrid_weight_one_is_nli_on_the_shortlist() -> None:
    router = Router(
        ROUTES,
        strategy="hybrid",
        scorer=FakeScorer(),
        embedder=FakeEmbedder(),
        options={"top_k": 3, "weight": 1.0},
    )
    nli = Router(ROUTES, strategy="nli", scorer=FakeScorer())
    prompts = ["check account balance", "play music", "know the weather today"]
    np.testing.assert_allclose(
        router.scores(prompts).score, nli.scores(prompts).score, atol=1e-6
    )


def test_adding_a_route_does_not_change_another_routes_nli_score() -> None:
    a = (
        Router(ROUTES[:2], strategy="nli", scorer=FakeScorer())
        .scores(["know the weather"])
        .score
    )
    b = (
        Router(ROUTES, strategy="nli", scorer=FakeScorer())
        .scores(["know the weather"])
        .score
    )
    np.testing.assert_allclose(a, b[:, :2])


def test_aggregation_over_hypotheses() -> None:
    route = Route("r", ("play music", "zzz qqq"), aggregation="min")
    d = Router([route, ROUTES[0]], strategy="nli", scorer=FakeScorer()).route(
        "play music"
    )
    assert d.candidates[0].id == "r" and d.candidates[0].score == pytest.approx(
        0.0, abs=1e-6
    )


def test_bad_config_is_named() -> None:
    with pytest.raises(InputError, match="routes -> 1 -> id: duplicate id 'balance'"):
        Router([ROUTES[0], ROUTES[0]], strategy="embedding", embedder=FakeEmbedder())
    with pytest.raises(InputError, match="routes -> 0 -> hypotheses"):
        Router([Route("x", ())], strategy="embedding", embedder=FakeEmbedder())
    with pytest.raises(
        ConfigError, match="routing -> strategy: must be one of nli, embedding, hybrid"
    ):
        Router(ROUTES, strategy="bm25", embedder=FakeEmbedder())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs an NLI scorer"):
        Router(ROUTES, strategy="hybrid", embedder=FakeEmbedder())
    with pytest.raises(ConfigError, match="top_k: must be an integer >= 1"):
        HybridStrategy(ROUTES, FakeScorer(), FakeEmbedder(), top_k=0)
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['k'\]"):
        Router(
            ROUTES,
            strategy="hybrid",
            scorer=FakeScorer(),
            embedder=FakeEmbedder(),
            options={"k": 2},
        )
    with pytest.raises(InputError, match="fallback: 'music' is also a route id"):
        Router(ROUTES, strategy="nli", scorer=FakeScorer(), fallback="music")
    router = Router(ROUTES, strategy="nli", scorer=FakeScorer())
    with pytest.raises(
        InputError, match="prompts -> 1: prompt must be a non-empty string"
    ):
        router.route_batch(["ok", ""])
