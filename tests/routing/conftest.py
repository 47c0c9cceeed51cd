"""Routing fixtures: a tiny exported ONNX embedder and the shared routing data."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossingguard.errors import DataError
from crossingguard.toolkit.data.paths import data_root


@pytest.fixture(scope="session")
def tiny_embedder_dir(
    tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The tiny random BERT exported as an embedder directory (ONNX, mean pooling)."""
    pytest.importorskip("torch")
    from crossingguard.guard.routing.embedding import export_embedder

    return export_embedder(
        tiny_model_dir, tmp_path_factory.mktemp("emb") / "tiny-embedder"
    )


@pytest.fixture(scope="session")
def routing_data() -> Path:
    try:
        root = data_root()
    except DataError:
        pytest.skip("shared data folder not available")
    if not (root / "routing" / "banking77" / "test.csv").is_file():
        pytest.skip("routing data not available")
    return root
