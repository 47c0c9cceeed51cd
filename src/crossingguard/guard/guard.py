"""The guard: score a prompt against conditions and decide which fired."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from crossingguard.errors import InputError
from crossingguard.guard.types import (
    DEFAULT_THRESHOLD,
    Condition,
    ConditionResult,
    Verdict,
    check_threshold,
)
from crossingguard.inference.backends import BackendName
from crossingguard.labels import LABELS, label_to_id


class PairScorer(Protocol):
    """What the guard needs from a scorer (the real one, or a fake in tests)."""

    name: str

    def predict(
        self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 64
    ) -> np.ndarray: ...


ConditionLike = str | Condition


class Guard:
    """Checks prompts against conditions with one NLI scorer.

    Each (prompt, condition) pair is scored on its own, so adding a condition never changes
    another condition's score. Policies, packs, routing and calibration will build on this.
    """

    def __init__(
        self,
        scorer: PairScorer,
        *,
        conditions: Sequence[ConditionLike] = (),
        threshold: float = DEFAULT_THRESHOLD,
        batch_size: int = 64,
    ) -> None:
        self.scorer = scorer
        self.threshold = check_threshold(threshold, "threshold")
        self.batch_size = batch_size
        self.conditions = _as_conditions(conditions)

    @classmethod
    def from_model(
        cls,
        name_or_path: str | Path | None = None,
        *,
        conditions: Sequence[ConditionLike] = (),
        threshold: float = DEFAULT_THRESHOLD,
        backend: BackendName = "auto",
        threads: int | None = None,
    ) -> Guard:
        """A guard on a built-in model name, model directory or hub id (``None``: default)."""
        from crossingguard.inference.scorer import load_scorer

        scorer = load_scorer(name_or_path, backend=backend, threads=threads)
        return cls(scorer, conditions=conditions, threshold=threshold)

    def check(
        self,
        prompt: str,
        *,
        conditions: Sequence[ConditionLike] | None = None,
        threshold: float | None = None,
    ) -> Verdict:
        """Score ``prompt`` against ``conditions`` (default: the guard's own)."""
        return self.check_batch([prompt], conditions=conditions, threshold=threshold)[0]

    def check_batch(
        self,
        prompts: Sequence[str],
        *,
        conditions: Sequence[ConditionLike] | None = None,
        threshold: float | None = None,
    ) -> list[Verdict]:
        """One :class:`Verdict` per prompt, scoring all pairs in one batched call."""
        conds = self.conditions if conditions is None else _as_conditions(conditions)
        if not conds:
            raise InputError("conditions: give at least one condition to check")
        default = (
            self.threshold
            if threshold is None
            else check_threshold(threshold, "threshold")
        )
        if isinstance(prompts, str):
            raise InputError("prompts: expected a list of prompts, got a single string")
        for i, prompt in enumerate(prompts):
            if not isinstance(prompt, str) or not prompt.strip():
                raise InputError(
                    f"prompts -> {i}: prompt must be a non-empty string, got {prompt!r:.80}"
                )
        pairs = [(p, c.text) for p in prompts for c in conds]
        probs = (
            self.scorer.predict(pairs, batch_size=self.batch_size)
            if pairs
            else np.zeros((0, 3))
        )
        probs = probs.reshape(len(prompts), len(conds), 3)
        return [
            Verdict(
                tuple(_result(c, row, default) for c, row in zip(conds, rows)),
                model=self.scorer.name,
            )
            for rows in probs
        ]


def _as_conditions(conditions: Sequence[ConditionLike]) -> tuple[Condition, ...]:
    if isinstance(conditions, (str, Condition)):
        conditions = [conditions]
    out = []
    for i, c in enumerate(conditions):
        cond = Condition(c) if isinstance(c, str) else c
        if not isinstance(cond, Condition):
            raise InputError(
                f"conditions -> {i}: expected a string or Condition, got {c!r:.80}"
            )
        out.append(cond.validate(f"conditions -> {i}"))
    return tuple(out)


def _result(cond: Condition, probs: np.ndarray, default: float) -> ConditionResult:
    threshold = default if cond.threshold is None else cond.threshold
    label = LABELS[int(np.argmax(probs))]
    return ConditionResult(
        condition=cond.text,
        name=cond.name,
        label=label,
        entailment=float(probs[0]),
        neutral=float(probs[1]),
        contradiction=float(probs[2]),
        threshold=threshold,
        fire_on=cond.fire_on,
        fired=bool(probs[label_to_id(cond.fire_on)] >= threshold),
    )
