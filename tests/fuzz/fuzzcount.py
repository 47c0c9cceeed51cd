"""How many generated inputs reached each entry point in this test session.

Every generated-input test calls :func:`record` once per input it hands to an entry point, so the
count is of inputs really run (Hypothesis' shrinking and replayed examples included), not of
examples planned. ``tests/fuzz/conftest.py`` prints the counts at the end of the session and, in
the ``fuzz`` profile, writes them to ``benchmarks/results/fuzz/``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

COUNTS: Counter[str] = Counter()
# entry point -> kind of input -> count (e.g. server -> /v1/check), for the JSON report
DETAILS: dict[str, Counter[str]] = {}


def record(entry: str, kind: str | None = None) -> None:
    COUNTS[entry] += 1
    if kind is not None:
        DETAILS.setdefault(entry, Counter())[kind] += 1


def share(tests: int) -> Any:
    """Settings for one of ``tests`` tests that feed the same entry point: each runs its share of
    the active profile's ``max_examples`` (rounded up), so the entry point gets the profile's
    count in all (10,000 in ``fuzz``) without paying for it once per test."""
    from hypothesis import settings

    return settings(max_examples=-(-settings.default.max_examples // tests))
