"""Options shared by commands that load a model, and what ``--verbose`` lets through."""

from __future__ import annotations

import functools
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

P = ParamSpec("P")
R = TypeVar("R")


class BackendChoice(str, Enum):
    auto = "auto"
    onnx = "onnx"
    torch = "torch"


ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Built-in model name, local model directory, or Hugging Face hub id "
        "(e.g. dleemiller/crossingguard-nli-m). Default: the built-in crossingguard-nli-mini.",
        show_default=False,
    ),
]
BackendOpt = Annotated[
    BackendChoice,
    typer.Option(
        "--backend",
        "-b",
        help="Inference backend: onnx (ONNX Runtime, CPU), torch (sentence-transformers), or "
        "auto (onnx when the model has onnx/model*.onnx, else torch).",
    ),
]


class PrecisionChoice(str, Enum):
    fp32 = "fp32"
    int8 = "int8"


PRECISION_HELP = (
    "ONNX precision: fp32 (the default; the same labels as torch) or int8 (per-row int8 derived "
    "from the same weights at load: about 2x faster on CPU, scores still independent of the "
    "batch, about 1-1.5 % of labels differ from fp32; used only after it passes a self-check on "
    "this CPU, else fp32 with a notice)."
)
PrecisionOpt = Annotated[
    PrecisionChoice, typer.Option("--precision", help=PRECISION_HELP)
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        "--threads", min=1, help="CPU threads for inference (default: the backend's)."
    ),
]
MaxLengthOpt = Annotated[
    int | None,
    typer.Option(
        "--max-length",
        min=16,
        help="Token window per pair (default: the model's limit). Longer prompts are scored in "
        "overlapping windows, never cut.",
    ),
]
BatchSizeOpt = Annotated[
    int,
    typer.Option(
        "--batch-size", min=1, help="Pairs per model call; results do not depend on it."
    ),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Also show third-party loading progress bars and warnings (transformers, "
        "sentence-transformers, huggingface_hub) on stderr.",
    ),
]

# Libraries whose loading chatter (progress bars, advisory warnings) says nothing a user of the
# command can act on; `--verbose` lets it through.
THIRD_PARTY = ("transformers", "sentence_transformers", "huggingface_hub", "torch")
_QUIET_ENV = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


@contextmanager
def third_party_output(verbose: bool) -> Iterator[None]:
    """Keep third-party progress bars, warnings and log lines off stderr inside the block unless
    ``verbose``; our own messages (errors, notices) are untouched. Restores everything after."""
    if verbose:
        yield
        return
    with ExitStack() as stack:
        saved_env = {k: os.environ.get(k) for k in _QUIET_ENV}
        os.environ.update(_QUIET_ENV)  # read by libraries imported inside the block
        stack.callback(_restore_env, saved_env)
        stack.enter_context(warnings.catch_warnings())
        pattern = "|".join(THIRD_PARTY)
        warnings.filterwarnings("ignore", module=rf"({pattern})(\.|$)")
        for name in THIRD_PARTY:
            logger = logging.getLogger(name)
            stack.callback(logger.setLevel, logger.level)
            logger.setLevel(logging.ERROR)
        _silence_loaded_progress_bars(stack)
        yield


def _restore_env(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _silence_loaded_progress_bars(stack: ExitStack) -> None:
    """Libraries already imported read the environment once; switch their bars off directly."""
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import (
            are_progress_bars_disabled,
            disable_progress_bars,
            enable_progress_bars,
        )

        if not are_progress_bars_disabled():
            disable_progress_bars()
            stack.callback(enable_progress_bars)
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        if hf_logging.is_progress_bar_enabled():
            hf_logging.disable_progress_bar()
            stack.callback(hf_logging.enable_progress_bar)


JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json", help="Print the results (report, summary) as JSON on stdout."
    ),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder holding the training and evaluation data (default: $CROSSINGGUARD_DATA; "
        "in a source checkout, ../shared/data beside it).",
        show_default=False,
    ),
]


def reads_data(func: Callable[P, R]) -> Callable[P, R]:
    """Give a command a ``--data-dir`` option that sets the data folder before it runs."""
    import inspect

    from crossingguard.cli.errors import cli_errors
    from crossingguard.toolkit.data.paths import use_data_dir

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with cli_errors():
            use_data_dir(kwargs.pop("data_dir", None))  # type: ignore[arg-type]
        return func(*args, **kwargs)

    signature = inspect.signature(func, eval_str=True)  # Typer reads this one as it is
    extra = inspect.Parameter(
        "data_dir", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=DataDirOpt
    )
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), extra]
    )
    wrapper.__annotations__ = {**func.__annotations__, "data_dir": DataDirOpt}
    return wrapper
