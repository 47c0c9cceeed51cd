"""Hypothesis strategies for untrusted text and the files people edit by hand.

``nasty_text`` mixes what real inputs hold with what breaks tokenizers and encoders: empty and
whitespace-only strings, control characters, NUL, lone surrogates (what invalid UTF-8 in argv or a
``\\ud800`` JSON escape becomes), mixed scripts, emoji with zero-width joiners, bidi overrides,
special-token strings (``[SEP]``, ``</s>``) and long runs that need windowing.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml
from hypothesis import strategies as st

# Words the tiny test model knows, so generated prompts also tokenize into real word pieces.
WORDS = [
    "the", "cat", "sat", "on", "mat", "how", "do", "i", "make", "a", "bomb", "cake",
    "recipe", "prompt", "asks", "about", "weapon", "violence", "hello", "world", "bank",
    "money", "is", "not", "tell", "me", "what", "happened", "please", "help",
]  # fmt: skip

ODD = [
    "", " ", "\t", "\n", "\r\n", "\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\u00a0",
    "\u2028", "\u2029", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u202d",
    "\ufffd", "\ufffe", "\U0010ffff", "e\u0301", "\u0627\u0644\u0633\u0644\u0627\u0645",
    "\u043f\u0440\u0438\u0432\u0435\u0442", "\u6f22\u5b57", "\u0928\u092e\u0938\u094d\u0924\u0947",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467", "\U0001f3f3\ufe0f\u200d\U0001f308",
    "\U0001f600" * 3, "[SEP]", "[CLS]", "[PAD]", "[UNK]", "[MASK]", "</s>", "<s>", "<pad>",
    "{}", "{0}", "%s", "\\", "'", '"', "`rm -rf /`", "${HOME}", "\ud800", "\udfff",
    "\udcff", "\udc80", "a\ud83dz",
]  # fmt: skip

SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)

atom = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(ODD),
    st.text(max_size=8),
    SURROGATE,
    st.characters(),
)

short_text = st.one_of(
    st.lists(atom, max_size=25).map(" ".join),
    st.lists(atom, max_size=25).map("".join),
    st.text(max_size=80),
    st.sampled_from(ODD),
)
# long prompts: windowed, or over the 10,000-character limit
long_text = st.builds(
    lambda w, n: (w + " ") * n, st.sampled_from(WORDS), st.integers(50, 3_000)
)
nasty_text = st.one_of(short_text, long_text)

# A text most entry points accept (tokens the tiny model knows), for the parts of an input that
# are not under test in that example.
plain_text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)

json_tree = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(nasty_text, st.sampled_from(WORDS)), children, max_size=4
        ),
    ),
    max_leaves=20,
)


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def dump_json(value: Any) -> str:
    """JSON text for any generated value (lone surrogates become ``\\udxxx`` escapes)."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True)


def dump_yaml(value: Any) -> str:
    """YAML text for a generated value; values YAML cannot represent fall back to JSON (which is
    also YAML)."""
    try:
        return yaml.safe_dump(value, allow_unicode=False, sort_keys=False)
    except yaml.YAMLError:
        return dump_json(value)


def is_probability(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and not math.isnan(value)
        and 0.0 <= value <= 1.0
    )
