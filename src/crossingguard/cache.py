"""Where CrossingGuard keeps files it derives at run time (ONNX embedders, int8 variants, checks).

One place decides the folder so every derived artefact can be found, listed and deleted together.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$CROSSINGGUARD_CACHE``, else ``$XDG_CACHE_HOME/crossingguard``, else ``~/.cache/crossingguard``."""
    explicit = os.environ.get("CROSSINGGUARD_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "crossingguard"
