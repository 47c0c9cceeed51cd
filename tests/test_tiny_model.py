"""The tiny model fixture itself: loads in transformers, CrossEncoder and ONNX Runtime."""

from __future__ import annotations

import json
from pathlib import Path


def test_tiny_model_layout(tiny_model_dir: Path) -> None:
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["id2label"] == {
        "0": "entailment",
        "1": "neutral",
        "2": "contradiction",
    }
    for name in ("model.safetensors", "tokenizer.json", "vocab.txt", "onnx/model.onnx"):
        assert (tiny_model_dir / name).is_file(), name


def test_tiny_model_loads_in_cross_encoder(tiny_model_dir: Path) -> None:
    from sentence_transformers import CrossEncoder

    scores = CrossEncoder(str(tiny_model_dir)).predict([("the cat sat", "a dog")])
    assert scores.shape == (1, 3)
