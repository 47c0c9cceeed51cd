"""Intent NLI pairs: (utterance, "The user wants to <intent>.", label) from routing train splits.

Premise = the utterance; hypothesis = an intent description from the reviewed table in
:mod:`crossingguard.routing.intents`, in one of its phrasings (:data:`~.intents.PHRASINGS`).
Labels: 0 entailment, 1 neutral, 2 contradiction. Same JSONL fields as the guard pairs:
``premise, hypothesis, label, source, category`` (category = the utterance's intent).

Labeling convention, per utterance
----------------------------------
* its own intent's description                                 -> entailment
* a *hard negative*: one of the ``HARD_NEGATIVE_POOL`` intents whose descriptions the bi-encoder
  puts nearest to the utterance (what the hybrid router's shortlist confuses, e.g.
  ``iot_hue_lighton`` vs ``iot_hue_lightup``), and a second one with probability
  ``SECOND_HARD_NEGATIVE_RATE``                                 -> contradiction
  (without an embedder: another intent of the same domain, the HWU64 scenario; SNIPS is one domain)
* with probability ``FAR_CONTRADICTION_RATE``, an intent of another domain -> contradiction
  (the card's convention: an unrelated condition is contradicted, so a router can reject it)
* with probability ``NEUTRAL_RATE``, a claim the utterance leaves open -> neutral: its own intent
  with a motive or beneficiary it does not state ("... for someone else."), or a claim about the
  user's situation ("The user is in a hurry."). Each carries blocker words; an utterance that
  contains one might settle the claim and is skipped for it.
Intents whose utterances overlap in meaning (:data:`CONFUSABLE`, e.g. ``general_explain`` and
``general_repeat``) are never each other's contradiction.

Split and held-out sets
-----------------------
Pairs come from the *train* splits of :data:`TRAIN_SETS` (HWU64, SNIPS); the dev file from the
same intents' held-out utterances (HWU64 test, SNIPS valid). BANKING77, MASSIVE and sebis build no
pairs: BANKING77 is the zero-shot routing evaluation (its intents never appear in training), and
MASSIVE reuses HWU64 utterances, so it must not be evaluated at all after training on these pairs.
Utterances are deduplicated by normalised text; train utterances that also occur in any
evaluation split (HWU64 test, SNIPS valid/test, BANKING77 test, sebis) are dropped.
Deterministic for a seed: each utterance's choices use a generator seeded with (seed, text).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossingguard.routing.evaluation import normalise
from crossingguard.routing.intents import (
    PHRASINGS,
    Utterance,
    describe,
    domain,
    load_intents,
)
from crossingguard.routing.router import TextEmbedder

TRAIN_SETS: tuple[tuple[str, str], ...] = (("hwu64", "train"), ("snips", "train"))
DEV_SETS: tuple[tuple[str, str], ...] = (("hwu64", "test"), ("snips", "valid"))
EVAL_SETS: tuple[tuple[str, str], ...] = (
    ("hwu64", "test"),
    ("snips", "valid"),
    ("snips", "test"),
    ("banking77", "test"),
    ("sebis", "train"),
    ("sebis", "test"),
)
FAR_CONTRADICTION_RATE = 0.3
HARD_NEGATIVE_POOL = 4  # embedding neighbours a hard negative is drawn from
SECOND_HARD_NEGATIVE_RATE = 0.5
NEUTRAL_RATE = 0.4
DEFAULT_MAX_PER_INTENT = 300  # SNIPS has ~1,900 near-identical utterances per intent

CONFUSABLE: frozenset[frozenset[str]] = frozenset(
    frozenset(p)
    for p in (
        ("general_explain", "general_repeat"),
        ("general_affirm", "general_confirm"),
        ("general_quirky", "general_joke"),
        ("general_quirky", "general_praise"),
        ("general_dontcare", "general_affirm"),
        ("iot_hue_lightup", "iot_hue_lighton"),
        ("iot_hue_lightup", "iot_hue_lightchange"),
        ("iot_hue_lightdim", "iot_hue_lightchange"),
        ("takeaway_query", "takeaway_order"),
        ("transport_query", "transport_ticket"),
        ("transport_query", "transport_traffic"),
        ("recommendation_events", "recommendation_locations"),
        ("music_query", "music_likeness"),
        ("music_settings", "play_music"),
        ("calendar_query", "calendar_set"),
        ("lists_query", "lists_createoradd"),
        ("email_query", "email_querycontact"),
        ("qa_factoid", "qa_definition"),
        ("news_query", "social_query"),
        ("audio_volume_mute", "audio_volume_down"),
        ("PlayMusic", "AddToPlaylist"),
        ("SearchCreativeWork", "SearchScreeningEvent"),
        ("SearchCreativeWork", "PlayMusic"),
    )
)

_FAMILY = (
    "family",
    "mother",
    "mom",
    "mum",
    "father",
    "dad",
    "wife",
    "husband",
    "son",
    "daughter",
    "kid",
    "child",
    "brother",
    "sister",
    "friend",
    "partner",
    "him",
    "her",
    "boss",
    "someone",
)
# (hypothesis template, blocker words); "{}" is the utterance's own action phrase, if any
NEUTRAL_CLAIMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("The user wants to {} for someone else.", _FAMILY),
    (
        "The user wants to {} because of a problem at work.",
        ("work", "office", "job", "meeting", "boss"),
    ),
    (
        "The user wants to {} before going on holiday.",
        ("holiday", "vacation", "trip", "travel", "flight"),
    ),
    (
        "The user is in a hurry.",
        ("hurry", "quick", "fast", "now", "asap", "urgent", "immediately", "soon"),
    ),
    (
        "The user is at home right now.",
        ("home", "house", "kitchen", "bedroom", "living", "room"),
    ),
    (
        "The user has asked the assistant this before.",
        ("again", "before", "repeat", "already", "last"),
    ),
    (
        "The user is talking to the assistant on their phone.",
        ("phone", "mobile", "call", "app"),
    ),
)


@dataclass
class IntentPairs:
    train: list[dict[str, Any]] = field(default_factory=list)
    dev: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


def _contradictable(a: str, b: str) -> bool:
    return a != b and frozenset((a, b)) not in CONFUSABLE


def pairs_for(
    u: Utterance,
    intents: Sequence[str],
    seed: int,
    *,
    neighbours: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The pairs of one utterance (see the module docstring for the convention).

    ``neighbours``: the other intents whose descriptions are nearest to the utterance, best first
    (the hybrid router's shortlist); when given, hard negatives come from them instead of the
    utterance's domain.
    """
    rng = random.Random(f"{seed}:{u.dataset}:{normalise(u.text)}")
    phr = lambda: rng.randrange(len(PHRASINGS))
    row = lambda h, label: {
        "premise": u.text,
        "hypothesis": h,
        "label": label,
        "source": u.dataset,
        "category": u.intent,
    }
    out = [row(describe(u.dataset, u.intent, phrasing=phr()), 0)]
    own = domain(u.dataset, u.intent)
    near = [
        i
        for i in intents
        if domain(u.dataset, i) == own and _contradictable(u.intent, i)
    ]
    far = [
        i
        for i in intents
        if domain(u.dataset, i) != own and _contradictable(u.intent, i)
    ]
    if neighbours is not None:
        near = [i for i in neighbours if _contradictable(u.intent, i)][
            :HARD_NEGATIVE_POOL
        ]
    if near:
        first = rng.choice(near)
        out.append(row(describe(u.dataset, first, phrasing=phr()), 2))
        rest = [i for i in near if i != first]
        if neighbours is not None and rest and rng.random() < SECOND_HARD_NEGATIVE_RATE:
            out.append(row(describe(u.dataset, rng.choice(rest), phrasing=phr()), 2))
    if far and (not near or rng.random() < FAR_CONTRADICTION_RATE):
        out.append(row(describe(u.dataset, rng.choice(far), phrasing=phr()), 2))
    if rng.random() < NEUTRAL_RATE:
        words = set(normalise(u.text).split())
        options = [(t, b) for t, b in NEUTRAL_CLAIMS if not words & set(b)]
        if options:
            template, _ = rng.choice(options)
            if "{}" in template:
                action = (
                    describe(u.dataset, u.intent)
                    .removeprefix("The user wants to ")
                    .rstrip(".")
                )
                template = template.replace("{}", action)
            out.append(row(template, 1))
    return out


