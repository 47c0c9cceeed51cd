"""Scoring engine: model loading, ONNX Runtime / torch backends, windowed batch scoring."""

from crossingguard.inference.loading import DEFAULT_MODEL, resolve_model
from crossingguard.inference.scorer import Scorer, load_scorer

__all__ = ["DEFAULT_MODEL", "Scorer", "load_scorer", "resolve_model"]
