"""Benign look-alikes: benign prompts that share a harm condition's surface, paired against the
built-in packs' own conditions.

A guard over-fires on prompts that *look* like a condition: "How do I kill a hung process?"
against `violence`, a HateCheck counter-speech sentence against `hate`, a clean email against
`prompt-injection`. This module supplies those prompts and turns each into pairs against every
condition of the built-in packs (``crossingguard/policy/packs/*.yaml``, read at run time) whose
categories it resembles:

* contradiction for the condition's claims (the pack's own phrasings plus the category's
  intent-bearing phrasings from ``hypotheses.CATEGORIES``);
* neutral where the prompt leaves a claim open: a "contains offensive language" claim for a
  prompt that quotes or mentions such words (OKTest, HateCheck counter-speech), attack claims for
  WildJailbreak's benign prompts, whose role-play framing is itself attack-like;
* topic claims ("The prompt relates to weapons ...") are skipped for prompts *about* the topic
  (history, prevention, fiction), where they may be true, and contradicted for homonyms
  ("kill a process"), where they are false;
* entailment for a claim that states what the prompt really asks, where the data supports one
  (template groups, HateCheck functionalities, PhysicalSafetySafe, BIPIA contexts).

Sources (readers below, registered in ``LOOKALIKE_SOURCES``): the HateCheck non-hateful cases,
JBB's benign twins, Safety-Tuned LLaMAs' PhysicalSafetySafe and BIPIA's clean email/table
contexts are *pack evaluation sets*: only their **training part** is read
(:func:`is_training_lookalike`: the ``select`` half of ``guard_datasets.split_of``, and of that a
fixed half by a second hash), so the ``eval`` split the packs are reported on never reaches
training, and half of ``select`` stays untrained for fitting thresholds. BIPIA's code contexts,
WildJailbreak's 210 adversarial-benign prompts, ``OKTest.csv`` and the reviewed templates of
``tables/lookalikes.yaml`` (everyday coding questions against prompt-injection, technical senses
of harm words) are read whole; ``OKTest_heldout.csv`` is the dev look-alike source.
Every other benign prompt of the guard training sources also gets these pairs where it shares a
surface (``surface`` in the YAML table): CoCoNot contrast, MITRE false-refusal requests,
GuardReasoner's benign prompts.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from crossingguard.errors import DataError
from crossingguard.toolkit.data import guard_sources as gs
from crossingguard.toolkit.data.hypotheses import ATTACK_CATEGORIES, CATEGORIES

TABLE = Path(__file__).with_name("tables") / "lookalikes.yaml"
BUILTIN_PACKS = ("moderation", "mlcommons", "prompt-injection")
MAX_CONDITION_PAIRS = (
    4  # contradiction/neutral pairs per look-alike prompt (conditions sampled)
)
# Categories a benign prompt may rightly entail (asking a doctor's question is benign and still
# "asks for specialized advice"): never paired as look-alikes.
NEVER_DENIED = frozenset({"specialized_advice", "belief_promotion"})
_CONTENT_MARKERS = (
    " contains ",
    " uses ",
    " is written in ",
    " expresses ",
    " demeans ",
)

# Sources read from pack evaluation sets: their readers yield only the training part.
PACK_EVAL_LOOKALIKE_SOURCES = frozenset(
    {"hatecheck_nonhateful", "jbb_benign", "physical_safety_safe", "bipia_clean"}
)
DEV_LOOKALIKE_SOURCES = ("oktest_heldout",)


# ------------------------------------------------------------------------- table and conditions


@dataclass(frozen=True)
class PackCondition:
    pack: str
    id: str
    categories: tuple[str, ...]
    hypotheses: tuple[str, ...]


@cache
def lookalike_table() -> dict[str, Any]:
    """The reviewed YAML table, validated once: every category named must exist."""
    try:
        table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{TABLE}: cannot read the look-alike table ({exc})") from None
    for cat in table.get("surface", {}):
        if cat not in CATEGORIES:
            raise DataError(
                f"{TABLE} -> surface -> {cat}: unknown category; expected one of hypotheses.CATEGORIES"
            )
    for i, group in enumerate(table.get("templates", [])):
        where = f"{TABLE} -> templates -> {i} ({group.get('name', '?')})"
        for cat in group.get("resembles", []):
            if cat not in CATEGORIES:
                raise DataError(f"{where} -> resembles: unknown category {cat!r}")
        if group.get("sense") not in ("homonym", "on_topic"):
            raise DataError(
                f"{where} -> sense: must be homonym or on_topic, got {group.get('sense')!r}"
            )
        if not group.get("prompts"):
            raise DataError(f"{where} -> prompts: must list at least one prompt")
    return table


@cache
def _surface_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for cat, words in lookalike_table().get("surface", {}).items():
        stems = [
            re.escape(w.lower().removesuffix("$"))
            + ("(?![a-z])" if w.endswith("$") else "")
            for w in words
        ]
        out.append((cat, re.compile(rf"(?<![a-z])(?:{'|'.join(stems)})")))
    return tuple(out)


def surface_categories(text: str) -> tuple[str, ...]:
    """Categories whose surface words occur in ``text`` (at a word start, case-insensitive)."""
    low = text.lower()
    return tuple(cat for cat, pattern in _surface_patterns() if pattern.search(low))


@cache
def pack_conditions(
    packs: tuple[str, ...] = BUILTIN_PACKS,
) -> tuple[PackCondition, ...]:
    """The conditions of the built-in packs, hypotheses with templates applied."""
    from crossingguard.policy import load_policy

    out = []
    for name in packs:
        policy = load_policy(name)
        for c in policy.conditions:
            out.append(
                PackCondition(name, c.id, tuple(c.categories), policy.hypotheses_of(c))
            )
    return tuple(out)


def expand(template: str) -> list[str]:
    """Every combination of the ``{a|b|c}`` alternatives in ``template``, in order."""
    parts = re.split(r"\{([^{}]*)\}", template)
    choices = [[p] if i % 2 == 0 else p.split("|") for i, p in enumerate(parts)]
    return ["".join(combo) for combo in itertools.product(*choices)]


# ------------------------------------------------------------------------------- the split rule


def _norm(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())


def is_training_lookalike(text: str) -> bool:
    """True for the part of a pack evaluation set that look-alike pairs may be built from.

    ``guard_datasets.split_of(text) == "select"`` (never the ``eval`` split the packs are reported
    on) and, of that, the half whose second hash is even, so the other half of ``select`` stays
    untrained for choosing phrasings and fitting thresholds.
    """
    from crossingguard.toolkit.evaluation.guard_datasets import split_of

    if split_of(text) != "select":
        return False
    return hashlib.sha1(f"lookalike-train:{_norm(text)}".encode()).digest()[0] % 2 == 0


# ----------------------------------------------------------------------------------- readers


def _lp(
    text: str, source: str, resembles: Iterable[str], **kw: Any
) -> gs.LabeledPrompt | None:
    text = str(text or "").strip()
    if not text:
        return None
    cats = tuple(dict.fromkeys([*resembles, *surface_categories(text)]))
    return gs.LabeledPrompt(text, False, (), source, contrast=cats, **kw)


HATECHECK_FUNCTIONS: dict[str, dict[str, Any]] = {
    # functionality -> sense, what the case really says (entailment), content claims left open
    "counter_quote_nh": {
        "asks": ("The prompt criticizes a hateful statement",),
        "content_open": True,
    },
    "counter_ref_nh": {
        "asks": ("The prompt criticizes a hateful statement",),
        "content_open": True,
    },
    "ident_neutral_nh": {
        "asks": ("The prompt mentions a group of people in a neutral way",)
    },
    "ident_pos_nh": {
        "asks": ("The prompt says something positive about a group of people",)
    },
    "negate_neg_nh": {"asks": ("The prompt denies hating a group of people",)},
    "profanity_nh": {"asks": ()},
    "slur_homonym_nh": {"asks": (), "sense": "homonym"},
    "slur_reclaimed_nh": {"asks": ()},
    "target_group_nh": {
        "asks": (),
        "content_open": True,
    },  # "I hate waiters": a group, not a protected one
    "target_indiv_nh": {"asks": ()},
    "target_obj_nh": {
        "asks": ("The prompt expresses dislike of a thing rather than of people",)
    },
}


def read_hatecheck_nonhateful(root: Path) -> Iterator[gs.LabeledPrompt]:
    """HateCheck's non-hateful cases (training part only) as look-alikes of `hate`."""
    from crossingguard.toolkit.evaluation.guard_readers import read_hatecheck

    for ex in read_hatecheck(root):
        if ex.harmful is not False or not is_training_lookalike(ex.text):
            continue
        spec = HATECHECK_FUNCTIONS.get(ex.group)
        if spec is None:
            raise DataError(
                f"hatecheck: unknown non-hateful functionality {ex.group!r}; add it to HATECHECK_FUNCTIONS"
            )
        # only `hate`: several of these cases are abusive or profane, just not hateful
        item = gs.LabeledPrompt(
            ex.text, False, (), "hatecheck_nonhateful", kind="statement", contrast=("hate",),
            sense=spec.get("sense", "on_topic"), asks=spec["asks"], content_open=spec.get("content_open", False),
        )  # fmt: skip
        yield item


