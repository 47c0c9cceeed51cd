from __future__ import annotations

from collections import Counter
from pathlib import Path

from crossingguard.routing.evaluation import normalise
from crossingguard.routing.intent_pairs import CONFUSABLE, build_intent_pairs, pairs_for
from crossingguard.routing.intents import HWU64, Utterance, describe, load_intents


def _label_of(rows: list[dict], label: int) -> list[dict]:
    return [r for r in rows if r["label"] == label]


def test_pairs_for_one_utterance_follow_the_convention() -> None:
    u = Utterance(
        "turn off the lights in the kitchen", "iot_hue_lightoff", "hwu64", "train"
    )
    rows = pairs_for(u, sorted(HWU64), seed=0)
    assert rows == pairs_for(u, sorted(HWU64), seed=0)  # deterministic
    ent = _label_of(rows, 0)
    assert len(ent) == 1 and "turn the lights off" in ent[0]["hypothesis"]
    contra = _label_of(rows, 2)
    assert contra and all("turn the lights off" not in r["hypothesis"] for r in contra)
    hard = contra[0]["hypothesis"]  # the first contradiction is a same-domain intent
    iot = [
        describe("hwu64", i, phrasing=p)
        for i in HWU64
        if i.startswith("iot_")
        for p in range(4)
    ]
    assert hard in iot
    for r in rows:
        assert set(r) == {"premise", "hypothesis", "label", "source", "category"}
        assert r["source"] == "hwu64" and r["category"] == "iot_hue_lightoff"


def test_confusable_intents_are_never_contradicted() -> None:
    u = Utterance("say that again please", "general_repeat", "hwu64", "train")
    for seed in range(40):
        for r in _label_of(pairs_for(u, sorted(HWU64), seed=seed), 2):
            assert "explain its answer" not in r["hypothesis"]
    assert frozenset(("general_explain", "general_repeat")) in CONFUSABLE


def test_neutral_claims_respect_blockers() -> None:
    u = Utterance(
        "call a taxi for my wife right now", "transport_taxi", "hwu64", "train"
    )
    for seed in range(60):
        for r in _label_of(pairs_for(u, sorted(HWU64), seed=seed), 1):
            assert (
                "someone else" not in r["hypothesis"] and "hurry" not in r["hypothesis"]
            )


def test_build_keeps_banking77_held_out_and_splits_clean(routing_data: Path) -> None:
    pairs = build_intent_pairs(seed=0, max_per_intent=20)
    assert {r["source"] for r in pairs.train} == {"hwu64", "snips"}
    train_prem = {normalise(r["premise"]) for r in pairs.train}
    dev_prem = {normalise(r["premise"]) for r in pairs.dev}
    assert not train_prem & dev_prem
    banking = {normalise(r.text) for r in load_intents("banking77", "test")}
    assert not train_prem & banking
    counts = Counter(r["category"] for r in pairs.train if r["label"] == 0)
    assert max(counts.values()) <= 20
    labels = Counter(r["label"] for r in pairs.train)
    assert set(labels) == {0, 1, 2} and labels[0] < labels[2]
    rep = pairs.report
    assert rep["train"]["pairs"] == len(pairs.train) and rep["dev"]["pairs"] == len(
        pairs.dev
    )
    again = build_intent_pairs(seed=0, max_per_intent=20)
    assert again.train == pairs.train


def test_embedding_neighbours_are_the_hard_negatives(routing_data: Path) -> None:
    from routing_fakes import FakeEmbedder

    pairs = build_intent_pairs(seed=0, max_per_intent=3, embedder=FakeEmbedder())
    assert pairs.report["hard_negatives"] == "embedding neighbours"
    u = Utterance("turn the lights off", "iot_hue_lightoff", "hwu64", "train")
    near = [
        "iot_hue_lighton",
        "iot_hue_lightdim",
        "alarm_set",
        "iot_wemo_off",
        "play_music",
    ]
    for seed in range(30):
        contra = [
            r["hypothesis"]
            for r in _label_of(pairs_for(u, sorted(HWU64), seed, neighbours=near), 2)
        ]
        pool = {describe("hwu64", i, phrasing=p) for i in near[:4] for p in range(4)}
        assert contra[0] in pool
        assert len(contra) <= 3
