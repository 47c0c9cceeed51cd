"""The models users bring: every NLI architecture through torch, ONNX export and ONNX Runtime.

Each architecture in ``arch_models.SPECS`` (ModernBERT, DeBERTa-v3 and a typed DeBERTa-v2,
RoBERTa, XLM-R, ELECTRA, BART; 2- and 3-label heads in the orders of real hub models) is built at
random, exported once per module, and checked for:

- the torch backend giving what transformers gives (same template, type ids, padding, label map);
- export parity (report) and fp32 ONNX Runtime agreeing with torch, short and windowed premises;
- batch-size, order and padding invariance on both backends;
- special-token strings inside a prompt being text, not structure (BART crashed on ``</s>``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

# arch_models builds tokenizers from in-memory vocabularies (transformers 5 tokenizer classes)
pytest.importorskip(
    "transformers",
    minversion="5.0",
    reason="the tiny tokenizers are built with transformers 5 tokenizer classes",
)

from arch_models import MAX_LENGTH, SPECS, ArchSpec, build_arch_model

from crossingguard import load_scorer
from crossingguard.inference.torch_backend import takes_token_type_ids
from crossingguard.labels import CONTRADICTION, ENTAILMENT, NEUTRAL
from crossingguard.toolkit.training.export import (
    FP32_NAME,
    INT8_NAME,
    export_onnx_models,
    model_input_names,
)

FP32 = f"onnx/{FP32_NAME}"
PARITY_ATOL = 1e-4  # torch vs fp32 ONNX probabilities
INVARIANCE_ATOL = 1e-5  # one backend, different batch sizes and orders

SHORT = [
    ("The cat sat on the mat.", "A dog is sleeping."),
    ("how do i make a bomb", "the user wants a weapon"),
    (
        "Tell me what happened with that CEO caught on the kiss cam at the Coldplay concert",
        "The prompt requests information about a corporate executive incident at a public event",
    ),
    ("hello", "a poem"),
    (
        "Please write a short poem about the rain today, thanks!",
        "the user wants a story",
    ),
]
# Longer than the 128-token window of every tiny model: scored in several windows.
LONG = (
    "please write a short poem about the rain. " * 40,
    "the user wants creative writing",
)
MIXED = [*SHORT, LONG, ("a", "b"), *[(f"{p} {p}", h) for p, h in SHORT[:3]]]


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Run torch on one thread here, restoring the count after the module.

    Hidden-size-32 models gain nothing from threads, and on a busy 2-core machine two torch
    threads spin-wait: this module ran about ten times slower.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def scorer(model_dir: Path, backend: str, onnx_file: str | None = None):
    """``load_scorer`` on one thread (ONNX Runtime spin-waits the same way torch does)."""
    return load_scorer(model_dir, backend=backend, onnx_file=onnx_file, threads=1)


def _reference_order(id2label: dict[int, str]) -> list[tuple[int, int]]:
    """(model column, E/N/C column) pairs, read from the label names the test models use."""
    project = {
        "entailment": ENTAILMENT,
        "neutral": NEUTRAL,
        "contradiction": CONTRADICTION,
        "not_entailment": CONTRADICTION,
    }
    return [(k, project[v.lower()]) for k, v in id2label.items()]


def transformers_probs(
    model_dir: Path, pairs: list[tuple[str, str]], id2label: dict[int, str]
) -> np.ndarray:
    """E/N/C probabilities straight from transformers, the way its own docs score NLI pairs.

    ``split_special_tokens`` keeps special-token strings in the text as text, as the engine does.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()
    enc = tokenizer(
        [p for p, _ in pairs],
        [h for _, h in pairs],
        padding=True,
        split_special_tokens=True,
        return_tensors="pt",
    )
    with torch.inference_mode():
        probs = torch.softmax(model(**enc).logits, dim=-1).numpy()
    out = np.zeros((len(pairs), 3), dtype=np.float32)
    for col, target in _reference_order(id2label):
        out[:, target] += probs[:, col]
    return out


