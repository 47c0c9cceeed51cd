from __future__ import annotations

import numpy as np
import pytest

from crossingguard.errors import InputError, ModelError
from crossingguard.labels import LABELS, label_to_id, projection_from_id2label


@pytest.mark.parametrize(
    ("text", "idx"),
    [
        ("entailment", 0), ("ENTAILMENT", 0), ("e", 0), ("supports", 0),
        ("neutral", 1), ("N", 1), ("not_enough_info", 1), ("NOT ENOUGH INFO", 1),
        ("contradiction", 2), ("c", 2), ("REFUTES", 2),
    ],
)  # fmt: skip
def test_label_to_id(text: str, idx: int) -> None:
    assert label_to_id(text) == idx
    assert LABELS[idx] in {"entailment", "neutral", "contradiction"}


def test_label_to_id_rejects_unknown() -> None:
    with pytest.raises(InputError, match="unknown NLI label 'LABEL_0'"):
        label_to_id("LABEL_0")


def test_projection_permutes_any_order_case_insensitive() -> None:
    p = projection_from_id2label(
        {"0": "Contradiction", "1": "ENTAILMENT", "2": "neutral"}
    )
    model_probs = np.array([[0.7, 0.2, 0.1]], dtype=np.float32)  # C, E, N
    np.testing.assert_allclose(model_probs @ p, [[0.2, 0.1, 0.7]])


def test_two_class_sends_not_entailment_to_contradiction() -> None:
    p = projection_from_id2label({0: "entailment", 1: "not_entailment"})
    np.testing.assert_allclose(np.array([[0.3, 0.7]]) @ p, [[0.3, 0.0, 0.7]])


@pytest.mark.parametrize(
    "id2label",
    [
        {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"},
        {0: "entailment", 1: "entailment", 2: "neutral"},
        {0: "positive", 1: "negative"},
        {0: "entailment", 1: "neutral", 2: "contradiction", 3: "other"},
    ],
)
def test_unknown_label_sets_are_errors(id2label: dict[int, str]) -> None:
    with pytest.raises(ModelError, match="cannot read NLI labels"):
        projection_from_id2label(id2label)


def test_missing_id2label_is_an_error() -> None:
    with pytest.raises(ModelError, match="no id2label"):
        projection_from_id2label(None)
