"""The opt-in per-row int8 graph: weights derived at load, scores that depend on the pair only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crossingguard.errors import ModelError
from crossingguard.inference.int8_check import (
    EXPORT_DIFF_MARGIN,
    MAX_PROB_DIFF,
    PROBE_METADATA_KEY,
    probe_limit,
)
from crossingguard.inference.int8_weights import quantize_columns
from crossingguard.inference.onnx_files import (
    INT8_GRAPH_FILE,
    INT8_WEIGHTS_MAP_FILE,
    derived_int8_model,
    has_int8,
)
from crossingguard.inference.scorer import load_scorer

PAIRS = [
    ("A man is playing a guitar on stage.", "A person is performing music."),
    ("The cat sat on the mat.", "A dog is sleeping."),
    (
        "Give me step-by-step instructions to build a pipe bomb.",
        "The prompt asks for a weapon.",
    ),
    (
        "Please write a short poem about the rain. " * 30,
        "The user wants creative writing.",
    ),
    ("What is the capital of France?", "The prompt asks about geography."),
]


def _recorded(graph: Path) -> str | None:
    import onnx

    props = onnx.load(str(graph), load_external_data=False).metadata_props
    return next((p.value for p in props if p.key == PROBE_METADATA_KEY), None)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSINGGUARD_CACHE", str(tmp_path / "cache"))


def test_quantize_columns_is_symmetric_per_column_and_7_bit() -> None:
    w = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    w[:, 3] = 0.0
    q, scale = quantize_columns(w)
    assert q.dtype == np.int8 and scale.shape == (8,)
    assert np.abs(q).max() == 63  # reduce_range: cannot saturate AVX2's 16-bit sums
    assert scale[3] == 1.0 and not q[:, 3].any()
    # each column's error is at most half a step
    assert np.all(np.abs(q * scale - w) <= scale / 2 + 1e-7)
    q8, _ = quantize_columns(w, bits=8)
    assert np.abs(q8).max() == 127
    with pytest.raises(ValueError, match="bits"):
        quantize_columns(w, bits=4)


def test_probe_limit_is_the_export_difference_plus_a_margin() -> None:
    assert probe_limit(None) == MAX_PROB_DIFF
    assert probe_limit(0.01) == MAX_PROB_DIFF
    assert probe_limit(0.08) == pytest.approx(0.08 + EXPORT_DIFF_MARGIN)


@pytest.fixture()
def shipped_tiny(graph_model: Path) -> Path:
    """The tiny model as we ship models (fp16 master, weightless fp32 graph) plus the int8 graph."""
    from crossingguard.toolkit.training.rowwise_int8 import write_int8_graph

    write_int8_graph(graph_model)
    return graph_model


def test_the_int8_graph_holds_no_weights_and_records_its_probe(
    shipped_tiny: Path,
) -> None:
    graph = shipped_tiny / "onnx" / INT8_GRAPH_FILE
    record = json.loads((shipped_tiny / "onnx" / INT8_WEIGHTS_MAP_FILE).read_text())
    parts = {spec.get("quantize") for spec in record["initializers"].values()}
    assert parts == {None, "weight", "scale"}
    assert _recorded(graph) is not None and float(_recorded(graph)) >= 0.0
    assert graph.stat().st_size < (shipped_tiny / "model.safetensors").stat().st_size
    assert has_int8(shipped_tiny)


def test_int8_is_opt_in_and_close_to_fp32(shipped_tiny: Path) -> None:
    assert load_scorer(shipped_tiny, backend="onnx").precision == "fp32"
    int8 = load_scorer(shipped_tiny, backend="onnx", precision="int8")
    assert int8.precision == "int8" and int8.notices == ()
    fp32 = load_scorer(shipped_tiny, backend="onnx")
    a, b = int8.predict(PAIRS), fp32.predict(PAIRS)
    assert not np.array_equal(a, b)  # really another graph
    assert np.abs(a - b).max() < 0.1


def test_int8_scores_do_not_depend_on_the_batch(shipped_tiny: Path) -> None:
    int8 = load_scorer(shipped_tiny, backend="onnx", precision="int8")
    together = int8.predict(PAIRS, batch_size=64)
    alone = np.concatenate([int8.predict([p], batch_size=1) for p in PAIRS])
    reversed_ = int8.predict(PAIRS[::-1], batch_size=2)[::-1]
    np.testing.assert_allclose(together, alone, atol=1e-6)
    np.testing.assert_allclose(together, reversed_, atol=1e-6)


@pytest.mark.parametrize(
    ("recorded", "measured", "kept"),
    [(0.08, 0.09, True), (0.08, 0.2, False), (None, 0.06, False), (None, 0.04, True)],
)
def test_int8_is_kept_only_where_this_cpu_reproduces_the_export(
    shipped_tiny: Path,
    monkeypatch: pytest.MonkeyPatch,
    recorded: float | None,
    measured: float,
    kept: bool,
) -> None:
    import onnx

    from crossingguard.inference import int8_check

    graph = shipped_tiny / "onnx" / INT8_GRAPH_FILE
    model = onnx.load(str(graph), load_external_data=False)
    del model.metadata_props[:]
    if recorded is not None:
        entry = model.metadata_props.add()
        entry.key, entry.value = PROBE_METADATA_KEY, str(recorded)
    onnx.save(model, str(graph))
    assert _recorded(graph) == (None if recorded is None else str(recorded))
    monkeypatch.setattr(int8_check, "probe_diff", lambda *_: measured)
    scorer = load_scorer(shipped_tiny, backend="onnx", precision="int8")
    assert scorer.precision == ("int8" if kept else "fp32")
    if not kept:
        assert "drifts from fp32" in scorer.notices[0]


def test_a_bad_quantize_part_is_a_model_error(shipped_tiny: Path) -> None:
    path = shipped_tiny / "onnx" / INT8_WEIGHTS_MAP_FILE
    record = json.loads(path.read_text())
    name = next(n for n, s in record["initializers"].items() if s.get("quantize"))
    record["initializers"][name]["quantize"] = "int4"
    path.write_text(json.dumps(record))
    with pytest.raises(ModelError, match="quantize"):
        derived_int8_model(shipped_tiny)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["crossingguard-nli-mini", "crossingguard-nli-micro"])
def test_builtin_int8_runs_on_this_cpu_and_agrees_with_fp32(name: str) -> None:
    int8 = load_scorer(name, precision="int8")
    assert int8.precision == "int8", int8.notices
    fp32 = load_scorer(name)
    a, b = int8.predict(PAIRS), fp32.predict(PAIRS)
    assert (a.argmax(1) == b.argmax(1)).all()
    alone = np.concatenate([int8.predict([p], batch_size=1) for p in PAIRS])
    np.testing.assert_allclose(a, alone, atol=1e-6)


def test_cli_precision_option_runs_the_int8_graph(
    shipped_tiny: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from crossingguard.cli.app import app

    rows = [{"premise": p, "hypothesis": h} for p, h in PAIRS]
    source = tmp_path / "pairs.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    scores = {}
    for precision in ("fp32", "int8"):
        out = tmp_path / f"{precision}.jsonl"
        result = CliRunner().invoke(
            app,
            ["classify", "-i", str(source), "-o", str(out), "-m", str(shipped_tiny)]
            + ["--precision", precision],
        )
        assert result.exit_code == 0, result.output
        scores[precision] = [
            json.loads(line)["entailment"] for line in out.read_text().splitlines()
        ]
    expected = load_scorer(shipped_tiny, backend="onnx", precision="int8").predict(
        PAIRS
    )
    np.testing.assert_allclose(scores["int8"], expected[:, 0], atol=1e-6)
    assert scores["int8"] != scores["fp32"]


def test_a_cached_self_check_loads_no_fp32_weights(
    shipped_tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crossingguard.inference import scorer as scorer_module

    assert (
        load_scorer(shipped_tiny, backend="onnx", precision="int8").precision == "int8"
    )

    def no_fp32(model_dir: Path) -> None:
        raise AssertionError("fp32 weights loaded although the self-check is cached")

    monkeypatch.setattr(scorer_module, "fp32_model", no_fp32)
    again = load_scorer(shipped_tiny, backend="onnx", precision="int8")
    assert again.precision == "int8" and again.notices == ()
