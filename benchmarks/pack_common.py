"""Shared pieces of the pack benchmarks: which data sets each pack is chosen and evaluated on, and
a scorer wrapper that keeps (premise, hypothesis) scores on disk so reruns are cheap.

Splits are ``crossingguard.toolkit.evaluation.guard_datasets.split_of``: phrasings and thresholds are
chosen on ``select``, results are reported on ``eval``. Sets the NLI model was trained on
(CoCoNot contrast, CyberSecEval MITRE FRR) are used for selection only.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from crossingguard.toolkit.evaluation.guard_datasets import (
    DATASETS,
    GuardExample,
    load_examples,
)

HARM_SELECT = (
    "jbb_behaviors", "strongreject", "simplesafetytests", "harmbench", "safety_tuned_llamas_eval",
    "hatecheck", "ailuminate", "toxigen_demonstrations", "alpaca_harmless", "coconot_contrast",
    "cyberseceval_mitre_frr",
)  # fmt: skip
INJECTION_SELECT = (
    "deepset_prompt_injections_test", "cyberseceval_prompt_injection", "bipia", "jbb_artifacts",
    "jbb_behaviors", "alpaca_harmless", "coconot_contrast", "tensor_trust_extraction",
)  # fmt: skip
SELECT_SETS: dict[str, tuple[str, ...]] = {
    "moderation": HARM_SELECT,
    "mlcommons": HARM_SELECT,
    "prompt-injection": INJECTION_SELECT,
}
HARM_EVAL = (
    "jbb_behaviors", "strongreject", "simplesafetytests", "harmbench", "maliciousinstruct",
    "safety_tuned_llamas_eval", "hatecheck", "ailuminate", "toxigen_demonstrations",
    "wildguardmix_sample", "alpaca_harmless",
)  # fmt: skip
INJECTION_EVAL = (
    "deepset_prompt_injections_test", "cyberseceval_prompt_injection", "bipia", "jbb_artifacts",
    "jbb_behaviors", "alpaca_harmless",
)  # fmt: skip
EVAL_SETS: dict[str, tuple[str, ...]] = {
    "moderation": HARM_EVAL,
    "mlcommons": HARM_EVAL,
    "prompt-injection": INJECTION_EVAL,
}
if any(DATASETS[s].trained_on for sets in EVAL_SETS.values() for s in sets):
    raise SystemExit("EVAL_SETS must not hold sets the NLI model was trained on")

CANDIDATES = Path(__file__).resolve().parent / "pack_candidates"
PACKS = (
    Path(__file__).resolve().parents[1] / "src" / "crossingguard" / "policy" / "packs"
)


def examples_for(
    sets: Sequence[str], split: str, limit: int, seed: int = 0
) -> list[GuardExample]:
    out: list[GuardExample] = []
    for name in sets:
        out += load_examples(name, split=split, limit=limit, seed=seed)  # type: ignore[arg-type]
    return out


class DiskCachedScorer:
    """Wraps a scorer; scored pairs are kept in ``path`` (a pickle keyed by model and pair)."""

    def __init__(self, scorer, path: Path) -> None:
        self.scorer = scorer
        self.name = scorer.name
        self.path = path
        digest = hashlib.sha1(
            f"{scorer.name}:{scorer.model_dir}:{scorer.backend}".encode()
        )
        for weights in (
            sorted(Path(scorer.model_dir).rglob("*.onnx"))
            + sorted(Path(scorer.model_dir).glob("*.safetensors"))
        ):  # the weights themselves: a retrained model in the same folder gets new scores
            digest.update(weights.read_bytes())
        self.key = digest.hexdigest()[:12]
        self.rows: dict[tuple[str, str], np.ndarray] = {}
        if path.is_file():
            with path.open("rb") as fh:
                saved = pickle.load(fh)
            self.rows = saved.get(self.key, {})
        self.new = 0

    def predict(self, pairs, *, batch_size: int = 64) -> np.ndarray:
        missing = list(dict.fromkeys(p for p in pairs if p not in self.rows))
        if missing:
            probs = self.scorer.predict(
                missing, batch_size=batch_size, show_progress=len(missing) > 2000
            )
            self.rows.update(zip(missing, probs, strict=True))
            self.new += len(missing)
            if self.new >= 20000:
                self.save()
        return np.array([self.rows[p] for p in pairs], dtype=np.float32).reshape(
            len(pairs), 3
        )

    def save(self) -> None:
        saved = {}
        if self.path.is_file():
            with self.path.open("rb") as fh:
                saved = pickle.load(fh)
        saved[self.key] = self.rows
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(saved, fh)
        tmp.replace(self.path)
        self.new = 0
