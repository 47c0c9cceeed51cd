"""The README's model-family table: accuracy, CPU throughput and peak memory per model and export.

    python benchmarks/model_family.py                       # full dev sets (about 15 minutes on 2 cores)
    python benchmarks/model_family.py --limit 500 --json    # quick look
    python benchmarks/model_family.py --speed-only          # throughput and peak RSS only

For each built-in model (mini, micro) and each way of running it (ONNX int8 as shipped, ONNX fp32
exported from the shipped weights, torch through sentence-transformers) a fresh subprocess loads the
model, scores the dev sets (F1 micro = accuracy) and a fixed throughput set (samples/s at batch 64),
and reports its peak RSS. Speed is also given as a ratio to the first row (mini, torch), measured in
the same run on the same machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

MODELS = ("crossingguard-nli-mini", "crossingguard-nli-micro")
VARIANTS = ("torch", "onnx-fp32", "onnx-int8")
EVAL_SETS = ("mnli-dev-matched", "snli-dev", "xnli-en-dev", "guard-nli-dev")
THROUGHPUT_PAIRS = 1024
CACHE = Path("runs/bench")


def fp32_copy(model: str) -> Path:
    """The shipped model with an fp32 ONNX export of its (fp16-stored) weights, cached in runs/bench."""
    from crossingguard.inference.loading import resolve_model
    from crossingguard.training.export import export_fp32

    source = resolve_model(model).path
    target = CACHE / f"{model}-fp32"
    stamp = (source / "model.safetensors").stat().st_mtime
    marker = target / ".source_mtime"
    if not (marker.exists() and marker.read_text() == str(stamp)):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("onnx"))
        export_fp32(target)
        marker.write_text(str(stamp))
    return target


def worker(model: str, variant: str, limit: int | None, threads: int | None, accuracy: bool = True) -> dict:
    from crossingguard.data.nli import load_nli
    from crossingguard.evaluation.nli_eval import evaluate_nli
    from crossingguard.inference.loading import resolve_model
    from crossingguard.inference.scorer import load_scorer

    if variant == "torch":
        scorer = load_scorer(model, backend="torch", threads=threads)
    elif variant == "onnx-fp32":
        path = fp32_copy(model)
        scorer = load_scorer(path, backend="onnx", onnx_file=path / "onnx" / "model.onnx", threads=threads)
    else:
        path = resolve_model(model).path
        scorer = load_scorer(path, backend="onnx", onnx_file=path / "onnx" / "model_qint8_avx512_vnni.onnx",
                             threads=threads)
    row: dict = {"model": model, "variant": variant, "f1_micro": {}}
    for name in EVAL_SETS if accuracy else ():
        data = load_nli(name)
        if limit:
            data = data.head(limit)
        row["f1_micro"][name] = round(evaluate_nli(scorer, data).to_dict()["f1_micro"], 4)
    pairs = load_nli("mnli-dev-matched").pairs[:THROUGHPUT_PAIRS]
    scorer.predict(pairs[:64], batch_size=64)  # warm-up
    start = time.perf_counter()
    scorer.predict(pairs, batch_size=64)
    row["samples_per_s"] = round(len(pairs) / (time.perf_counter() - start), 1)
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return row


def markdown(rows: list[dict]) -> str:
    base = rows[0]["samples_per_s"]
    head = "| Model | Backend | " + " | ".join(EVAL_SETS) + " | samples/s (bs 64) | vs first row | peak RSS (MB) |"
    lines = [head, "|" + " --- |" * (len(EVAL_SETS) + 5)]
    for r in rows:
        accs = " | ".join(f"{r['f1_micro'][n]:.4f}" if n in r["f1_micro"] else "-" for n in EVAL_SETS)
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

    evaluations = {m: json.loads((resolve_model(m).path / "evaluation.json").read_text()) for m in models}
    sets = list(EVAL_SETS)
    for evaluation in evaluations.values():
        sets += [n for n in evaluation["onnx-int8"] if n not in sets]
    lines = ["| Model | Export | " + " | ".join(sets) + " |", "|" + " --- |" * (len(sets) + 2)]
    for model, evaluation in evaluations.items():
        for variant in ("onnx-fp32", "onnx-int8"):
            found = evaluation[variant]
            cells = " | ".join(f"{found[n]['f1_micro']:.4f}" if n in found else "-" for n in sets)
            lines.append(f"| `{model}` | {variant} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--limit", type=int, default=None, help="first N pairs of each dev set")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    parser.add_argument("--speed-only", action="store_true", help="skip the dev sets: throughput and RSS only")
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of Markdown")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON rows here")
    parser.add_argument("--shipped-results", action="store_true",
                        help="print the full-set F1 table from the shipped evaluation.json files and stop")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.limit, args.threads, accuracy=not args.speed_only)))
        return
    if args.shipped_results:
        print(shipped_results(args.models))
        return
    CACHE.mkdir(parents=True, exist_ok=True)
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