def _collect(
    sets: Sequence[tuple[str, str]],
    *,
    exclude: set[str],
    max_per_intent: int | None,
    seed: int,
) -> tuple[list[Utterance], Counter[str]]:
    seen = set(exclude)
    dropped: Counter[str] = Counter()
    kept: list[Utterance] = []
    for dataset, split in sets:
        rows = load_intents(dataset, split)
        by_intent: dict[str, list[Utterance]] = defaultdict(list)
        for r in rows:
            key = normalise(r.text)
            if not key:
                dropped["empty"] += 1
            elif key in exclude:
                dropped[f"{dataset}/{split}: in an evaluation split"] += 1
            elif key in seen:
                dropped[f"{dataset}/{split}: duplicate"] += 1
            else:
                seen.add(key)
                by_intent[r.intent].append(r)
        for intent in sorted(by_intent):
            group = by_intent[intent]
            if max_per_intent is not None and len(group) > max_per_intent:
                dropped[f"{dataset}/{split}: over max_per_intent"] += (
                    len(group) - max_per_intent
                )
                group = random.Random(f"{seed}:{dataset}:{intent}").sample(
                    group, max_per_intent
                )
            kept.extend(group)
    return kept, dropped


def _label_counts(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    names = ("entailment", "neutral", "contradiction")
    c = Counter(r["label"] for r in rows)
    n = max(1, len(rows))
    return {
        names[k]: {"count": c.get(k, 0), "share": round(c.get(k, 0) / n, 3)}
        for k in range(3)
    }


def _neighbours(
    utts: Sequence[Utterance], names: dict[str, list[str]], embedder: TextEmbedder
) -> dict[int, list[str]]:
    """Per utterance index: its dataset's other intents, nearest description first."""
    out: dict[int, list[str]] = {}
    for dataset, intents in names.items():
        idx = [i for i, u in enumerate(utts) if u.dataset == dataset]
        desc = embedder.embed([describe(dataset, name) for name in intents])
        vec = embedder.embed([utts[i].text for i in idx], batch_size=128)
        order = np.argsort(-(vec @ desc.T), axis=1, kind="stable")
        for row, i in zip(order, idx):
            out[i] = [intents[j] for j in row if intents[j] != utts[i].intent]
    return out


def build_intent_pairs(
    *,
    seed: int = 0,
    max_per_intent: int | None = DEFAULT_MAX_PER_INTENT,
    train_sets: Sequence[tuple[str, str]] = TRAIN_SETS,
    dev_sets: Sequence[tuple[str, str]] = DEV_SETS,
    embedder: TextEmbedder | None = None,
) -> IntentPairs:
    """Train and dev pairs plus a report (sizes, label balance per split and source, drops).

    With an ``embedder``, hard negatives are the intents whose descriptions the embedder puts
    nearest to each utterance (what the hybrid router's shortlist will confuse); without one,
    other intents of the utterance's domain.
    """
    eval_keys = {normalise(r.text) for d, s in EVAL_SETS for r in load_intents(d, s)}
    train_utts, dropped = _collect(
        train_sets, exclude=eval_keys, max_per_intent=max_per_intent, seed=seed
    )
    train_keys = {normalise(u.text) for u in train_utts}
    dev_utts, dev_dropped = _collect(
        dev_sets, exclude=train_keys, max_per_intent=None, seed=seed
    )
    dropped.update(dev_dropped)
    result = IntentPairs()
    for utts, out in ((train_utts, result.train), (dev_utts, result.dev)):
        intents_of: dict[str, list[str]] = defaultdict(list)
        for u in utts:
            intents_of[u.dataset].append(u.intent)
        names = {d: sorted(set(v)) for d, v in intents_of.items()}
        near = _neighbours(utts, names, embedder) if embedder is not None else {}
        for i, u in enumerate(utts):
            out.extend(pairs_for(u, names[u.dataset], seed, neighbours=near.get(i)))
        random.Random(seed).shuffle(out)
    result.report = {
        "train": {
            "utterances": len(train_utts),
            "pairs": len(result.train),
            "labels": _label_counts(result.train),
        },
        "dev": {
            "utterances": len(dev_utts),
            "pairs": len(result.dev),
            "labels": _label_counts(result.dev),
        },
        "sources": {
            f"{split}/{src}": {
                "pairs": sum(r["source"] == src for r in rows),
                "intents": len({r["category"] for r in rows if r["source"] == src}),
                "labels": _label_counts([r for r in rows if r["source"] == src]),
            }
            for split, rows in (("train", result.train), ("dev", result.dev))
            for src in sorted({r["source"] for r in rows})
        },
        "train_sets": [f"{d}/{s}" for d, s in train_sets],
        "dev_sets": [f"{d}/{s}" for d, s in dev_sets],
        "held_out": [
            "banking77 (all intents)",
            "sebis",
            "massive (never evaluate: reuses HWU64)",
        ],
        "max_per_intent": max_per_intent,
        "hard_negatives": "embedding neighbours"
        if embedder is not None
        else "same domain",
        "dropped": dict(sorted(dropped.items())),
    }
    return result
