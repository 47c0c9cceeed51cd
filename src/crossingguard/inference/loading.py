"""Find a model by built-in name, local directory or Hugging Face hub id, and read its metadata.

Built-in models live in ``src/crossingguard/models/<name>/`` (shipped with the package). A local
directory is any Hugging Face / sentence-transformers CrossEncoder directory (``config.json``,
tokenizer files, weights, optionally ``onnx/model*.onnx``). Anything shaped like ``org/name`` that
is not on disk is fetched with ``huggingface_hub.snapshot_download``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from crossingguard.errors import ModelError

DEFAULT_MODEL = "crossingguard-nli-mini"
BUILTIN_MODELS: tuple[str, ...] = ("crossingguard-nli-mini", "crossingguard-nli-micro")
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# Frameworks we never load; skipping them keeps hub downloads small. Pickled weights (.bin, .pt,
# ...) are never loaded either (weights come from safetensors or ONNX: SECURITY.md), so they are
# not even downloaded.
_HUB_IGNORE = [
    "*.h5", "*.msgpack", "*.ot", "*.tflite", "openvino/*", "coreml/*",
    "*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl", "*.pickle",
]  # fmt: skip

Source = Literal["builtin", "local", "hub"]


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model lives and how we found it."""

    name: str
    path: Path
    source: Source


def builtin_model_dirs() -> dict[str, Path]:
    """Built-in models that are installed (their directory holds a ``config.json``)."""
    if not MODELS_DIR.is_dir():
        return {}
    return {
        p.name: p
        for p in sorted(MODELS_DIR.iterdir())
        if p.is_dir() and (p / "config.json").is_file()
    }


def resolve_model(name_or_path: str | Path | None = None) -> ResolvedModel:
    """Turn a model name, directory or hub id into a local directory, or raise ``ModelError``."""
    if name_or_path is None:
        installed = builtin_model_dirs()
        if DEFAULT_MODEL not in installed:
            raise ModelError(
                f"no default model is installed ({DEFAULT_MODEL} is not in {MODELS_DIR}); pass "
                "one with --model PATH (a Hugging Face / CrossEncoder NLI directory) or "
                "--model ORG/NAME (a hub id), e.g. --model dleemiller/crossingguard-nli-m"
            )
        return ResolvedModel(DEFAULT_MODEL, installed[DEFAULT_MODEL], "builtin")

    text = str(name_or_path).strip()
    if not text:
        raise ModelError(
            "model name or path is empty; pass a directory, built-in name or hub id"
        )
    installed = builtin_model_dirs()
    if text in installed:
        return ResolvedModel(text, installed[text], "builtin")

    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            raise ModelError(
                f"{path} is not a model directory: expected a folder with config.json, tokenizer "
                "files and weights (a Hugging Face / CrossEncoder save)"
            )
        return ResolvedModel(path.name, path.resolve(), "local")

    if text in BUILTIN_MODELS:
        raise ModelError(
            f"built-in model {text} is not installed (expected {MODELS_DIR / text}); "
            "pass a local directory or hub id with --model instead"
        )
    if (
        isinstance(name_or_path, Path)
        or text.startswith((".", "/", "~"))
        or not _HUB_ID.match(text)
    ):
        raise ModelError(
            f"model directory not found: {text}. Pass an existing directory, a built-in name "
            f"({', '.join(BUILTIN_MODELS)}) or a hub id like dleemiller/crossingguard-nli-m"
        )
    return ResolvedModel(text, download_from_hub(text), "hub")


def download_from_hub(repo_id: str) -> Path:
    """Fetch a hub model (or reuse the local cache); offline failures name the id and the fix."""
    try:
        import huggingface_hub

        return Path(
            huggingface_hub.snapshot_download(repo_id, ignore_patterns=_HUB_IGNORE)
        )
    except (
        Exception
    ) as exc:  # network, auth, missing repo: all end the same way for the user
        raise ModelError(
            f"could not download {repo_id} from the Hugging Face hub ({type(exc).__name__}: {exc}). "
            f"If this machine is offline, copy the model here first (on a connected machine: "
            f"`hf download {repo_id} --local-dir ./{repo_id.split('/')[-1]}`) and pass that "
            "directory with --model PATH"
        ) from exc


def read_config(model_dir: Path) -> dict[str, Any]:
    """``config.json`` as a dict, with a ``ModelError`` for missing or broken files."""
    path = model_dir / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(
            f"{model_dir} has no config.json; is it a model directory?"
        ) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise ModelError(f"{path} must hold a JSON object")
    return config


def model_max_length(model_dir: Path, config: dict[str, Any]) -> int:
    """The longest token sequence the model accepts (tokenizer limit, else position embeddings)."""
    tok_cfg_path = model_dir / "tokenizer_config.json"
    if tok_cfg_path.is_file():
        try:
            value = json.loads(tok_cfg_path.read_text(encoding="utf-8")).get(
                "model_max_length"
            )
        except (UnicodeDecodeError, json.JSONDecodeError):
            value = None
        if isinstance(value, int) and 0 < value < 100_000:
            return value
    positions = config.get("max_position_embeddings")
    if isinstance(positions, int) and positions > 0:
        # RoBERTa-style models reserve padding_idx + 1 positions.
        offset = (
            2
            if config.get("model_type") in {"roberta", "xlm-roberta", "camembert"}
            else 0
        )
        return positions - offset
    return 512
