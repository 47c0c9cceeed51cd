from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes import FakeScorer
from routing_fakes import FakeEmbedder

from crossingguard.errors import InputError
from crossingguard.guard.routing import Route
from crossingguard.toolkit.routing.evaluation import (
    RoutingSet,
    auroc,
    best_threshold,
    build_routing_set,
    evaluate_routing,
    macro_f1,
    routing_metrics,
    threshold_at_precision,
)


def test_auroc_counts_ties_half() -> None:
    assert auroc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert auroc(np.array([0.1]), np.array([0.9])) == 0.0
    assert auroc(np.array([0.5, 0.5]), np.array([0.5])) == 0.5
    assert auroc(np.array([0.9, 0.4]), np.array([0.5, 0.1])) == 0.75
    assert np.isnan(auroc(np.array([0.5]), np.array([])))


def test_threshold_at_precision() -> None:
    ins = np.array([0.9, 0.8, 0.7, 0.3])
    oos = np.array([0.75, 0.2])
    assert threshold_at_precision(ins, oos, 1.0) == 0.8
    assert threshold_at_precision(ins, oos, 0.75) == 0.3  # 4 in, 1 out kept = 0.8
    assert threshold_at_precision(np.array([0.1]), np.array([0.9]), 0.9) is None


def test_macro_f1() -> None:
    assert macro_f1(["a", "a", "b"], ["a", "b", "b"], ["a", "b"]) == pytest.approx(
        (2 / 3 + 2 / 3) / 2
    )


def test_routing_metrics_exact() -> None:
    score = np.array([[0.9, 0.1], [0.2, 0.6], [0.7, 0.3], [0.4, 0.3]], dtype=np.float32)
    gold = ["a", "b", "b", None]
    m = routing_metrics(score, gold, ["a", "b"], default_threshold=0.5)
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["oos_auroc"] == 1.0
    assert m["oos_recall@P0.95"] == 1.0 and m["in_scope_kept@P0.95"] == 1.0
    # at 0.5: a right, b right, b wrong route (accepted), oos rejected -> 3/4
    assert m["at_default"]["accuracy_with_oos"] == 0.75
    assert m["at_default"]["oos_recall"] == 1.0


def test_evaluate_routing_side_by_side_on_a_toy_set() -> None:
    routes = [
        Route("a", ("play music",)),
        Route("b", ("know the weather",)),
        Route("c", ("set an alarm",)),
    ]
    rset = RoutingSet(
        "toy",
        routes,
        ["play music now", "know the weather", "set an alarm", "order pizza"],
        ["a", "b", "c", None],
    )
    res = evaluate_routing(
        rset,
        ["nli", "embedding", "hybrid"],
        scorer=FakeScorer(),
        embedder=FakeEmbedder(),
        options={"top_k": 2},
        nli_limit=3,
        weights=[0.0, 1.0],
    )
    s = res["strategies"]
    assert s["nli"]["n"] == 3 and s["embedding"]["n"] == 4
    assert s["nli"]["accuracy"] == 1.0 and s["hybrid"]["accuracy"] == 1.0
    assert s["hybrid"]["oos_auroc"] == 1.0 and s["hybrid"]["shortlist_recall"] == 1.0
    assert set(s["hybrid"]["weight_sweep"]) == {"0", "1"}


def test_build_routing_set_holds_out_intents(routing_data: Path) -> None:
    rset = build_routing_set("banking77", oos_fraction=0.2, limit=500, seed=3)
    assert len(rset.routes) == 77 - 15 and len(rset.oos_intents) == 15
    assert len(rset.prompts) == 500
    ids = {r.id for r in rset.routes}
    assert not ids & set(rset.oos_intents)
    assert all(g is None or g in ids for g in rset.gold)
    assert rset.describe()["out_of_scope"] == sum(g is None for g in rset.gold) > 0
    again = build_routing_set("banking77", oos_fraction=0.2, limit=500, seed=3)
    assert again.prompts == rset.prompts and again.gold == rset.gold


def test_build_routing_set_keeps_only_the_given_intents(routing_data: Path) -> None:
    keep = [
        "card_arrival",
        "card_linking",
        "exchange_rate",
        "lost_or_stolen_card",
        "top_up_failed",
    ]
    rset = build_routing_set("banking77", oos_fraction=0.2, intents=keep, seed=1)
    assert len(rset.routes) == 4 and len(rset.oos_intents) == 1
    assert {r.id for r in rset.routes} | set(rset.oos_intents) == set(keep)
    assert all(g is None or g in keep for g in rset.gold)
    assert len(rset.prompts) == 200  # 40 test utterances per banking77 intent
    with pytest.raises(InputError, match="has no intent 'card_arrivals'"):
        build_routing_set("banking77", intents=["card_arrivals", "card_linking"])


def test_build_routing_set_examples_and_far_oos(routing_data: Path) -> None:
    rset = build_routing_set(
        "banking77", oos_fraction=0.0, limit=200, examples=3, oos_from=["snips"]
    )
    assert all(len(r.examples) == 3 for r in rset.routes)
    test_texts = set(rset.prompts)
    assert not any(e in test_texts for r in rset.routes for e in r.examples)
    assert rset.describe()["out_of_scope"] == 50  # 20 % of the final sample
    with pytest.raises(
        InputError, match="far out-of-scope utterances are defined for banking77"
    ):
        build_routing_set("hwu64", oos_from=["snips"])
    sebis = build_routing_set("sebis", oos_fraction=0.5)
    assert sebis.oos_intents == [] and 0 < sebis.describe()["out_of_scope"] < 20


def test_best_threshold_maximises_right_answers() -> None:
    top = np.array([0.9, 0.6, 0.4, 0.3])
    inside = np.array([True, True, False, False])
    hit = np.array([True, False, False, False])
    # t=0.6 keeps the right in-scope answer and rejects both out-of-scope: 3/4 (lowest such t)
    assert best_threshold(top, inside, hit) == {
        "threshold": 0.6,
        "accuracy_with_oos": 0.75,
    }
