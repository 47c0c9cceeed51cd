"""Labeled prompts for guard evaluation and calibration: the registry of data sets, splits, labels.

A data set is read by its adapter (``guard_readers``, one per set) into :class:`GuardExample`
records: the prompt, whether it is harmful (``None`` where the set does not say), its canonical
categories (``crossingguard.toolkit.data.hypotheses``), the benign look-alike categories it imitates
(``contrast``), a ``group`` for breakdowns (a HateCheck functionality, a Safety-Tuned LLaMAs file,
a JBB category) and, for routing sets, the gold ``route`` (``out_of_scope`` for prompts that
belong to no route; ``None`` = no routing label).

``load_examples(name_or_path, split=..., limit=...)`` reads a named set or a JSONL file. Splits are
fixed by a hash of the normalised prompt (``select`` / ``eval``, about half each), so they do not
depend on file order, sampling or which other sets are loaded: choose phrasings and fit thresholds
on ``select``, report on ``eval``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from crossingguard.errors import InputError
from crossingguard.io import jsonl_objects
from crossingguard.text import check_text
from crossingguard.toolkit.data.hypotheses import CATEGORIES
from crossingguard.toolkit.evaluation.guard_readers import (
    OUT_OF_SCOPE,
    GuardExample,
    read_ailuminate,
    read_alpaca_harmless,
    read_banking77,
    read_bipia,
    read_coconot_contrast,
    read_cyberseceval_prompt_injection,
    read_deepset_test,
    read_harmbench,
    read_hatecheck,
    read_hwu64,
    read_jbb_artifacts,
    read_jbb_behaviors,
    read_maliciousinstruct,
    read_massive,
    read_mitre_frr,
    read_safety_tuned_llamas,
    read_sebis,
    read_simplesafetytests,
    read_snips,
    read_strongreject,
    read_tensor_trust_extraction,
    read_toxigen,
    read_wildguardmix,
)

__all__ = [
    "DATASETS",
    "OUT_OF_SCOPE",
    "GuardExample",
    "condition_labels",
    "load_examples",
    "policy_labels",
    "read_jsonl_examples",
    "split_of",
]

Split = Literal["all", "select", "eval"]
Kind = Literal["guard", "routing"]


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
# the names crossingguard.toolkit.routing uses for the same sets
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
    except OSError as exc:  # a folder, no permission
        raise InputError(
            f"{path}: cannot read it ({exc.strerror or exc}); pass a JSONL file"
        ) from None
    out = []
    example = '{"text": ..., "harmful": true/false}'
    for n, row in jsonl_objects(raw, str(path), example=example):
        text = check_text(
            row.get("text", row.get("prompt")), f"{path} line {n} -> text"
        )
        harmful = row.get("harmful")
        if harmful not in (True, False, None):
            raise InputError(
                f"{path} line {n} -> harmful: must be true, false or null, got {harmful!r}"
            )
        cats = row.get("categories") or []
        if isinstance(cats, str):
            cats = [cats]
        if not isinstance(cats, list):
            raise InputError(
                f"{path} line {n} -> categories: must be a list of names, got {cats!r:.60}"
            )
        unknown = [c for c in cats if not isinstance(c, str) or c not in CATEGORIES]
        if unknown:
            raise InputError(
                f"{path} line {n} -> categories: unknown {unknown}; expected names from "
                f"crossingguard.toolkit.data.hypotheses.CATEGORIES ({', '.join(CATEGORIES)})"
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
        from crossingguard.toolkit.data.paths import data_root

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
