"""Readers for the labeled guard and routing sets in ``../shared/data``: one small adapter per
data set, each yielding :class:`GuardExample` records (see ``guard_datasets`` for how they are
used). Training-source readers of ``crossingguard.toolkit.data.guard_sources`` are reused as they are; the
dev-only sets, which that module reads only as text for its contamination filter, get labeled
adapters here.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from crossingguard.errors import DataError
from crossingguard.io import read_jsonl
from crossingguard.toolkit.data import guard_sources as gs

OUT_OF_SCOPE = "out_of_scope"  # gold route of a prompt that belongs to no route


@dataclass(frozen=True)
class GuardExample:
    text: str
    harmful: bool | None = None
    categories: tuple[str, ...] = ()
    source: str = ""
    group: str = ""
    contrast: tuple[str, ...] = ()
    route: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------ file helpers


def _path(root: Path, *parts: str) -> Path:
    path = root.joinpath(*parts)
    if not path.exists():
        raise DataError(
            f"missing data file {path}; check CROSSINGGUARD_DATA points at the shared data folder"
        )
    return path


def _csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        yield from csv.DictReader(fh)


def _json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    return read_jsonl(path)


def _ex(text: Any, **kw: Any) -> GuardExample | None:
    if not isinstance(text, str) or not text.strip():
        return None
    return GuardExample(text.strip(), **kw)


def _from_labeled(items: Iterable[gs.LabeledPrompt]) -> Iterator[GuardExample]:
    for lp in items:
        yield GuardExample(
            lp.text, lp.harmful, lp.categories, lp.source, contrast=lp.contrast
        )


# ------------------------------------------------------------------------- dev-only guard sets

JBB_MAP: dict[str, tuple[str, ...]] = {
    "Harassment/Discrimination": ("harassment", "hate"),
    "Malware/Hacking": ("cybercrime_malware",),
    "Physical harm": ("violent_crime", "weapons_cbrne"),
    "Economic harm": ("nonviolent_crime", "fraud_scams"),
    "Fraud/Deception": ("fraud_scams",),
    "Disinformation": ("misinformation",),
    "Sexual/Adult content": ("sexual_content",),
    "Privacy": ("privacy",),
    "Expert advice": ("specialized_advice",),
    "Government decision-making": (
        "nonviolent_crime",
    ),  # forgery, evading officials, ...
}


def read_jbb_behaviors(root: Path) -> Iterator[GuardExample]:
    """100 harmful goals and their 100 benign twins on the same topics (the look-alikes)."""
    for r in _csv(
        _path(root, "guard", "jbb_behaviors", "jbb_behaviors_with_categories.csv")
    ):
        cats = JBB_MAP.get(r["category"], ())
        harmful = r["label"] == "harmful"
        ex = _ex(
            r["goal"],
            harmful=harmful,
            categories=cats if harmful else (),
            contrast=() if harmful else cats,
            source="jbb_behaviors",
            group=f"{'harmful' if harmful else 'benign'}: {r['category']}",
        )
        if ex:
            yield ex


def read_jbb_artifacts(root: Path) -> Iterator[GuardExample]:
    """The JBB harmful goals wrapped by four attacks (PAIR, GCG, JBC, random search): each is a
    jailbreak and keeps its goal's harm categories."""
    seen: set[str] = set()
    for path in sorted(_path(root, "guard", "jbb_artifacts").glob("*__*.json")):
        method = path.name.split("__", 1)[0]
        for r in _json(path).get("jailbreaks", []):
            prompt = r.get("prompt")
            if not prompt or prompt in seen:
                continue
            seen.add(prompt)
            ex = _ex(
                prompt,
                harmful=True,
                categories=("jailbreak", *JBB_MAP.get(r.get("category", ""), ())),
                source="jbb_artifacts",
                group=method,
            )
            if ex:
                yield ex


