"""Throughput of the ONNX Runtime and torch backends side by side, in one process.

    python benchmarks/backends.py --model PATH [--pairs 512] [--batch-size 64] [--threads N] [--json]

Both backends score the same pairs through ``load_scorer`` (so tokenization and windowing are
included). Reports samples/s, the max abs difference of their probabilities, and peak RSS after
each backend (RSS only grows, so the torch figure includes the ONNX run before it).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

from crossingguard.inference import load_scorer

WORDS = [
    "tell",
    "me",
    "what",
    "happened",
    "with",
    "that",
    "ceo",
    "caught",
    "on",
    "the",
    "kiss",
    "cam",
    "at",
    "the",
    "concert",
    "how",
    "do",
    "i",
    "bake",
    "a",
    "cake",
    "please",
    "write",
    "python",
    "code",
    "for",
    "my",
    "bank",
    "the",
    "weather",
    "is",
    "sunny",
    "today",
    "hello",
    "world",
    "question",
]
HYPOTHESES = [
    "The prompt requests information about a corporate executive incident at a public event",
    "The user asks for help writing code",
    "The prompt asks about the weather",
    "The prompt requests instructions for making a weapon",
]


def make_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """Synthetic prompts of 8-60 words, like short chat prompts, each with a condition."""
    rng = np.random.default_rng(seed)
    return [
        (
            " ".join(rng.choice(WORDS, size=int(rng.integers(8, 60)))),
            HYPOTHESES[i % len(HYPOTHESES)],
        )
        for i in range(n)
    ]


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if platform.system() == "Darwin" else peak / 1e3  # bytes vs KiB


def bench(
    model: str, backend: str, pairs, batch_size: int, threads: int | None
) -> dict:
    scorer = load_scorer(model, backend=backend, threads=threads)  # type: ignore[arg-type]
    scorer.predict(pairs[:batch_size], batch_size=batch_size)  # warm-up
    start = time.perf_counter()
    probs = scorer.predict(pairs, batch_size=batch_size)
    seconds = time.perf_counter() - start
    return {
        "backend": backend,
        "samples_per_s": round(len(pairs) / seconds, 1),
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "probs": probs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model", required=True, help="model directory, built-in name or hub id"
    )
    parser.add_argument(
        "--pairs", type=int, default=512, help="pairs to score (default 512)"
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads for both backends"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    pairs = make_pairs(args.pairs)
    runs = [
        bench(args.model, b, pairs, args.batch_size, args.threads)
        for b in ("onnx", "torch")
    ]
    diff = float(np.abs(runs[0].pop("probs") - runs[1].pop("probs")).max())
    report = {
        "model": str(Path(args.model)),
        "pairs": args.pairs,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "max_abs_prob_diff": diff,
        "results": runs,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"model {report['model']}  pairs {args.pairs}  batch {args.batch_size}")
        for r in runs:
            print(f"  {r['backend']:>5}: {r['samples_per_s']:>8.1f} samples/s  "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB")  # fmt: skip
        print(f"  max |p_onnx - p_torch| = {diff:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
