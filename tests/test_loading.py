from __future__ import annotations

from pathlib import Path

import pytest

from crossingguard.errors import ModelError
from crossingguard.inference import loading
from crossingguard.inference.loading import resolve_model


def test_default_model_missing_says_how_to_pass_one(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(loading, "MODELS_DIR", tmp_path)
    with pytest.raises(ModelError, match="no default model is installed.*--model"):
        resolve_model(None)


def test_builtin_name_resolves_when_installed(
    monkeypatch, tmp_path: Path, tiny_model_dir
) -> None:
    (tmp_path / "crossingguard-nli-mini").symlink_to(
        tiny_model_dir, target_is_directory=True
    )
    monkeypatch.setattr(loading, "MODELS_DIR", tmp_path)
    for name in (None, "crossingguard-nli-mini"):
        resolved = resolve_model(name)
        assert (
            resolved.source == "builtin" and resolved.name == "crossingguard-nli-mini"
        )
    with pytest.raises(ModelError, match="crossingguard-nli-micro is not installed"):
        resolve_model("crossingguard-nli-micro")


def test_hub_failure_names_id_and_local_fix(monkeypatch) -> None:
    import huggingface_hub

    def offline(*args, **kwargs):
        raise OSError("hub unreachable")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(
        ModelError, match=r"could not download someorg/some-nli.*--model PATH"
    ):
        resolve_model("someorg/some-nli")


def test_hub_id_uses_snapshot_download(monkeypatch, tiny_model_dir) -> None:
    import huggingface_hub

    monkeypatch.setattr(
        huggingface_hub, "snapshot_download", lambda repo_id, **kw: str(tiny_model_dir)
    )
    resolved = resolve_model("dleemiller/crossingguard-nli-m")
    assert resolved.source == "hub" and resolved.path == Path(tiny_model_dir)
