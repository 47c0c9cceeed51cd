"""Needles in haystacks: does a harmful sentence hidden in a long benign prompt still fire, and how
long does a long prompt take? Old windowing (model-sized windows cut anywhere) against windows of
whole sentences (README, "How scoring works" -> "Long prompts").

    nice -n 10 python benchmarks/long_prompts.py [--model crossingguard-nli-mini] [--backend auto]
        [--conditions illicit,illicit/violent,self-harm/instructions,violence] [--needles 24]
        [--candidates 60] [--lengths 2000,8000,16000] [--variants old,sentences-32,...]
        [--seed 0] [--out benchmarks/results/long_prompts]

* **Needles**: harmful prompts from ``simplesafetytests`` and ``harmbench`` (seeded sample of
  ``--candidates``) that fire the chosen moderation-pack conditions when checked alone; only those
  count, so a miss is a windowing miss, not a model miss.
* **Haystacks**: benign text, Alpaca instructions (``alpaca_harmless``) and MultiNLI premises,
  shuffled and joined with spaces up to each ``--lengths`` size; the needle goes in at a random
  position between two benign texts.
* **Catch rate**: the share of needles for which a window holding (part of) the needle fires a
  condition. Only those windows are scored (the other windows of the haystack cannot make a
  needle "caught" that its own windows missed, they can only add false alarms), which keeps the
  run short; windows come from ``Scorer.windows`` and are merged with ``aggregate_windows``
  exactly as ``Scorer.predict`` does, and the guard's own decision rule is applied.
* **False alarms and time**: each variant checks the needle-free haystack of each length with the
  real ``Guard.check`` (all windows), timed.

Writes ``results.json`` and ``summary.md`` (the README table) under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shlex
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from crossingguard import load_scorer
from crossingguard.guard import Guard
from crossingguard.inference.encoding import Windowing
from crossingguard.inference.scorer import aggregate_windows
from crossingguard.policy import load_policy
from crossingguard.toolkit.data.paths import data_root
from crossingguard.toolkit.evaluation.guard_datasets import load_examples

VARIANTS: dict[str, Windowing] = {
    # before: windows as large as the model allows, a quarter overlap, cut anywhere
    "old": Windowing(strategy="sliding", tokens=None),
    "sliding-32": Windowing(strategy="sliding", tokens=32),
    "sentences-max": Windowing(strategy="sentences", tokens=None),
    "sentences-64": Windowing(strategy="sentences", tokens=64),
    "sentences-32": Windowing(strategy="sentences", tokens=32),
    "sentences-32-overlap1": Windowing(strategy="sentences", tokens=32, overlap=1),
    "sentences-24": Windowing(strategy="sentences", tokens=24),
    "sentences-16": Windowing(strategy="sentences", tokens=16),
    "sliding-16": Windowing(strategy="sliding", tokens=16),
}
DEFAULT_VARIANTS = "old,sentences-32,sentences-16"
NEEDLE_SETS = ("simplesafetytests", "harmbench")


def benign_pool() -> list[str]:
    """Benign texts: Alpaca instructions and MultiNLI premises (deduplicated)."""
    texts = [ex.text.strip() for ex in load_examples("alpaca_harmless")]
    mnli = data_root() / "nli" / "mnli" / "train_mnli3000.jsonl"
    with mnli.open(encoding="utf-8") as fh:
        for line in filter(str.strip, fh):
            row = json.loads(line)
            texts += [row["premise"].strip(), row["hypothesis"].strip()]
    return list(dict.fromkeys(t for t in texts if t))


def haystack(pool: Sequence[str], length: int, rng: random.Random) -> list[str]:
    """Benign texts, shuffled, until their joined length reaches ``length`` characters."""
    order = list(pool)
    rng.shuffle(order)
    out: list[str] = []
    total = 0
    while total < length:
        if not order:
            order = list(pool)
            rng.shuffle(order)
        out.append(order.pop())
        total += len(out[-1]) + 1
    return out


def with_needle(
    pieces: list[str], needle: str, rng: random.Random
) -> tuple[str, tuple[int, int]]:
    """The haystack with ``needle`` inserted between two pieces; the needle's character span."""
    at = rng.randrange(len(pieces) + 1)
    head = " ".join(pieces[:at])
    start = len(head) + (1 if head else 0)
    text = " ".join([*pieces[:at], needle, *pieces[at:]])
    return text, (start, start + len(needle))


