"""Determinism and invariance, as properties on the tiny model (fp32 ONNX, the default path):
a pair's scores do not depend on batch size, input order, duplicates in the call, the number of
CPU threads, or the guard's cache; a verdict does not depend on the other prompts checked with
it. Tolerance 1e-5 (float rounding of differently shaped matrix products).

Not part of the fuzz count: each example runs several model calls, so these keep a fixed,
modest number of examples in every profile. tests/test_invariance_builtin.py checks the same on
the shipped models (slow).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fuzz_strategies import has_surrogate, plain_text, short_text
from hypothesis import given, settings
from hypothesis import strategies as st

from crossingguard.guard import Guard
from crossingguard.inference.scorer import load_scorer

ATOL = 1e-5
text = st.one_of(
    plain_text,
    plain_text,
    short_text.filter(lambda t: t.strip() and not has_surrogate(t)),
)
long = st.builds(
    lambda w, n: (w + ". ") * n, plain_text, st.integers(20, 80)
)  # windowed
pairs = st.lists(st.tuples(st.one_of(text, long), plain_text), min_size=1, max_size=8)
few = settings(max_examples=100, deadline=None)


@pytest.fixture(scope="module")
def two_threads(tiny_model_dir: Any) -> Any:
    return load_scorer(tiny_model_dir, backend="onnx", threads=2)


@few
@given(pairs=pairs, batch_size=st.integers(1, 9))
def test_batch_size(
    tiny_scorer: Any, pairs: list[tuple[str, str]], batch_size: int
) -> None:
    np.testing.assert_allclose(
        tiny_scorer.predict(pairs, batch_size=batch_size),
        tiny_scorer.predict(pairs),
        atol=ATOL,
    )


@few
@given(pairs=pairs, data=st.data())
def test_order(
    tiny_scorer: Any, pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    order = data.draw(st.permutations(range(len(pairs))))
    shuffled = tiny_scorer.predict([pairs[i] for i in order])
    np.testing.assert_allclose(shuffled, tiny_scorer.predict(pairs)[order], atol=ATOL)


@few
@given(pairs=pairs, copies=st.lists(st.integers(0, 7), min_size=1, max_size=6))
def test_duplicates(
    tiny_scorer: Any, pairs: list[tuple[str, str]], copies: list[int]
) -> None:
    extra = [pairs[i % len(pairs)] for i in copies]
    together = tiny_scorer.predict(pairs + extra)
    alone = tiny_scorer.predict(pairs)
    np.testing.assert_allclose(together[: len(pairs)], alone, atol=ATOL)
    np.testing.assert_allclose(
        together[len(pairs) :], alone[[i % len(pairs) for i in copies]], atol=ATOL
    )


@few
@given(pairs=pairs)
def test_thread_count(
    tiny_scorer: Any, two_threads: Any, pairs: list[tuple[str, str]]
) -> None:
    np.testing.assert_allclose(
        two_threads.predict(pairs), tiny_scorer.predict(pairs), atol=ATOL
    )


@few
@given(
    prompts=st.lists(st.one_of(text, long), min_size=1, max_size=6),
    conditions=st.lists(plain_text, min_size=1, max_size=3, unique=True),
    data=st.data(),
)
def test_a_verdict_does_not_depend_on_its_neighbours_or_the_cache(
    tiny_scorer: Any, prompts: list[str], conditions: list[str], data: st.DataObject
) -> None:
    cached = Guard(tiny_scorer, conditions=conditions)
    uncached = Guard(tiny_scorer, conditions=conditions, cache_size=0)
    together = cached.check_batch(
        prompts + prompts[:2]
    )  # duplicates, then cache hits below
    order = data.draw(st.permutations(range(len(prompts))))
    shuffled = uncached.check_batch([prompts[i] for i in order])
    for position, i in enumerate(order):
        one = cached.check(prompts[i])
        for a, b, c in zip(
            together[i].results, shuffled[position].results, one.results, strict=True
        ):
            assert abs(a.score - b.score) <= ATOL and abs(a.score - c.score) <= ATOL
            assert a.fired == b.fired == c.fired or abs(a.score - a.threshold) < ATOL
