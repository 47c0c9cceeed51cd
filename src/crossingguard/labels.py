"""NLI label names and the mapping from a model's own label order to ours.

CrossingGuard always reports probabilities in the model card's order: entailment (0), neutral (1),
contradiction (2). Models store their own order in ``config.json`` ``id2label``; we read it and
never guess. Two-class models (``entailment`` / ``not_entailment``) are supported: the
``not_entailment`` probability goes entirely to contradiction. That matches the card's semantics,
where a condition that is not established by the prompt is scored as contradicted (an unrelated
prompt comes out CONTRADICTION), and it keeps the argmax label equal to the two-class decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from crossingguard.errors import InputError, ModelError

LABELS: tuple[str, str, str] = ("entailment", "neutral", "contradiction")
ENTAILMENT, NEUTRAL, CONTRADICTION = 0, 1, 2

_ALIASES: dict[str, int] = {
    "entailment": ENTAILMENT,
    "entail": ENTAILMENT,
    "entails": ENTAILMENT,
    "e": ENTAILMENT,
    "supports": ENTAILMENT,
    "neutral": NEUTRAL,
    "n": NEUTRAL,
    "not_enough_info": NEUTRAL,
    "contradiction": CONTRADICTION,
    "contradict": CONTRADICTION,
    "contradicts": CONTRADICTION,
    "c": CONTRADICTION,
    "refutes": CONTRADICTION,
}
_NOT_ENTAILMENT = {"not_entailment", "non_entailment", "not_entailed", "non_entailed"}


def _norm(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")


def label_to_id(text: str) -> int:
    """Map a label name to its id in card order: entailment 0, neutral 1, contradiction 2.

    Case-insensitive; accepts short forms (``e``/``n``/``c``) and FEVER names (``supports``,
    ``not_enough_info``, ``refutes``). Raises :class:`InputError` for anything else.
    """
    if not isinstance(text, str):
        raise InputError(f"label must be a string, got {type(text).__name__}: {text!r}")
    key = _norm(text)
    if key not in _ALIASES:
        raise InputError(
            f"unknown NLI label {text!r}: expected one of entailment, neutral, contradiction "
            "(or e/n/c, supports/not_enough_info/refutes)"
        )
    return _ALIASES[key]


def id_to_label(idx: int) -> str:
    """The label name for an id in card order."""
    if idx not in (0, 1, 2):
        raise InputError(f"label id must be 0, 1 or 2, got {idx!r}")
    return LABELS[idx]


def projection_from_id2label(id2label: Mapping[int | str, str] | None) -> np.ndarray:
    """Return a (num_model_labels, 3) matrix ``P`` with ``probs_enc = probs_model @ P``.

    For a 3-class model ``P`` is a permutation matrix; for an entailment/not_entailment model it
    sends not_entailment to contradiction (see the module docstring). Anything else, including
    placeholder names like ``LABEL_0``, is a :class:`ModelError`.
    """
    if not id2label:
        raise ModelError(
            "model config.json has no id2label, so its label order is unknown: add "
            '"id2label": {"0": "entailment", "1": "neutral", "2": "contradiction"} '
            "(in the model's real order) to config.json"
        )
    if not isinstance(id2label, Mapping):
        raise ModelError(
            f"config.json id2label must be an object mapping ids to label names, got "
            f"{type(id2label).__name__} {id2label!r:.80}; write e.g. "
            '"id2label": {"0": "entailment", "1": "neutral", "2": "contradiction"}'
        )
    try:
        items = sorted((int(k), str(v)) for k, v in id2label.items())
    except (TypeError, ValueError) as exc:
        raise ModelError(
            f"config.json id2label keys must be integers, got {dict(id2label)!r}"
        ) from exc
    if [k for k, _ in items] != list(range(len(items))):
        raise ModelError(
            f"config.json id2label keys must be 0..n-1, got {[k for k, _ in items]}"
        )

    names = [_norm(v) for _, v in items]
    matrix = np.zeros((len(items), 3), dtype=np.float32)
    if len(items) == 2 and set(names) & _NOT_ENTAILMENT and "entailment" in names:
        for row, name in enumerate(names):
            matrix[row, ENTAILMENT if name == "entailment" else CONTRADICTION] = 1.0
        return matrix

    ids = [_ALIASES.get(name) for name in names]
    if len(items) != 3 or sorted(i for i in ids if i is not None) != [0, 1, 2]:
        raise ModelError(
            f"cannot read NLI labels from config.json id2label {dict(items)!r}: expected the three "
            "labels entailment, neutral, contradiction in any order (or entailment and "
            "not_entailment); fix id2label in the model's config.json"
        )
    for row, idx in enumerate(ids):
        matrix[row, idx] = 1.0  # type: ignore[index]
    return matrix


def head_columns(
    id2label: Mapping[Any, str] | None, *, where: str = "model"
) -> list[int]:
    """``cols[k]``: the model output column holding label ``k`` in card order.

    So ``logits[:, cols]`` are raw logits in card order (entailment, neutral, contradiction), for
    consumers that need logits rather than probabilities (distillation). Read from the same
    mapping as :func:`projection_from_id2label`; only a 3-label head can be reordered this way.
    """
    try:
        matrix = projection_from_id2label(id2label)
    except ModelError as exc:
        raise ModelError(f"{where}: cannot read the label order: {exc}") from exc
    if matrix.shape != (3, 3):
        raise ModelError(
            f"{where}: raw logits need a 3-label head (entailment, neutral, contradiction), got "
            f"id2label={dict(id2label or {})!r}"
        )
    return [int(matrix[:, k].argmax()) for k in range(3)]