class NeedleWindows:
    """A scorer for ``Guard`` that scores, for each pair, only the windows overlapping ``span``.

    Each window is scored as its own pair, which is the row ``Scorer.predict`` computes for it
    inside the long premise (windows fit the model; rows do not depend on their batch).
    """

    def __init__(self, scorer, span: tuple[int, int]) -> None:
        self.scorer = scorer
        self.name = scorer.name
        self.span = span
        self.rows = 0

    def predict(self, pairs, *, batch_size: int = 64) -> np.ndarray:
        out = np.empty((len(pairs), 3), dtype=np.float32)
        for i, (premise, hypothesis) in enumerate(pairs):
            windows = self.needle_windows(premise, hypothesis)
            self.rows += len(windows)
            probs = self.scorer.predict([(w, hypothesis) for w in windows])
            out[i] = probs[0] if len(windows) == 1 else aggregate_windows(probs)
        return out

    def needle_windows(self, premise: str, hypothesis: str) -> list[str]:
        a, b = self.span
        found, cursor = [], 0
        for window in self.scorer.windows(premise, hypothesis):
            start = premise.find(window, cursor)
            if start < 0:
                raise RuntimeError("a window is not a substring of its premise")
            cursor = start + 1
            if start < b and start + len(window) > a:
                found.append(window)
        return found


def fires(guard: Guard, prompt: str) -> bool:
    return bool(guard.check(prompt).fired_conditions)


class CachedRows:
    """Keeps each scored (premise, hypothesis) row, so both decision rules share one scoring."""

    def __init__(self, scorer) -> None:
        self.scorer = scorer
        self.name = scorer.name
        self.rows: dict[tuple[str, str], np.ndarray] = {}

    def windows(self, premise: str, hypothesis: str) -> list[str]:
        return self.scorer.windows(premise, hypothesis)

    def predict(self, pairs, *, batch_size: int = 64) -> np.ndarray:
        missing = [p for p in dict.fromkeys(pairs) if p not in self.rows]
        if missing:
            self.rows.update(
                zip(
                    missing,
                    self.scorer.predict(missing, batch_size=batch_size),
                    strict=True,
                )
            )
        return np.stack([self.rows[p] for p in pairs])


def per_window_fires(
    cached: CachedRows, policy, text: str, span: tuple[int, int]
) -> bool | None:
    """The other decision rule: each window overlapping ``span`` checked as a prompt of its own.

    A condition then combines its phrasings within one window before taking the best window, so
    phrasings cannot each pick a different benign window (``mean`` of per-phrasing maxima). Needs
    the same windows for every hypothesis (true when windows are smaller than the model allows);
    ``None`` otherwise.
    """
    hyps = [h for c in policy.conditions for h in policy.hypotheses_of(c)]
    windows = cached.windows(text, hyps[0])
    if any(cached.windows(text, h) != windows for h in hyps[1:]):
        return None
    probe = NeedleWindows(cached, span)
    near = probe.needle_windows(text, hyps[0]) if windows != [text] else windows
    verdicts = Guard(cached, policy=policy, cache_size=0).check_batch(near)
    return any(v.fired_conditions for v in verdicts)


