"""Threshold fitting on synthetic scores with a known best threshold."""

from __future__ import annotations

import numpy as np
import pytest
from fakes import FakeScorer
from hypothesis import given, settings
from hypothesis import strategies as st

from crossingguard.errors import InputError
from crossingguard.guard import Guard
from crossingguard.guard.calibration import (
    Target,
    binary_metrics,
    calibrate_scores,
    fit_threshold,
    parse_target,
    pr_curve,
    save_pr_curves,
    score_conditions,
)
from crossingguard.policy import policy_from_dict


def separable(rng: np.random.Generator, n: int = 200, cut: float = 0.62):
    pos = rng.uniform(cut + 0.01, 1.0, n)
    neg = rng.uniform(0.0, cut - 0.01, n)
    return np.r_[pos, neg], np.r_[np.ones(n, int), np.zeros(n, int)]


def test_separable_scores_find_the_gap() -> None:
    scores, labels = separable(np.random.default_rng(0))
    gap_lo = scores[labels == 0].max()
    gap_hi = scores[labels == 1].min()
    for target in ("f1", "precision=1.0", "recall=1.0"):
        fit = fit_threshold(scores, labels, target=target)
        assert gap_lo < fit.threshold <= gap_hi, target
        assert fit.threshold == pytest.approx((gap_lo + gap_hi) / 2, abs=1e-4)
        assert (fit.metrics.precision, fit.metrics.recall, fit.met) == (1.0, 1.0, True)


def test_known_best_f1_threshold() -> None:
    # positives at 0.9, 0.8, 0.7, 0.3; negatives at 0.75, 0.2, 0.1. F1 when admitting the top
    # k scores: .40, .67, .57, .75, .89 (k=5: P 4/5, R 1), .80, .73 -> the best cut is 0.3 / 0.2.
    scores = np.array([0.9, 0.8, 0.75, 0.7, 0.3, 0.2, 0.1])
    labels = np.array([1, 1, 0, 1, 1, 0, 0])
    fit = fit_threshold(scores, labels, target="f1")
    assert fit.threshold == pytest.approx((0.3 + 0.2) / 2)
    assert fit.metrics.f1 == pytest.approx(8 / 9)
    # precision >= 0.95: only the top two scores qualify
    hp = fit_threshold(scores, labels, target="precision=0.95")
    assert hp.threshold == pytest.approx((0.8 + 0.75) / 2) and hp.metrics.recall == 0.5
    # recall >= 1.0: must admit 0.3
    full = fit_threshold(scores, labels, target="recall=1")
    assert (
        full.threshold == pytest.approx((0.3 + 0.2) / 2) and full.metrics.recall == 1.0
    )
    # recall >= 0.7: the highest threshold reaching 3/4
    part = fit_threshold(scores, labels, target=Target("recall", 0.7))
    assert part.threshold == pytest.approx((0.7 + 0.3) / 2)


def test_unknown_labels_are_ignored() -> None:
    scores = np.array([0.9, 0.8, 0.1, 0.95])
    labels = np.array([1, 0, 0, -1])
    m = binary_metrics(scores, labels, 0.85)
    assert (m.tp, m.fp, m.fn, m.tn) == (1, 0, 0, 2)


def test_unmet_and_empty_targets() -> None:
    scores = np.array([0.9, 0.8, 0.7])
    labels = np.array(
        [0, 1, 0]
    )  # the top score is a negative: precision 1.0 is impossible
    fit = fit_threshold(scores, labels, target="precision=1.0")
    assert not fit.met and fit.threshold == pytest.approx(0.75)
    none = fit_threshold(scores, np.zeros(3, int), target="f1", fallback=0.4)
    assert (none.threshold, none.met) == (0.4, False)


def test_pr_curve_and_average_precision() -> None:
    curve = pr_curve(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 1, 0]))
    assert curve.thresholds.tolist() == [0.9, 0.8, 0.7, 0.6]
    assert curve.precision.tolist() == pytest.approx([1, 0.5, 2 / 3, 0.5])
    assert curve.recall.tolist() == pytest.approx([0.5, 0.5, 1, 1])
    assert curve.average_precision == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


@pytest.mark.parametrize(
    "text", ["f2", "precision", "precision=1.5", "recall=0", "accuracy=0.9"]
)
def test_bad_targets(text: str) -> None:
    with pytest.raises(
        InputError, match="target: expected f1, precision=P or recall=R"
    ):
        parse_target(text)


def test_fit_threshold_separates_scores_too_close_to_halve() -> None:
    fit = fit_threshold(np.array([0.0, 0.0, 0.0, 5e-324]), np.array([0, 0, 0, 1]))
    assert fit.threshold == 5e-324 and fit.metrics.f1 == 1.0


@settings(max_examples=50, deadline=None)
@given(
    scores=st.lists(st.floats(0, 1), min_size=2, max_size=40),
    data=st.data(),
)
def test_fitted_threshold_is_optimal(scores, data) -> None:
    labels = data.draw(
        st.lists(st.integers(0, 1), min_size=len(scores), max_size=len(scores))
    )
    s, y = np.array(scores), np.array(labels)
    if not y.any():
        return
    fit = fit_threshold(s, y, target="f1")
    best = max(binary_metrics(s, y, t).f1 for t in np.unique(s))
    assert fit.metrics.f1 == pytest.approx(best)
    assert 0.0 <= fit.threshold <= 1.0


def test_calibrate_scores_and_policy_round_trip(tmp_path) -> None:
    policy = policy_from_dict(
        {
            "version": 1,
            "name": "toy",
            "conditions": [
                {"id": "a", "hypotheses": "x", "threshold": 0.9},
                {"id": "b", "hypotheses": "y"},
                {"id": "unlabeled", "hypotheses": "z", "threshold": 0.3},
            ],
        }
    )
    rng = np.random.default_rng(1)
    sa, ya = separable(rng, 50, cut=0.4)
    sb, yb = separable(rng, 50, cut=0.7)
    scores = np.c_[sa, sb, rng.uniform(size=100)]
    result = calibrate_scores(
        policy, ("a", "b", "unlabeled"), scores, {"a": ya, "b": yb}, target="f1"
    )
    a, b, un = result.policy.conditions
    assert (
        0.38 < a.threshold < 0.42 and 0.68 < b.threshold < 0.72 and un.threshold == 0.3
    )
    cal_a = result.conditions[0]
    assert (
        cal_a.before.threshold == 0.9
        and cal_a.after.metrics.f1 == 1.0
        and cal_a.before.recall < 1
    )
    assert result.to_dict()["conditions"][0]["after"]["threshold"] == pytest.approx(
        a.threshold
    )
    png = save_pr_curves(result, tmp_path / "pr.png")
    assert png.stat().st_size > 1000


def test_score_conditions_uses_the_guard() -> None:
    policy = policy_from_dict(
        {"version": 1, "conditions": [{"id": "cat", "hypotheses": "cat"}]}
    )
    ids, scores = score_conditions(
        Guard(FakeScorer(), policy=policy), ["a cat", "a dog"], chunk=1
    )
    assert ids == ("cat",) and scores[:, 0] == pytest.approx([0.9, 0.0])
