"""Generated inputs for the policy loader: random YAML/JSON trees, valid policies with one value
replaced by a wrong one at any path, and raw text and bytes. ``load_policy`` either returns a
policy whose thresholds are probabilities or raises :class:`PolicyError`; nothing else escapes.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fuzz_strategies import (
    dump_json,
    dump_yaml,
    is_probability,
    json_tree,
    leaf,
    nasty_text,
    plain_text,
)
from fuzzcount import record, share
from hypothesis import given
from hypothesis import strategies as st

from crossingguard.errors import PolicyError
from crossingguard.policy import Policy, load_policy, policy_from_dict

pytestmark = pytest.mark.fuzz

ident = st.one_of(st.sampled_from(["weapons", "refund", "billing", "tech"]), nasty_text)
plain_id = st.sampled_from(["weapons", "refund", "billing", "tech", "hate", "cake"])
threshold = st.one_of(
    st.floats(0, 1), st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 2)
)
condition = st.fixed_dictionaries(
    {"id": ident, "hypotheses": st.lists(plain_text, min_size=1, max_size=3)},
    optional={
        "threshold": threshold,
        "thresholds": st.dictionaries(
            st.sampled_from(["model", " m", ""]), threshold, max_size=2
        ),
        "action": st.sampled_from(["block", "flag", "log", "allow"]),
        "severity": st.sampled_from(["low", "medium", "high", "critical", "extreme"]),
        "aggregation": st.sampled_from(["max", "mean", "min", "sum"]),
        "fire_on": st.sampled_from(["entailment", "contradiction", "neutral"]),
        "template": st.sampled_from(
            ["{}", "The prompt asks for {}", "no placeholder", "{} {}"]
        ),
        "categories": st.lists(plain_text, max_size=2),
        "description": nasty_text,
    },
)
route = st.fixed_dictionaries(
    {"id": ident, "hypotheses": st.lists(plain_text, min_size=1, max_size=2)},
    optional={"threshold": threshold, "examples": st.lists(plain_text, max_size=2)},
)
policy_dict = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1, 1, 2, "1"])},
    optional={
        "name": nasty_text,
        "description": nasty_text,
        "model": st.one_of(st.none(), plain_text),
        "packs": st.lists(
            st.sampled_from(["moderation", "prompt-injection", "nope"]), max_size=2
        ),
        "defaults": st.fixed_dictionaries(
            {},
            optional={"threshold": threshold, "template": st.sampled_from(["{}", "x"])},
        ),
        "conditions": st.lists(condition, max_size=4),
        "routes": st.lists(route, max_size=3),
        "routing": st.fixed_dictionaries(
            {},
            optional={
                "strategy": st.sampled_from(["nli", "embedding", "hybrid", "magic"]),
                "fallback": ident,
                "threshold": threshold,
            },
        ),
    },
)


# Valid policies: the baseline the mutation test breaks in one place, and half the policy-shaped
# inputs (so loading succeeds often, and what loads is checked).
valid_policy = st.fixed_dictionaries(
    {
        "version": st.just(1),
        "conditions": st.lists(
            st.fixed_dictionaries(
                {
                    "id": plain_id,
                    "hypotheses": st.lists(plain_text, min_size=1, max_size=3),
                },
                optional={
                    "threshold": st.floats(0, 1),
                    "thresholds": st.dictionaries(
                        st.sampled_from(["crossingguard-nli-mini", "m"]),
                        st.floats(0, 1),
                        max_size=2,
                    ),
                    "action": st.sampled_from(["block", "flag", "log"]),
                    "severity": st.sampled_from(["low", "medium", "high", "critical"]),
                    "aggregation": st.sampled_from(["max", "mean", "min"]),
                    "fire_on": st.sampled_from(["entailment", "contradiction"]),
                    "template": st.sampled_from(["{}", "The prompt asks for {}"]),
                    "categories": st.lists(plain_text, max_size=2),
                    "description": plain_text,
                },
            ),
            min_size=1,
            max_size=4,
            unique_by=lambda c: c["id"],
        ),
    },
    optional={
        "name": plain_text,
        "description": plain_text,
        "packs": st.lists(st.sampled_from(["prompt-injection"]), max_size=1),
        "defaults": st.fixed_dictionaries(
            {}, optional={"threshold": st.floats(0, 1), "template": st.just("{}")}
        ),
        "routes": st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.sampled_from(["billing", "tech"]),
                    "hypotheses": st.lists(plain_text, min_size=1, max_size=2),
                }
            ),
            max_size=2,
            unique_by=lambda r: r["id"],
        ),
    },
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    out = copy.copy(value)
    out[path[0]] = _replace(value[path[0]], path[1:], new)
    return out


def check_loaded(policy: Policy) -> None:
    assert is_probability(policy.defaults.threshold)
    for cond in policy.conditions:
        assert cond.threshold is None or is_probability(cond.threshold)
        assert all(is_probability(t) for t in cond.thresholds.values())
        assert cond.hypotheses and all(h.strip() for h in cond.hypotheses)
    ids = [c.id for c in policy.conditions]
    assert len(ids) == len(set(ids))
    assert policy.identity  # hashes every string: must not fail on any text that loaded


def load_text(text: str | bytes, suffix: str) -> str:
    """Load ``text`` as a policy file; ``"loaded"`` or ``"PolicyError"``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"policy{suffix}"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            assert str(exc).startswith(str(path)), exc
            return "PolicyError"
        check_loaded(policy)
        return "loaded"