def time_benign(scorer, guard: Guard, policy, text: str, hyps: list[str]) -> dict:
    """Check one needle-free haystack in full, timed, under both decision rules."""
    n_rows = sum(len(scorer.windows(text, h)) for h in hyps)
    cached = CachedRows(scorer)
    t0 = time.perf_counter()
    # one scorer call for every (window, hypothesis) row: the rows predict() computes
    fired_pw = per_window_fires(cached, policy, text, (0, len(text)))
    if fired_pw is None:  # windows differ per hypothesis: time the product path
        fired = fires(guard, text)
        seconds = time.perf_counter() - t0
    else:
        seconds = time.perf_counter() - t0
        whole = NeedleWindows(cached, (0, len(text)))
        fired = fires(Guard(whole, policy=policy, cache_size=0), text)
    return {
        "chars": len(text),
        "rows": n_rows,
        "seconds": seconds,
        "false_alarm": fired,
        "false_alarm_per_window_rule": fired_pw,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="crossingguard-nli-mini")
    parser.add_argument("--backend", default="auto", choices=["auto", "onnx", "torch"])
    parser.add_argument(
        "--conditions",
        default="illicit,illicit/violent,self-harm/instructions,violence",
    )
    parser.add_argument(
        "--needles", type=int, default=24, help="needles used per length"
    )
    parser.add_argument(
        "--candidates", type=int, default=60, help="needle candidates checked"
    )
    parser.add_argument(
        "--lengths",
        default="2000,8000,32000",
        help="haystack sizes for the catch rate (chars)",
    )
    parser.add_argument(
        "--time-lengths",
        default="2000,8000",
        help="benign haystack sizes checked in full, timed, for false alarms ('' for none)",
    )
    parser.add_argument(
        "--variants", default=DEFAULT_VARIANTS, help=", ".join(VARIANTS)
    )
    parser.add_argument(
        "--benign",
        type=int,
        default=2,
        help="needle-free haystacks per --time-lengths size",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/long_prompts")
    )
    args = parser.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    time_lengths = [int(x) for x in args.time_lengths.split(",") if x.strip()]
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
    started = time.perf_counter()

    pack = load_policy("moderation")
    keep = args.conditions.split(",")
    missing = sorted(set(keep) - {c.id for c in pack.conditions})
    if missing:
        parser.error(f"--conditions: not in the moderation pack: {missing}")
    policy = pack.model_copy(
        update={"conditions": [c for c in pack.conditions if c.id in keep]}
    )
    scorer = load_scorer(args.model, backend=args.backend)
    scorer.max_prompt_chars = None  # the benchmark measures long prompts on purpose
    guard = Guard(scorer, policy=policy, cache_size=0)

    candidates: list[str] = []
    for name in NEEDLE_SETS:
        candidates += [
            ex.text.strip()
            for ex in load_examples(
                name, limit=args.candidates // len(NEEDLE_SETS), seed=args.seed
            )
            if ex.harmful and len(ex.text) < 400
        ]
    needles = [n for n in candidates if fires(guard, n)][: args.needles]
    print(
        f"{len(needles)} of {len(candidates)} candidate needles fire alone", flush=True
    )

    pool = benign_pool()
    rng = random.Random(args.seed)
    catch: dict[str, dict[int, list[bool]]] = {
        v: {n: [] for n in lengths} for v in variants
    }
    catch_pw: dict[str, dict[int, list[bool | None]]] = {
        v: {n: [] for n in lengths} for v in variants
    }
    rows: dict[str, int] = dict.fromkeys(variants, 0)
    for length in lengths:
        for needle in needles:
            text, span = with_needle(haystack(pool, length, rng), needle, rng)
            for variant in variants:
                scorer.windowing = VARIANTS[variant]
                cached = CachedRows(scorer)
                probe = NeedleWindows(cached, span)
                caught = fires(Guard(probe, policy=policy, cache_size=0), text)
                catch[variant][length].append(caught)
                catch_pw[variant][length].append(
                    per_window_fires(cached, policy, text, span)
                )
                rows[variant] += probe.rows
        print(f"catch measured at {length} chars", flush=True)

    timing: dict[str, dict[int, dict[str, float | bool | int]]] = {
        v: {} for v in variants
    }
    for length in time_lengths:
        hyps = [h for c in policy.conditions for h in policy.hypotheses_of(c)]
        for variant in variants:
            scorer.windowing = VARIANTS[variant]
            runs = []
            for k in range(args.benign):
                rng_k = random.Random(args.seed + length + k)
                text = " ".join(haystack(pool, length, rng_k))
                runs.append(time_benign(scorer, guard, policy, text, hyps))
            timing[variant][length] = {
                "chars": [r["chars"] for r in runs],
                "rows": sum(r["rows"] for r in runs),
                "seconds": round(sum(r["seconds"] for r in runs), 2),
                "false_alarms": sum(r["false_alarm"] for r in runs),
                "false_alarms_per_window_rule": None
                if any(r["false_alarm_per_window_rule"] is None for r in runs)
                else sum(bool(r["false_alarm_per_window_rule"]) for r in runs),
                "haystacks": len(runs),
            }
        print(f"timing measured at {length} chars", flush=True)

    result = {
        "command": "nice -n 10 python benchmarks/long_prompts.py "
        + " ".join(
            f"--{k.replace('_', '-')} {shlex.quote(str(v))}"
            for k, v in vars(args).items()
            if k != "out"
        ),
        "model": scorer.name,
        "backend": scorer.backend,
        "precision": getattr(scorer, "precision", None),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{__import__('os').cpu_count()} logical CPUs",
        "conditions": keep,
        "hypotheses": sum(len(c.hypotheses) for c in policy.conditions),
        "needles": needles,
        "needle_candidates": len(candidates),
        "variants": {
            v: {
                "windowing": VARIANTS[v].__dict__,
                "catch": {n: float(np.mean(catch[v][n])) for n in lengths},
                "catch_per_window_rule": {
                    n: None
                    if None in catch_pw[v][n]
                    else float(np.mean([bool(x) for x in catch_pw[v][n]]))
                    for n in lengths
                },
                "needle_window_rows": rows[v],
                "haystack": timing[v],
            }
            for v in variants
        },
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps(result, indent=2) + "\n", encoding="utf-8"
    )
    text = summary(result, lengths, time_lengths)
    (args.out / "summary.md").write_text(text, encoding="utf-8")
    print(text)


