"""Labeled prompts for guard evaluation and calibration: one small adapter per data set.

Every adapter yields :class:`GuardExample` records: the prompt, whether it is harmful (``None``
where the set does not say), its canonical categories (``crossingguard.data.hypotheses``), the
benign look-alike categories it imitates (``contrast``), a ``group`` for breakdowns (a HateCheck
functionality, a Safety-Tuned LLaMAs file, a JBB category) and, for routing sets, the gold
``route`` (``out_of_scope`` for prompts that belong to no route; ``None`` = no routing label). Training-source readers of ``crossingguard.data.guard_sources``
are reused as they are; the dev-only sets, which that module reads only as text for its
contamination filter, get labeled adapters here.

``load_examples(name_or_path, split=..., limit=...)`` reads a named set or a JSONL file. Splits are
fixed by a hash of the normalised prompt (``select`` / ``eval``, about half each), so they do not
depend on file order, sampling or which other sets are loaded: choose phrasings and fit thresholds
on ``select``, report on ``eval``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crossingguard.data import guard_sources as gs
from crossingguard.data.hypotheses import CATEGORIES
from crossingguard.errors import DataError, InputError

Split = Literal["all", "select", "eval"]
OUT_OF_SCOPE = "out_of_scope"  # gold route of a prompt that belongs to no route
Kind = Literal["guard", "routing"]


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


def _norm(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())


def split_of(text: str) -> Literal["select", "eval"]:
    """``select`` or ``eval``, from a hash of the normalised text (stable across runs)."""
    digest = hashlib.sha1(_norm(text).encode("utf-8")).digest()
    return "select" if digest[0] % 2 == 0 else "eval"


def condition_labels(
    categories: Sequence[str], examples: Sequence[GuardExample]
) -> np.ndarray:
    """1 where a condition covering ``categories`` should fire, 0 where not, -1 unknown.

    Benign prompts are 0. A harmful prompt is 1 for a condition without categories (a generic
    rule); for a condition with categories it is 1 if the prompt's categories overlap them, 0 if
    the prompt has other categories, and -1 if the set gives no categories. ``harmful=None`` is 1
    on overlap and -1 otherwise.
    """
    want = set(categories)
    out = np.full(len(examples), -1, dtype=np.int8)
    for i, ex in enumerate(examples):
        if ex.route is not None and ex.harmful is None and not ex.categories:
            continue
        hit = bool(want & set(ex.categories))
        if ex.harmful is False:
            out[i] = 0
        elif hit:
            out[i] = 1
        elif ex.harmful is True:
            if not want:
                out[i] = 1
            elif ex.categories:
                out[i] = 0
    return out


def policy_labels(
    condition_categories: Sequence[Sequence[str]], examples: Sequence[GuardExample]
) -> np.ndarray:
    """1 where a policy with these conditions should flag the prompt, 0 where not, -1 unknown.

    The policy's scope is the union of its conditions' categories. A harmful prompt whose
    categories all lie outside that scope (a hateful request, for a prompt-injection policy) is a
    negative; a harmful prompt without categories counts as a positive. If any condition has no
    categories the policy is generic and ``harmful`` is the label.
    """
    if not condition_categories or any(not cats for cats in condition_categories):
        return np.array(
            [-1 if e.harmful is None else int(e.harmful) for e in examples],
            dtype=np.int8,
        )
    scope = {c for cats in condition_categories for c in cats}
    out = np.full(len(examples), -1, dtype=np.int8)
    for i, ex in enumerate(examples):
        if ex.harmful is False:
            out[i] = 0
        elif scope & set(ex.categories):
            out[i] = 1
        elif ex.harmful is True:
            out[i] = 0 if ex.categories else 1
    return out


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
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


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


def read_strongreject(root: Path) -> Iterator[GuardExample]:
    for r in _csv(_path(root, "guard", "strongreject", "strongreject_dataset.csv")):
        ex = _ex(
            r["forbidden_prompt"],
            harmful=True,
            categories=STRONGREJECT_MAP.get(r["category"], ()),
            source="strongreject",
            group=r["category"],
        )
        if ex:
            yield ex


SST_MAP: dict[str, tuple[str, ...]] = {
    "Suicide, Self-Harm, and Eating Disorders": ("self_harm",),
    "Physical harm and Violence": ("violent_crime",),
    "Illegal and Highly Regulated items": ("regulated_goods", "drugs", "weapons_cbrne"),
    "Scams and fraud": ("fraud_scams",),
    "Child safety": ("child_safety",),
}


def read_simplesafetytests(root: Path) -> Iterator[GuardExample]:
    for r in _csv(_path(root, "guard", "simplesafetytests", "sst_test_cases.csv")):
        ex = _ex(
            r["prompts_final"],
            harmful=True,
            categories=SST_MAP.get(r["harm_area"], ()),
            source="simplesafetytests",
            group=r["harm_area"],
        )
        if ex:
            yield ex


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
    for text, tag in zip(mal["instructions"], tags):
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
        for text, label in zip(texts, labels):
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


@dataclass(frozen=True)
class DatasetSpec:
    reader: Callable[[Path], Iterable[GuardExample]]
    kind: Kind
    description: str
    trained_on: bool = (
        False  # a training source of the guard NLI pairs: select, never report
    )
    tags: tuple[str, ...] = field(default=())


DATASETS: dict[str, DatasetSpec] = {
    "jbb_behaviors": DatasetSpec(read_jbb_behaviors, "guard", "100 harmful goals + 100 benign twins, 10 categories"),
    "jbb_artifacts": DatasetSpec(read_jbb_artifacts, "guard", "JBB goals wrapped by PAIR/GCG/JBC/random-search attacks"),
    "wildguardmix_sample": DatasetSpec(read_wildguardmix, "guard", "1,554 prompts, harmful/safe, partly adversarial"),
    "harmbench": DatasetSpec(read_harmbench, "guard", "400 harmful behaviors, 7 semantic categories"),
    "strongreject": DatasetSpec(read_strongreject, "guard", "313 forbidden prompts, 6 categories"),
    "simplesafetytests": DatasetSpec(read_simplesafetytests, "guard", "100 clearly harmful prompts, 5 harm areas"),
    "maliciousinstruct": DatasetSpec(read_maliciousinstruct, "guard", "100 malicious instructions"),
    "safety_tuned_llamas_eval": DatasetSpec(read_safety_tuned_llamas, "guard", "harmful/safe instruction sets; PhysicalSafetySafe look-alikes"),
    "hatecheck": DatasetSpec(read_hatecheck, "guard", "3,728 hate functional tests (hateful / non-hateful look-alikes)"),
    "deepset_prompt_injections_test": DatasetSpec(read_deepset_test, "guard", "116 prompts, injection/benign"),
    "cyberseceval_prompt_injection": DatasetSpec(read_cyberseceval_prompt_injection, "guard", "251 injection user inputs"),
    "bipia": DatasetSpec(read_bipia, "guard", "150 email/table contexts, clean and with an injected instruction"),
    "ailuminate": DatasetSpec(read_ailuminate, "guard", "1,200 hazard prompts, 12 MLCommons hazards (held out of pair training)"),
    "alpaca_harmless": DatasetSpec(read_alpaca_harmless, "guard", "400 benign instructions (held out of pair training)"),
    "toxigen_demonstrations": DatasetSpec(read_toxigen, "guard", "hateful vs neutral statements (held out of pair training)"),
    "coconot_contrast": DatasetSpec(read_coconot_contrast, "guard", "benign look-alikes (training source)", trained_on=True),
    "cyberseceval_mitre_frr": DatasetSpec(read_mitre_frr, "guard", "750 benign cyber requests (training source)", trained_on=True),
    "tensor_trust_extraction": DatasetSpec(read_tensor_trust_extraction, "guard", "prompt-extraction attacks vs access codes (training source)", trained_on=True),
    "banking77": DatasetSpec(read_banking77, "routing", "banking intents, 77 (test)"),
    "hwu64": DatasetSpec(read_hwu64, "routing", "home-assistant intents, 64 (test)"),
    "snips": DatasetSpec(read_snips, "routing", "7 intents (valid + test)"),
    "massive_en_intent": DatasetSpec(read_massive, "routing", "60 intents (validation)"),
    "nlu_eval_corpora_sebis": DatasetSpec(read_sebis, "routing", "3 small corpora with out-of-scope `None`"),
}  # fmt: skip
# the names crossingguard.routing uses for the same sets
DATASETS["massive"] = DATASETS["massive_en_intent"]
DATASETS["sebis"] = DATASETS["nlu_eval_corpora_sebis"]


def read_jsonl_examples(path: Path) -> list[GuardExample]:
    """Rows ``{"text" (or "prompt"), "harmful", "categories", "route", "source", "group"}``."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"{path}: file not found; pass a JSONL file or a data set name "
            f"({', '.join(DATASETS)})"
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 (byte {exc.start}); save it as UTF-8 JSONL"
        ) from None
    out = []
    for n, line in enumerate(raw.lstrip("\ufeff").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {n}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise InputError(
                f"{path} line {n}: expected a JSON object, got {type(row).__name__}"
            )
        text = row.get("text", row.get("prompt"))
        if not isinstance(text, str) or not text.strip():
            raise InputError(
                f"{path} line {n} -> text: must be a non-empty string, got {text!r:.60}"
            )
        harmful = row.get("harmful")
        if harmful not in (True, False, None):
            raise InputError(
                f"{path} line {n} -> harmful: must be true, false or null, got {harmful!r}"
            )
        cats = row.get("categories") or []
        if isinstance(cats, str):
            cats = [cats]
        unknown = [c for c in cats if c not in CATEGORIES]
        if unknown:
            raise InputError(
                f"{path} line {n} -> categories: unknown {unknown}; expected names from "
                f"crossingguard.data.hypotheses.CATEGORIES ({', '.join(CATEGORIES)})"
            )
        route = row.get("route")
        if route is not None and not isinstance(route, str):
            raise InputError(
                f"{path} line {n} -> route: must be a string or null, got {route!r}"
            )
        out.append(
            GuardExample(
                text.strip(),
                harmful,
                tuple(cats),
                str(row.get("source", path.stem)),
                str(row.get("group", "")),
                route=route,
            )
        )
    if not out:
        raise InputError(f"{path} has no rows; expected JSONL with text and harmful")
    return out


def load_examples(
    name_or_path: str | Path,
    *,
    split: Split = "all",
    limit: int | None = None,
    seed: int = 0,
    root: Path | None = None,
) -> list[GuardExample]:
    """A named data set (``DATASETS``) or a JSONL file, optionally one split and a seeded sample
    of at most ``limit`` prompts (the same prompts for the same seed, whatever the file order)."""
    name = str(name_or_path)
    if name in DATASETS:
        from crossingguard.data.paths import data_root

        items = list(DATASETS[name].reader(root or data_root()))
    elif name.endswith((".jsonl", ".json")) or Path(name).exists():
        items = read_jsonl_examples(Path(name))
    else:
        raise InputError(
            f"data: unknown data set {name!r}; expected a JSONL file or one of "
            f"{', '.join(DATASETS)}"
        )
    seen: set[str] = set()
    unique = []
    for ex in items:
        key = _norm(ex.text)
        if key not in seen:
            seen.add(key)
            unique.append(ex)
    if split != "all":
        unique = [ex for ex in unique if split_of(ex.text) == split]
    if limit is not None and len(unique) > limit:

        def rank(ex: GuardExample) -> bytes:
            return hashlib.sha1(f"{seed}:{_norm(ex.text)}".encode()).digest()

        keep = {id(ex) for ex in sorted(unique, key=rank)[:limit]}
        unique = [ex for ex in unique if id(ex) in keep]
    return unique