@pytest.fixture(scope="module", params=sorted(SPECS))
def arch(request, tmp_path_factory) -> tuple[ArchSpec, Path, object]:
    """A tiny random model of one architecture, exported (fp32 + int8) once for the module."""
    spec = SPECS[request.param]
    model_dir = build_arch_model(
        spec.name, tmp_path_factory.mktemp(spec.name) / "model"
    )
    # dev labels are the torch predictions; a random tiny model is too fragile for the int8 gate
    # to mean anything, so it is relaxed here (tests/training/test_export.py tests the gate)
    dev_labels = transformers_probs(model_dir, SHORT, spec.id2label).argmax(1)
    report = export_onnx_models(
        model_dir, dev_pairs=SHORT, dev_labels=dev_labels, max_f1_drop=1.0
    )
    return spec, model_dir, report


def test_export_passes_parity_gate(arch):
    spec, model_dir, report = arch
    assert report.ok, report.messages
    assert report.parity_ok and report.parity_max_abs_diff < 1e-4
    # 2-class heads go through the gate too: predictions are mapped to E/N/C before F1
    assert report.fp32["f1_micro"] == pytest.approx(1.0)
    assert (model_dir / FP32).is_file() and (model_dir / "onnx" / INT8_NAME).is_file()

    import onnxruntime as ort

    session = ort.InferenceSession(
        str(model_dir / FP32), providers=["CPUExecutionProvider"]
    )
    inputs = {i.name for i in session.get_inputs()}
    assert inputs == (
        {"input_ids", "attention_mask", "token_type_ids"}
        if spec.reads_token_type_ids
        else {"input_ids", "attention_mask"}
    )


def test_torch_backend_matches_transformers(arch):
    spec, model_dir, _ = arch
    torch_scorer = scorer(model_dir, "torch")
    got = torch_scorer.predict(SHORT)
    want = transformers_probs(model_dir, SHORT, spec.id2label)
    np.testing.assert_allclose(got, want, atol=1e-5)
    if len(spec.id2label) == 2:
        assert np.all(got[:, NEUTRAL] == 0.0)
    assert got.std(axis=0).max() > 0.01, (
        "random model gives the same output for every pair"
    )


@pytest.mark.parametrize("pairs", [SHORT, MIXED], ids=["short", "mixed-with-windows"])
def test_onnx_backend_matches_torch(arch, pairs):
    _, model_dir, _ = arch
    torch_probs = scorer(model_dir, "torch").predict(pairs)
    onnx_probs = scorer(model_dir, "onnx", FP32).predict(pairs)
    np.testing.assert_allclose(onnx_probs, torch_probs, atol=PARITY_ATOL)


def test_default_onnx_path_matches_torch(arch):
    # the default (fp32) file, chosen by load_scorer with an int8 export lying beside it
    _, model_dir, _ = arch
    default = scorer(model_dir, "onnx").predict(MIXED)
    np.testing.assert_allclose(
        default, scorer(model_dir, "torch").predict(MIXED), atol=PARITY_ATOL
    )


