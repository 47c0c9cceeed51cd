"""Per-model thresholds (issue 12 item 3): a policy keeps thresholds per model it was fitted for;
any other model gets the fallback threshold and a warning, in the guard, verdicts and `check`."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from fakes import FakeScorer
from typer.testing import CliRunner

from crossingguard.cli.app import app
from crossingguard.errors import PolicyError
from crossingguard.guard import Guard
from crossingguard.guard.calibration import calibrate_scores
from crossingguard.guard.types import ThresholdWarning
from crossingguard.inference.loading import BUILTIN_MODELS, DEFAULT_MODEL
from crossingguard.policy import builtin_packs, load_policy, policy_from_dict

MINI, MICRO = "crossingguard-nli-mini", "crossingguard-nli-micro"
POLICY = {
    "version": 1,
    "name": "pets",
    "defaults": {"threshold": 0.5},
    "conditions": [
        {"id": "cat", "hypotheses": ["cat"], "thresholds": {MINI: 0.9, MICRO: 0.8}},
        {"id": "dog", "hypotheses": ["dog"], "thresholds": {MINI: 0.7}},
        {"id": "bird", "hypotheses": ["bird"], "threshold": 0.6},
    ],
}


class NamedScorer(FakeScorer):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


def test_thresholds_resolve_per_model() -> None:
    p = policy_from_dict(POLICY)
    dog = p.conditions[1]
    assert [p.condition_threshold(c, MINI) for c in p.conditions] == [0.9, 0.7, 0.6]
    assert [p.condition_threshold(c, MICRO) for c in p.conditions] == [0.8, 0.5, 0.6]
    assert [p.condition_threshold(c, "other") for c in p.conditions] == [0.5, 0.5, 0.6]
    # no model: the one Guard.from_policy would load (the policy's, else the default)
    assert p.model_key() == DEFAULT_MODEL == MINI
    assert p.condition_threshold(dog) == 0.7
    assert p.model_copy(update={"model": MICRO}).condition_threshold(dog) == 0.5
    assert p.calibrated_models == (MINI, MICRO)
    assert p.uncalibrated_conditions(MICRO) == ("dog",)
    assert p.uncalibrated_conditions("other") == ("cat", "dog")
    flat = p.for_model(MICRO)
    assert [(c.threshold, c.thresholds) for c in flat.conditions] == [
        (0.8, {}),
        (None, {}),
        (0.6, {}),
    ]


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({MINI: 1.5}, rf"conditions -> 0 -> thresholds: .*{MINI}: must be in \[0, 1\]"),
        ({" mini": 0.5}, "conditions -> 0 -> thresholds: .*without surrounding spaces"),
        ([0.5], r"conditions -> 0 -> thresholds"),
    ],
)
def test_bad_thresholds_are_named(thresholds: object, message: str) -> None:
    data = {"version": 1, "conditions": [{"id": "a", "hypotheses": ["x"]}]}
    data["conditions"][0]["thresholds"] = thresholds
    with pytest.raises(PolicyError, match=message):
        policy_from_dict(data)


def test_guard_uses_its_models_thresholds_without_warning() -> None:
    guard = Guard(NamedScorer(MINI), policy=policy_from_dict(POLICY))
    assert [c.threshold for c in guard.conditions] == [0.9, 0.7, 0.6]
    assert guard.warnings == ()
    assert guard.check("a cat").warnings == ()


def test_other_model_gets_the_fallback_and_one_warning() -> None:
    """Before: a pack fitted for mini was applied to micro without a word."""
    with pytest.warns(ThresholdWarning) as caught:
        guard = Guard(NamedScorer(MICRO), policy=policy_from_dict(POLICY))
    assert len(caught) == 1
    assert [c.threshold for c in guard.conditions] == [0.8, 0.5, 0.6]
    (message,) = guard.warnings
    assert (
        f"fitted for {MINI}, {MICRO}, not for" not in message
    )  # micro is fitted for cat
    assert (
        f"fitted for {MINI}, not for {MICRO} on 1 of its 3 conditions (dog)" in message
    )
    assert f"crossingguard calibrate POLICY --model {MICRO}" in message
    verdicts = guard.check_batch(["a cat", "a dog"])
    assert all(v.warnings == (message,) for v in verdicts)
    assert verdicts[0].to_dict()["warnings"] == [message]
    # ad-hoc conditions on the same guard use no policy thresholds: nothing to warn about
    assert guard.check("a cat", conditions=["cat"]).warnings == ()
    # overriding the unfitted condition answers the warning
    fixed = Guard(
        NamedScorer(MICRO), policy=policy_from_dict(POLICY), thresholds={"dog": 0.6}
    )
    assert fixed.warnings == ()


def test_built_in_packs_keep_thresholds_per_model() -> None:
    for name in builtin_packs():
        pack = load_policy(name)
        assert pack.calibrated_models, name
        assert set(pack.calibrated_models) <= set(BUILTIN_MODELS), name
        assert all(c.threshold is None for c in pack.conditions), name  # fitted only
        with pytest.warns(ThresholdWarning, match=f"crossingguard calibrate {name} "):
            Guard.from_policy(name, scorer=NamedScorer("someone-elses-model"))


def test_check_warns_once_on_stderr_and_in_json(tiny_model_dir: Path) -> None:
    runner = CliRunner()
    args = ["check", "-", "-m", str(tiny_model_dir)]
    text = runner.invoke(app, args, input="one\ntwo\n")
    assert text.exit_code == 0, text.output
    assert (
        text.stderr.count("Warning: policy 'moderation' has thresholds fitted for") == 1
    )
    # the tiny model's directory is named "model": its name, and its path for --model
    assert "not for model on 12 of its 13 conditions" in text.stderr
    assert f"--model {tiny_model_dir.resolve()} --data" in text.stderr
    assert "ThresholdWarning" not in text.stderr
    js = runner.invoke(app, [*args, "--json"], input="one\ntwo\n")
    lines = [json.loads(x) for x in js.stdout.splitlines()]
    assert len(lines) == 2 and all(len(x["warnings"]) == 1 for x in lines)
    assert js.stderr.count("Warning: ") == 1
    adhoc = runner.invoke(app, ["check", "hi", "-c", "x", "-m", str(tiny_model_dir)])
    assert adhoc.exit_code == 0 and adhoc.stderr == ""


def test_calibrating_writes_the_models_entry_and_keeps_the_others() -> None:
    policy = policy_from_dict(POLICY)
    scores = np.array([[0.95, 0.2, 0.1], [0.1, 0.9, 0.1], [0.3, 0.1, 0.9]])
    labels = {"cat": np.array([1, 0, 0]), "dog": np.array([0, 1, 0])}
    result = calibrate_scores(
        policy, ("cat", "dog", "bird"), scores, labels, model=MICRO
    )
    cat, dog, bird = result.policy.conditions
    assert cat.thresholds[MINI] == 0.9 and dog.thresholds[MINI] == 0.7
    assert set(cat.thresholds) == set(dog.thresholds) == {MINI, MICRO}
    assert bird == policy.conditions[2]  # no labels: untouched
    assert Guard(NamedScorer(MICRO), policy=result.policy).warnings == ()


@pytest.fixture()
def eval_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import eval_packs

    for name in builtin_packs():
        shutil.copy(eval_packs.PACKS_DIR / f"{name}.yaml", tmp_path / f"{name}.yaml")
    monkeypatch.setattr(eval_packs, "PACKS_DIR", tmp_path)
    yield eval_packs
    sys.modules.pop("eval_packs", None)


def test_ship_writes_the_models_thresholds_without_erasing_others(eval_packs) -> None:
    before = load_policy(eval_packs.PACKS_DIR / "prompt-injection.yaml")
    fitted = {c.id: 0.25 + 0.25 * i for i, c in enumerate(before.conditions)}
    for _ in range(2):  # shipping twice leaves one provenance note
        path = eval_packs.ship_thresholds("prompt-injection", fitted, MICRO, "f1")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Built-in pack `prompt-injection`.")
    assert text.count("# Thresholds") == 1 and "--ship --model MODEL" in text
    after = load_policy(path)
    assert [after.condition_threshold(c, MICRO) for c in after.conditions] == list(
        fitted.values()
    )
    assert [after.condition_threshold(c, MINI) for c in after.conditions] == [
        before.condition_threshold(c, MINI) for c in before.conditions
    ]
    assert [c.hypotheses for c in after.conditions] == [
        c.hypotheses for c in before.conditions
    ]
    raw = yaml.safe_load(text)
    assert all("threshold" not in c for c in raw["conditions"])
