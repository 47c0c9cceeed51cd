"""Corrupted and wrong model directories: each is a ModelError at load time that says what is
wrong and what to do, never a scorer that returns wrong scores (or fails) on a later request.

Covers both layouts: a self-contained ``onnx/model.onnx`` (the tiny test model) and the
weightless graph the built-in models ship (``onnx/graph.onnx`` + ``onnx/graph_weights.json`` +
``model.safetensors``, see crossingguard.inference.onnx_files).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from crossingguard.errors import ModelError
from crossingguard.inference.onnx_files import (
    GRAPH_FILE,
    WEIGHTS_FILE,
    WEIGHTS_MAP_FILE,
)
from crossingguard.inference.scorer import load_scorer

PAIRS = [("the cat sat on the mat", "a dog"), ("hello world", "hello")]


@pytest.fixture()
def model(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny model to break."""
    return Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))


@pytest.fixture()
def shipped(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """The tiny model in the built-in layout: safetensors + weightless graph, no model.onnx."""
    pytest.importorskip("onnx")
    from crossingguard.toolkit.training.onnx_graph import write_weightless_graph

    out = Path(shutil.copytree(tiny_model_dir, tmp_path / "shipped"))
    write_weightless_graph(tiny_model_dir / "onnx" / "model.onnx", out)
    (out / "onnx" / "model.onnx").unlink()
    return out


def edit_json(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_intact_copies_load_and_score(model: Path, shipped: Path) -> None:
    """The baseline every case below breaks: both layouts load and agree."""
    a = load_scorer(model, backend="onnx").predict(PAIRS)
    b = load_scorer(shipped, backend="onnx").predict(PAIRS)
    np.testing.assert_allclose(a, b, atol=1e-6)


# ------------------------------------------------------------------ missing files
def test_missing_config(model: Path) -> None:
    (model / "config.json").unlink()
    with pytest.raises(
        ModelError, match="not a model directory: expected a folder with config.json"
    ):
        load_scorer(model)


def test_missing_tokenizer(model: Path) -> None:
    for name in (
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
        "special_tokens_map.json",
    ):
        (model / name).unlink(missing_ok=True)
    with pytest.raises(ModelError, match="has no tokenizer files"):
        load_scorer(model, backend="onnx")


@pytest.mark.parametrize("backend", ["onnx", "auto"])
def test_missing_weights(model: Path, backend: str) -> None:
    shutil.rmtree(model / "onnx")
    (model / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelError, match="no ONNX export|cannot load|train extra"):
        load_scorer(model, backend=backend)  # type: ignore[arg-type]


def test_a_file_where_the_directory_should_be(model: Path) -> None:
    with pytest.raises(ModelError, match="not a model directory"):
        load_scorer(model / "config.json")


# ------------------------------------------------------------------ broken files
@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # a copy cut short
        lambda raw: bytes(
            np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)
        ),
        lambda raw: b"",
    ],
    ids=["truncated", "random-bytes", "empty"],
)
def test_broken_onnx_file(model: Path, damage) -> None:
    path = model / "onnx" / "model.onnx"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ModelError, match="ONNX Runtime cannot load"):
        load_scorer(model, backend="onnx")


