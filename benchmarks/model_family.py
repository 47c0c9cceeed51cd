"""The README's model-family table: accuracy, CPU throughput and peak memory per model and export.

    python benchmarks/model_family.py                       # full dev sets (about 15 minutes on 2 cores)
    python benchmarks/model_family.py --limit 500 --json    # quick look
    python benchmarks/model_family.py --speed-only          # throughput and peak RSS only

For each built-in model (mini, micro) and each way of running it (the default ONNX fp32 path, the
opt-in int8 path where the model has an int8 export this CPU passes, torch through
sentence-transformers) a fresh subprocess loads the model, scores the dev sets (F1 micro =
accuracy) and a fixed throughput set (samples/s at batch 64), and reports its peak RSS.

    python benchmarks/model_family.py --reevaluate --variants onnx-int8 \
        --sets mnli-dev-matched snli-dev xnli-en-dev    # update evaluation.json

Speed is also given as a ratio to the first row (mini, torch), measured in the same run on the
same machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

MODELS = ("crossingguard-nli-mini", "crossingguard-nli-micro")
VARIANTS = ("torch", "onnx-fp32", "onnx-int8")
EVAL_SETS = ("mnli-dev-matched", "snli-dev", "xnli-en-dev", "guard-nli-dev")
EVAL_SETS_ALL = EVAL_SETS + ("intent-nli-dev",)
THROUGHPUT_PAIRS = 1024


def worker(
    model: str,
    variant: str,
    limit: int | None,
    threads: int | None,
    accuracy: bool = True,
) -> dict:
    from crossingguard.inference.loading import resolve_model
    from crossingguard.inference.scorer import load_scorer
    from crossingguard.toolkit.data.nli import load_nli
    from crossingguard.toolkit.evaluation.nli_eval import evaluate_nli

    if variant == "torch":
        scorer = load_scorer(model, backend="torch", threads=threads)
    else:
        precision = "int8" if variant == "onnx-int8" else "fp32"
        scorer = load_scorer(
            resolve_model(model).path,
            backend="onnx",
            precision=precision,
            threads=threads,
        )
        if scorer.precision != precision:
            return {
                "model": model,
                "variant": variant,
                "skipped": "; ".join(scorer.notices),
            }
    row: dict = {"model": model, "variant": variant, "f1_micro": {}}
    for name in EVAL_SETS if accuracy else ():
        data = load_nli(name)
        if limit:
            data = data.head(limit)
        row["f1_micro"][name] = round(
            evaluate_nli(scorer, data).to_dict()["f1_micro"], 4
        )
    pairs = load_nli("mnli-dev-matched").pairs[:THROUGHPUT_PAIRS]
    scorer.predict(pairs[:64], batch_size=64)  # warm-up
    start = time.perf_counter()
    scorer.predict(pairs, batch_size=64)
    row["samples_per_s"] = round(len(pairs) / (time.perf_counter() - start), 1)
    row["peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    return row


def markdown(rows: list[dict]) -> str:
    rows = [r for r in rows if "skipped" not in r]
    base = rows[0]["samples_per_s"]
    head = (
        "| Model | Backend | "
        + " | ".join(EVAL_SETS)
        + " | samples/s (bs 64) | vs first row | peak RSS (MB) |"
    )
    lines = [head, "|" + " --- |" * (len(EVAL_SETS) + 5)]
    for r in rows:
        accs = " | ".join(
            f"{r['f1_micro'][n]:.4f}" if n in r["f1_micro"] else "-" for n in EVAL_SETS
        )
        lines.append(
            f"| `{r['model']}` | {r['variant']} | {accs} | {r['samples_per_s']:.1f} | "
            f"{r['samples_per_s'] / base:.2f}x | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def shipped_results(models: list[str]) -> str:
    """F1 micro per dev set from each shipped model's evaluation.json (written by `crossingguard ship`).

    Columns: EVAL_SETS, then any other set a model was evaluated on ("-" where one was not).
    """
    from crossingguard.inference.loading import resolve_model

    evaluations = {
        m: json.loads((resolve_model(m).path / "evaluation.json").read_text())
        for m in models
    }
    sets = list(EVAL_SETS)
    for evaluation in evaluations.values():
        for results in evaluation.values():
            sets += [n for n in results if n not in sets]
    lines = [
        "| Model | Export | " + " | ".join(sets) + " |",
        "|" + " --- |" * (len(sets) + 2),
    ]
    for model, evaluation in evaluations.items():
        for variant, found in evaluation.items():
            cells = " | ".join(
                f"{found[n]['f1_micro']:.4f}" if n in found else "-" for n in sets
            )
            lines.append(f"| `{model}` | {variant} | {cells} |")
    return "\n".join(lines)


def reevaluate(
    models: list[str],
    limit: int | None,
    precisions: tuple[str, ...],
    eval_sets: tuple[str, ...] = EVAL_SETS_ALL,
) -> None:
    """Score each shipped model's ONNX paths on every dev set that loads; update evaluation.json.

    Generated sets (guard-nli-dev, intent-nli-dev) load only after `crossingguard data guard-pairs`
    and `data intent-pairs`; a set that does not load is named on stderr and its earlier results
    (and those of precisions not asked for) are kept, never dropped.
    """
    from rich.console import Console

    from crossingguard.errors import DataError
    from crossingguard.inference.loading import resolve_model
    from crossingguard.toolkit.data.nli import load_nli
    from crossingguard.toolkit.training.ship import evaluate_variants

    sets = []
    for name in eval_sets:
        try:
            load_nli(name, limit=1)
            sets.append(name)
        except DataError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
    for model in models:
        path = resolve_model(model).path / "evaluation.json"
        evaluation = json.loads(path.read_text()) if path.is_file() else {}
        fresh = evaluate_variants(
            path.parent,
            tuple(sets),
            limit=limit,
            console=Console(stderr=True),
            precisions=precisions,
        )
        for variant, results in fresh.items():
            evaluation.setdefault(variant, {}).update(results)
        path.write_text(json.dumps(evaluation, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument(
        "--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="first N pairs of each dev set"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: all)"
    )
    parser.add_argument(
        "--speed-only",
        action="store_true",
        help="skip the dev sets: throughput and RSS only",
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON rows instead of Markdown"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="also write the JSON rows here"
    )
    parser.add_argument(
        "--shipped-results",
        action="store_true",
        help="print the full-set F1 table from the shipped evaluation.json files and stop",
    )
    parser.add_argument(
        "--reevaluate",
        action="store_true",
        help="update each model's evaluation.json: its ONNX paths (--variants) on the full dev sets",
    )
    parser.add_argument(
        "--sets",
        nargs="+",
        default=list(EVAL_SETS_ALL),
        choices=EVAL_SETS_ALL,
        help="dev sets --reevaluate scores (default: all that load)",
    )
    parser.add_argument(
        "--worker", nargs=2, metavar=("MODEL", "VARIANT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        print(
            json.dumps(
                worker(
                    *args.worker, args.limit, args.threads, accuracy=not args.speed_only
                )
            )
        )
        return
    if args.shipped_results:
        print(shipped_results(args.models))
        return
    if args.reevaluate:
        reevaluate(
            args.models,
            args.limit,
            tuple(v.removeprefix("onnx-") for v in args.variants if v != "torch"),
            tuple(args.sets),
        )
        print(shipped_results(args.models))
        return
    rows = []
    for model in args.models:
        for variant in args.variants:
            command = [sys.executable, __file__, "--worker", model, variant]
            if args.limit:
                command += ["--limit", str(args.limit)]
            if args.threads:
                command += ["--threads", str(args.threads)]
            if args.speed_only:
                command.append("--speed-only")
            print(f"measuring {model} / {variant} ...", file=sys.stderr, flush=True)
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{model} / {variant} failed:\n{done.stderr[-3000:]}")
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=2))
    print(json.dumps(rows, indent=2) if args.json else markdown(rows))


if __name__ == "__main__":
    main()