def read_wildguardmix(root: Path) -> Iterator[GuardExample]:
    """Binary labels only: the data README calls the subcategory tags noisy."""
    for r in _json(
        _path(root, "guard", "wildguardmix_sample", "wildguard_full_benchmark.json")
    ):
        ex = _ex(
            r["text"], harmful=r["label"] == "harmful", source="wildguardmix_sample"
        )
        if ex:
            yield ex


HARMBENCH_MAP: dict[str, tuple[str, ...]] = {
    "copyright": ("ip_violation",),
    "cybercrime_intrusion": ("cybercrime_malware",),
    "illegal": (),
    "misinformation_disinformation": ("misinformation",),
    "chemical_biological": ("weapons_cbrne",),
    "harassment_bullying": ("harassment",),
    "harmful": (),
}


def read_harmbench(root: Path) -> Iterator[GuardExample]:
    """Contextual behaviors are scored with their context string first."""
    for r in _csv(
        _path(root, "guard", "harmbench", "harmbench_behaviors_text_all.csv")
    ):
        text = r["Behavior"]
        if r.get("ContextString"):
            text = f"{r['ContextString']}\n\n{text}"
        ex = _ex(
            text,
            harmful=True,
            categories=HARMBENCH_MAP.get(r["SemanticCategory"], ()),
            source="harmbench",
            group=r["SemanticCategory"],
        )
        if ex:
            yield ex


STRONGREJECT_MAP: dict[str, tuple[str, ...]] = {
    "Non-violent crimes": ("nonviolent_crime", "fraud_scams", "cybercrime_malware"),
    "Violence": ("violent_crime",),
    "Disinformation and deception": ("misinformation",),
    "Hate, harassment and discrimination": ("hate", "harassment"),
    "Illegal goods and services": ("regulated_goods", "drugs"),
    "Sexual content": ("sexual_content",),
}


def _harmful_csv(
    path: Path,
    *,
    text: str,
    group: str,
    categories: dict[str, tuple[str, ...]],
    source: str,
) -> Iterator[GuardExample]:
    """Rows of a CSV of harmful prompts, each grouped (and mapped to categories) by a column."""
    for r in _csv(path):
        cats = categories.get(r[group], ())
        ex = _ex(r[text], harmful=True, categories=cats, source=source, group=r[group])
        if ex:
            yield ex


def read_strongreject(root: Path) -> Iterator[GuardExample]:
    path = _path(root, "guard", "strongreject", "strongreject_dataset.csv")
    columns = {"text": "forbidden_prompt", "group": "category"}
    return _harmful_csv(
        path, **columns, categories=STRONGREJECT_MAP, source="strongreject"
    )


SST_MAP: dict[str, tuple[str, ...]] = {
    "Suicide, Self-Harm, and Eating Disorders": ("self_harm",),
    "Physical harm and Violence": ("violent_crime",),
    "Illegal and Highly Regulated items": ("regulated_goods", "drugs", "weapons_cbrne"),
    "Scams and fraud": ("fraud_scams",),
    "Child safety": ("child_safety",),
}


def read_simplesafetytests(root: Path) -> Iterator[GuardExample]:
    path = _path(root, "guard", "simplesafetytests", "sst_test_cases.csv")
    columns = {"text": "prompts_final", "group": "harm_area"}
    return _harmful_csv(path, **columns, categories=SST_MAP, source="simplesafetytests")


def read_maliciousinstruct(root: Path) -> Iterator[GuardExample]:
    path = _path(root, "guard", "maliciousinstruct", "MaliciousInstruct_original.txt")
    for line in path.read_text(encoding="utf-8").splitlines():
        ex = _ex(line, harmful=True, source="maliciousinstruct")
        if ex:
            yield ex


