"""Moved to :mod:`crossingguard.guard.routing`; these names stay importable from here only for the
offline routing modules (``evaluation``, ``intent_pairs``) until they import the new home."""

from crossingguard.guard.routing.embedding import TextEmbedder
from crossingguard.guard.routing.strategies import (
    DEFAULT_THRESHOLDS,
    DEFAULT_TOP_K,
    DEFAULT_WEIGHT,
    Route,
    Scores,
    build_strategy,
    combine,
)
from crossingguard.guard.types import PairScorer

__all__ = [
    "DEFAULT_THRESHOLDS",
    "DEFAULT_TOP_K",
    "DEFAULT_WEIGHT",
    "PairScorer",
    "Route",
    "Scores",
    "TextEmbedder",
    "build_strategy",
    "combine",
]
