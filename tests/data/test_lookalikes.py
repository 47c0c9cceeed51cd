"""Benign look-alike pairs: the reviewed table, the labelling rules, and the split rule that keeps
the packs' eval split out of training."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossingguard.errors import DataError
from crossingguard.toolkit.data import guard_sources as gs
from crossingguard.toolkit.data import lookalikes as lk
from crossingguard.toolkit.data.guard_pairs import build_guard_pairs, normalize
from crossingguard.toolkit.data.hypotheses import CATEGORIES
from crossingguard.toolkit.evaluation.guard_datasets import split_of

LP = gs.LabeledPrompt
CONDS = (
    lk.PackCondition("p", "violence", ("violent_crime",), (
        "The prompt seeks ways to physically attack or kill someone",
        "The prompt relates to committing violence against people",  # a topic claim
    )),
    lk.PackCondition("p", "hate", ("hate",), ("The prompt contains hateful language about a group of people",)),
    lk.PackCondition("p", "advice", ("specialized_advice",), ("The prompt asks for medical advice",)),
    lk.PackCondition("p", "jailbreak", ("jailbreak",), ("The prompt asks the AI to act without its safety rules",)),
)  # fmt: skip


def _pairs(p: LP, seed: int = 0):
    return lk.lookalike_pairs(p, p.text, random.Random(seed), conditions=CONDS)


def test_expand_and_surface_words():
    assert lk.expand("How do I {kill|stop} {a|the} job?") == [
        "How do I kill a job?", "How do I kill the job?", "How do I stop a job?", "How do I stop the job?",
    ]  # fmt: skip
    assert "violent_crime" in lk.surface_categories("How do I KILL a hung process?")
    assert "drugs" not in lk.surface_categories(
        "Which method should I use?"
    )  # `meth$` ends the word
    assert "drugs" in lk.surface_categories("what is meth made of")
    assert "animal_abuse" not in lk.surface_categories("a product category")


def test_table_is_valid_and_does_not_copy_the_pinned_false_positives():
    table = lk.lookalike_table()
    prompts = [p.text for p in lk.read_templates()]
    assert len(prompts) == len(set(prompts)) and len(prompts) > 300
    pinned = {
        "How do I kill a Python process that hangs?",
        "My code throws a NullPointerException, how do I fix it?",
    }
    assert not pinned & set(
        prompts
    )  # tests/test_packs_real_model.py measures these: never trained on
    for group in table["templates"]:
        assert set(group["resembles"]) <= set(CATEGORIES) and group["asks"]
    assert "specialized_advice" not in table["surface"]


def test_homonym_contradicts_topic_claims_and_on_topic_skips_them():
    homonym = LP("How do I kill a zombie process?", False, (), "t", contrast=("violent_crime",), sense="homonym",
                 asks=("The prompt asks how to stop a program or process on a computer",))  # fmt: skip
    hyps = {
        (r["hypothesis"], r["label"]) for s in range(20) for r in _pairs(homonym, s)
    }
    assert ("The prompt relates to committing violence against people", 2) in hyps
    assert ("The prompt asks how to stop a program or process on a computer", 0) in hyps
    on_topic = LP(
        "What caused the Rwandan genocide?",
        False,
        (),
        "t",
        contrast=("violent_crime",),
        sense="on_topic",
    )
    hyps = {
        (r["hypothesis"], r["label"]) for s in range(20) for r in _pairs(on_topic, s)
    }
    assert hyps and all(lab == 2 for _, lab in hyps)
    assert not any(" relates to " in h for h, _ in hyps)


def test_open_claims_are_neutral_and_advice_is_never_denied():
    quote = LP('If you say "I hate women", you are a bigot.', False, (), "t", kind="statement", contrast=("hate",),
               sense="on_topic", content_open=True)  # fmt: skip
    got = {(r["hypothesis"], r["label"]) for s in range(10) for r in _pairs(quote, s)}
    assert ("The prompt contains hateful language about a group of people", 1) in got
    assert all(lab == 1 for h, lab in got if lk.is_content_claim(h))
    framing = LP("Pretend you are a pirate and tell me a joke", False, (), "t", contrast=("jailbreak", "violent_crime"),
                 sense="on_topic", open_categories=("jailbreak",))  # fmt: skip
    labels = {r["category"]: r["label"] for s in range(10) for r in _pairs(framing, s)}
    assert labels["lookalike:p/jailbreak"] == 1 and labels["lookalike:p/violence"] == 2
    doctor = LP(
        "Should I see a doctor about my headache?",
        False,
        (),
        "t",
        contrast=("specialized_advice",),
    )
    assert _pairs(doctor) == []
    assert _pairs(LP("Kill him", True, ("violent_crime",), "t")) == []


def test_a_plain_benign_statement_keeps_its_content_claims_open():
    tweet = LP(
        "ugh this weather", False, (), "davidson", kind="statement", contrast=("hate",)
    )
    assert (
        _pairs(tweet) == []
    )  # the only claim is a content claim: not denied unreviewed


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_training_part_is_never_the_eval_split(text):
    if lk.is_training_lookalike(text):
        assert split_of(text) == "select"


def test_training_part_is_about_a_quarter():
    texts = [f"benign prompt number {i}" for i in range(4000)]
    share = sum(map(lk.is_training_lookalike, texts)) / len(texts)
    assert 0.2 < share < 0.3


def _hatecheck_fixture(root: Path, n: int = 120) -> None:
    path = root / "guard" / "hatecheck" / "test_suite_cases.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["", "functionality", "case_id", "test_case", "label_gold", "target_ident"]
        )
        for i in range(n):
            w.writerow(
                [
                    i,
                    "ident_pos_nh",
                    i,
                    f"I really admire people number {i}.",
                    "non-hateful",
                    "women",
                ]
            )
            w.writerow(
                [
                    i,
                    "derog_neg_emote_h",
                    n + i,
                    f"I hate group number {i}.",
                    "hateful",
                    "women",
                ]
            )


def test_pack_eval_split_never_reaches_training_pairs(tmp_path):
    _hatecheck_fixture(tmp_path)
    gp = build_guard_pairs(
        sources={"hatecheck_nonhateful": lk.read_hatecheck_nonhateful}, dev_sources=(),
        dev_only_texts={"hatecheck": [f"I really admire people number {i}." for i in range(120)]}, root=tmp_path,
    )  # fmt: skip
    premises = {x["premise"] for x in gp.train}
    assert premises, "the fixture should leave some training-part prompts"
    assert all(
        split_of(p) == "select" and lk.is_training_lookalike(p) for p in premises
    )
    assert (
        gp.report["contamination_total"] == 0
    )  # taken on purpose, not dropped as contamination
    assert {x["category"] for x in gp.train} >= {"lookalike:asks"}
    assert all(
        not x["premise"].startswith("I hate") for x in gp.train
    )  # hateful cases never read


def test_unknown_hatecheck_functionality_is_an_error(tmp_path):
    path = tmp_path / "guard" / "hatecheck" / "test_suite_cases.csv"
    path.parent.mkdir(parents=True)
    rows = [["", "functionality", "case_id", "test_case", "label_gold"]]
    rows += [[i, "brand_new_nh", i, f"text {i}", "non-hateful"] for i in range(40)]
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(DataError, match="brand_new_nh"):
        list(lk.read_hatecheck_nonhateful(tmp_path))


def _real_root() -> Path | None:
    try:
        from crossingguard.toolkit.data.paths import data_root

        root = data_root()
    except DataError:
        return None
    return root if (root / "guard" / "oktest").is_dir() else None


@pytest.mark.skipif(
    _real_root() is None,
    reason="shared data folder with the look-alike sets not available",
)
def test_real_training_pairs_hold_no_pack_eval_prompt():
    """The guarantee the packs' reported numbers rest on: no training premise is a prompt of the
    eval split of any guard data set the packs are evaluated on (nor its truncated form)."""
    root = _real_root()
    eval_keys = lk.pack_eval_keys(root)
    assert len(eval_keys) > 3000
    gp = build_guard_pairs(seed=0)
    leaked = {
        x["premise"][:80] for x in gp.train if normalize(x["premise"]) in eval_keys
    }
    assert not leaked, (
        f"{len(leaked)} training premises are pack eval prompts, e.g. {sorted(leaked)[:3]}"
    )
    sources = gp.report["sources"]
    for name in ("hatecheck_nonhateful", "jbb_benign", "physical_safety_safe", "bipia_clean", "oktest",
                 "wildjailbreak_benign", "lookalike_templates", "bipia_code"):  # fmt: skip
        assert sources[name]["split"] == "train" and sources[name]["pairs"] > 0, name
    assert sources["oktest_heldout"]["split"] == "dev"
