from __future__ import annotations

import json

import pytest
from fakes import FakeScorer

from crossingguard.errors import InputError
from crossingguard.guard import Condition, Guard


def test_check_reports_each_condition() -> None:
    guard = Guard(FakeScorer())
    verdict = guard.check("the cat sat on the mat", conditions=["cat mat", "dog"])
    first, second = verdict.results
    assert (first.label, first.fired, first.entailment) == (
        "entailment",
        True,
        pytest.approx(0.9),
    )
    assert (second.label, second.fired) == ("contradiction", False)
    assert second.contradiction == pytest.approx(0.8)
    assert verdict.fired and verdict.fired_conditions == (first,)
    assert verdict.model == "fake"
    json.dumps(verdict.to_dict())  # plain data


def test_threshold_and_per_condition_overrides() -> None:
    guard = Guard(FakeScorer(), threshold=0.95)
    conds = ["cat", Condition("cat", threshold=0.5, name="lenient"),
             Condition("dog", fire_on="contradiction")]  # fmt: skip
    r = guard.check("a cat", conditions=conds).results
    assert [x.fired for x in r] == [False, True, False]
    assert guard.check("a cat", conditions=conds, threshold=0.5).results[0].fired
    assert (
        Guard(FakeScorer(), threshold=0.7)
        .check("a cat", conditions=conds)
        .results[2]
        .fired
    )


def test_adding_a_condition_never_changes_another_score() -> None:
    guard = Guard(FakeScorer())
    alone = guard.check("the cat sat", conditions=["cat"]).results[0]
    together = guard.check("the cat sat", conditions=["dog", "cat", "sat"]).results[1]
    assert alone == together


def test_check_batch_scores_in_one_call() -> None:
    scorer = FakeScorer()
    verdicts = Guard(scorer, conditions=["cat"]).check_batch(["a cat", "a dog"])
    assert [v.fired for v in verdicts] == [True, False]
    assert len(scorer.calls) == 1 and len(scorer.calls[0]) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"conditions": []}, "at least one condition"),
        (
            {"conditions": [""]},
            r"conditions -> 0 -> text: condition must be a non-empty",
        ),
        (
            {"conditions": ["x"], "threshold": 1.5},
            r"threshold: must be a number in \[0, 1\], got 1.5",
        ),
        (
            {"conditions": [Condition("x", threshold=-1)]},
            r"conditions -> 0 -> threshold",
        ),
    ],
)
def test_bad_guard_input(kwargs, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Guard(FakeScorer()).check("prompt", **kwargs)


def test_empty_prompt() -> None:
    with pytest.raises(
        InputError, match="prompts -> 0: prompt must be a non-empty string"
    ):
        Guard(FakeScorer(), conditions=["x"]).check("  ")


def test_guard_on_tiny_model(tiny_model_dir) -> None:
    guard = Guard.from_model(tiny_model_dir, conditions=["a dog"], threshold=0.0)
    verdict = guard.check("the cat sat on the mat")
    result = verdict.results[0]
    assert (
        result.fired
        and result.entailment + result.neutral + result.contradiction
        == pytest.approx(1, abs=1e-5)
    )