@pytest.mark.parametrize("text", ["{not json", "[1, 2, 3]", "\xff\xfe"])
def test_broken_config(model: Path, text: str) -> None:
    (model / "config.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(ModelError, match="config.json"):
        load_scorer(model, backend="onnx")


def test_broken_tokenizer_json(model: Path) -> None:
    (model / "tokenizer.json").write_text(
        '{"version": "1.0", "model": 5}', encoding="utf-8"
    )
    with pytest.raises(ModelError, match="cannot read .*tokenizer.json"):
        load_scorer(model, backend="onnx")


# ------------------------------------------------------------------ wrong labels
@pytest.mark.parametrize(
    ("id2label", "message"),
    [
        (
            {"0": "entailment", "1": "not_entailment"},
            "outputs 3 logits per pair but config.json id2label names 2",
        ),
        (
            {"0": "entailment", "1": "neutral", "2": "contradiction", "3": "other"},
            "cannot read NLI labels",
        ),
        ({"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}, "cannot read NLI labels"),
        ("entailment neutral contradiction", "id2label must be an object"),
        (
            {"0": "entailment", "2": "neutral", "3": "contradiction"},
            "keys must be 0..n-1",
        ),
    ],
)
def test_id2label_that_does_not_match_the_head(
    model: Path, id2label: object, message: str
) -> None:
    edit_json(model / "config.json", id2label=id2label)
    with pytest.raises(ModelError, match=message):
        load_scorer(model, backend="onnx")


def test_two_class_sentiment_model_is_refused(tiny_model_factory) -> None:
    other = tiny_model_factory("sentiment", id2label={0: "negative", 1: "positive"})
    with pytest.raises(ModelError, match="cannot read NLI labels"):
        load_scorer(other, backend="onnx")


def test_two_class_entailment_model_loads_with_no_neutral(tiny_model_factory) -> None:
    """entailment / not_entailment is a real NLI model: supported, not_entailment -> contradiction."""
    other = tiny_model_factory(
        "rte-like", id2label={0: "entailment", 1: "not_entailment"}
    )
    out = load_scorer(other, backend="onnx").predict(PAIRS)
    assert (out[:, 1] == 0).all()
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_three_label_config_on_a_two_class_head(tiny_model_factory) -> None:
    """The other way round: the head has 2 outputs, config.json claims 3 labels."""
    other = tiny_model_factory(
        "two-head", id2label={0: "entailment", 1: "not_entailment"}
    )
    edit_json(
        other / "config.json",
        id2label={"0": "entailment", "1": "neutral", "2": "contradiction"},
    )
    with pytest.raises(
        ModelError, match="outputs 2 logits per pair but config.json id2label names 3"
    ):
        load_scorer(other, backend="onnx")


# ------------------------------------------------------------------ wrong tokenizer
def test_tokenizer_from_a_bigger_model(model: Path) -> None:
    from tokenizers import AddedToken, Tokenizer

    tok = Tokenizer.from_file(str(model / "tokenizer.json"))
    size = json.loads((model / "config.json").read_text(encoding="utf-8"))["vocab_size"]
    extra = size - tok.get_vocab_size(with_added_tokens=True) + 10
    tok.add_tokens([AddedToken(f"extra{i}") for i in range(extra)])
    tok.save(str(model / "tokenizer.json"))
    with pytest.raises(ModelError, match="tokenizer files come from another model"):
        load_scorer(model, backend="onnx")


def test_tokenizer_of_a_builtin_model(model: Path) -> None:
    from crossingguard.inference.loading import builtin_model_dirs

    installed = builtin_model_dirs()
    if not installed:
        pytest.skip("no built-in model installed")
    source = next(iter(installed.values()))
    shutil.copy(source / "tokenizer.json", model / "tokenizer.json")
    with pytest.raises(
        ModelError,
        match=r"the tokenizer has [\d,]+ tokens but the model's embedding has",
    ):
        load_scorer(model, backend="onnx")


def test_window_too_small_for_any_pair(model: Path) -> None:
    edit_json(model / "tokenizer_config.json", model_max_length=8)
    with pytest.raises(ModelError, match="accepts only 8 tokens"):
        load_scorer(model, backend="onnx")


# ------------------------------------------------------------------ the weightless layout
def test_truncated_safetensors(shipped: Path) -> None:
    path = shipped / WEIGHTS_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelError, match=f"cannot read .*{WEIGHTS_FILE}"):
        load_scorer(shipped, backend="onnx")


def test_missing_weights_map(shipped: Path) -> None:
    (shipped / "onnx" / WEIGHTS_MAP_FILE).unlink()
    with pytest.raises(ModelError, match=f"has no {WEIGHTS_MAP_FILE} beside it"):
        load_scorer(shipped, backend="onnx")


def _map(shipped: Path) -> tuple[Path, dict]:
    path = shipped / "onnx" / WEIGHTS_MAP_FILE
    return path, json.loads(path.read_text(encoding="utf-8"))


def test_map_naming_tensors_the_weights_lack(shipped: Path) -> None:
    path, mapping = _map(shipped)
    for spec in mapping["initializers"].values():
        spec["tensor"] = "other." + spec["tensor"]
    path.write_text(json.dumps(mapping), encoding="utf-8")
    with pytest.raises(ModelError, match="different models"):
        load_scorer(shipped, backend="onnx")


def test_map_with_wrong_shapes(shipped: Path) -> None:
    path, mapping = _map(shipped)
    spec = next(s for s in mapping["initializers"].values() if len(s["shape"]) == 2)
    spec["transpose"] = not spec["transpose"]  # a transpose the exporter did not make
    path.write_text(json.dumps(mapping), encoding="utf-8")
    with pytest.raises(ModelError, match="expects shape"):
        load_scorer(shipped, backend="onnx")


def test_map_missing_an_initializer(shipped: Path) -> None:
    """Without its map entry, an initializer's weights would be read from wherever the graph
    points (nowhere): a load error, never a graph running on garbage."""
    path, mapping = _map(shipped)
    mapping["initializers"].pop(next(iter(mapping["initializers"])))
    path.write_text(json.dumps(mapping), encoding="utf-8")
    with pytest.raises(ModelError, match="ONNX Runtime cannot load"):
        load_scorer(shipped, backend="onnx")


@pytest.mark.parametrize(
    "text",
    ["{not json", "[]", '{"initializers": 5}', '{"initializers": {"x": 5}}',
     '{"initializers": {"x": {"tensor": ["a"]}}}', '{"initializers": {"x": {"tensor": null, "shape": 3}}}'],
)  # fmt: skip
def test_malformed_map(shipped: Path, text: str) -> None:
    (shipped / "onnx" / WEIGHTS_MAP_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(ModelError, match=WEIGHTS_MAP_FILE):
        load_scorer(shipped, backend="onnx")


def test_weights_that_give_nan(shipped: Path) -> None:
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(shipped / WEIGHTS_FILE))
    key = next(
        k for k in tensors if k.startswith("classifier") and k.endswith("weight")
    )
    tensors[key] = np.full_like(tensors[key], np.nan)
    save_file(tensors, str(shipped / WEIGHTS_FILE))
    with pytest.raises(ModelError, match="NaN or infinite logits"):
        load_scorer(shipped, backend="onnx")


def test_graph_of_another_model(shipped: Path, tiny_model_factory) -> None:
    """A graph exported from different weights still finds every tensor by name, but the map
    records shapes and names of that export: a model with other sizes is refused."""
    other = tiny_model_factory(
        "other-sizes", id2label={0: "entailment", 1: "not_entailment"}
    )
    pytest.importorskip("onnx")
    from crossingguard.toolkit.training.onnx_graph import write_weightless_graph

    donor = Path(shutil.copytree(other, shipped.parent / "donor"))
    write_weightless_graph(other / "onnx" / "model.onnx", donor)
    shutil.copy(donor / "onnx" / GRAPH_FILE, shipped / "onnx" / GRAPH_FILE)
    shutil.copy(donor / "onnx" / WEIGHTS_MAP_FILE, shipped / "onnx" / WEIGHTS_MAP_FILE)
    with pytest.raises(ModelError, match="expects shape|outputs 2 logits"):
        load_scorer(shipped, backend="onnx")


def test_pickled_weights_are_never_loaded(model: Path) -> None:
    """A folder with only pytorch_model.bin (a pickle, which can run code when loaded) is refused
    by the torch backend, with the way to convert it."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    torch.save(load_file(str(model / WEIGHTS_FILE)), model / "pytorch_model.bin")
    (model / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelError, match="never pickled .bin files"):
        load_scorer(model, backend="torch")
