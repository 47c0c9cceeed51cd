from __future__ import annotations

import json

import pytest
from fakes import FakeScorer

from crossingguard.errors import InputError
from crossingguard.guard import Condition, Guard
from crossingguard.guard.types import ThresholdWarning


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


def test_from_model_and_from_policy_pass_scorer_options(tiny_model_dir) -> None:
    """Issue 13: the CLI rebuilt from_policy because it could not take scorer options."""
    guard = Guard.from_model(
        tiny_model_dir, conditions=["a dog"], backend="onnx", max_length=32, threads=1
    )
    assert (guard.scorer.backend, guard.scorer.max_length) == ("onnx", 32)
    with pytest.warns(
        ThresholdWarning, match="not for model"
    ):  # packs: fitted for mini
        guard = Guard.from_policy("moderation", model=tiny_model_dir, max_length=40)
    assert guard.scorer.max_length == 40
    with pytest.raises(InputError, match="backend: must be auto, onnx or torch"):
        Guard.from_model(tiny_model_dir, backend="gpu")


POLICY = {
    "version": 1,
    "defaults": {"threshold": 0.5},
    "conditions": [
        {"id": "dog", "hypotheses": ["dog"]},
        {"id": "cat", "hypotheses": ["cat"], "threshold": 0.95},
    ],
}


def test_from_policy_threshold_overrides() -> None:
    from crossingguard.policy import policy_from_dict

    policy = policy_from_dict(POLICY)
    plain = Guard.from_policy(policy, scorer=FakeScorer()).check("a cat")
    assert [r.threshold for r in plain.results] == [0.5, 0.95]
    low = Guard.from_policy(policy, scorer=FakeScorer(), threshold=0.0).check("a cat")
    assert [r.threshold for r in low.results] == [0.0, 0.95]  # own thresholds stay
    assert low.result("dog").fired and not plain.result("dog").fired
    by_id = Guard.from_policy(policy, scorer=FakeScorer(), thresholds={"cat": 0.99})
    assert by_id.check("a cat").result("cat").threshold == 0.99
    assert not by_id.check("a cat").result("cat").fired
    with pytest.raises(InputError, match="thresholds: no condition 'bird'.*dog, cat"):
        Guard.from_policy(policy, scorer=FakeScorer(), thresholds={"bird": 0.5})
    with pytest.raises(
        InputError, match=r"thresholds -> cat: must be a number in \[0, 1\]"
    ):
        Guard.from_policy(policy, scorer=FakeScorer(), thresholds={"cat": 2})
    with pytest.raises(InputError, match="threshold: must be a number"):
        Guard.from_policy(policy, scorer=FakeScorer(), threshold=-1)
    with pytest.raises(InputError, match="not both"):
        Guard.from_policy(policy, scorer=FakeScorer(), backend="onnx")
    with pytest.raises(InputError, match="need a policy"):
        Guard(FakeScorer(), conditions=["cat"], thresholds={"cat": 0.5})


def test_verdict_json_shape_is_one() -> None:
    """`check --json` printed two shapes (ad-hoc conditions vs policies); now Verdict.to_dict."""
    from crossingguard.policy import policy_from_dict

    adhoc = Guard(FakeScorer(), conditions=["cat"]).check("a cat").to_dict()
    policy = (
        Guard(FakeScorer(), policy=policy_from_dict(POLICY)).check("a cat").to_dict()
    )
    assert set(adhoc) == set(policy)
    assert set(adhoc["conditions"][0]) == set(policy["conditions"][0])
    assert json.loads(json.dumps(adhoc))["conditions"][0]["name"] is None
