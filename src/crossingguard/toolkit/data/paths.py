"""Where the development data lives: `$CROSSINGGUARD_DATA`, else `../shared/data` beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

from crossingguard.errors import DataError

_REPO_ROOT = Path(__file__).resolve().parents[4]


def data_root() -> Path:
    """Return the shared data folder, or raise DataError saying how to point at it."""
    env = os.environ.get("CROSSINGGUARD_DATA")
    candidates = [Path(env)] if env else []
    candidates += [Path.cwd() / ".." / "shared" / "data", _REPO_ROOT / ".." / "shared" / "data"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise DataError(
        f"development data folder not found (tried {tried}); "
        "set CROSSINGGUARD_DATA=/path/to/shared/data"
    )
