"""Shared fixtures: a tiny random NLI model on disk (HF layout plus ONNX export)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tiny_model import build_tiny_nli_model

try:  # Hypothesis profiles (the dev extra): `ci` by default, `fuzz` for the long local run
    from hypothesis import HealthCheck, settings

    # ci: what `python -m pytest` runs. Tests that set their own max_examples keep it; the
    # generated-input tests in tests/fuzz/ take this budget, small enough for 2 busy cores.
    settings.register_profile(
        "ci",
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    # fuzz: `python -m pytest -q --hypothesis-profile=fuzz -m fuzz` runs at least 10,000
    # generated inputs per entry point (tests/fuzz/README.md); counts go to
    # benchmarks/results/fuzz/. No example database: every run draws fresh inputs.
    settings.register_profile(
        "fuzz",
        max_examples=10_000,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    settings.load_profile(
        "ci"
    )  # `--hypothesis-profile` overrides it (Hypothesis' plugin)
except ImportError:  # pragma: no cover - tests that use Hypothesis import it themselves
    pass


def _need_torch() -> None:
    """The tiny model is built with torch: without the train extra its tests skip, not error."""
    pytest.importorskip(
        "torch", reason="building the tiny test model needs the train extra (torch)"
    )


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer BERT NLI model (E/N/C id2label) with ``onnx/model.onnx``; do not modify."""
    _need_torch()
    return build_tiny_nli_model(tmp_path_factory.mktemp("tiny-nli") / "model")


@pytest.fixture(scope="session")
def tiny_model_factory(tmp_path_factory: pytest.TempPathFactory):
    """Build variants (other id2label, permuted head, no ONNX) into fresh session temp dirs."""

    def make(name: str, **kwargs: object) -> Path:
        _need_torch()
        return build_tiny_nli_model(tmp_path_factory.mktemp(name) / "model", **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture()
def graph_model(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """The tiny model as we ship models: safetensors + weightless graph, no model.onnx."""
    pytest.importorskip("onnx")
    import shutil

    from crossingguard.toolkit.training.onnx_graph import write_weightless_graph

    out = tmp_path / "shipped"
    shutil.copytree(tiny_model_dir, out)
    write_weightless_graph(tiny_model_dir / "onnx" / "model.onnx", out)
    (out / "onnx" / "model.onnx").unlink()
    return out