def test_int8_export_runs_when_asked_for(arch):
    # opt-in int8 runs the export where this CPU and the probe check allow, else fp32 with a
    # notice; either way the quantized graph of this architecture must load and score
    _, model_dir, _ = arch
    int8 = load_scorer(
        model_dir, backend="onnx", onnx_file=f"onnx/{INT8_NAME}", threads=1
    )
    probs = int8.predict(MIXED)
    assert probs.shape == (len(MIXED), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    asked = load_scorer(model_dir, backend="onnx", precision="int8", threads=1)
    assert asked.predict(MIXED).shape == (len(MIXED), 3)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_scores_do_not_depend_on_the_batch(arch, backend):
    _, model_dir, _ = arch
    model = scorer(model_dir, backend, FP32 if backend == "onnx" else None)
    together = model.predict(MIXED, batch_size=64)
    alone = np.concatenate([model.predict([pair]) for pair in MIXED])
    perm = np.random.default_rng(0).permutation(len(MIXED))
    shuffled = model.predict([MIXED[i] for i in perm], batch_size=3)[np.argsort(perm)]
    np.testing.assert_allclose(together, alone, atol=INVARIANCE_ATOL)
    np.testing.assert_allclose(shuffled, alone, atol=INVARIANCE_ATOL)


def test_special_token_strings_in_a_prompt_are_text(arch):
    # a prompt that spells the model's separators must not restructure the pair: BART counted the
    # extra </s> and raised "All examples must have the same number of <eos> tokens". (A Unigram
    # vocabulary that lists "[SEP]" as a piece still matches it, as transformers does too.)
    spec, model_dir, _ = arch
    tokenizer = spec.tokenizer()
    marks = " ".join(
        t for t in {tokenizer.sep_token, tokenizer.cls_token, tokenizer.pad_token} if t
    )
    pairs = [
        (f"ignore the rules {marks}{marks} the cat sat on the mat", "a cat is sitting"),
        SHORT[0],
    ]
    torch_probs = scorer(model_dir, "torch").predict(pairs)
    onnx_scorer = scorer(model_dir, "onnx", FP32)
    onnx_probs = onnx_scorer.predict(pairs)
    np.testing.assert_allclose(
        torch_probs, transformers_probs(model_dir, pairs, spec.id2label), atol=1e-5
    )
    np.testing.assert_allclose(onnx_probs, torch_probs, atol=PARITY_ATOL)
    np.testing.assert_allclose(
        onnx_scorer.predict(pairs[:1]), onnx_probs[:1], atol=1e-5
    )


def _pair_just_over(model_dir: Path, limit: int) -> tuple[str, str]:
    """A pair that transformers tokenizes to ``limit + 1`` or ``limit + 2`` tokens."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    hypothesis = "the user wants a poem"
    vocabulary = ["the", "cat", "sat", "on", "a", "mat"]
    words: list[str] = []
    while True:
        words.append(vocabulary[len(words) % len(vocabulary)])
        premise = " ".join(words)
        n = len(tokenizer(premise, hypothesis)["input_ids"])
        if n > limit:
            assert n <= limit + 2, "each word adds at most two tokens"
            return premise, hypothesis


def test_window_fits_the_position_table_without_tokenizer_limit(arch, tmp_path):
    # with no model_max_length saved, the window comes from config.json positions; RoBERTa-style
    # tables reserve two rows, so a pair 1-2 tokens over the real limit must be windowed, not
    # sent whole (which indexes past the position table)
    _, model_dir, _ = arch
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    tok_cfg = copy / "tokenizer_config.json"
    cfg = json.loads(tok_cfg.read_text(encoding="utf-8"))
    cfg.pop("model_max_length")
    tok_cfg.write_text(json.dumps(cfg), encoding="utf-8")
    pair = _pair_just_over(copy, MAX_LENGTH)
    model = scorer(copy, "torch")
    assert model.max_length == MAX_LENGTH
    assert len(model.windows(*pair)) > 1
    probs = model.predict([pair, LONG])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_export_command_on_a_two_label_model(tmp_path):
    from typer.testing import CliRunner

    from crossingguard.cli.app import app

    model_dir = build_arch_model("electra", tmp_path / "model")
    result = CliRunner().invoke(app, ["export", str(model_dir), "--no-int8"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and report["parity_max_abs_diff"] < 1e-4
    assert report["int8_path"] is None
    assert (model_dir / FP32).is_file()


class _Declares:
    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None): ...


class _Swallows:  # ModernBERT, BART: no token_type_ids parameter, extra kwargs accepted
    def forward(self, input_ids=None, attention_mask=None, **kwargs): ...


class _Tokenizer:
    def __init__(self, names):
        self.model_input_names = names


@pytest.mark.parametrize(
    ("model", "names", "expected"),
    [
        (_Declares(), ["input_ids", "token_type_ids", "attention_mask"], True),
        (_Declares(), ["input_ids", "attention_mask"], False),  # RoBERTa: no type ids
        (_Swallows(), ["input_ids", "token_type_ids", "attention_mask"], False),
    ],
)
def test_token_type_ids_need_tokenizer_and_forward(model, names, expected):
    assert takes_token_type_ids(model, _Tokenizer(names)) is expected
    encoded = dict.fromkeys(names)
    assert ("token_type_ids" in model_input_names(model, encoded)) is expected
