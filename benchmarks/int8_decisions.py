"""What the opt-in int8 path changes in a pack's decisions, with the thresholds the pack ships.

    python benchmarks/int8_decisions.py [--packs moderation] [--eval-limit 100]
        [--model crossingguard-nli-mini] [--out benchmarks/results/int8_decisions]

Per pack: the eval-split prompts of ``pack_common.EVAL_SETS`` (as ``eval_packs.py`` uses them) are
scored by the same pack on the same model twice, with the default fp32 path and with
``precision="int8"``; the shipped thresholds (fitted on fp32 scores) apply to both. Reports the
evaluation table (fp32 -> int8: precision, recall, F1, false-positive rates), how often the
pack's decision (a prompt stopped or allowed) and the exact set of fired conditions agree, and
the largest condition-score difference. Writes ``<pack>.json`` and ``summary.md`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_packs import table
from pack_common import EVAL_SETS

from crossingguard.guard import Guard
from crossingguard.guard.calibration import score_conditions
from crossingguard.inference.scorer import load_scorer
from crossingguard.policy import load_policy
from crossingguard.toolkit.evaluation.guard_datasets import load_examples
from crossingguard.toolkit.evaluation.guard_eval import evaluate_scores

ROOT = Path(__file__).resolve().parents[1]


def decision_agreement(
    thresholds: np.ndarray, stops: np.ndarray, a: np.ndarray, b: np.ndarray
) -> dict[str, float]:
    """Agreement of two score matrices under the same thresholds (columns: conditions)."""
    fired_a, fired_b = a >= thresholds, b >= thresholds
    stop_a = (fired_a & stops).any(axis=1)
    stop_b = (fired_b & stops).any(axis=1)
    return {
        "decision_agreement": float((stop_a == stop_b).mean()),
        "fired_set_agreement": float((fired_a == fired_b).all(axis=1).mean()),
        "stopped_fp32": int(stop_a.sum()),
        "stopped_int8": int(stop_b.sum()),
        "max_score_diff": float(np.abs(a - b).max()),
        "mean_score_diff": float(np.abs(a - b).mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--packs", nargs="+", default=["moderation"])
    ap.add_argument("--eval-limit", type=int, default=100)
    ap.add_argument("--model", default="crossingguard-nli-mini")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "int8_decisions"
    )
    args = ap.parse_args()
    scorers = {p: load_scorer(args.model, precision=p) for p in ("fp32", "int8")}
    if scorers["int8"].precision != "int8":
        sys.exit(f"int8 is not available here: {'; '.join(scorers['int8'].notices)}")
    args.out.mkdir(parents=True, exist_ok=True)
    summary = [
        f"Built-in packs with `{args.model}`, eval split (at most {args.eval_limit} prompts per "
        "set), the shipped thresholds; cells show fp32 (default) → int8. Percentages.",
        "",
    ]
    for pack in args.packs:
        policy = load_policy(pack)
        applied = policy.for_model(scorers["fp32"].name)
        thresholds = np.array([c.threshold for c in applied.conditions], dtype=float)
        stops = np.array([c.action in ("block", "flag") for c in applied.conditions])
        results = {p: [] for p in scorers}
        scores = {p: [] for p in scorers}
        examples = []
        for name in EVAL_SETS[pack]:
            ex = load_examples(name, split="eval", limit=args.eval_limit)
            print(f"{pack} / {name}: {len(ex)} prompts", file=sys.stderr, flush=True)
            examples += ex
            for precision, scorer in scorers.items():
                guard = Guard(scorer, policy=policy, cache_size=0)
                ids, s = score_conditions(guard, [e.text for e in ex])
                scores[precision].append(s)
                results[precision].append(
                    evaluate_scores(
                        applied, ids, s, ex, dataset=name, model=scorer.name
                    )
                )
        pooled = {p: np.concatenate(scores[p]) for p in scorers}
        for precision, scorer in scorers.items():
            results[precision].append(
                evaluate_scores(
                    applied,
                    ids,
                    pooled[precision],
                    examples,
                    dataset="all",
                    model=scorer.name,
                )
            )
        agreement = decision_agreement(
            thresholds, stops, pooled["fp32"], pooled["int8"]
        )
        (args.out / f"{pack}.json").write_text(
            json.dumps(
                {
                    "pack": pack,
                    "model": args.model,
                    "eval_limit": args.eval_limit,
                    "prompts": len(examples),
                    "agreement": agreement,
                    "fp32": [r.to_dict() for r in results["fp32"]],
                    "int8": [r.to_dict() for r in results["int8"]],
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        summary += [
            f"#### `{pack}`",
            "",
            table(results["fp32"], results["int8"]),
            "",
            f"Same decision (stopped or allowed) on {100 * agreement['decision_agreement']:.1f} % "
            f"of {len(examples)} prompts, the same fired conditions on "
            f"{100 * agreement['fired_set_agreement']:.1f} %; stopped {agreement['stopped_fp32']} "
            f"(fp32) vs {agreement['stopped_int8']} (int8); condition scores differ by "
            f"{agreement['mean_score_diff']:.4f} on average, {agreement['max_score_diff']:.3f} at "
            "most.",
            "",
        ]
        print("\n".join(summary[-4:]), file=sys.stderr)
    (args.out / "summary.md").write_text("\n".join(summary), encoding="utf-8")
    print(f"wrote {args.out}/summary.md", file=sys.stderr)


if __name__ == "__main__":
    main()
