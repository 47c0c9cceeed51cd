"""Checks on the shipped models (slow: they load real weights). Tolerances, not exact numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crossingguard.inference.loading import builtin_model_dirs

pytestmark = pytest.mark.slow

CARD_EXAMPLES = [
    (
        "Tell me what happened with that CEO caught on the kiss cam at the Coldplay concert",
        "The prompt requests information about a corporate executive incident at a public event",
    ),
    (
        "I’ve been following your company's work helping enterprises scale AI/ML with reliable data "
        "pipelines, would love to connect and hear how your team is approaching ML in production.",
        "The prompt requests information about a corporate executive incident at a public event",
    ),
]
INSTALLED = builtin_model_dirs()


def _require(name: str):
    if name not in INSTALLED:
        pytest.fail(
            f"built-in model {name} is not installed in src/crossingguard/models"
        )
    return INSTALLED[name]


@pytest.mark.parametrize("name", ["crossingguard-nli-mini", "crossingguard-nli-micro"])
def test_card_examples_give_entailment_then_contradiction(name):
    from crossingguard.inference.scorer import load_scorer

    if name not in INSTALLED and name.endswith("micro"):
        pytest.skip("micro is not shipped yet")
    probs = load_scorer(_require(name)).predict(CARD_EXAMPLES)
    assert probs.argmax(axis=1).tolist() == [0, 2]


@pytest.mark.parametrize("name", ["crossingguard-nli-mini", "crossingguard-nli-micro"])
def test_shipped_layout_loads_in_sentence_transformers_and_agrees_with_onnx(name):
    from sentence_transformers import CrossEncoder

    from crossingguard.inference.scorer import load_scorer

    if name not in INSTALLED and name.endswith("micro"):
        pytest.skip("micro is not shipped yet")
    path = _require(name)
    # config.json says float32: the fp16 weights are upcast on load
    logits = CrossEncoder(str(path)).predict(CARD_EXAMPLES)
    torch_probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    onnx_probs = load_scorer(path, backend="onnx").predict(CARD_EXAMPLES)
    # The default ONNX path is the fp32 graph on the same fp16 master weights as torch.
    assert (
        torch_probs.argmax(axis=1).tolist()
        == onnx_probs.argmax(axis=1).tolist()
        == [0, 2]
    )
    assert np.abs(torch_probs - onnx_probs).max() < 1e-3
    card = (path / "README.md").read_text()
    assert card.startswith("---") and "model-index" in card
    evaluation = json.loads((path / "evaluation.json").read_text())
    assert evaluation["onnx-fp32"], "evaluation.json holds the shipped fp32 figures"
