"""Generated-input tests: shared fixtures, and the count of inputs per entry point.

Fast by default (the ``ci`` Hypothesis profile in tests/conftest.py); ``python -m pytest -q
--hypothesis-profile=fuzz -m fuzz`` runs 10,000 inputs per test and writes the counts to
``benchmarks/results/fuzz/fuzz_counts.json``. Models are the tiny random NLI model (real
tokenizer, real ONNX Runtime, milliseconds per call) so that many inputs fit in minutes.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("hypothesis")

from fuzzcount import COUNTS, DETAILS

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results" / "fuzz" / "fuzz_counts.json"
FUZZ_COMMAND = "python -m pytest -q --hypothesis-profile=fuzz -m fuzz"

_OUTCOMES: Counter[str] = Counter()
_START = time.time()


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model_dir: Path) -> Any:
    """One ONNX scorer on the tiny model for the whole session (one thread: the box is busy)."""
    from crossingguard.inference.scorer import load_scorer

    return load_scorer(tiny_model_dir, backend="onnx", threads=1)


@pytest.fixture(scope="module")
def cli_on_tiny_model(tiny_scorer: Any) -> Iterator[None]:
    """Every ``load_scorer`` the CLI makes returns a fresh scorer on the tiny model's loaded
    session: commands still validate their options and set the scorer's limits and windows
    (a fresh encoder each time, so one input's settings never leak into the next), but no
    input pays for loading a model."""
    from crossingguard.inference import scorer as scorer_module
    from crossingguard.inference.encoding import PairEncoder

    def load(name_or_path: Any = None, **options: Any) -> Any:
        backend = options.get("backend", "auto")
        if backend not in ("auto", "onnx", "torch"):
            raise AssertionError(f"the CLI passed backend={backend!r}")
        limit = tiny_scorer.encoder.max_length
        if options.get("max_length") is not None:
            limit = min(limit, int(options["max_length"]))
        encoder = PairEncoder(
            tiny_scorer.encoder._tok,
            max_length=limit,
            pad_id=tiny_scorer.encoder.pad_id,
        )
        return scorer_module.Scorer(
            tiny_scorer._backend,
            encoder,
            projection=tiny_scorer.projection,
            model_dir=tiny_scorer.model_dir,
            name=tiny_scorer.name,
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scorer_module, "load_scorer", load)
        yield


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        _OUTCOMES[report.outcome] += 1


def _profile(config: pytest.Config) -> str:
    try:
        return str(config.getoption("hypothesis_profile") or "ci")
    except ValueError:
        return "ci"


def _outcomes(entry: str) -> str:
    """How the inputs ended (exit code or HTTP status, the last word of each kind)."""
    ends: Counter[str] = Counter()
    for kind, n in DETAILS.get(entry, {}).items():
        ends[kind.rsplit(" ", 1)[-1]] += n
    return ", ".join(f"{end}: {n:,}" for end, n in sorted(ends.items())) if ends else ""


def pytest_terminal_summary(
    terminalreporter: Any, exitstatus: int, config: pytest.Config
) -> None:
    if not COUNTS:
        return
    profile = _profile(config)
    terminalreporter.section(f"generated inputs per entry point (profile {profile})")
    for entry, n in sorted(COUNTS.items()):
        terminalreporter.write_line(f"{entry:24s} {n:>9,}  {_outcomes(entry)}")
    if profile != "fuzz":
        return
    from hypothesis import __version__ as hypothesis_version

    record = {
        "command": FUZZ_COMMAND,
        "profile": profile,
        "inputs_per_entry_point": dict(sorted(COUNTS.items())),
        "inputs_by_kind": {
            k: dict(sorted(v.items())) for k, v in sorted(DETAILS.items())
        },
        "tests": dict(_OUTCOMES),
        "exit_status": int(exitstatus),
        "seconds": round(time.time() - _START, 1),
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "hypothesis": hypothesis_version,
        "cpu_count": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    terminalreporter.write_line(f"wrote {RESULTS.relative_to(REPO)}")
