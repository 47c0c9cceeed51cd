"""Pooled calibration: thresholds fitted together for the pack's harmful-vs-benign decision."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossingguard.errors import InputError
from crossingguard.policy.schema import Policy
from crossingguard.toolkit.evaluation.pooled_calibration import (
    fit_pooled_thresholds,
    parse_pooled_target,
    pooled_decision,
    round_thresholds,
)


def _policy(thresholds=(0.5, 0.5), actions=("block", "flag")) -> Policy:
    return Policy.model_validate(
        {
            "version": 1,
            "name": "t",
            "conditions": [
                {
                    "id": f"c{j}",
                    "hypotheses": [f"The prompt is about topic {j}"],
                    "threshold": t,
                    "action": a,
                }
                for j, (t, a) in enumerate(zip(thresholds, actions, strict=True))
            ],
        }
    )


# columns: condition c0, condition c1; hand example from the module's reasoning
SCORES = np.array(
    [[0.9, 0.1], [0.1, 0.8], [0.6, 0.1], [0.1, 0.5], [0.2, 0.2], [0.7, 0.3]]
)
LABELS = np.array([1, 1, 0, 0, 0, 1])
IDS = ("c0", "c1")


def test_f1_fit_finds_the_thresholds_a_hand_computation_gives():
    # at 0.5/0.5 the pack stops p0, p1, p2, p3, p5: tp 3, fp 2, F1 0.75. c0 must sit in
    # (0.6, 0.7] and c1 in (0.5, 0.8] to stop exactly the three harmful prompts; centred on the
    # 3-decimal grid: (0.601 + 0.700) / 2 -> 0.650 and (0.501 + 0.800) / 2 -> 0.650.
    fit = fit_pooled_thresholds(_policy(), IDS, SCORES, LABELS, target="f1")
    assert fit.before.f1 == pytest.approx(0.75) and (fit.before.tp, fit.before.fp) == (
        3,
        2,
    )
    assert fit.thresholds_after == {"c0": 0.65, "c1": 0.65}
    assert (fit.after.tp, fit.after.fp, fit.after.fn) == (3, 0, 0) and fit.met
    assert [c.threshold for c in fit.policy.conditions] == [0.65, 0.65]
    assert fit.to_dict()["after"]["f1"] == 1.0


def test_precision_floor_and_fpr_cap():
    fit = fit_pooled_thresholds(_policy(), IDS, SCORES, LABELS, target="precision=1")
    assert fit.after.precision == 1.0 and fit.after.recall == 1.0 and fit.met
    # an impossible precision floor (a benign prompt scores above every harmful one) is not met
    hard = SCORES.copy()
    hard[4] = [0.95, 0.95]
    miss = fit_pooled_thresholds(_policy(), IDS, hard, LABELS, target="precision=1")
    assert not miss.met
    capped = fit_pooled_thresholds(_policy(), IDS, hard, LABELS, target="fpr=0.34")
    assert capped.after.fpr <= 0.34 and capped.met and capped.after.recall == 1.0


def test_log_conditions_unknown_labels_and_rounding():
    policy = _policy(thresholds=(0.5, 0.12345), actions=("block", "log"))
    labels = LABELS.copy()
    labels[1] = -1  # unknown: left out of the fit
    fit = fit_pooled_thresholds(policy, IDS, SCORES, labels)
    assert (
        fit.thresholds_after["c1"] == 0.12345
    )  # log: never stops a prompt, never tuned
    assert fit.policy.conditions[1].threshold == 0.12345
    assert fit.after.support == 2
    assert round_thresholds(policy).conditions[1].threshold == 0.123
    assert (
        pooled_decision(SCORES, np.array([0.95, 0.0]), np.array([True, False])).sum()
        == 0
    )


def test_errors_say_what_is_wrong():
    with pytest.raises(InputError, match="harmful and benign"):
        fit_pooled_thresholds(_policy(), IDS, SCORES, np.ones(6, int))
    with pytest.raises(InputError, match=r"\(n_prompts, 2\)"):
        fit_pooled_thresholds(_policy(), IDS, SCORES[:, :1], LABELS)
    with pytest.raises(InputError, match="one value per prompt"):
        fit_pooled_thresholds(_policy(), IDS, SCORES, LABELS[:3])
    with pytest.raises(InputError, match="expected f1, precision=P or fpr=F"):
        parse_pooled_target("recall=0.5")
    with pytest.raises(InputError, match=r"must be in \[0, 1\)"):
        parse_pooled_target("fpr=1.5")
    assert str(parse_pooled_target("precision=0.9")) == "precision=0.9"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.booleans()),
        min_size=4,
        max_size=40,
    ),
    st.sampled_from(["f1", "precision=0.8", "fpr=0.2"]),
)
def test_fit_never_worsens_its_objective_and_stays_on_the_grid(rows, target):
    scores = np.array([r[:3] for r in rows])
    labels = np.array([int(r[3]) for r in rows])
    if labels.all() or not labels.any():
        labels[0] = 1 - labels[0]
    policy = Policy.model_validate(
        {"version": 1, "name": "p", "conditions": [
            {"id": f"c{j}", "hypotheses": [f"claim {j}"], "threshold": 0.5} for j in range(3)]}
    )  # fmt: skip
    fit = fit_pooled_thresholds(
        policy, ("c0", "c1", "c2"), scores, labels, target=target
    )
    for t in fit.thresholds_after.values():
        assert abs(t * 1000 - round(t * 1000)) < 1e-6
    if target == "f1":
        assert fit.after.f1 >= fit.before.f1 - 1e-12
    elif target.startswith("precision"):
        if fit.before.precision >= 0.8 and fit.before.tp + fit.before.fp:
            assert (
                fit.after.precision >= 0.8 - 1e-12
                and fit.after.recall >= fit.before.recall - 1e-12
            )
    else:
        if fit.before.fpr <= 0.2:
            assert (
                fit.after.fpr <= 0.2 + 1e-12
                and fit.after.recall >= fit.before.recall - 1e-12
            )


def test_per_model_thresholds_are_read_and_written_for_the_scoring_model():
    policy = Policy.model_validate(
        {"version": 1, "name": "t", "conditions": [
            {"id": "c0", "hypotheses": ["claim 0"], "thresholds": {"m": 0.5, "other": 0.9}},
            {"id": "c1", "hypotheses": ["claim 1"], "thresholds": {"m": 0.5}}]}
    )  # fmt: skip
    fit = fit_pooled_thresholds(policy, IDS, SCORES, LABELS, model="m")
    assert fit.thresholds_before == {"c0": 0.5, "c1": 0.5}
    assert fit.policy.conditions[0].thresholds == {
        "m": 0.65,
        "other": 0.9,
    }  # the other model's fit kept
    assert fit.policy.conditions[1].thresholds == {"m": 0.65}
    assert round_thresholds(
        fit.policy.model_copy(
            update={
                "conditions": [
                    fit.policy.conditions[0].model_copy(
                        update={"thresholds": {"m": 0.12345}}
                    )
                ]
            }
        )
    ).conditions[0].thresholds == {"m": 0.123}
