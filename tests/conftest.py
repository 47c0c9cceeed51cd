"""Shared fixtures: a tiny random NLI model on disk (HF layout plus ONNX export)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tiny_model import build_tiny_nli_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer BERT NLI model (E/N/C id2label) with ``onnx/model.onnx``; do not modify."""
    return build_tiny_nli_model(tmp_path_factory.mktemp("tiny-nli") / "model")


@pytest.fixture(scope="session")
def tiny_model_factory(tmp_path_factory: pytest.TempPathFactory):
    """Build variants (other id2label, permuted head, no ONNX) into fresh session temp dirs."""

    def make(name: str, **kwargs: object) -> Path:
        return build_tiny_nli_model(tmp_path_factory.mktemp(name) / "model", **kwargs)  # type: ignore[arg-type]

    return make
