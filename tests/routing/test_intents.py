from __future__ import annotations

from pathlib import Path

import pytest

from crossingguard.errors import InputError
from crossingguard.toolkit.routing.intents import (
    DATASETS,
    DESCRIPTIONS,
    PHRASINGS,
    SPLITS,
    describe,
    domain,
    intent_names,
    load_intents,
    nemo_canonical_forms,
)


def test_describe_uses_the_reviewed_phrase_and_phrasings() -> None:
    assert (
        describe("banking77", "terminate_account")
        == "The user wants to close their account."
    )
    assert (
        describe("hwu64", "alarm_set", phrasing=1)
        == "The user is trying to set an alarm."
    )
    assert describe("snips", "GetWeather", phrasing=len(PHRASINGS)) == describe(
        "snips", "GetWeather"
    )


def test_descriptions_are_clean_phrases() -> None:
    for table in DESCRIPTIONS.values():
        for intent, action in table.items():
            assert action == action.strip() and not action.endswith(".")
            assert action[0].islower() or action.split()[0] in {"PIN"}, intent


def test_unknown_names_are_errors() -> None:
    with pytest.raises(InputError, match="no description for intent 'nope'"):
        describe("hwu64", "nope")
    with pytest.raises(InputError, match="dataset: must be one of"):
        describe("clinc", "x")
    with pytest.raises(InputError, match="split must be one of train, test"):
        load_intents("banking77", "valid")


def test_domains_group_hard_negatives() -> None:
    assert (
        domain("hwu64", "iot_hue_lightoff") == domain("hwu64", "iot_wemo_on") == "iot"
    )
    assert (
        domain("banking77", "pending_top_up")
        == domain("banking77", "topping_up_by_card")
        == "top_up"
    )
    assert domain("snips", "PlayMusic") == "snips"


def test_every_label_in_the_data_has_a_description(routing_data: Path) -> None:
    expected = {"banking77": 77, "hwu64": 64, "snips": 7, "sebis": 13}
    for dataset in DATASETS:
        for split in SPLITS[dataset]:
            rows = load_intents(dataset, split)
            names = intent_names(dataset, rows)
            assert set(names) <= set(DESCRIPTIONS[dataset]), (dataset, split)
            assert all(r.text == r.text.strip() and r.text for r in rows)
        if dataset in expected:
            assert (
                len(intent_names(dataset, load_intents(dataset, SPLITS[dataset][0])))
                == expected[dataset]
            )
    assert len(load_intents("banking77", "test")) == 3080
    assert set(nemo_canonical_forms()) == set(DESCRIPTIONS["banking77"])
