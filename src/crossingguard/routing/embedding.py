"""Moved to :mod:`crossingguard.guard.routing.embedding` (the embedder is part of the runtime);
importable from here only for ``benchmarks/experiments/banking_adapt`` until it imports the new
home."""

from crossingguard.guard.routing.embedding import load_embedder

__all__ = ["load_embedder"]
