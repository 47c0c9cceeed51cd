"""Guard evaluation on the fake scorer, the labeled-prompt adapters and their splits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeScorer

from crossingguard.errors import DataError, InputError
from crossingguard.guard import Guard
from crossingguard.policy import policy_from_dict
from crossingguard.toolkit.evaluation.guard_datasets import (
    DATASETS,
    OUT_OF_SCOPE,
    GuardExample,
    condition_labels,
    load_examples,
    split_of,
)
from crossingguard.toolkit.evaluation.guard_eval import (
    evaluate_guard,
    markdown_report,
    write_reports,
)

POLICY = {
    "version": 1,
    "name": "toy",
    "conditions": [
        {"id": "cat", "hypotheses": "cat", "categories": ["hate"]},
        {
            "id": "dog",
            "hypotheses": "dog",
            "categories": ["violent_crime"],
            "action": "flag",
        },
        {"id": "bird", "hypotheses": "bird", "action": "log"},
    ],
    "routes": [
        {"id": "feline", "hypotheses": "cat"},
        {"id": "canine", "hypotheses": "dog"},
    ],
    "routing": {"fallback": "other"},
}

EXAMPLES = [
    GuardExample("a cat", True, ("hate",), "s", "g1"),
    GuardExample("a dog", True, ("violent_crime",), "s", "g1"),
    GuardExample("a dog and a cat", True, ("hate",), "s", "g2"),
    GuardExample("a fish", True, (), "s", "g2"),  # missed; category unknown
    GuardExample(
        "a cat toy", False, (), "s", "look", contrast=("hate",)
    ),  # false positive
    GuardExample(
        "a bird", False, (), "s", "look", contrast=("violent_crime",)
    ),  # log only
    GuardExample("hello", False, (), "s", "plain"),
]


def test_exact_metrics() -> None:
    guard = Guard(FakeScorer(), policy=policy_from_dict(POLICY))
    result, scores = evaluate_guard(guard, EXAMPLES, dataset="toy", chunk=3)
    assert scores.shape == (7, 3)
    o = result.overall
    assert (o.tp, o.fn, o.fp, o.tn) == (3, 1, 1, 2)
    assert o.precision == pytest.approx(0.75) and o.recall == pytest.approx(0.75)
    assert o.fpr == pytest.approx(1 / 3)
    assert result.lookalikes == 2 and result.lookalike_fpr == pytest.approx(0.5)
    cat, dog, bird = result.conditions
    # cat: positives are the two hate prompts; 'a dog' (violent) is a negative, 'a fish' unknown
    assert (cat.metrics.tp, cat.metrics.fp, cat.metrics.fn, cat.metrics.tn) == (
        2,
        1,
        0,
        3,
    )
    # dog fires on 'a dog and a cat' too, which is labeled hate only: a false positive
    assert (dog.metrics.tp, dog.metrics.fp, dog.metrics.fn) == (1, 1, 0)
    # bird has no categories: labeled by harmful, so it misses all four harmful prompts
    assert (bird.metrics.tp, bird.metrics.fn, bird.metrics.fp) == (0, 4, 1)
    groups = {(g["group"], g["label"]): g for g in result.groups}
    assert groups[("look", "benign")]["flagged_rate"] == 0.5
    assert result.routing is None  # no gold routes
    json.dumps(result.to_dict())


def test_routing_accuracy_with_out_of_scope() -> None:
    guard = Guard(FakeScorer(), policy=policy_from_dict(POLICY))
    examples = [
        GuardExample("a cat", route="feline"),
        GuardExample("a dog", route="canine"),
        GuardExample("a cat and a dog", route="canine"),  # feline wins the tie: wrong
        GuardExample("the weather", route=OUT_OF_SCOPE),  # fallback: right
        GuardExample(
            "a dog barks", route="birds"
        ),  # not a policy route: out of scope, wrong
        GuardExample("not routed"),  # no gold route: left out
    ]
    result, _ = evaluate_guard(guard, examples, dataset="routes")
    r = result.routing
    assert r is not None and r.n == 5
    assert r.accuracy == pytest.approx(3 / 5)
    assert r.in_scope_accuracy == pytest.approx(2 / 3)
    assert (r.out_of_scope, r.oos_recall, r.oos_precision) == (2, 0.5, 1.0)
    assert ("canine", "feline", 1) in r.top_confusions


def test_reports(tmp_path: Path) -> None:
    guard = Guard(FakeScorer(), policy=policy_from_dict(POLICY))
    result, _ = evaluate_guard(guard, EXAMPLES, dataset="toy")
    md = markdown_report([result])
    assert "| toy | 7 | 75.0 | 75.0 | 75.0 | 33.3 | 50.0 | - |" in md
    paths = write_reports([result], tmp_path)
    assert json.loads(paths["json"].read_text())[0]["overall"]["tp"] == 3
    assert paths["png:toy"].stat().st_size > 1000


def test_condition_labels() -> None:
    ex = [
        GuardExample("a", True, ("hate",)),
        GuardExample("b", True, ("fraud_scams",)),
        GuardExample("c", True, ()),
        GuardExample("d", False, ()),
        GuardExample("e", None, ("hate",)),
        GuardExample("f", None, ()),
    ]
    assert condition_labels(["hate"], ex).tolist() == [1, 0, -1, 0, 1, -1]
    assert condition_labels([], ex).tolist() == [1, 1, 1, 0, -1, -1]


def test_jsonl_examples_split_and_limit(tmp_path: Path) -> None:
    path = tmp_path / "labeled.jsonl"
    rows = [
        {
            "text": f"prompt number {i}",
            "harmful": i % 2 == 0,
            "categories": ["hate"] if i % 2 == 0 else [],
        }
        for i in range(200)
    ]
    rows.append(
        {"prompt": "PROMPT NUMBER 0!", "harmful": True}
    )  # duplicate after normalising
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    everything = load_examples(path)
    assert len(everything) == 200 and everything[0].categories == ("hate",)
    select = load_examples(path, split="select")
    evals = load_examples(path, split="eval")
    assert len(select) + len(evals) == 200 and 60 < len(select) < 140
    assert not {e.text for e in select} & {e.text for e in evals}
    assert all(split_of(e.text) == "select" for e in select)
    sample = load_examples(path, limit=10, seed=3)
    assert len(sample) == 10 and sample == load_examples(path, limit=10, seed=3)
    assert sample != load_examples(path, limit=10, seed=4)
    # the sample does not depend on file order
    path2 = tmp_path / "reversed.jsonl"
    path2.write_text(
        "\n".join(json.dumps(r) for r in reversed(rows[:200])), encoding="utf-8"
    )
    assert {e.text for e in load_examples(path2, limit=10, seed=3)} == {
        e.text for e in sample
    }


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"harmful": true}', r"line 1 -> text: must be a non-empty string"),
        (
            '{"text": "x", "harmful": "yes"}',
            r"line 1 -> harmful: must be true, false or null",
        ),
        (
            '{"text": "x", "categories": ["nope"]}',
            r"line 1 -> categories: unknown \['nope'\]",
        ),
        ("not json", r"line 1: not valid JSON"),
    ],
)
def test_bad_jsonl(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_examples(path)


def test_unknown_data_set() -> None:
    with pytest.raises(
        InputError,
        match=r"data: unknown data set 'nope'; expected a JSONL file or one of jbb_behaviors",
    ):
        load_examples("nope")


def _data_root() -> Path:
    from crossingguard.toolkit.data.paths import data_root

    try:
        return data_root()
    except DataError:
        pytest.skip("shared data folder not available")


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_adapters_read_the_shared_data(name: str) -> None:
    root = _data_root()
    examples = load_examples(name, root=root)
    assert len(examples) >= 50
    spec = DATASETS[name]
    if spec.kind == "routing":
        assert all(e.route for e in examples)
    else:
        assert any(e.harmful is not None for e in examples)
    labels = np.array([e.harmful for e in examples if e.harmful is not None])
    assert labels.dtype == bool or labels.size == 0


def test_policy_labels_follow_the_policy_scope() -> None:
    from crossingguard.toolkit.evaluation.guard_datasets import policy_labels

    ex = [
        GuardExample("a", True, ("prompt_injection",)),
        GuardExample("b", True, ("hate",)),  # harm outside an injection policy's scope
        GuardExample("c", True, ()),
        GuardExample("d", False, ()),
        GuardExample("e", None, ()),
    ]
    assert policy_labels([["prompt_injection"], ["jailbreak"]], ex).tolist() == [
        1,
        0,
        1,
        0,
        -1,
    ]
    assert policy_labels([["prompt_injection"], []], ex).tolist() == [1, 1, 1, 0, -1]
