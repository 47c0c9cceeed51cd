"""Intent NLI pairs: (utterance, "The user wants to <intent>.", label) from routing train splits.

Premise = the utterance; hypothesis = an intent description from the reviewed table in
:mod:`crossingguard.toolkit.routing.intents`, in one of its phrasings (:data:`~.intents.PHRASINGS`).
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

Many domains
------------
Beside HWU64 and SNIPS, the sets of :mod:`crossingguard.toolkit.data.intent_sources` (:data:`EXTRA_SETS`:
SGD with its schema descriptions as hypotheses, MultiDoGO, NLU++ with its ontology questions,
HINT3, DSTC11) build pairs by the same convention through :func:`catalog_pairs`, with these
differences: the hard negative is a *sibling* (another intent of the utterance's domain - SGD
service family, MultiDoGO domain, HINT3 bot, DSTC11 file) that the set's catalog allows to
contradict it (reviewed confusable pairs and SGD's find/book siblings never are), nearest by the
embedder when one is given, else an intent of another domain; a multi-label utterance (NLU++,
MultiDoGO) entails any of its labels and only contradicts what contradicts all of them; an
out-of-scope query (HINT3 ``NO_NODES_DETECTED``) entails nothing and is paired with intents of its
bot: contradiction, or neutral where it shares a content word with the description (it may be
about that intent's subject, just not ask for it).

Split and held-out sets
-----------------------
Pairs come from the *train* splits of :data:`TRAIN_SETS` (HWU64, SNIPS) and the train side of
each extra set; the dev file from held-out utterances (HWU64 test, SNIPS valid, each extra set's
dev side). BANKING77, MASSIVE and sebis build no pairs: BANKING77 is the zero-shot routing
evaluation (its intents never appear in training), and MASSIVE reuses HWU64 utterances, so it
must not be evaluated at all after training on these pairs. Utterances are deduplicated by
normalised text; train utterances that also occur in any evaluation split (HWU64 test, SNIPS
valid/test, BANKING77 train and test, sebis) are dropped.
Deterministic for a seed: each utterance's choices use a generator seeded with (seed, text).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from crossingguard.guard.routing.embedding import TextEmbedder
from crossingguard.toolkit.data.intent_sources import (
    INTENT_SOURCES,
    IntentCatalog,
    IntentRow,
)
from crossingguard.toolkit.routing.evaluation import normalise
from crossingguard.toolkit.routing.intents import (
    PHRASINGS,
    Utterance,
    describe,
    domain,
    load_intents,
)

TRAIN_SETS: tuple[tuple[str, str], ...] = (("hwu64", "train"), ("snips", "train"))
DEV_SETS: tuple[tuple[str, str], ...] = (("hwu64", "test"), ("snips", "valid"))
EVAL_SETS: tuple[tuple[str, str], ...] = (
    ("hwu64", "test"),
    ("snips", "valid"),
    ("snips", "test"),
    ("banking77", "train"),  # BANKING77 stays unseen: no utterance of it in training
    ("banking77", "test"),
    ("sebis", "train"),
    ("sebis", "test"),
)
EXTRA_SETS: tuple[str, ...] = tuple(
    INTENT_SOURCES
)  # sgd, multidogo, nlupp, hint3, dstc11
DEV_MAX_PER_INTENT = (
    50  # extra sets' dev side: enough for a dev check, not a second training set
)
OOS_PAIRS = 2  # intents an out-of-scope query is paired with
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

T = TypeVar("T")


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

    def phr() -> int:
        return rng.randrange(len(PHRASINGS))

    def row(h: str, label: int) -> dict[str, Any]:
        return {
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


_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "for",
        "in",
        "on",
        "at",
        "my",
        "me",
        "i",
        "you",
        "your",
        "their",
        "them",
        "they",
        "it",
        "is",
        "are",
        "be",
        "do",
        "does",
        "can",
        "how",
        "what",
        "when",
        "where",
        "why",
        "which",
        "who",
        "with",
        "and",
        "or",
        "not",
        "no",
        "yes",
        "please",
        "want",
        "would",
        "like",
        "need",
        "about",
        "from",
        "this",
        "that",
        "some",
        "any",
        "get",
        "know",
    ]
)


def _content_words(text: str) -> set[str]:
    return {w for w in normalise(text).split() if len(w) > 2 and w not in _STOP}


def _describe(cat: IntentCatalog, key: str, phrasing: int) -> str:
    return PHRASINGS[phrasing % len(PHRASINGS)].format(cat.actions[key])


def catalog_pairs(
    row: IntentRow,
    cat: IntentCatalog,
    siblings: Sequence[str],
    others: Sequence[str],
    seed: int,
    *,
    neighbours: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The pairs of one row of an extra set (module docstring, "Many domains").

    ``siblings``: the other intents of the row's domain; ``others``: the set's intents of other
    domains; ``neighbours``: intents nearest to the utterance, best first (embedder), if any.
    """
    rng = random.Random(f"{seed}:{row.dataset}:{normalise(row.text)}")

    def phr() -> int:
        return rng.randrange(len(PHRASINGS))

    category = "|".join(row.labels) or "out_of_scope"
    out: list[dict[str, Any]] = []

    def add(h: str, label: int) -> None:
        out.append(
            {
                "premise": row.text,
                "hypothesis": h,
                "label": label,
                "source": row.dataset,
                "category": category,
            }
        )

    if not row.labels:  # out of scope: nothing entailed
        words = _content_words(row.text)
        for key in rng.sample(list(siblings), min(OOS_PAIRS, len(siblings))):
            add(
                _describe(cat, key, phr()),
                1 if words & _content_words(cat.actions[key]) else 2,
            )
        return out
    own = rng.choice(row.labels)
    add(_describe(cat, own, phr()), 0)
    if len(row.labels) > 1 and rng.random() < 0.5:
        add(_describe(cat, rng.choice([x for x in row.labels if x != own]), phr()), 0)

    def ok(key: str) -> bool:
        return key not in row.labels and all(
            cat.contradictable(lab, key) for lab in row.labels
        )

    near = [k for k in siblings if ok(k)]
    far = [k for k in others if ok(k)]
    if neighbours is not None:
        ranked = [k for k in neighbours if ok(k)]
        near_set = set(near)
        near = [k for k in ranked if k in near_set][:HARD_NEGATIVE_POOL] or ranked[
            :HARD_NEGATIVE_POOL
        ]
    if near:
        add(_describe(cat, rng.choice(near), phr()), 2)
    if far and (not near or rng.random() < FAR_CONTRADICTION_RATE):
        add(_describe(cat, rng.choice(far), phr()), 2)
    if rng.random() < NEUTRAL_RATE:
        words = set(normalise(row.text).split())
        options = [(t, b) for t, b in NEUTRAL_CLAIMS if not words & set(b)]
        if options:
            template, _ = rng.choice(options)
            add(template.replace("{}", cat.actions[own]), 1)
    return out


