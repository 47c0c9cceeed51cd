"""Intent sets from many domains for intent NLI pairs: SGD, MultiDoGO, NLU++, HINT3, DSTC11.

Each set is read into :class:`IntentRow` records (utterance, its intent labels - several for NLU++
and MultiDoGO's multi-intent rows, none for an out-of-scope query - and the *domain* whose other
intents are its siblings) and an :class:`IntentCatalog` (one action phrase per intent, completing
"The user wants to ..."; which sibling pairs may contradict each other). Descriptions come from the
data where it has them (SGD schema descriptions, NLU++ ontology questions) and otherwise from the
reviewed table ``tables/intent_descriptions.yaml``.

Splits (train rows build training pairs, dev rows the dev file; nothing else is read):

* SGD: train / dev (dev mostly uses services absent from train); test is never read.
* MultiDoGO: train / dev, domain intents only (the generic dialogue acts are not intents).
* NLU++: folds 0-17 train, folds 18-19 dev, per domain (banking, hotels).
* HINT3: train rows train; test rows dev, except half of the out-of-scope test queries (a fixed
  hash of the text, :func:`hint3_oos_part`) which train the abstain side: out of scope vs every
  intent of its bot. Evaluate HINT3 routing on the other half.
* DSTC11: ``development`` (insurance) and ``test-finance`` train, ``test-banking`` dev.

Context-dependent turns carry a label their text does not state ("Yes, please do." under
ReserveRestaurant, "ok" under bookflight): SGD and MultiDoGO rows of fewer than
``MIN_CONTEXT_FREE_WORDS`` words are dropped.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from crossingguard.errors import DataError
from crossingguard.io import read_jsonl

TABLE = Path(__file__).with_name("tables") / "intent_descriptions.yaml"
MIN_CONTEXT_FREE_WORDS = 5
MULTIDOGO_ACTS = frozenset(
    {
        "contentonly",
        "confirmation",
        "rejection",
        "openinggreeting",
        "closinggreeting",
        "thankyou",
        "outofdomain",
    }
)
NLUPP_TRAIN_FOLDS = range(18)
NLUPP_DEV_FOLDS = range(18, 20)
HINT3_BOTS = ("sofmattress", "curekart", "powerplay11")
HINT3_OOS = "NO_NODES_DETECTED"


@dataclass(frozen=True)
class IntentRow:
    text: str
    labels: tuple[str, ...]  # intent keys of the catalog; () = out of scope
    dataset: str
    split: str
    domain: str  # siblings: the other intents of this domain


@dataclass
class IntentCatalog:
    """Descriptions and sibling rules of one set, keyed by intent key."""

    dataset: str
    actions: dict[str, str] = field(
        default_factory=dict
    )  # key -> "check their balance"
    domains: dict[str, str] = field(default_factory=dict)  # key -> domain
    confusable: set[frozenset[str]] = field(default_factory=set)
    never_denied: set[str] = field(
        default_factory=set
    )  # keys never used as a contradiction
    contradictable_fn: Callable[[str, str], bool] | None = None

    def contradictable(self, a: str, b: str) -> bool:
        """May an utterance of intent ``a`` contradict intent ``b``'s description?"""
        if a == b or b in self.never_denied or frozenset((a, b)) in self.confusable:
            return False
        if self.actions.get(a) == self.actions.get(b):
            return False
        return self.contradictable_fn(a, b) if self.contradictable_fn else True


@cache
def description_table() -> dict[str, Any]:
    try:
        return yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(
            f"{TABLE}: cannot read the intent description table ({exc})"
        ) from None


def _need(path: Path) -> Path:
    if not path.is_file():
        raise DataError(
            f"routing data file {path} not found; check CROSSINGGUARD_DATA points at the shared data folder"
        )
    return path


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    return read_jsonl(_need(path))


def _context_free(text: str) -> bool:
    return len(text.split()) >= MIN_CONTEXT_FREE_WORDS


