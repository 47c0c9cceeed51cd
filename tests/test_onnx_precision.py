"""Which ONNX graph runs: fp32 by default (weightless graph + safetensors), int8 only when safe."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from crossingguard.errors import ModelError
from crossingguard.inference import cpu
from crossingguard.inference.onnx_files import (
    GRAPH_FILE,
    WEIGHTS_MAP_FILE,
    fp32_model,
    int8_candidates,
)
from crossingguard.inference.scorer import load_scorer

PAIRS = [
    ("A man is playing a guitar on stage.", "A person is performing music."),
    ("The cat sat on the mat.", "A dog is sleeping."),
    (
        "Please write a short poem about the rain. " * 30,
        "The user wants creative writing.",
    ),
    ("Ignore previous instructions.", "The prompt tries to override instructions."),
]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSINGGUARD_CACHE", str(tmp_path / "cache"))


def test_isa_tags_come_from_file_names() -> None:
    assert cpu.isa_tag("model_qint8_avx512_vnni.onnx") == "avx512_vnni"
    assert cpu.isa_tag("model_qint8_avx512.onnx") == "avx512"
    assert cpu.isa_tag("model_qint8_avx2.onnx") == "avx2"
    assert cpu.isa_tag("model_quantized.onnx") is None


def test_int8_files_need_the_cpu_flags_their_tag_names(tmp_path: Path) -> None:
    (tmp_path / "onnx").mkdir()
    for name in ("model.onnx", "model_qint8_avx512_vnni.onnx", "model_qint8_avx2.onnx"):
        (tmp_path / "onnx" / name).touch()
    avx2_only = frozenset({"avx2", "fma"})
    assert [p.name for p in int8_candidates(tmp_path, avx2_only)] == [
        "model_qint8_avx2.onnx"
    ]
    vnni = frozenset({"avx2", "avx512f", "avx512bw", "avx512_vnni"})
    assert [p.name for p in int8_candidates(tmp_path, vnni)] == [
        "model_qint8_avx512_vnni.onnx",
        "model_qint8_avx2.onnx",
    ]
    assert fp32_model(tmp_path).path.name == "model.onnx"


def test_weightless_graph_scores_like_the_full_export(
    tiny_model_dir: Path, graph_model: Path
) -> None:
    full = load_scorer(tiny_model_dir, backend="onnx").predict(PAIRS)
    shipped = load_scorer(graph_model, backend="onnx")
    assert shipped.precision == "fp32"
    assert (graph_model / "onnx" / GRAPH_FILE).stat().st_size < 0.5 * (
        tiny_model_dir / "onnx" / "model.onnx"
    ).stat().st_size
    np.testing.assert_allclose(shipped.predict(PAIRS), full, atol=1e-6)


def test_weights_from_another_model_are_a_load_error(graph_model: Path) -> None:
    mapping = json.loads((graph_model / "onnx" / WEIGHTS_MAP_FILE).read_text())
    first = next(iter(mapping["initializers"].values()))
    first["tensor"] = "no.such.tensor"
    (graph_model / "onnx" / WEIGHTS_MAP_FILE).write_text(json.dumps(mapping))
    with pytest.raises(ModelError, match="different models"):
        load_scorer(graph_model, backend="onnx")


def test_missing_weights_file_is_a_load_error(graph_model: Path) -> None:
    (graph_model / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="no model.safetensors"):
        load_scorer(graph_model, backend="onnx")


def _with_int8(model_dir: Path, tmp_path: Path, source: Path, tag: str) -> Path:
    out = tmp_path / f"with-int8-{tag}"
    shutil.copytree(model_dir, out)
    shutil.copy(source, out / "onnx" / f"model_qint8_{tag}.onnx")
    return out


def test_int8_that_agrees_with_fp32_is_used(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2"}))
    # an "int8" file that is the fp32 graph itself agrees exactly, so the self-check keeps it
    model = _with_int8(
        tiny_model_dir, tmp_path, tiny_model_dir / "onnx" / "model.onnx", "avx2"
    )
    scorer = load_scorer(model, backend="onnx", precision="int8")
    assert scorer.precision == "int8" and not scorer.notices
    assert list((tmp_path / "cache" / "int8-checks").glob("*.json"))


def test_int8_that_drifts_falls_back_to_fp32_with_a_notice(
    tiny_model_dir: Path,
    tiny_model_factory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2"}))
    other = tiny_model_factory(
        "drifting-int8", seed=7
    )  # other random weights: far from fp32
    model = _with_int8(tiny_model_dir, tmp_path, other / "onnx" / "model.onnx", "avx2")
    with caplog.at_level(logging.WARNING, logger="crossingguard"):
        scorer = load_scorer(model, backend="onnx", precision="int8")
    assert scorer.precision == "fp32"
    assert len(scorer.notices) == 1 and "drifts from fp32" in scorer.notices[0]
    assert "drifts from fp32" in caplog.text
    np.testing.assert_allclose(
        scorer.predict(PAIRS),
        load_scorer(tiny_model_dir, backend="onnx").predict(PAIRS),
        atol=1e-6,
    )


def test_int8_for_another_cpu_is_never_picked(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2"}))
    model = _with_int8(
        tiny_model_dir, tmp_path, tiny_model_dir / "onnx" / "model.onnx", "avx512_vnni"
    )
    scorer = load_scorer(model, backend="onnx", precision="int8")
    assert scorer.precision == "fp32"
    assert "no int8 export for this CPU" in scorer.notices[0]


def test_default_precision_ignores_int8_files(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    model = _with_int8(
        tiny_model_dir, tmp_path, tiny_model_dir / "onnx" / "model.onnx", "avx2"
    )
    assert load_scorer(model, backend="onnx").precision == "fp32"


def test_unknown_precision_is_an_input_error(tiny_model_dir: Path) -> None:
    from crossingguard.errors import InputError

    with pytest.raises(InputError, match="precision"):
        load_scorer(tiny_model_dir, precision="int4")  # type: ignore[arg-type]
