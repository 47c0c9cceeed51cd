"""The scoring engine on the tiny random model: backends, labels, windows, invariances."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from crossingguard.errors import InputError, ModelError
from crossingguard.inference import load_scorer
from crossingguard.inference.scorer import aggregate_windows

PAIRS = [
    ("the cat sat on the mat", "a dog sat on the mat"),
    (
        "tell me what happened with that ceo caught on the kiss cam",
        "the prompt asks about a ceo",
    ),
    ("how do i make a cake", "the user wants a recipe"),
    ("hello", "the prompt requests information about weather today"),
    ("please help me write python code for a bank", "the user asks for code"),
    ("is it sunny today or rain", "the prompt asks about weather"),
]
LONG = " ".join(
    ["the cat sat on the mat and then a dog came to help me write a poem"] * 12
)


@pytest.fixture(scope="module")
def onnx_scorer(tiny_model_dir: Path):
    return load_scorer(tiny_model_dir, backend="onnx")


def test_predict_shape_and_distribution(onnx_scorer) -> None:
    probs = onnx_scorer.predict(PAIRS)
    assert probs.shape == (len(PAIRS), 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert onnx_scorer.backend == "onnx" and onnx_scorer.name == "model"
    assert onnx_scorer.predict([]).shape == (0, 3)


def test_backends_agree(tiny_model_dir: Path, onnx_scorer) -> None:
    torch_scorer = load_scorer(tiny_model_dir, backend="torch")
    assert torch_scorer.backend == "torch"
    pairs = [*PAIRS, (LONG, "a dog")]
    diff = np.abs(onnx_scorer.predict(pairs) - torch_scorer.predict(pairs)).max()
    assert diff < 1e-4


def test_auto_prefers_onnx_and_falls_back_to_torch(
    tiny_model_dir: Path, tiny_model_factory
) -> None:
    assert load_scorer(tiny_model_dir).backend == "onnx"
    no_onnx = tiny_model_factory("no-onnx", with_onnx=False)
    assert load_scorer(no_onnx).backend == "torch"
    with pytest.raises(ModelError, match="no ONNX export"):
        load_scorer(no_onnx, backend="onnx")


def test_outputs_differ_between_inputs(onnx_scorer) -> None:
    # Guards the fixture: a model that scores everything alike would make the other tests vacuous.
    probs = onnx_scorer.predict(PAIRS)
    assert np.ptp(probs, axis=0).max() > 0.01


def test_permuted_head_with_matching_id2label_gives_same_probabilities(
    tiny_model_dir: Path, tiny_model_factory, onnx_scorer
) -> None:
    permuted = tiny_model_factory("permuted", permute=[2, 0, 1])
    labels = json.loads((permuted / "config.json").read_text())["id2label"]
    assert labels == {"0": "contradiction", "1": "entailment", "2": "neutral"}
    for backend in ("onnx", "torch"):
        other = load_scorer(permuted, backend=backend).predict(PAIRS)
        np.testing.assert_allclose(other, onnx_scorer.predict(PAIRS), atol=1e-5)


def test_two_class_model(tiny_model_factory) -> None:
    model = tiny_model_factory(
        "two-class", id2label={0: "entailment", 1: "not_entailment"}
    )
    probs = load_scorer(model).predict(PAIRS)
    assert probs.shape == (len(PAIRS), 3)
    np.testing.assert_allclose(probs[:, 1], 0.0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_model_without_nli_labels_is_rejected(tiny_model_factory) -> None:
    model = tiny_model_factory(
        "label-n", id2label={0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    )
    with pytest.raises(ModelError, match="cannot read NLI labels"):
        load_scorer(model)


def test_invariant_to_batch_size_and_order(onnx_scorer) -> None:
    pairs = [*PAIRS, (LONG, "a dog came"), *PAIRS[:2]]
    ref = onnx_scorer.predict(pairs, batch_size=64)
    for bs in (1, 3):
        np.testing.assert_allclose(
            onnx_scorer.predict(pairs, batch_size=bs), ref, atol=1e-5
        )
    perm = np.random.default_rng(0).permutation(len(pairs))
    shuffled = onnx_scorer.predict([pairs[i] for i in perm], batch_size=4)
    np.testing.assert_allclose(shuffled, ref[perm], atol=1e-5)


def test_long_premise_is_windowed_and_aggregated(tiny_model_dir: Path) -> None:
    scorer = load_scorer(tiny_model_dir, backend="onnx", max_length=32)
    hypothesis = "a dog came to help"
    windows = scorer.windows(LONG, hypothesis)
    assert len(windows) > 2
    assert LONG.startswith(windows[0]) and LONG.endswith(windows[-1])
    # Windows overlap: each one starts inside the previous one's text.
    assert all(w[:10] in LONG for w in windows)
    per_window = scorer.predict([(w, hypothesis) for w in windows])
    assert len(scorer.windows(windows[0], hypothesis)) == 1  # each window fits
    merged = scorer.predict([(LONG, hypothesis)])[0]
    assert merged[0] == pytest.approx(per_window[:, 0].max(), abs=1e-6)
    assert merged[2] == pytest.approx(per_window[:, 2].min(), abs=1e-6)
    assert merged.sum() == pytest.approx(1.0, abs=1e-5)


def test_aggregate_windows_is_a_distribution() -> None:
    rng = np.random.default_rng(1)
    for _ in range(100):
        probs = rng.dirichlet(np.ones(3), size=rng.integers(2, 6)).astype(np.float32)
        out = aggregate_windows(probs)
        assert out.min() >= 0 and out.sum() == pytest.approx(1.0, abs=1e-5)


def test_condition_too_long_for_window_is_input_error(tiny_model_dir: Path) -> None:
    scorer = load_scorer(tiny_model_dir, max_length=16)
    with pytest.raises(InputError, match="hypothesis: too long"):
        scorer.predict([(LONG, LONG)])


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("", "x")], r"pairs -> 0 -> premise: must be a non-empty string"),
        ([("x", "  ")], r"pairs -> 0 -> hypothesis: must be a non-empty string"),
        ([("x", "y", "z")], r"pairs -> 0: expected a \(premise, hypothesis\) pair"),
        ("premise", "got a string"),
    ],
)
def test_bad_pairs(onnx_scorer, pairs, message: str) -> None:
    with pytest.raises(InputError, match=message):
        onnx_scorer.predict(pairs)


def test_missing_model_dir(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model directory not found"):
        load_scorer(tmp_path / "nope")
    with pytest.raises(ModelError, match="is not a model directory"):
        load_scorer(tmp_path)


def test_model_without_id2label(tiny_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    config = json.loads((broken / "config.json").read_text())
    del config["id2label"], config["label2id"]
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="no id2label|cannot read NLI labels"):
        load_scorer(broken)


def test_import_and_onnx_path_never_import_torch(tiny_model_dir: Path) -> None:
    code = (
        "import sys, crossingguard\n"
        "from crossingguard.inference import load_scorer\n"
        "from crossingguard.cli.app import app\n"
        f"s = load_scorer({str(tiny_model_dir)!r}, backend='auto')\n"
        "s.predict([('a b', 'c d')])\n"
        "assert s.backend == 'onnx'\n"
        "bad = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