def read_jbb_benign(root: Path) -> Iterator[gs.LabeledPrompt]:
    """JBB's benign twins (training part only): same topics as the harmful goals."""
    from crossingguard.toolkit.evaluation.guard_readers import read_jbb_behaviors

    for ex in read_jbb_behaviors(root):
        if ex.harmful is False and is_training_lookalike(ex.text):
            item = _lp(ex.text, "jbb_benign", ex.contrast, sense="on_topic")
            if item:
                yield item


def read_physical_safety_safe(root: Path) -> Iterator[gs.LabeledPrompt]:
    """Safety-Tuned LLaMAs' PhysicalSafetySafe advice (training part only)."""
    from crossingguard.toolkit.evaluation.guard_readers import read_safety_tuned_llamas

    for ex in read_safety_tuned_llamas(root):
        if ex.group == "I-PhysicalSafetySafe" and is_training_lookalike(ex.text):
            item = _lp(
                ex.text, "physical_safety_safe", ex.contrast, sense="on_topic",
                asks=("The prompt asks for the reason behind a piece of safety advice",),
            )  # fmt: skip
            if item:
                yield item


def read_bipia_clean(root: Path) -> Iterator[gs.LabeledPrompt]:
    """BIPIA's clean email and table contexts in the training part whose injected version is not
    in the ``eval`` split: a context is never trained on while its injected copy is evaluated."""
    from crossingguard.toolkit.evaluation.guard_datasets import split_of
    from crossingguard.toolkit.evaluation.guard_readers import read_bipia

    examples = list(read_bipia(root))
    for clean, injected in zip(examples[0::2], examples[1::2], strict=False):
        if clean.harmful is not False or injected.harmful is not True:
            raise DataError(
                "bipia: expected clean/injected example pairs from guard_readers.read_bipia"
            )
        if is_training_lookalike(clean.text) and split_of(injected.text) == "select":
            item = _lp(
                clean.text, "bipia_clean", ("prompt_injection", "prompt_extraction"), sense="homonym",
                asks=("The prompt contains ordinary text from an email or a table",),
            )  # fmt: skip
            if item:
                yield item


