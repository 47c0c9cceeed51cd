"""Does the default scoring path give the answers of the model itself? (issue 12's acceptance check)

For each built-in model, on the same pairs and in one process: the default path
(``load_scorer(name)``: ONNX fp32) against torch fp32 (sentence-transformers ``CrossEncoder`` on
the same weights), over the NLI dev sets and the packs' eval split (prompts x the pack's
phrasings). Reports label agreement, the largest probability difference, and batch invariance of
the default path (each pair alone vs batches of 64 over shuffled, mixed-length input).

    python benchmarks/parity.py [--models crossingguard-nli-mini crossingguard-nli-micro]
        [--nli-limit 1000] [--pack-prompts 20] [--out benchmarks/results/parity]

Writes ``parity.json`` and ``parity.md`` under ``--out``. Needs the train extra (torch).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pack_common import EVAL_SETS  # noqa: E402
from readme_section import replace_section  # noqa: E402

from crossingguard.errors import DataError  # noqa: E402
from crossingguard.inference.cpu import cpu_isa_tags  # noqa: E402
from crossingguard.inference.scorer import load_scorer  # noqa: E402
from crossingguard.policy import load_policy  # noqa: E402
from crossingguard.toolkit.data.nli import load_nli  # noqa: E402
from crossingguard.toolkit.evaluation.guard_datasets import load_examples  # noqa: E402

NLI_SETS = ("mnli-dev-matched", "snli-dev", "xnli-en-dev", "guard-nli-dev")
PACKS = ("moderation", "mlcommons", "prompt-injection")


def workloads(nli_limit: int, pack_prompts: int) -> dict[str, list[tuple[str, str]]]:
    """Named pair lists: each NLI dev set, and each pack's eval split x all its phrasings."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name in NLI_SETS:
        try:
            out[name] = list(load_nli(name, limit=nli_limit).pairs)
        except (
            DataError
        ) as exc:  # generated sets (guard-nli-dev) exist only after `data guard-pairs`
            print(f"skipping {name}: {exc}", file=sys.stderr)
    for pack in PACKS:
        policy = load_policy(pack)
        hyps = [h for spec in policy.conditions for h in policy.hypotheses_of(spec)]
        prompts = [
            ex.text
            for data in EVAL_SETS[pack]
            for ex in load_examples(data, split="eval", limit=pack_prompts)
        ]
        out[f"{pack} eval split"] = [(p, h) for p in prompts for h in hyps]
    return out


def batch_invariance(scorer, pairs: list[tuple[str, str]], seed: int = 0) -> float:
    """Max |p(alone) - p(in shuffled batches of 64)| over ``pairs``."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    batched = np.empty((len(pairs), 3), dtype=np.float32)
    batched[order] = scorer.predict([pairs[i] for i in order], batch_size=64)
    alone = np.concatenate([scorer.predict([p], batch_size=1) for p in pairs])
    return float(np.abs(alone - batched).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models",
        nargs="+",
        default=["crossingguard-nli-mini", "crossingguard-nli-micro"],
    )
    parser.add_argument(
        "--nli-limit", type=int, default=1000, help="pairs per NLI dev set"
    )
    parser.add_argument(
        "--pack-prompts", type=int, default=20, help="eval-split prompts per data set"
    )
    parser.add_argument("--invariance-pairs", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/parity"))
    parser.add_argument(
        "--readme", type=Path, help="also replace the README's parity block"
    )
    args = parser.parse_args()

    sets = workloads(args.nli_limit, args.pack_prompts)
    report: dict = {
        "cpu": platform.processor() or platform.machine(),
        "isa": sorted(cpu_isa_tags()),
        "sets": {k: len(v) for k, v in sets.items()},
        "models": {},
    }
    for model in args.models:
        default = load_scorer(model)
        torch = load_scorer(model, backend="torch")
        rows = {}
        for name, pairs in sets.items():
            start = time.perf_counter()
            a = default.predict(pairs, batch_size=64)
            b = torch.predict(pairs, batch_size=64)
            rows[name] = {
                "pairs": len(pairs),
                "label_agreement": float((a.argmax(1) == b.argmax(1)).mean()),
                "max_prob_diff": float(np.abs(a - b).max()),
                "seconds": round(time.perf_counter() - start, 1),
            }
            print(model, name, rows[name], flush=True)
        everything = [p for pairs in sets.values() for p in pairs]
        sample = [
            everything[i]
            for i in np.random.default_rng(1).choice(
                len(everything), args.invariance_pairs, replace=False
            )
        ]
        report["models"][model] = {
            "default_path": f"{default.backend} {default.precision}",
            "sets": rows,
            "label_agreement_all": float(
                sum(r["label_agreement"] * r["pairs"] for r in rows.values())
                / sum(r["pairs"] for r in rows.values())
            ),
            "max_prob_diff_all": max(r["max_prob_diff"] for r in rows.values()),
            "batch1_vs_64_max_diff": batch_invariance(default, sample),
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "parity.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"CPU: {report['cpu']} ({', '.join(report['isa'])}). Default path vs torch fp32 on the same weights.",
        "",
        "| model | default path | pairs | label agreement | max prob diff | batch 1 vs 64 (max diff) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for model, r in report["models"].items():
        n = sum(s["pairs"] for s in r["sets"].values())
        lines.append(
            f"| {model} | {r['default_path']} | {n} | {100 * r['label_agreement_all']:.2f} % | "
            f"{r['max_prob_diff_all']:.1e} | {r['batch1_vs_64_max_diff']:.1e} |"
        )
    (args.out / "parity.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if args.readme:
        replace_section(args.readme, "parity", "\n".join(lines))


if __name__ == "__main__":
    main()