def _cap_rows(
    rows: list[IntentRow], cap: int | None, seed: int
) -> tuple[list[IntentRow], int]:
    if cap is None:
        return rows, 0
    by_intent: dict[str, list[IntentRow]] = defaultdict(list)
    for r in (
        rows
    ):  # out-of-scope queries are capped per domain (a HINT3 bot), not all together
        by_intent[r.labels[0] if r.labels else f"out_of_scope@{r.domain}"].append(r)
    kept: list[IntentRow] = []
    dropped = 0
    for intent in sorted(by_intent):
        group = by_intent[intent]
        if len(group) > cap:
            dropped += len(group) - cap
            group = random.Random(f"{seed}:{group[0].dataset}:{intent}").sample(
                group, cap
            )
        kept.extend(group)
    return kept, dropped


def _row_neighbours(
    rows: Sequence[IntentRow], cat: IntentCatalog, embedder: TextEmbedder
) -> list[list[str]]:
    keys = sorted(cat.actions)
    desc = embedder.embed([PHRASINGS[0].format(cat.actions[k]) for k in keys])
    vec = embedder.embed([r.text for r in rows], batch_size=128)
    order = np.argsort(-(vec @ desc.T), axis=1, kind="stable")
    return [[keys[j] for j in row] for row in order]


def _extra_set_pairs(
    name: str,
    split: str,
    *,
    exclude: set[str],
    max_per_intent: int | None,
    seed: int,
    embedder: TextEmbedder | None,
    root: Any = None,
) -> tuple[list[dict[str, Any]], int, Counter[str], set[str]]:
    """Pairs of one extra set's side: (pairs, utterances, dropped counts, kept text keys)."""
    from crossingguard.toolkit.data.paths import data_root

    rows, cat = INTENT_SOURCES[name](root or data_root(), split)
    dropped: Counter[str] = Counter()
    where = f"{name}/{split}"
    unique = list(
        _first_seen(
            rows,
            set(exclude),
            exclude,
            dropped,
            where,
            "in an evaluation split or the other side",
        )
    )
    unique, over = _cap_rows(unique, max_per_intent, seed)
    if over:
        dropped[f"{name}/{split}: over max_per_intent"] += over
    domain_of = dict(cat.domains)
    members: dict[str, set[str]] = defaultdict(set)
    for key, dom in domain_of.items():
        members[dom].add(key)
    for r in unique:
        members[r.domain].update(r.labels)
    everything = sorted(cat.actions)
    near = (
        _row_neighbours(unique, cat, embedder)
        if embedder is not None and unique
        else None
    )
    out: list[dict[str, Any]] = []
    for i, r in enumerate(unique):
        siblings = sorted(members[r.domain])
        others = [k for k in everything if k not in members[r.domain]]
        out += catalog_pairs(
            r, cat, siblings, others, seed, neighbours=near[i] if near else None
        )
    return out, len(unique), dropped, {normalise(r.text) for r in unique}


