"""Evaluate the built-in packs before and after calibration: calibrated on one split, evaluated on
another (the numbers in the README's Guardrails section).

    python benchmarks/eval_packs.py [--packs moderation mlcommons prompt-injection]
        [--select-limit 150] [--eval-limit 200] [--target f1] [--model M] [--backend onnx]
        [--out benchmarks/results/guard_packs]

Per pack: thresholds are fitted (``--target``) on the ``select`` split of the pack's dev sets
(``pack_common.SELECT_SETS``, the split its phrasings were chosen on) and both the shipped pack
("before") and the calibrated one ("after") are evaluated with ``crossingguard.evaluation.
guard_eval`` on the ``eval`` split of ``pack_common.EVAL_SETS`` (no set the model was trained on),
each set separately and pooled. Writes ``<pack>.json``, ``<pack>.calibrated.yaml``,
``<pack>.pr.png`` and ``summary.md`` (the README tables) under ``--out``.

The same numbers for one set come from the CLI, e.g.::

    crossingguard calibrate moderation --data jbb_behaviors --split select -o mod.yaml
    crossingguard eval-guard mod.yaml --data jbb_behaviors --split eval --limit 200
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pack_common import EVAL_SETS, SELECT_SETS, DiskCachedScorer, examples_for

from crossingguard.evaluation.guard_datasets import condition_labels, load_examples
from crossingguard.evaluation.guard_eval import GuardEvalResult, evaluate_scores
from crossingguard.guard import Guard
from crossingguard.guard.calibration import (
    calibrate_scores,
    save_pr_curves,
    score_conditions,
)
from crossingguard.policy import dump_policy, load_policy

ROOT = Path(__file__).resolve().parents[1]


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def cells(r: GuardEvalResult) -> list[str]:
    o = r.overall
    has_pos = bool(o and o.support)
    has_neg = bool(o and o.fp + o.tn)
    return [
        pct(o.precision) if has_pos and has_neg and o.tp + o.fp else "-",
        pct(o.recall) if has_pos else "-",
        pct(o.f1) if has_pos and has_neg else "-",
        pct(o.fpr) if has_neg else "-",
        pct(r.lookalike_fpr),
    ]


def table(before: list[GuardEvalResult], after: list[GuardEvalResult]) -> str:
    head = [
        "data (eval split)",
        "n",
        "precision",
        "recall",
        "F1",
        "FPR benign",
        "FPR look-alikes",
    ]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for b, a in zip(before, after):
        pairs = [x if x == y else f"{x} → {y}" for x, y in zip(cells(b), cells(a))]
        name = f"**{b.dataset}**" if b.dataset == "all" else b.dataset
        lines.append("| " + " | ".join([name, str(b.n), *pairs]) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--packs", nargs="+", default=list(EVAL_SETS))
    ap.add_argument("--select-limit", type=int, default=150)
    ap.add_argument("--eval-limit", type=int, default=200)
    ap.add_argument("--target", default="f1")
    ap.add_argument("--model", default=None)
    ap.add_argument("--backend", default="onnx")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "pack_scores.pkl")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "guard_packs"
    )
    ap.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="also put the tables in this README, between the guard-pack-results markers",
    )
    args = ap.parse_args()

    from crossingguard.inference.scorer import load_scorer

    scorer = DiskCachedScorer(
        load_scorer(args.model, backend=args.backend, threads=args.threads), args.cache
    )
    args.out.mkdir(parents=True, exist_ok=True)
    summary = [
        (
            f"Built-in packs with `{scorer.name}` ({args.backend} backend), eval split; cells show "
            f"shipped thresholds → thresholds calibrated for {args.target} on the select split. "
            "Percentages."
        ),
        "",
    ]
    try:
        for pack in args.packs:
            policy = load_policy(pack)
            guard = Guard(scorer, policy=policy, cache_size=0)
            sel = examples_for(SELECT_SETS[pack], "select", args.select_limit)
            print(
                f"{pack}: calibrating on {len(sel)} select prompts",
                file=sys.stderr,
                flush=True,
            )
            ids, s_sel = score_conditions(guard, [e.text for e in sel])
            labels = {
                cid: condition_labels(c.categories, sel)
                for cid, c in zip(ids, policy.conditions)
            }
            cal = calibrate_scores(policy, ids, s_sel, labels, target=args.target)
            dump_policy(cal.policy, args.out / f"{pack}.calibrated.yaml")
            save_pr_curves(cal, args.out / f"{pack}.pr.png")
            before, after, pooled_ex, pooled_s = [], [], [], []
            for name in EVAL_SETS[pack]:
                ex = load_examples(name, split="eval", limit=args.eval_limit)
                print(f"  {name}: {len(ex)} eval prompts", file=sys.stderr, flush=True)
                _, s = score_conditions(guard, [e.text for e in ex])
                before.append(
                    evaluate_scores(policy, ids, s, ex, dataset=name, model=scorer.name)
                )
                after.append(
                    evaluate_scores(
                        cal.policy, ids, s, ex, dataset=name, model=scorer.name
                    )
                )
                pooled_ex += ex
                pooled_s.append(s)
            import numpy as np

            s_all = np.concatenate(pooled_s)
            before.append(
                evaluate_scores(
                    policy, ids, s_all, pooled_ex, dataset="all", model=scorer.name
                )
            )
            after.append(
                evaluate_scores(
                    cal.policy, ids, s_all, pooled_ex, dataset="all", model=scorer.name
                )
            )
            (args.out / f"{pack}.json").write_text(
                json.dumps(
                    {
                        "pack": pack,
                        "model": scorer.name,
                        "target": args.target,
                        "select_sets": list(SELECT_SETS[pack]),
                        "select_prompts": len(sel),
                        "calibration": cal.to_dict(),
                        "before": [r.to_dict() for r in before],
                        "after": [r.to_dict() for r in after],
                    },
                    indent=2,
                )
                + "\n",
                encoding="utf-8",
            )
            summary += [f"#### `{pack}`", "", table(before, after), ""]
            print(table(before, after), file=sys.stderr)
    finally:
        scorer.save()
    (args.out / "summary.md").write_text("\n".join(summary), encoding="utf-8")
    print(f"wrote {args.out}/summary.md", file=sys.stderr)
    if args.readme is not None:
        update_readme(args.readme, "\n".join(summary))
        print(f"updated {args.readme}", file=sys.stderr)


START, END = "<!-- guard-pack-results:start -->", "<!-- guard-pack-results:end -->"


def update_readme(path: Path, tables: str) -> None:
    """Replace the text between the markers (only that) with the new tables."""
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{path}: markers {START} / {END} not found")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{tables.strip()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
