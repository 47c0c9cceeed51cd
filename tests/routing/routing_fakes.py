"""A fake bag-of-words embedder for router tests."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np


class FakeEmbedder:
    """Unit-length bag-of-words vectors: cosine = word overlap, so tests can predict rankings."""

    name = "fake-embedder"

    def __init__(self, vocab: Sequence[str] = ()) -> None:
        self.vocab: dict[str, int] = {w: i for i, w in enumerate(vocab)}
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        self.calls.append(list(texts))
        rows = []
        for t in texts:
            v = np.zeros(64, dtype=np.float32)
            for w in re.findall(r"\w+", t.lower()):
                v[self.vocab.setdefault(w, len(self.vocab)) % 64] += 1.0
            n = np.linalg.norm(v)
            rows.append(v / n if n else v)
        return np.stack(rows)