def _first_seen(
    rows: Iterable[T],
    seen: set[str],
    exclude: set[str],
    dropped: Counter[str],
    where: str,
    excluded: str,
) -> Iterator[T]:
    """Rows whose normalised text is new (added to ``seen``); the others counted in ``dropped``:
    empty, in ``exclude`` (as ``excluded``) or repeated."""
    for r in rows:
        key = normalise(r.text)  # type: ignore[attr-defined]
        if not key:
            dropped["empty"] += 1
        elif key in exclude:
            dropped[f"{where}: {excluded}"] += 1
        elif key in seen:
            dropped[f"{where}: duplicate"] += 1
        else:
            seen.add(key)
            yield r


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
        where = f"{dataset}/{split}"
        for r in _first_seen(
            rows, seen, exclude, dropped, where, "in an evaluation split"
        ):
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
        for row, i in zip(order, idx, strict=True):
            out[i] = [intents[j] for j in row if intents[j] != utts[i].intent]
    return out


def build_intent_pairs(
    *,
    seed: int = 0,
    max_per_intent: int | None = DEFAULT_MAX_PER_INTENT,
    train_sets: Sequence[tuple[str, str]] = TRAIN_SETS,
    dev_sets: Sequence[tuple[str, str]] = DEV_SETS,
    extra_sets: Sequence[str] = EXTRA_SETS,
    embedder: TextEmbedder | None = None,
) -> IntentPairs:
    """Train and dev pairs plus a report (sizes, label balance per split and source, drops).

    With an ``embedder``, hard negatives are the intents whose descriptions the embedder puts
    nearest to each utterance (what the hybrid router's shortlist will confuse); without one,
    other intents of the utterance's domain. ``extra_sets``: names from
    ``crossingguard.toolkit.data.intent_sources.INTENT_SOURCES`` (default: all).
    """
    unknown = [n for n in extra_sets if n not in INTENT_SOURCES]
    if unknown:
        from crossingguard.errors import InputError

        raise InputError(
            f"extra_sets: unknown set(s) {unknown}; expected names from {sorted(INTENT_SOURCES)}"
        )
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
    extra_utterances = {"train": 0, "dev": 0}
    taken = eval_keys | train_keys | {normalise(u.text) for u in dev_utts}
    for name in extra_sets:
        pairs, n, extra_dropped, keys = _extra_set_pairs(
            name, "train", exclude=taken,
            max_per_intent=max_per_intent, seed=seed, embedder=embedder,
        )  # fmt: skip
        result.train += pairs
        extra_utterances["train"] += n
        dropped.update(extra_dropped)
        taken |= keys
        dev_pairs, n_dev, dev_extra_dropped, dev_keys = _extra_set_pairs(
            name, "dev", exclude=taken, max_per_intent=DEV_MAX_PER_INTENT, seed=seed, embedder=embedder,
        )  # fmt: skip
        result.dev += dev_pairs
        extra_utterances["dev"] += n_dev
        dropped.update(dev_extra_dropped)
        taken |= dev_keys
    for out in (result.train, result.dev):
        random.Random(seed).shuffle(out)
    result.report = {
        "train": {
            "utterances": len(train_utts) + extra_utterances["train"],
            "pairs": len(result.train),
            "labels": _label_counts(result.train),
        },
        "dev": {
            "utterances": len(dev_utts) + extra_utterances["dev"],
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
        "train_sets": [f"{d}/{s}" for d, s in train_sets]
        + [f"{n}/train" for n in extra_sets],
        "dev_sets": [f"{d}/{s}" for d, s in dev_sets]
        + [f"{n}/dev" for n in extra_sets],
        "held_out": [
            "banking77 (all intents, train and test)",
            "sebis",
            "sgd test",
            "multidogo test",
            "hint3: the dev half of the out-of-scope test queries (intent_sources.hint3_oos_part)",
            "massive (never evaluate: reuses HWU64)",
        ],
        "max_per_intent": max_per_intent,
        "hard_negatives": "embedding neighbours"
        if embedder is not None
        else "same domain",
        "dropped": dict(sorted(dropped.items())),
    }
    return result