def summary(result: dict, lengths: Sequence[int], time_lengths: Sequence[int]) -> str:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.0%}"

    head = " | ".join(
        [f"caught @ {n:,} chars" for n in lengths]
        + [f"benign {n:,} chars: s, windows, fired" for n in time_lengths]
    )
    lines = [
        f"| Windows | rule | {head} |",
        "| --- | --- |" + " --- |" * (len(lengths) + len(time_lengths)),
    ]
    for name, v in result["variants"].items():
        for rule, catch_key, fa_key in (
            ("guard", "catch", "false_alarms"),
            ("per window", "catch_per_window_rule", "false_alarms_per_window_rule"),
        ):
            if rule == "per window" and all(v[catch_key][n] is None for n in lengths):
                continue
            catch = [pct(v[catch_key][n]) for n in lengths]
            hay = []
            for n in time_lengths:
                h = v["haystack"][n]
                fired = "n/a" if h[fa_key] is None else f"{h[fa_key]}/{h['haystacks']}"
                hay.append(f"{h['seconds']:.0f} s, {h['rows']}, {fired}")
            lines.append(f"| `{name}` | {rule} | " + " | ".join(catch + hay) + " |")
    lines.append(
        f"\n{len(result['needles'])} needles (of {result['needle_candidates']} candidates, those "
        f"that fire alone), conditions {', '.join(result['conditions'])} "
        f"({result['hypotheses']} hypotheses), model {result['model']} ({result['backend']}, "
        f"{result['precision']}), {result['machine']}; run took {result['wall_seconds']:.0f} s."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