STL_FILES: dict[str, tuple[bool | None, tuple[str, ...], tuple[str, ...]]] = {
    # file: (harmful, categories, contrast)
    "I-Alpaca": (False, (), ()),
    "I-PhysicalSafetySafe": (False, (), ("violent_crime", "self_harm")),
    "I-PhysicalSafetyUnsafe": (True, (), ()),
    "I-CoNa": (True, ("hate",), ()),
    "I-Controversial": (None, (), ()),
    "Q-Harm": (True, (), ()),
}


def read_safety_tuned_llamas(root: Path) -> Iterator[GuardExample]:
    folder = _path(root, "guard", "safety_tuned_llamas_eval")
    for name, (harmful, cats, contrast) in STL_FILES.items():
        for text in _json(folder / f"{name}.json")["instructions"]:
            ex = _ex(
                text, harmful=harmful, categories=cats, contrast=contrast,
                source="safety_tuned_llamas_eval", group=name,
            )  # fmt: skip
            if ex:
                yield ex
    mal = _json(folder / "I-MaliciousInstructions.json")
    tags = mal.get("tags") or [""] * len(mal["instructions"])
    for text, tag in zip(mal["instructions"], tags, strict=False):
        cats = {"hate": ("hate",), "crime": ("nonviolent_crime", "violent_crime")}.get(
            tag, ()
        )
        ex = _ex(
            text, harmful=True, categories=cats, source="safety_tuned_llamas_eval",
            group="I-MaliciousInstructions",
        )  # fmt: skip
        if ex:
            yield ex


def read_hatecheck(root: Path) -> Iterator[GuardExample]:
    """Hateful vs non-hateful statements; ``group`` is the functionality (counter-speech,
    negation, reclaimed slurs ...): the non-hateful ones are hate look-alikes."""
    for r in _csv(_path(root, "guard", "hatecheck", "test_suite_cases.csv")):
        hateful = r["label_gold"] == "hateful"
        ex = _ex(
            r["test_case"],
            harmful=hateful,
            categories=("hate",) if hateful else (),
            contrast=() if hateful else ("hate",),
            source="hatecheck",
            group=r["functionality"],
        )
        if ex:
            yield ex


def read_deepset_test(root: Path) -> Iterator[GuardExample]:
    for r in _csv(
        _path(root, "guard", "deepset_prompt_injections", "deepset_test.csv")
    ):
        inj = r["label"].strip() == "1"
        ex = _ex(
            r["text"],
            harmful=inj,
            categories=("prompt_injection",) if inj else (),
            source="deepset_prompt_injections_test",
        )
        if ex:
            yield ex


def read_cyberseceval_prompt_injection(root: Path) -> Iterator[GuardExample]:
    """The user input alone (what a prompt guard sees), all injections; system prompts left out."""
    for r in _json(_path(root, "guard", "cyberseceval", "prompt_injection.json")):
        ex = _ex(
            r["user_input"],
            harmful=True,
            categories=("prompt_injection",),
            source="cyberseceval_prompt_injection",
            group=r.get("injection_variant", ""),
        )
        if ex:
            yield ex


def read_bipia(root: Path) -> Iterator[GuardExample]:
    """Indirect injection: each email/table context once clean (benign) and once with an attack
    instruction appended (positive), attacks assigned round-robin so the set is deterministic."""
    folder = _path(root, "guard", "bipia")
    attacks = [
        (cat, text)
        for name in ("text_attack_test.json", "code_attack_test.json")
        for cat, items in _json(folder / name).items()
        for text in items
    ]
    i = 0
    for name in ("email_test.jsonl", "table_test.jsonl"):
        for r in _jsonl(folder / name):
            context = str(r.get("context", "")).strip()
            if not context:
                continue
            clean = _ex(context, harmful=False, contrast=("prompt_injection",),
                        source="bipia", group="clean")  # fmt: skip
            cat, attack = attacks[i % len(attacks)]
            i += 1
            injected = _ex(
                f"{context}\n\n{attack}", harmful=True, categories=("prompt_injection",),
                source="bipia", group=f"attack: {cat}",
            )  # fmt: skip
            yield from (x for x in (clean, injected) if x)


