"""`routing: {strategy: embedding|hybrid}` in a policy, through Guard.route."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeScorer

from crossingguard import Guard
from crossingguard.policy import policy_from_dict


def _policy(strategy: str, embedder: Path, **routing: object) -> object:
    return policy_from_dict(
        {
            "version": 1,
            "routes": [
                {
                    "id": "balance",
                    "hypotheses": ["check account balance"],
                    "examples": ["how much money do i have"],
                },
                {"id": "weather", "hypotheses": ["know the weather"], "threshold": 0.2},
            ],
            "routing": {
                "strategy": strategy,
                "options": {"embedder_path": str(embedder), **routing},
            },
        }
    )


@pytest.mark.parametrize("strategy", ["embedding", "hybrid"])
def test_policy_strategy_routes_through_the_guard(
    strategy: str, tiny_embedder_dir: Path
) -> None:
    guard = Guard(FakeScorer(), policy=_policy(strategy, tiny_embedder_dir))
    results = guard.route_batch(["check account balance", "know the weather"])
    assert [r.strategy for r in results] == [strategy, strategy]
    for r in results:
        assert set(r.scores) == {"balance", "weather"}
        assert r.route in ("balance", "weather", "none_of_the_above")
        assert r.matched == (r.route != "none_of_the_above")
        assert r.threshold == (
            0.2 if r.best == "weather" else pytest.approx(r.threshold)
        )


def test_hybrid_policy_uses_the_guard_cache(tiny_embedder_dir: Path) -> None:
    scorer = FakeScorer()
    guard = Guard(scorer, policy=_policy("hybrid", tiny_embedder_dir, top_k=2))
    guard.route("check account balance")
    guard.route("check account balance")
    assert len(scorer.calls) == 1  # second call served from the guard's pair cache


def test_route_threshold_falls_back_to_the_strategy_default(
    tiny_embedder_dir: Path,
) -> None:
    from crossingguard.guard.routing import DEFAULT_THRESHOLDS

    guard = Guard(FakeScorer(), policy=_policy("hybrid", tiny_embedder_dir))
    r = guard.route("zzz")
    expected = 0.2 if r.best == "weather" else DEFAULT_THRESHOLDS["hybrid"]
    assert r.threshold == pytest.approx(expected)