@share(4)
@given(
    data=st.one_of(valid_policy, policy_dict),
    suffix=st.sampled_from([".yaml", ".json"]),
)
def test_generated_policies_load_or_say_why(data: dict[str, Any], suffix: str) -> None:
    outcome = load_text(
        dump_json(data) if suffix == ".json" else dump_yaml(data), suffix
    )
    record("policy loader", f"policy-shaped {outcome}")


@share(4)
@given(data=valid_policy, pick=st.data(), new=st.one_of(leaf, json_tree))
def test_a_wrong_value_at_any_path_is_a_policy_error(
    data: dict[str, Any], pick: st.DataObject, new: Any
) -> None:
    path = pick.draw(st.sampled_from(_paths(data)))
    bad = _replace(data, path, new)
    try:
        policy = policy_from_dict(bad, source="generated")
    except PolicyError as exc:
        record("policy loader", "one value replaced PolicyError")
        assert str(exc).startswith("generated")
        return
    record("policy loader", "one value replaced loaded")
    check_loaded(policy)


@share(4)
@given(tree=json_tree, suffix=st.sampled_from([".yaml", ".json"]))
def test_random_trees_are_policy_errors(tree: Any, suffix: str) -> None:
    outcome = load_text(
        dump_json(tree) if suffix == ".json" else dump_yaml(tree), suffix
    )
    record("policy loader", f"random tree {outcome}")


yaml_piece = st.sampled_from(
    [
        "version: 1\n", "conditions:\n", "  - id: a\n", "    hypotheses: [x]\n", "- ", "&a ",
        "*a", "*b", "[", "]", "{", "}", ": ", ",", "\n", "  ", "'", '"', "? ", "!!python/object:os.system ",
        "!!binary ", "!!set ", "|\n", ">\n", "---\n", "...\n", "%YAML 1.2\n", "\t", "#", "1e999",
        ".nan", "-.inf", "9" * 50, "\ud800", "\x00", "\ufeff", "<<: *a\n",
    ]
)  # fmt: skip


@share(4)
@given(
    text=st.one_of(
        st.lists(yaml_piece, max_size=40).map("".join),
        st.text(max_size=200),
        st.binary(max_size=200),
    ),
    suffix=st.sampled_from([".yaml", ".yml", ".json"]),
)
def test_raw_text_is_a_policy_or_a_policy_error(text: str | bytes, suffix: str) -> None:
    record("policy loader", f"raw text {load_text(text, suffix)}")
