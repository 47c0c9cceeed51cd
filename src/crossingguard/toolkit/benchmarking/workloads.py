"""The workloads every system scores: the same prompts, hypotheses and labels for all of them.

A workload is a list of prompts, each paired either with its own hypothesis (NLI dev pairs) or
with one shared list of hypotheses (a guard pack's phrasings, routing descriptions). ``mode``
says how it is timed: ``throughput`` scores it in chunks as fast as possible, ``calls`` sends one
prompt per call and records each call's latency (the server's case).

Everything comes from ``../shared/data`` (or ``$CROSSINGGUARD_DATA``): MNLI dev-matched for the
labelled pairs, real guard prompts (wildguardmix: chat prompts of real lengths, some of them
paragraphs), BANKING77 test utterances for routing. Samples are seeded and deterministic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from crossingguard.errors import DataError

Mode = Literal["throughput", "calls"]
Pair = tuple[str, str]

GUARD_DATASET = "wildguardmix_sample"
NLI_DATASET = "mnli-dev-matched"
ROUTING_DATASET = "banking77"


@dataclass(frozen=True)
class Workload:
    """Prompts with either one hypothesis each (``pair_hypotheses``) or a shared list."""

    name: str
    title: str
    mode: Mode
    prompts: tuple[str, ...]
    hypotheses: tuple[str, ...] = ()
    pair_hypotheses: tuple[str, ...] = ()
    labels: np.ndarray | None = field(
        default=None, compare=False
    )  # gold NLI labels (E/N/C ids)
    gold_routes: tuple[int, ...] = ()  # index into ``hypotheses`` per prompt (routing)

    def __post_init__(self) -> None:
        if bool(self.hypotheses) == bool(self.pair_hypotheses):
            raise ValueError(
                f"{self.name}: give either shared hypotheses or one per prompt"
            )
        if self.pair_hypotheses and len(self.pair_hypotheses) != len(self.prompts):
            raise ValueError(f"{self.name}: one hypothesis per prompt expected")

    @property
    def shared(self) -> bool:
        return bool(self.hypotheses)

    @property
    def pairs_per_prompt(self) -> int:
        return len(self.hypotheses) if self.shared else 1

    def pairs(self, start: int = 0, stop: int | None = None) -> list[Pair]:
        """The (premise, hypothesis) pairs of prompts ``start:stop``, prompt-major."""
        prompts = self.prompts[start:stop]
        if self.shared:
            return [(p, h) for p in prompts for h in self.hypotheses]
        return list(zip(prompts, self.pair_hypotheses[start:stop], strict=True))

    def __len__(self) -> int:
        return len(self.prompts)


def _rank(seed: int, text: str) -> bytes:
    return hashlib.sha1(f"{seed}:{text}".encode()).digest()


def nli_workload(n: int) -> Workload:
    """The first ``n`` labelled MNLI dev-matched pairs (the card's throughput case)."""
    from crossingguard.toolkit.data.nli import load_nli

    data = load_nli(NLI_DATASET, limit=n)
    return Workload(
        "nli",
        f"NLI pairs ({NLI_DATASET}, labelled)",
        "throughput",
        tuple(data.premises),
        pair_hypotheses=tuple(data.hypotheses),
        labels=data.labels,
    )


def guard_prompts(*, seed: int = 0) -> list[str]:
    """Every distinct guard prompt of the sample set, in a seeded order."""
    from crossingguard.toolkit.evaluation.guard_datasets import load_examples

    texts = [ex.text for ex in load_examples(GUARD_DATASET)]
    if not texts:
        raise DataError(f"{GUARD_DATASET}: no prompts read")
    return sorted(texts, key=lambda t: _rank(seed, t))


def _pack_workload(
    name: str, title: str, mode: Mode, prompts: Sequence[str], hypotheses: Sequence[str]
) -> Workload:
    """Every prompt against every hypothesis of a pack."""
    return Workload(name, title, mode, tuple(prompts), hypotheses=tuple(hypotheses))


def guard_workload(n: int, hypotheses: Sequence[str], *, seed: int = 0) -> Workload:
    """``n`` real prompts (seeded sample, real lengths) x every hypothesis of a pack."""
    title = f"guard: {GUARD_DATASET} prompts x {len(hypotheses)} pack hypotheses"
    return _pack_workload(
        "guard", title, "throughput", guard_prompts(seed=seed)[:n], hypotheses
    )


def long_guard_workload(
    n: int,
    hypotheses: Sequence[str],
    *,
    count_tokens: Callable[[str], int],
    min_tokens: int,
    seed: int = 0,
) -> Workload:
    """``n`` prompts of at least ``min_tokens`` tokens (paragraphs of chat text) x the pack."""
    long = [p for p in guard_prompts(seed=seed) if count_tokens(p) >= min_tokens][:n]
    if not long:
        raise DataError(f"{GUARD_DATASET}: no prompt has {min_tokens} tokens or more")
    title = f"guard, long prompts (>= {min_tokens} tokens) x {len(hypotheses)} pack hypotheses"
    return _pack_workload("guard-long", title, "throughput", long, hypotheses)


def latency_workload(n: int, hypotheses: Sequence[str], *, seed: int = 1) -> Workload:
    """``n`` single-prompt calls with real prompts (another seeded order than ``guard``)."""
    title = f"latency: 1 prompt x {len(hypotheses)} hypotheses per call"
    return _pack_workload(
        "latency", title, "calls", guard_prompts(seed=seed)[:n], hypotheses
    )


def routing_workload(n: int, *, seed: int = 0) -> Workload:
    """``n`` BANKING77 test utterances, each against all 77 reviewed route descriptions."""
    from crossingguard.toolkit.routing.intents import (
        describe,
        intent_names,
        load_intents,
    )

    intents = intent_names(ROUTING_DATASET)
    rows = sorted(
        load_intents(ROUTING_DATASET, "test"), key=lambda u: _rank(seed, u.text)
    )[:n]
    return Workload(
        "routing",
        f"routing: 1 prompt x {len(intents)} {ROUTING_DATASET} route descriptions per call",
        "calls",
        tuple(u.text for u in rows),
        hypotheses=tuple(describe(ROUTING_DATASET, i) for i in intents),
        gold_routes=tuple(intents.index(u.intent) for u in rows),
    )
