"""Run the README's routing evaluations and write their side-by-side table.

    python benchmarks/routing_results.py [--runs banking77-near sebis ...] [--model M]
        [--out benchmarks/results/routing] [--readme README.md] [--table-only]

Each run is one ``crossingguard eval-routing`` command (listed in ``RUNS``, printed before it
starts); its ``routing_results.json`` goes to ``--out/<run>/``. The table (``--out/summary.md``,
and between the routing-results markers of ``--readme``) is built from those JSON files only, so
``--table-only`` rebuilds it without rescoring.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme_section import replace_section  # noqa: E402

# name -> (what the run measures, eval-routing arguments)
RUNS: dict[str, tuple[str, list[str]]] = {
    "banking77-near": (
        "BANKING77 test, near OOS (15 held-out banking intents)",
        [
            "-d",
            "banking77",
            "--limit",
            "1000",
            "--nli-limit",
            "200",
            "--weights",
            "0.3,0.5",
        ],
    ),
    "banking77-far": (
        "BANKING77 test, far OOS (SNIPS + HWU64 utterances)",
        [
            "-d",
            "banking77",
            "--limit",
            "1000",
            "--oos-fraction",
            "0",
            "--oos-from",
            "snips,hwu64",
            "-s",
            "embedding,hybrid",
            "--weights",
            "0.3,0.5",
        ],
    ),
    "banking77-examples5": (
        "BANKING77 test, near OOS, routes with 5 example utterances",
        [
            "-d",
            "banking77",
            "--limit",
            "1000",
            "--examples",
            "5",
            "-s",
            "embedding,hybrid",
            "--weights",
            "0.3,0.5",
        ],
    ),
    "sebis": (
        "sebis test (12 intents, none used for training pairs)",
        ["-d", "sebis", "--nli-limit", "400", "--weights", "0.3,0.5"],
    ),
    "hwu64": (
        "HWU64 test (intents used for training pairs; unseen utterances), near OOS",
        [
            "-d",
            "hwu64",
            "--limit",
            "1000",
            "--nli-limit",
            "200",
            "--weights",
            "0.3,0.5",
        ],
    ),
}


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def table(out: Path, names: list[str]) -> str:
    head = [
        "set",
        "strategy",
        "n",
        "accuracy",
        "vs embedding",
        "macro-F1",
        "OOS AUROC",
        "OOS recall@P95",
        "in-scope kept@P95",
    ]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    model = None
    sweeps = []
    for name in names:
        path = out / name / "routing_results.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        model = data["model"]
        strategies = data["strategies"]
        base = strategies.get("embedding", {}).get("accuracy")
        for strategy, r in strategies.items():
            label = strategy
            if strategy == "hybrid":
                label = f"hybrid (top {r['top_k']}, weight {r['weight']})"
                sweep = ", ".join(
                    f"weight {w}: {v['accuracy']:.3f}"
                    for w, v in r["weight_sweep"].items()
                )
                sweeps.append(
                    f"* {RUNS[name][0]}: gold route in the top-{r['top_k']} shortlist "
                    f"{100 * r['shortlist_recall']:.1f} %; hybrid accuracy at {sweep}."
                )
            delta = (
                "-"
                if base is None or strategy in ("embedding", "nli")
                else f"{100 * (r['accuracy'] - base):+.1f} pts"
            )
            lines.append(
                "| "
                + " | ".join(
                    [
                        RUNS[name][0],
                        label,
                        str(r["n"]),
                        fmt(r["accuracy"]),
                        delta,
                        fmt(r["macro_f1"]),
                        fmt(r.get("oos_auroc")),
                        fmt(r.get("oos_recall@P0.95")),
                        fmt(r.get("in_scope_kept@P0.95")),
                    ]
                )
                + " |"
            )
    intro = (
        f"NLI model `{model}` (its default scoring path: fp32 ONNX), embedder all-MiniLM-L6-v2, seed 0; `nli` routes the "
        "first rows of each sample only (it scores every route), so its rows are not compared "
        "with the embedding's."
    )
    return "\n".join([intro, "", *lines, "", *sweeps])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    ap.add_argument(
        "--model", default=None, help="NLI model (default: the built-in one)"
    )
    ap.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "routing"
    )
    ap.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="also put the table in this README, between the routing-results markers",
    )
    ap.add_argument(
        "--table-only",
        action="store_true",
        help="rebuild the table from existing results, score nothing",
    )
    args = ap.parse_args()

    if not args.table_only:
        for name in args.runs:
            cmd = [
                "crossingguard",
                "eval-routing",
                *RUNS[name][1],
                "--out",
                str(args.out / name),
            ]
            if args.model:
                cmd += ["--model", args.model]
            print(f"$ {shlex.join(cmd)}", file=sys.stderr, flush=True)
            subprocess.run(cmd, check=True)
    text = table(args.out, args.runs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    if args.readme is not None:
        replace_section(args.readme, "routing-results", text)
        print(f"updated {args.readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
