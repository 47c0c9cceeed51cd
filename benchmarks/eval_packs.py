"""Evaluate the built-in packs before and after calibration: calibrated on one split, evaluated on
another (the numbers in the README's Guardrails section).

    python benchmarks/eval_packs.py [--packs moderation mlcommons prompt-injection]
        [--select-limit 150] [--eval-limit 200] [--target f1] [--pooled-target f1]
        [--model M] [--backend onnx] [--out benchmarks/results/guard_packs]

Per pack: thresholds are fitted (``--target``) on the ``select`` split of the pack's dev sets
(``pack_common.SELECT_SETS``, the split its phrasings were chosen on), starting from the pack with
every condition at the default threshold, and both that uncalibrated pack ("before") and the
calibrated one ("after") are evaluated with ``crossingguard.toolkit.evaluation.
guard_eval`` on the ``eval`` split of ``pack_common.EVAL_SETS`` (no set the model was trained on),
each set separately and pooled. With ``--pooled-target`` the per-condition thresholds are the
starting point of a second fit of all ``block``/``flag`` thresholds together for the pack's own
decision (``crossingguard.toolkit.evaluation.pooled_calibration``): per-condition F1 optima add up their
false alarms over a dozen conditions. Writes ``<pack>.json``, ``<pack>.calibrated.yaml``,
``<pack>.pr.png`` and ``summary.md`` (the README tables) under ``--out``. With ``--ship`` the
fitted thresholds are written into the built-in pack files (``src/crossingguard/policy/packs``)
as the ``--model``'s entry of each condition's ``thresholds``, keeping other models' entries:
run it once per built-in model (``--model crossingguard-nli-mini``, ``--model
crossingguard-nli-micro``). That is how the packs get their thresholds; rerun it after
``select_pack_hypotheses.py``.

The same numbers for one set come from the CLI, e.g.::

    crossingguard calibrate moderation --data jbb_behaviors --split select -o mod.yaml
    crossingguard eval-guard mod.yaml --data jbb_behaviors --split eval --limit 200
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pack_common import EVAL_SETS, SELECT_SETS, DiskCachedScorer, examples_for
from readme_section import replace_section

from crossingguard.guard import Guard
from crossingguard.guard.calibration import (
    calibrate_scores,
    save_pr_curves,
    score_conditions,
)
from crossingguard.policy import Policy, dump_policy, load_policy
from crossingguard.toolkit.evaluation.guard_datasets import (
    condition_labels,
    load_examples,
    policy_labels,
)
from crossingguard.toolkit.evaluation.guard_eval import GuardEvalResult, evaluate_scores
from crossingguard.toolkit.evaluation.pooled_calibration import fit_pooled_thresholds

ROOT = Path(__file__).resolve().parents[1]
PACKS_DIR = ROOT / "src" / "crossingguard" / "policy" / "packs"
SHIPPED_NOTE = """\
# Thresholds: per model (each condition's `thresholds`), fitted for {target} on the `select` split
# by benchmarks/eval_packs.py --ship --model MODEL{flags} and evaluated on the `eval` split (README,
# Guardrails); other models get the default threshold and a warning. Fit your own with
# `crossingguard calibrate`.
# Edit the candidates file and rerun both scripts rather than editing this file by hand.
"""


def uncalibrated(policy: Policy) -> Policy:
    """The pack with every condition at the policy's default threshold, for every model."""
    conditions = [
        c.model_copy(update={"threshold": None, "thresholds": {}})
        for c in policy.conditions
    ]
    return policy.model_copy(update={"conditions": conditions})


def ship_thresholds(
    pack: str, fitted: Mapping[str, float], model: str, target: str, flags: str = ""
) -> Path:
    """Write ``model``'s fitted thresholds (condition id -> threshold) into the built-in pack
    file as that model's ``thresholds`` entries, keeping other models' entries and the
    provenance header (the lines before the one that starts ``# Thresholds``). A fitted
    condition loses any model-independent ``threshold``: a built-in pack applies fitted
    thresholds only to the model they were fitted for."""
    path = PACKS_DIR / f"{pack}.yaml"
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#") or line.startswith("# Thresholds"):
            break
        header.append(line + "\n")
    shipped = load_policy(path)
    conditions = [
        c.model_copy(
            update={
                "threshold": None,
                "thresholds": {**c.thresholds, model: fitted[c.id]},
            }
        )
        if c.id in fitted
        else c
        for c in shipped.conditions
    ]
    dump_policy(shipped.model_copy(update={"conditions": conditions}), path)
    path.write_text(
        "".join(header)
        + SHIPPED_NOTE.format(target=target, flags=flags)
        + path.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    load_policy(path)  # still valid
    return path


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
    ap.add_argument(
        "--pooled-target",
        default=None,
        help=(
            "after the per-condition fit, fit the block/flag thresholds together for the "
            "pack's own decision (a prompt is stopped when any condition fires) on the select "
            "split: f1, precision=P or fpr=F (crossingguard.toolkit.evaluation.pooled_calibration). "
            "Per-condition F1 optima add up their false alarms over 13 conditions"
        ),
    )
    ap.add_argument(
        "--model",
        default=None,
        help="model to score with (default: the built-in default); --ship writes its thresholds",
    )
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
    ap.add_argument(
        "--ship",
        action="store_true",
        help="write the calibrated thresholds into the built-in pack files",
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
            f"default threshold → thresholds calibrated for {args.target} on the select split"
            + (
                f", then together for the pack's pooled decision ({args.pooled_target})"
                if args.pooled_target
                else ""
            )
            + (" (the thresholds the packs ship with). " if args.ship else ". ")
            + "Percentages."
        ),
        "",
    ]
    try:
        for pack in args.packs:
            policy = uncalibrated(load_policy(pack))
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
            cal = calibrate_scores(
                policy, ids, s_sel, labels, target=args.target, model=scorer.name
            )
            fitted = {c.id: c.after.threshold for c in cal.conditions}
            fitted_policy, pooled = cal.policy, None
            if args.pooled_target:
                y = policy_labels([c.categories for c in policy.conditions], sel)
                pooled = fit_pooled_thresholds(
                    cal.policy,
                    ids,
                    s_sel,
                    y,
                    target=args.pooled_target,
                    model=scorer.name,
                )
                fitted_policy = pooled.policy
                fitted = {cid: pooled.thresholds_after[cid] for cid in fitted}
                print(
                    f"  pooled {pooled.target} on select: F1 {pooled.before.f1:.3f} -> "
                    f"{pooled.after.f1:.3f}, FPR {pooled.before.fpr:.3f} -> "
                    f"{pooled.after.fpr:.3f}",
                    file=sys.stderr,
                )
            dump_policy(fitted_policy, args.out / f"{pack}.calibrated.yaml")
            target = args.target + (f", pooled {args.pooled_target}" if pooled else "")
            if args.ship:
                flags = f" --pooled-target {args.pooled_target}" if pooled else ""
                path = ship_thresholds(pack, fitted, scorer.name, target, flags)
                print(f"  wrote {scorer.name} thresholds to {path}", file=sys.stderr)
            # the thresholds a guard on this model applies
            applied = fitted_policy.for_model(scorer.name)
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
                        applied, ids, s, ex, dataset=name, model=scorer.name
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
                    applied, ids, s_all, pooled_ex, dataset="all", model=scorer.name
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
                        "pooled_calibration": pooled.to_dict() if pooled else None,
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
        replace_section(args.readme, "guard-pack-results", "\n".join(summary))
        print(f"updated {args.readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
