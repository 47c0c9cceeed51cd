"""Per-row label sets: full 3-way labels and the partial ones of two-way NLI data.

A training row carries one integer *label code*. Codes 0, 1, 2 are the project's full labels
(entailment, neutral, contradiction); code 3, ``NOT_ENTAILED``, is the set {neutral,
contradiction}: what a two-way row (RTE, SciTail, Curriculum's ``not-entailed``) or an
entailment/neutral-only row whose "neutral" means "not entailed" (Curriculum's
``monotonicity_infer``) actually tells us. It must never be read as contradiction: the
marginal-likelihood loss (:class:`crossingguard.toolkit.training.losses.PartialLabelLoss`) maximises
``log(P(neutral) + P(contradiction))`` for it, which for a full label is plain cross-entropy.

Codes (rather than a 3-bit mask per row) keep the label column a single integer, so the
sentence-transformers collator, the exported mix files and the teacher-logit packing carry it as
they carry a full label.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crossingguard.errors import InputError

ENTAILMENT, NEUTRAL, CONTRADICTION, NOT_ENTAILED = 0, 1, 2, 3
LABEL_SETS: tuple[tuple[int, ...], ...] = ((0,), (1,), (2,), (1, 2))
LABEL_SET_NAMES: tuple[str, ...] = (
    "entailment",
    "neutral",
    "contradiction",
    "not-entailed",
)
N_CODES = len(LABEL_SETS)

# Two-way label spellings in the data (`entailed` / `not-entailed` in Curriculum, `entailment` /
# `not_entailment` in GLUE RTE and SciTail), after lower-casing and '-'/' ' -> '_'.
_TWO_WAY_ENTAILED = frozenset({"entailed"})
_TWO_WAY_NOT_ENTAILED = frozenset(
    {"not_entailed", "not_entailment", "non_entailment", "non_entailed", "not_entails"}
)


def _norm(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")


def two_way_code(label: object) -> int | None:
    """The code of a two-way label name (``entailed`` -> 0, ``not-entailed`` -> 3), else None."""
    if not isinstance(label, str):
        return None
    key = _norm(label)
    if key in _TWO_WAY_ENTAILED:
        return ENTAILMENT
    if key in _TWO_WAY_NOT_ENTAILED:
        return NOT_ENTAILED
    return None


def label_set_name(code: int) -> str:
    if not 0 <= int(code) < N_CODES:
        raise InputError(
            f"label code must be 0..{N_CODES - 1} ({', '.join(LABEL_SET_NAMES)}), got {code!r}"
        )
    return LABEL_SET_NAMES[int(code)]


def label_set_masks(codes: Sequence[int] | np.ndarray) -> np.ndarray:
    """``(n, 3)`` 0/1 matrix: row i marks the project labels that code i allows."""
    y = np.asarray(codes)
    if y.ndim != 1 or (
        y.size
        and (
            not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= N_CODES
        )
    ):
        raise InputError(
            f"label codes must be integers 0..{N_CODES - 1} ({', '.join(LABEL_SET_NAMES)}), got {y[:5]!r}"
        )
    table = np.zeros((N_CODES, 3), dtype=np.float32)
    for code, members in enumerate(LABEL_SETS):
        table[code, list(members)] = 1.0
    return table[y]


def is_partial(codes: Sequence[int] | np.ndarray) -> np.ndarray:
    """True where a row's label set has more than one member."""
    return np.asarray(codes) >= 3
