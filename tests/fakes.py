"""A fake scorer with fixed rules, for guard and CLI tests that need exact outputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class FakeScorer:
    """Entailment when every word of the hypothesis occurs in the premise; else contradiction."""

    name = "fake"
    backend = "fake"

    def __init__(self) -> None:
        self.calls: list[list[tuple[str, str]]] = []

    def predict(
        self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 64
    ) -> np.ndarray:
        self.calls.append(list(pairs))
        out = np.zeros((len(pairs), 3), dtype=np.float32)
        for i, (premise, hypothesis) in enumerate(pairs):
            words = set(premise.lower().split())
            hits = sum(w in words for w in hypothesis.lower().split())
            frac = hits / max(1, len(hypothesis.split()))
            out[i] = (
                [0.9, 0.05, 0.05] if frac == 1 else [0.1 * frac, 0.2, 0.8 - 0.1 * frac]
            )
        return out
