"""Pair caching for the guard: conditions and routes share one scorer and one LRU of pairs.

A pair that occurs twice in one call (two conditions sharing a phrasing, a repeated prompt) is
scored once, and recent pairs are kept across calls. This is only correct because a pair's
probabilities do not depend on the rest of the batch; the scorer guarantees that.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from crossingguard.errors import InputError
from crossingguard.guard.types import PairScorer
from crossingguard.limits import MAX_PAIRS_PER_CALL

Pair = tuple[str, str]
DEFAULT_CACHE_SIZE = 4096


class PairCache:
    """A thread-safe LRU map from (premise, hypothesis) to its E/N/C row; size 0 disables it."""

    def __init__(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InputError(f"cache_size: must be an integer >= 0, got {size!r}")
        self.size = size
        self._data: OrderedDict[Pair, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, pair: Pair) -> np.ndarray | None:
        with self._lock:
            row = self._data.get(pair)
            if row is None:
                self.misses += 1
                return None
            self._data.move_to_end(pair)
            self.hits += 1
            return row

    def put(self, pair: Pair, row: np.ndarray) -> None:
        if not self.size:
            return
        with self._lock:
            self._data[pair] = row
            self._data.move_to_end(pair)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0


class CachedScorer:
    """A :class:`PairScorer` that scores each distinct pair once and reuses cached rows."""

    def __init__(self, scorer: PairScorer, cache: PairCache) -> None:
        self.scorer = scorer
        self.cache = cache

    @property
    def name(self) -> str:
        return self.scorer.name

    def predict(self, pairs: Sequence[Pair], *, batch_size: int = 64) -> np.ndarray:
        """(n, 3) E/N/C rows for ``pairs``, in order; the scorer gets them in calls of at
        most its ``max_pairs`` (``limits.MAX_PAIRS_PER_CALL``), which cannot change a score."""
        out = np.empty((len(pairs), 3), dtype=np.float32)
        todo: dict[Pair, list[int]] = {}
        for i, pair in enumerate(pairs):
            if pair in todo:
                todo[pair].append(i)
                continue
            row = self.cache.get(pair)
            if row is None:
                todo[pair] = [i]
            else:
                out[i] = row
        if todo:
            missing = list(todo)
            step = int(getattr(self.scorer, "max_pairs", MAX_PAIRS_PER_CALL))
            probs = np.concatenate(
                [
                    np.asarray(
                        self.scorer.predict(
                            missing[i : i + step], batch_size=batch_size
                        ),
                        dtype=np.float32,
                    )
                    for i in range(0, len(missing), step)
                ]
            )
            for pair, row in zip(missing, probs, strict=True):
                row = row.copy()
                row.setflags(write=False)
                self.cache.put(pair, row)
                out[todo[pair]] = row
        return out