def _lower_first(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


# ------------------------------------------------------------------------------------ SGD


def read_sgd(root: Path, split: str) -> tuple[list[IntentRow], IntentCatalog]:
    """Schema descriptions ("Check the amount of money in a user's bank account") as actions;
    keys ``Service_N/Intent``; domain = the service prefix (``Banks``)."""
    if split not in ("train", "dev"):
        raise DataError(
            f"sgd: split must be train or dev (test stays unread), got {split!r}"
        )
    base = root / "routing" / "sgd"
    schema = json.loads(
        _need(base / f"schema_{split}.json").read_text(encoding="utf-8")
    )
    distinct = {
        frozenset(p) for p in description_table().get("sgd_distinct_siblings", [])
    }
    cat = IntentCatalog("sgd")
    for service in schema:
        domain = service["service_name"].split("_")[0]
        for intent in service["intents"]:
            key = f"{service['service_name']}/{intent['name']}"
            cat.actions[key] = _lower_first(intent["description"])
            cat.domains[key] = domain

    def siblings_ok(a: str, b: str) -> bool:
        name_a, name_b = a.split("/")[1], b.split("/")[1]
        if name_a == name_b:
            return False  # the same intent in another service
        if cat.domains[a] != cat.domains[b]:
            return True
        return frozenset((name_a, name_b)) in distinct

    cat.contradictable_fn = siblings_ok
    rows = []
    for r in _jsonl(base / f"sgd_intents_{split}.jsonl.gz"):
        key = f"{r['service']}/{r['intent']}"
        if key not in cat.actions:
            raise DataError(f"sgd {split}: intent {key} is not in schema_{split}.json")
        if _context_free(r["text"]):
            rows.append(
                IntentRow(r["text"].strip(), (key,), "sgd", split, cat.domains[key])
            )
    return rows, cat


# ------------------------------------------------------------------------------ MultiDoGO


def _table_catalog(
    dataset: str, section: dict[str, dict[str, str]], confusable: list[list[str]]
) -> IntentCatalog:
    cat = IntentCatalog(dataset)
    for domain, intents in section.items():
        for key, action in intents.items():
            cat.actions[str(key)] = str(action)
            cat.domains[str(key)] = str(domain)
    cat.confusable = {frozenset(map(str, p)) for p in confusable}
    return cat


def read_multidogo(root: Path, split: str) -> tuple[list[IntentRow], IntentCatalog]:
    """Domain-intent rows (several intents joined by ``<div>`` entail each); dialogue acts dropped."""
    if split not in ("train", "dev"):
        raise DataError(f"multidogo: split must be train or dev, got {split!r}")
    table = description_table()
    cat = _table_catalog(
        "multidogo", table["multidogo"], table["confusable"]["multidogo"]
    )
    rows = []
    for r in _jsonl(root / "routing" / "multidogo" / f"multidogo_{split}.jsonl.gz"):
        labels = tuple(x for x in r["intent"].split("<div>") if x not in MULTIDOGO_ACTS)
        text = (r.get("text") or "").strip()
        if not labels or not _context_free(text):
            continue
        unknown = [x for x in labels if x not in cat.actions]
        if unknown:
            raise DataError(
                f"multidogo: no description for {unknown}; add them to {TABLE}"
            )
        rows.append(IntentRow(text, labels, "multidogo", split, r["domain"]))
    return rows, cat


# ------------------------------------------------------------------------------------ NLU++


def nlupp_action(question: str) -> str:
    """``is the intent to ask about contactless?`` -> ``ask about contactless``;
    ``is the intent asking about some account?`` -> ``ask about some account``."""
    q = question.strip().rstrip("?").strip()
    m = re.fullmatch(r"is the intent (to|asking) (.+)", q)
    if not m:
        raise DataError(f"nlupp ontology: cannot read the question {question!r}")
    return m.group(2) if m.group(1) == "to" else f"ask {m.group(2)}"


def read_nlupp(root: Path, split: str) -> tuple[list[IntentRow], IntentCatalog]:
    """Multi-label banking and hotels utterances; general modules (`how`, `change`, ...) are only
    entailed, never contradicted (an utterance may fit one its labels omit); rows without
    intents (slot-only answers such as "today") are dropped."""
    folds = {"train": NLUPP_TRAIN_FOLDS, "dev": NLUPP_DEV_FOLDS}.get(split)
    if folds is None:
        raise DataError(f"nlupp: split must be train or dev, got {split!r}")
    base = root / "routing" / "nlupp"
    onto = json.loads(_need(base / "ontology.json").read_text(encoding="utf-8"))[
        "intents"
    ]
    cat = IntentCatalog("nlupp")
    for key, spec in onto.items():
        cat.actions[key] = nlupp_action(spec["description"])
        domains = spec["domain"]
        cat.domains[key] = (
            "general" if "general" in domains else "+".join(sorted(domains))
        )
        if "general" in domains:
            cat.never_denied.add(key)
    cat.never_denied |= set(description_table().get("nlupp_never_denied", []))
    rows = []
    for domain in ("banking", "hotels"):
        for fold in folds:
            for r in json.loads(
                _need(base / domain / f"fold{fold}.json").read_text(encoding="utf-8")
            ):
                labels = tuple(r.get("intents") or ())
                if labels and r.get("text", "").strip():
                    rows.append(
                        IntentRow(r["text"].strip(), labels, "nlupp", split, domain)
                    )
    return rows, cat


# ------------------------------------------------------------------------------------ HINT3


def hint3_oos_part(text: str) -> str:
    """``train`` or ``dev`` for an out-of-scope HINT3 test query (a fixed hash of its text)."""
    key = re.sub(r"\W+", "", text.lower())
    return (
        "train"
        if hashlib.sha1(f"hint3-oos:{key}".encode()).digest()[0] % 2 == 0
        else "dev"
    )


def read_hint3(root: Path, split: str) -> tuple[list[IntentRow], IntentCatalog]:
    """Keys ``bot/LABEL``; domain = the bot. Train: the train files plus the training half of the
    out-of-scope test queries; dev: the rest of the test files."""
    if split not in ("train", "dev"):
        raise DataError(f"hint3: split must be train or dev, got {split!r}")
    table = description_table()
    cat = IntentCatalog("hint3")
    for bot in HINT3_BOTS:
        for label, action in table["hint3"][bot].items():
            cat.actions[f"{bot}/{label}"] = str(action)
            cat.domains[f"{bot}/{label}"] = bot
    cat.confusable = {
        frozenset((f"{bot}/{a}", f"{bot}/{b}"))
        for bot in HINT3_BOTS
        for a, b in table["confusable"]["hint3"]
    }
    rows = []
    for bot in HINT3_BOTS:
        for file_split in ("train", "test"):
            with _need(root / "routing" / "hint3" / f"{bot}_{file_split}.csv").open(
                encoding="utf-8", newline=""
            ) as fh:
                for r in csv.DictReader(fh):
                    text, label = (
                        (r.get("sentence") or "").strip(),
                        (r.get("label") or "").strip(),
                    )
                    if not text:
                        continue
                    if label == HINT3_OOS:
                        side = hint3_oos_part(text)
                        labels: tuple[str, ...] = ()
                    else:
                        side = "train" if file_split == "train" else "dev"
                        labels = (f"{bot}/{label}",)
                        if labels[0] not in cat.actions:
                            raise DataError(
                                f"hint3 {bot}: no description for {label}; add it to {TABLE}"
                            )
                    if side == split:
                        rows.append(IntentRow(text, labels, "hint3", split, bot))
    return rows, cat


# ----------------------------------------------------------------------------------- DSTC11

DSTC11_FILES = {"train": ("development", "test-finance"), "dev": ("test-banking",)}


def read_dstc11(root: Path, split: str) -> tuple[list[IntentRow], IntentCatalog]:
    """Spoken-style customer turns; domain = the file (insurance, finance, banking)."""
    if split not in DSTC11_FILES:
        raise DataError(f"dstc11: split must be train or dev, got {split!r}")
    table = description_table()
    cat = IntentCatalog(
        "dstc11", actions={k: str(v) for k, v in table["dstc11"].items()}
    )
    cat.confusable = {frozenset(p) for p in table["confusable"]["dstc11"]}
    rows = []
    for name in DSTC11_FILES[split]:
        for r in _jsonl(
            root / "routing" / "dstc11_intents" / f"{name}_test-utterances.jsonl"
        ):
            if r["intent"] not in cat.actions:
                raise DataError(
                    f"dstc11: no description for {r['intent']}; add it to {TABLE}"
                )
            cat.domains.setdefault(r["intent"], name)
            text = (r.get("utterance") or "").strip()
            if text:
                rows.append(IntentRow(text, (r["intent"],), "dstc11", split, name))
    return rows, cat


INTENT_SOURCES: dict[
    str, Callable[[Path, str], tuple[list[IntentRow], IntentCatalog]]
] = {
    "sgd": read_sgd,
    "multidogo": read_multidogo,
    "nlupp": read_nlupp,
    "hint3": read_hint3,
    "dstc11": read_dstc11,
}
