"""Batch engine throughput and memory: rows/s for the local engine and for Ray Data with 1 and 2
workers, and the local engine's peak RSS at two input sizes (it must not grow with the input).

    python benchmarks/batch_throughput.py                      # about 6-8 minutes on 2 cores
    python benchmarks/batch_throughput.py --readme README.md   # also rewrite the README table

Every run is the real CLI (``crossingguard batch``) in a fresh subprocess on a synthetic JSONL of
short prompts; rows/s is the summary's scoring rate (rows / seconds from the first row read to
the last shard written: model loading and Ray start-up are reported apart as "start-up").
Peak RSS is the subprocess's ``ru_maxrss`` from ``os.wait4`` (the local engine with one
worker runs in that one process).

* Throughput uses the shipped default model (``--model``) and a two-condition policy.
* Memory uses 10k and 100k rows. The shipped models score ~30-80 rows/s here, so 100k rows would
  take most of an hour; by default the memory runs use the tiny random 2-layer BERT the test suite
  builds (``tests/tiny_model.py``, needs the ``train`` extra). Memory is what is measured there:
  the engine's buffers, readers and shards, with the model's own share kept small.

Results go to ``benchmarks/results/batch/`` (``results.json``, ``summary.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLI = "from crossingguard.cli.app import main; main()"
POLICY = """version: 1
name: batch-bench
conditions:
  - id: weapons
    hypotheses: [The prompt asks how to make a weapon or explosive.]
  - id: refund
    hypotheses: [The user asks for a refund.]
    action: flag
"""
SUBJECTS = [
    "my order",
    "the app",
    "a cake",
    "the weather",
    "a bomb",
    "my refund",
    "the cat",
]
VERBS = [
    "where is",
    "tell me about",
    "how do i fix",
    "can you explain",
    "i want",
    "help with",
]


def make_input(path: Path, rows: int, seed: int = 0) -> Path:
    """Short, distinct prompts (the row number keeps the guard's pair cache from helping)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(rows):
            text = f"{rng.choice(VERBS)} {rng.choice(SUBJECTS)} {i}"
            f.write(json.dumps({"id": f"r{i}", "text": text}) + "\n")
    return path


def run_measured(args: list[str]) -> dict[str, Any]:
    """Run ``crossingguard batch ARGS --json`` in a subprocess: its summary, wall time, and
    peak RSS (the child is reaped with ``os.wait4``, which reports that child's own usage)."""
    cmd = [sys.executable, "-c", CLI, "batch", *args, "--no-progress", "--json"]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"batch failed ({' '.join(cmd)}):\n{err.read()[-3000:]}")
        summary = json.loads(out.read())
    return {
        "summary": summary,
        "wall_s": round(wall, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
    }


def row_of(name: str, rows: int, model: str, result: dict[str, Any]) -> dict[str, Any]:
    s = result["summary"]
    return {
        "run": name,
        "engine": s["engine"],
        "workers": s["workers"],
        "rows": rows,
        "model": model,
        "rows_per_s": s["rows_per_s"],
        "scoring_s": s["seconds"],
        "startup_s": s["startup_seconds"],
        "wall_s": result["wall_s"],
        "peak_rss_mib": result.get("peak_rss_mib") if s["engine"] == "local" else None,
    }


def tiny_model(folder: Path) -> Path:
    """Build the tests' tiny model in a subprocess. Building it here would import torch into this
    process, and Linux children inherit their parent's peak RSS (``ru_maxrss`` survives fork and
    exec), so every later measurement would read at least torch's footprint."""
    out = folder / "tiny-nli"
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "from tiny_model import build_tiny_nli_model; build_tiny_nli_model(Path(sys.argv[2]))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "tests"), str(out)],
        check=True,
        capture_output=True,
    )
    return out


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Measured on {results['machine']} by `{results['command']}`.",
        "",
        "| engine | workers | rows | model | rows/s (scoring) | start-up s | wall s | peak RSS MiB |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results["throughput"] + results["memory"]:
        rss = "-" if r["peak_rss_mib"] is None else f"{r['peak_rss_mib']:.0f}"
        lines.append(
            f"| {r['engine']} | {r['workers']} | {r['rows']:,} | {r['model']} | "
            f"{r['rows_per_s']:,.0f} | {r['startup_s']:.1f} | {r['wall_s']:.1f} | {rss} |"
        )
    mem = results["memory"]
    if len(mem) >= 2:
        small, large = mem[0], mem[-1]
        lines += [
            "",
            (
                f"Peak RSS of the local engine: {small['peak_rss_mib']:.0f} MiB at "
                f"{small['rows']:,} rows, {large['peak_rss_mib']:.0f} MiB at {large['rows']:,} rows "
                f"({large['rows'] // small['rows']}x the input, "
                f"{large['peak_rss_mib'] / small['peak_rss_mib']:.2f}x the memory)."
            ),
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=600, help="rows for the throughput runs"
    )
    parser.add_argument(
        "--model", default="crossingguard-nli-mini", help="throughput model"
    )
    parser.add_argument(
        "--memory-rows",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="memory runs",
    )
    parser.add_argument(
        "--memory-model",
        default="tiny",
        help="model for the memory runs: 'tiny' (built here) or a model name/directory",
    )
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray runs")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "batch")
    parser.add_argument(
        "--readme", type=Path, help="rewrite the batch-throughput README table"
    )
    args = parser.parse_args()

    results: dict[str, Any] = {
        "command": "python benchmarks/batch_throughput.py"
        + " ".join([""] + sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
        "throughput": [],
        "memory": [],
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        policy = tmp / "policy.yaml"
        policy.write_text(POLICY, encoding="utf-8")
        data = make_input(tmp / f"in-{args.rows}.jsonl", args.rows)
        runs = [("local", ["--engine", "local", "--workers", "1"])]
        if not args.no_ray:
            runs += [
                ("ray-1", ["--engine", "ray", "--workers", "1"]),
                ("ray-2", ["--engine", "ray", "--workers", "2"]),
            ]
        for name, extra in runs:
            out = tmp / f"out-{name}"
            cmd = [
                str(policy),
                "-i",
                str(data),
                "-o",
                str(out),
                "-m",
                args.model,
                *extra,
            ]
            row = row_of(name, args.rows, args.model, run_measured(cmd))
            print(json.dumps(row), flush=True)
            results["throughput"].append(row)

        model = (
            str(tiny_model(tmp)) if args.memory_model == "tiny" else args.memory_model
        )
        label = (
            "tiny random BERT (tests)"
            if args.memory_model == "tiny"
            else args.memory_model
        )
        for rows in args.memory_rows:
            data = make_input(tmp / f"in-{rows}.jsonl", rows, seed=1)
            out = tmp / f"out-mem-{rows}"
            cmd = [str(policy), "-i", str(data), "-o", str(out), "-m", model]
            row = row_of(f"memory-{rows}", rows, label, run_measured(cmd))
            print(json.dumps(row), flush=True)
            results["memory"].append(row)
            for p in (out / "data").iterdir():
                p.unlink()  # keep the temp folder small

    # A child's ru_maxrss starts at its parent's peak: this bounds the floor of every RSS above.
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["benchmark_process_peak_rss_mib"] = round(floor, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps(results, indent=2) + "\n", encoding="utf-8"
    )
    table = markdown(results)
    (args.out / "summary.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    if args.readme is not None:
        from readme_section import replace_section

        replace_section(args.readme, "batch-throughput", table)


if __name__ == "__main__":
    main()
