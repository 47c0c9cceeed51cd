"""Where the training and evaluation data lives.

An explicit setting wins: ``--data-dir`` on the commands that read data (:func:`use_data_dir`),
else ``$CROSSINGGUARD_DATA``. Only in a source checkout (a ``pyproject.toml`` two folders above
``src/crossingguard``) is ``../shared/data`` beside the checkout the development default; an
installed package has no default and says how to set one.
"""

from __future__ import annotations

import os
from pathlib import Path

from crossingguard.errors import DataError

ENV_VAR = "CROSSINGGUARD_DATA"
_REPO_ROOT = Path(__file__).resolve().parents[4]
_chosen: Path | None = None


def development_default() -> Path | None:
    """``../shared/data`` beside the source checkout, or None outside a checkout."""
    if not (_REPO_ROOT / "pyproject.toml").is_file():
        return None
    return _REPO_ROOT.parent / "shared" / "data"


def use_data_dir(path: str | Path | None) -> None:
    """Make ``path`` the data folder for this process (``None`` leaves the setting as it is)."""
    global _chosen
    if path is None:
        return
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataError(
            f"--data-dir: {folder} is not a folder; pass the shared data folder"
        )
    _chosen = folder.resolve()


def data_root() -> Path:
    """Return the data folder, or raise :class:`DataError` naming the two ways to set it."""
    if _chosen is not None:
        return _chosen
    env = os.environ.get(ENV_VAR)
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise DataError(
                f"${ENV_VAR}={env} is not a folder; point it at the shared data folder or pass "
                "--data-dir"
            )
        return folder.resolve()
    default = development_default()
    if default is not None and default.is_dir():
        return default.resolve()
    where = f" (the development default {default} does not exist)" if default else ""
    raise DataError(
        f"no data folder: set ${ENV_VAR}=/path/to/data or pass --data-dir PATH{where}"
    )