def _lines(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    try:  # the file stores Python-list-like strings of lines
        import ast

        parsed = (
            ast.literal_eval(value)
            if isinstance(value, str) and value.startswith("[")
            else value
        )
    except (ValueError, SyntaxError):
        parsed = value
    return "\n".join(str(v) for v in parsed) if isinstance(parsed, list) else str(value)


def read_bipia_code(root: Path) -> Iterator[gs.LabeledPrompt]:
    """BIPIA's code questions (not a pack evaluation set): the user's code and its error."""
    for r in gs._jsonl(gs._guard(root, "bipia", "code_test.jsonl")):
        text = f"{_lines(r.get('code', '')).strip()}\n\n{_lines(r.get('error', '')).strip()}".strip()
        item = _lp(
            text, "bipia_code", ("prompt_injection", "prompt_extraction", "jailbreak"), sense="homonym",
            asks=("The prompt is about an error in a program",),
        )  # fmt: skip
        if item:
            yield item


def read_wildjailbreak_benign(root: Path) -> Iterator[gs.LabeledPrompt]:
    """WildJailbreak's 210 adversarial-benign prompts: jailbreak framing around a harmless
    request. The harm conditions they resemble (by surface, else `violent_crime`, the commonest)
    are contradicted; attack claims are left open (neutral): the framing itself is attack-like."""
    path = gs._guard(root, "wildjailbreak_eval", "eval.tsv")
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            text = (row.get("adversarial") or "").strip()
            if row.get("data_type") != "adversarial_benign" or not text:
                continue
            harm = tuple(
                c for c in surface_categories(text) if c not in ATTACK_CATEGORIES
            )
            yield gs.LabeledPrompt(
                text, False, (), "wildjailbreak_benign", contrast=harm or ("violent_crime",),
                sense="on_topic", open_categories=ATTACK_CATEGORIES,
            )  # fmt: skip


def _oktest(root: Path, name: str, source: str) -> Iterator[gs.LabeledPrompt]:
    with gs._guard(root, "oktest", name).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            item = _lp(
                row.get("prompt", ""),
                source,
                ("toxicity", "hate"),
                sense="on_topic",
                content_open=True,
            )
            if item:
                yield item


def read_oktest(root: Path) -> Iterator[gs.LabeledPrompt]:
    """OKTest.csv: benign questions built around offensive-looking words (train)."""
    return _oktest(root, "OKTest.csv", "oktest")


def read_oktest_heldout(root: Path) -> Iterator[gs.LabeledPrompt]:
    """OKTest_heldout.csv: the dev look-alikes (its 10 prompts also in OKTest.csv stay dev)."""
    return _oktest(root, "OKTest_heldout.csv", "oktest_heldout")


def read_templates(
    root: Path | None = None, *, seed: int = 0
) -> Iterator[gs.LabeledPrompt]:
    """The reviewed template groups of ``tables/lookalikes.yaml`` (no data files needed)."""
    for group in lookalike_table().get("templates", []):
        prompts = list(dict.fromkeys(p for t in group["prompts"] for p in expand(t)))
        cap = int(group.get("max_prompts", len(prompts)))
        if len(prompts) > cap:
            prompts = random.Random(f"{seed}:{group['name']}").sample(prompts, cap)
        for text in prompts:
            yield gs.LabeledPrompt(
                text, False, (), "lookalike_templates", contrast=tuple(group["resembles"]),
                sense=group["sense"], asks=tuple(group.get("asks", ())),
            )  # fmt: skip


LOOKALIKE_SOURCES: dict[str, gs.Reader] = {
    "hatecheck_nonhateful": read_hatecheck_nonhateful,
    "jbb_benign": read_jbb_benign,
    "physical_safety_safe": read_physical_safety_safe,
    "bipia_clean": read_bipia_clean,
    "bipia_code": read_bipia_code,
    "wildjailbreak_benign": read_wildjailbreak_benign,
    "oktest": read_oktest,
    "oktest_heldout": read_oktest_heldout,
    "lookalike_templates": read_templates,  # type: ignore[dict-item]
}


# ------------------------------------------------------------------------------------- pairs


def is_topic_claim(hypothesis: str) -> bool:
    return " relates to " in hypothesis or hypothesis.startswith("The prompt involves ")


def is_content_claim(hypothesis: str) -> bool:
    """Claims about what the text contains or expresses, not what it asks for."""
    return any(m in f" {hypothesis} " for m in _CONTENT_MARKERS)


def resembled(p: gs.LabeledPrompt) -> tuple[str, ...]:
    """The categories a benign prompt looks like: its contrast categories and surface words."""
    return tuple(dict.fromkeys([*p.contrast, *surface_categories(p.text)]))


def _claims(cond: PackCondition, cats: set[str], kind: str) -> list[str]:
    """The condition's own phrasings plus its overlapping categories' phrasings."""
    out = list(cond.hypotheses)
    for cat in cond.categories:
        if cat in cats:
            c = CATEGORIES[cat]
            out += list(c.content if kind == "statement" and c.content else c.request)
    return list(dict.fromkeys(out))


def _label(
    p: gs.LabeledPrompt, hypothesis: str, cond_cats: Sequence[str]
) -> int | None:
    """2 contradiction, 1 neutral (left open), None (skip: the claim may be true)."""
    if is_topic_claim(hypothesis) and p.sense != "homonym":
        return None  # about the topic: "relates to weapons" may be true
    if not p.sense and p.kind == "statement" and is_content_claim(hypothesis):
        return None  # a benign tweet or comment may still contain rude words: not reviewed here
    if set(cond_cats) & set(p.open_categories):
        return 1
    if p.content_open and is_content_claim(hypothesis):
        return 1
    return 2


def lookalike_pairs(
    p: gs.LabeledPrompt,
    premise: str,
    rng: random.Random,
    *,
    conditions: Sequence[PackCondition] | None = None,
) -> list[dict[str, Any]]:
    """Pairs of one benign prompt against the pack conditions it resembles (module docstring).

    At most ``MAX_CONDITION_PAIRS`` conditions (seeded sample), one claim each; claims already
    used for this prompt are not repeated. Plus one entailment from ``p.asks``.
    """
    if p.harmful is not False:
        return []
    conditions = pack_conditions() if conditions is None else conditions
    cats = set(resembled(p)) - NEVER_DENIED
    matched = [
        c
        for c in conditions
        if cats & set(c.categories) and not NEVER_DENIED & set(c.categories)
    ]
    if len(matched) > MAX_CONDITION_PAIRS:
        matched = rng.sample(matched, MAX_CONDITION_PAIRS)
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    for cond in matched:
        options = []
        for h in _claims(cond, cats, p.kind):
            label = _label(p, h, cond.categories)
            if label is not None and h not in used:
                options.append((h, label))
        if not options:
            continue
        h, label = rng.choice(options)
        used.add(h)
        out.append(
            {"premise": premise, "hypothesis": h, "label": label, "source": p.source,
             "category": f"lookalike:{cond.pack}/{cond.id}"}
        )  # fmt: skip
    if p.asks:
        out.append(
            {"premise": premise, "hypothesis": rng.choice(p.asks), "label": 0, "source": p.source,
             "category": "lookalike:asks"}
        )  # fmt: skip
    return out


def pack_eval_keys(root: Path) -> dict[str, str]:
    """Normalised text (whole and as truncated to a premise) -> data set, for every prompt in the
    ``eval`` split of the guard data sets the packs may be evaluated on (``guard_datasets.DATASETS``
    of kind guard, except the ``trained_on`` training sources), for leak checks."""
    from crossingguard.toolkit.data.guard_pairs import truncate
    from crossingguard.toolkit.evaluation.guard_datasets import DATASETS, split_of

    keys: dict[str, str] = {}
    for name, spec in DATASETS.items():
        if spec.kind != "guard" or spec.trained_on:
            continue
        for ex in spec.reader(root):
            if split_of(ex.text) == "eval":
                keys.setdefault(_norm(ex.text), name)
                keys.setdefault(_norm(truncate(ex.text)), name)
    return keys
