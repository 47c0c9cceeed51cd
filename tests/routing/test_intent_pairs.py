from __future__ import annotations

from collections import Counter
from pathlib import Path

from crossingguard.toolkit.routing.evaluation import normalise
from crossingguard.toolkit.routing.intent_pairs import (
    CONFUSABLE,
    build_intent_pairs,
    pairs_for,
)
from crossingguard.toolkit.routing.intents import (
    HWU64,
    Utterance,
    describe,
    load_intents,
)


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
    pairs = build_intent_pairs(seed=0, max_per_intent=20, extra_sets=())
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
    again = build_intent_pairs(seed=0, max_per_intent=20, extra_sets=())
    assert again.train == pairs.train


def test_embedding_neighbours_are_the_hard_negatives(routing_data: Path) -> None:
    from routing_fakes import FakeEmbedder

    pairs = build_intent_pairs(
        seed=0, max_per_intent=3, embedder=FakeEmbedder(), extra_sets=("dstc11",)
    )
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


# ------------------------------------------------------------------- many domains (extra sets)


def _cat():
    from crossingguard.toolkit.data.intent_sources import IntentCatalog

    cat = IntentCatalog(
        "t",
        actions={"a": "check their balance", "b": "close their account", "c": "order checks",
                 "d": "report a lost card", "g": "ask how to do something", "x": "book a flight"},
        domains={"a": "bank", "b": "bank", "c": "bank", "d": "bank", "g": "general", "x": "air"},
    )  # fmt: skip
    cat.confusable = {frozenset(("b", "d"))}
    cat.never_denied = {"g"}
    return cat


def test_catalog_pairs_multi_label_siblings_and_never_denied() -> None:
    from crossingguard.toolkit.data.intent_sources import IntentRow
    from crossingguard.toolkit.routing.intent_pairs import catalog_pairs

    cat = _cat()
    row = IntentRow(
        "my card is gone, close my account", ("b", "g"), "t", "train", "bank"
    )
    seen_ent, seen_con = set(), set()
    for seed in range(60):
        for r in catalog_pairs(row, cat, ["a", "b", "c", "d", "g"], ["x"], seed):
            if r["label"] == 0:
                seen_ent.add(r["hypothesis"])
            if r["label"] == 2:
                seen_con.add(r["hypothesis"])
            assert r["category"] == "b|g" and r["source"] == "t"
    assert {h.split(" to ", 1)[1].rstrip(".") for h in seen_ent} <= {
        "close their account",
        "ask how to do something",
    }
    denied = {h.split(" to ", 1)[1].rstrip(".") for h in seen_con}
    assert denied and denied <= {
        "check their balance",
        "order checks",
        "book a flight",
    }  # never d (confusable) or g


def test_out_of_scope_query_entails_nothing_and_neutral_on_shared_words() -> None:
    from crossingguard.toolkit.data.intent_sources import IntentRow
    from crossingguard.toolkit.routing.intent_pairs import catalog_pairs

    cat = _cat()
    row = IntentRow("is my balance insured by the government", (), "t", "train", "bank")
    labels = {}
    for seed in range(40):
        for r in catalog_pairs(row, cat, ["a", "c"], ["x"], seed):
            labels[r["hypothesis"].split(" to ", 1)[1].rstrip(".")] = r["label"]
            assert r["category"] == "out_of_scope"
    assert labels == {"check their balance": 1, "order checks": 2}


def test_nlupp_questions_become_actions() -> None:
    from crossingguard.toolkit.data.intent_sources import nlupp_action

    assert (
        nlupp_action("is the intent to ask about contactless?")
        == "ask about contactless"
    )
    assert (
        nlupp_action("is the intent asking about some account?")
        == "ask about some account"
    )
    assert (
        nlupp_action("is the intent asking how to do something?")
        == "ask how to do something"
    )


def test_sgd_siblings_find_and_book_are_not_contradicted(routing_data: Path) -> None:
    from crossingguard.toolkit.data.intent_sources import read_sgd

    rows, cat = read_sgd(routing_data, "train")
    assert not cat.contradictable("Hotels_1/SearchHotel", "Hotels_1/ReserveHotel")
    assert not cat.contradictable(
        "Hotels_1/ReserveHotel", "Hotels_3/ReserveHotel"
    )  # same intent, other service
    assert cat.contradictable("Banks_1/CheckBalance", "Banks_1/TransferMoney")
    assert cat.contradictable("Hotels_1/SearchHotel", "Restaurants_1/FindRestaurants")
    assert all(len(r.text.split()) >= 5 for r in rows)


def test_every_label_in_the_extra_sets_has_a_description(routing_data: Path) -> None:
    from crossingguard.toolkit.data.intent_sources import INTENT_SOURCES

    for name, read in INTENT_SOURCES.items():
        for split in ("train", "dev"):
            rows, cat = read(
                routing_data, split
            )  # raises DataError naming a missing description
            assert rows and all(lab in cat.actions for r in rows for lab in r.labels), (
                name,
                split,
            )


def test_build_with_extra_sets_keeps_sides_and_held_out_sets_apart(
    routing_data: Path,
) -> None:
    from crossingguard.toolkit.data.intent_sources import hint3_oos_part

    pairs = build_intent_pairs(
        seed=0, max_per_intent=8, extra_sets=("hint3", "dstc11", "nlupp")
    )
    train_prem = {normalise(r["premise"]) for r in pairs.train}
    dev_prem = {normalise(r["premise"]) for r in pairs.dev}
    assert not train_prem & dev_prem
    banking = {
        normalise(r.text)
        for split in ("train", "test")
        for r in load_intents("banking77", split)
    }
    assert not train_prem & banking
    oos_train = [r for r in pairs.train if r["category"] == "out_of_scope"]
    oos_dev = [r for r in pairs.dev if r["category"] == "out_of_scope"]
    assert (
        oos_train and oos_dev and all(r["label"] in (1, 2) for r in oos_train + oos_dev)
    )
    assert all(hint3_oos_part(r["premise"]) == "train" for r in oos_train)
    assert {"hint3", "dstc11", "nlupp"} <= {r["source"] for r in pairs.train}
    assert "dstc11/dev" in pairs.report["dev_sets"]
