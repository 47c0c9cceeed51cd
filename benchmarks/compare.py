"""Run `crossingguard bench` and, optionally, put its table into the README.

    python benchmarks/compare.py [--readme README.md] [--table-only] [bench options ...]

Every option other than ``--readme`` and ``--table-only`` goes to ``crossingguard bench``
unchanged (``--out``, ``--quick``, ``--systems``, ``--threads``, ...). The README section (between
the ``performance`` markers) is the ``readme_section.md`` the command wrote to ``--out``, so
``--table-only`` re-renders it from ``compare.json`` without re-running anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme_section import replace_section

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "compare"
COMMAND = "python benchmarks/compare.py --readme README.md"


def _out_dir(bench_args: list[str]) -> Path:
    if "--out" in bench_args:
        return Path(bench_args[bench_args.index("--out") + 1])
    return DEFAULT_OUT


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--readme", type=Path, help="README to update (performance markers)."
    )
    parser.add_argument(
        "--table-only",
        action="store_true",
        help="Re-render from compare.json; score nothing.",
    )
    args, bench_args = parser.parse_known_args(argv)
    out = _out_dir(bench_args)
    if "--out" not in bench_args:
        bench_args += ["--out", str(out)]

    from crossingguard.toolkit.benchmarking import report

    if args.table_only:
        result = json.loads((out / report.JSON_FILE).read_text(encoding="utf-8"))
        report.write_all(result, out)
    else:
        from crossingguard.cli.app import app

        code = app(["bench", *bench_args], standalone_mode=False)
        if code:  # an error was printed; do not touch the README
            raise SystemExit(code)
    if args.readme is not None:
        text = (out / report.README_FILE).read_text(encoding="utf-8")
        replace_section(args.readme, "performance", f"{text}\nCommand: `{COMMAND}`.\n")
        print(f"updated {args.readme}")


if __name__ == "__main__":
    main()