# -------------------------------------------------------------------- training-source readers


def read_ailuminate(root: Path) -> Iterator[GuardExample]:
    """Held out of the guard NLI training pairs (a pair-dev source): 12 hazards, no benign."""
    for ex in _from_labeled(gs.read_ailuminate(root)):
        yield GuardExample(
            **{**ex.to_dict(), "group": ex.categories[0] if ex.categories else ""}
        )


def read_alpaca_harmless(root: Path) -> Iterator[GuardExample]:
    """Held out of the guard NLI training pairs: 400 benign instructions."""
    return _from_labeled(gs.read_alpaca_harmless(root))


def read_coconot_contrast(root: Path) -> Iterator[GuardExample]:
    """Benign look-alikes (a training source of the guard NLI pairs: use for selection only)."""
    for r in gs._jsonl(_path(root, "guard", "coconot", "coconot_contrast_eval.jsonl")):
        ex = _ex(
            r["prompt"], harmful=False, contrast=gs.COCONOT_MAP.get(r["subcategory"], ()),
            source="coconot_contrast", group=r["subcategory"],
        )  # fmt: skip
        if ex:
            yield ex


def read_mitre_frr(root: Path) -> Iterator[GuardExample]:
    """Benign cyber-operations requests (a training source: use for selection only)."""
    return _from_labeled(gs.read_cyberseceval_mitre_frr(root))


def read_toxigen(root: Path) -> Iterator[GuardExample]:
    """Held out of the guard NLI training pairs: hateful vs neutral statements about 14 groups."""
    return _from_labeled(gs.read_toxigen_demonstrations(root))


def read_tensor_trust_extraction(root: Path) -> Iterator[GuardExample]:
    """Prompt-extraction attacks and benign access codes (a training source: selection only)."""
    return _from_labeled(gs.read_tensor_trust_extraction(root))


# ------------------------------------------------------------------------------ routing sets


def _csv_routes(
    root: Path, folder: str, file: str, source: str
) -> Iterator[GuardExample]:
    for r in _csv(_path(root, "routing", folder, file)):
        ex = _ex(r["text"], route=r["category"], source=source)
        if ex:
            yield ex


def read_banking77(root: Path) -> Iterator[GuardExample]:
    return _csv_routes(root, "banking77", "test.csv", "banking77")


def read_hwu64(root: Path) -> Iterator[GuardExample]:
    return _csv_routes(root, "hwu64", "test.csv", "hwu64")


def read_snips(root: Path) -> Iterator[GuardExample]:
    folder = _path(root, "routing", "snips")
    for split in ("valid", "test"):
        texts = (folder / f"{split}_seq.in").read_text(encoding="utf-8").splitlines()
        labels = (folder / f"{split}_label").read_text(encoding="utf-8").splitlines()
        for text, label in zip(texts, labels, strict=True):
            ex = _ex(text, route=label.strip(), source="snips", group=split)
            if ex:
                yield ex


def read_massive(root: Path) -> Iterator[GuardExample]:
    for r in _jsonl(_path(root, "routing", "massive_en_intent", "validation.jsonl")):
        ex = _ex(r["text"], route=r["label_text"], source="massive_en_intent")
        if ex:
            yield ex


def read_sebis(root: Path) -> Iterator[GuardExample]:
    """Three small corpora; intent ``None`` is out of scope (gold route ``out_of_scope``)."""
    folder = _path(root, "routing", "nlu_eval_corpora_sebis")
    for name in ("AskUbuntuCorpus", "ChatbotCorpus", "WebApplicationsCorpus"):
        for s in _json(folder / f"{name}.json")["sentences"]:
            intent = s.get("intent")
            ex = _ex(
                s.get("text"), route=OUT_OF_SCOPE if intent in (None, "None") else intent,
                source="nlu_eval_corpora_sebis", group=name,
            )  # fmt: skip
            if ex:
                yield ex
