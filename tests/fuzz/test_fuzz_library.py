"""Generated inputs for the library's entry points: ``Scorer.predict`` and ``Guard.check_batch``.

The property is the same everywhere: a call returns well-formed probabilities and verdicts, or
raises :class:`InputError` whose message names the bad input; nothing else escapes, and a call
our own rules call valid never fails.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from fuzz_strategies import has_surrogate, long_text, nasty_text, plain_text
from fuzzcount import record
from hypothesis import given
from hypothesis import strategies as st

from crossingguard.errors import InputError
from crossingguard.guard import Condition, Guard
from crossingguard.limits import MAX_PROMPT_CHARS

pytestmark = pytest.mark.fuzz

part = st.one_of(
    nasty_text,
    nasty_text,
    nasty_text,
    st.none(),
    st.integers(),
    st.binary(max_size=8),
    st.lists(st.text(max_size=3), max_size=2),
)
pair = st.one_of(
    st.tuples(part, part),
    st.tuples(nasty_text, nasty_text),
    st.tuples(plain_text, plain_text),
    st.lists(plain_text, max_size=3),  # wrong arity
    plain_text,
    st.none(),
)


def _valid_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and not has_surrogate(value)


def _pair_problem(p: Any, max_chars: int | None) -> bool:
    if isinstance(p, (str, bytes)) or not isinstance(p, (tuple, list)) or len(p) != 2:
        return True
    premise, hypothesis = p
    if not (_valid_text(premise) and _valid_text(hypothesis)):
        return True
    return max_chars is not None and len(premise) > max_chars


def check_probabilities(out: np.ndarray, n: int) -> None:
    assert out.shape == (n, 3) and out.dtype == np.float32
    assert np.isfinite(out).all() and (out >= 0).all() and (out <= 1 + 1e-6).all()
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-4)


clean_text = st.one_of(plain_text, plain_text, long_text)


@given(
    pairs=st.one_of(
        st.lists(st.tuples(clean_text, plain_text), max_size=6),
        st.lists(pair, max_size=6),
    ),
    batch_size=st.one_of(st.integers(-2, 70), st.just(64)),
    max_chars=st.one_of(st.just(MAX_PROMPT_CHARS), st.integers(1, 20_000), st.none()),
)
def test_scorer_predict(
    tiny_scorer: Any, pairs: list[Any], batch_size: int, max_chars: Any
) -> None:
    tiny_scorer.max_prompt_chars = max_chars
    invalid = any(_pair_problem(p, max_chars) for p in pairs) or batch_size < 1
    try:
        out = tiny_scorer.predict(pairs, batch_size=batch_size)
    except InputError as exc:
        record("Scorer.predict", "InputError")
        message = str(exc)
        assert message and "\n" not in message
        # inputs our rules accept can only fail because a condition cannot fit the window
        assert invalid or "hypothesis: too long" in message, message
        return
    finally:
        tiny_scorer.max_prompt_chars = MAX_PROMPT_CHARS
    record("Scorer.predict", "scored")
    assert not invalid
    check_probabilities(out, len(pairs))


threshold = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1),
    st.integers(-2, 2),
    st.booleans(),
    st.text(max_size=3),
)
condition = st.one_of(
    nasty_text,
    plain_text,
    st.builds(
        Condition,
        text=st.one_of(plain_text, nasty_text),
        name=st.one_of(st.none(), nasty_text),
        threshold=threshold,
        fire_on=st.sampled_from(["entailment", "contradiction", "neutral", ""]),
        hypotheses=st.one_of(
            st.just(()),
            st.lists(st.one_of(plain_text, nasty_text), max_size=3).map(tuple),
        ),
        aggregation=st.sampled_from(["max", "mean", "min", "median"]),
        action=st.sampled_from(["block", "flag", "log", "allow"]),
    ),
    st.none(),
    st.integers(),
)
prompt = st.one_of(nasty_text, plain_text, st.none(), st.integers())


@given(
    prompts=st.one_of(
        st.lists(clean_text, min_size=1, max_size=5),
        st.lists(prompt, max_size=5),
        plain_text,
    ),
    conditions=st.one_of(
        st.none(),
        st.lists(plain_text, min_size=1, max_size=3),
        st.lists(condition, max_size=4),
        plain_text,
    ),
    default=st.one_of(st.none(), st.floats(0, 1), threshold),
)
def test_guard_check_batch(
    tiny_scorer: Any, prompts: Any, conditions: Any, default: Any
) -> None:
    guard = Guard(
        tiny_scorer,
        conditions=[Condition("the prompt asks for a weapon", threshold=0.5)],
    )
    try:
        verdicts = guard.check_batch(prompts, conditions=conditions, threshold=default)
    except InputError as exc:
        record("Guard.check_batch", "InputError")
        assert str(exc)
        return
    record("Guard.check_batch", "verdicts")
    assert isinstance(prompts, list) and len(verdicts) == len(prompts)
    for verdict in verdicts:
        data = verdict.to_dict()
        assert data["allowed"] == (data["action"] != "block")
        for r in verdict.results:
            assert 0 <= r.threshold <= 1 and not math.isnan(r.score)
            assert r.fired == (r.score >= r.threshold)
            assert math.isclose(
                r.entailment + r.neutral + r.contradiction, 1.0, abs_tol=1e-4
            )
