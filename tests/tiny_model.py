"""Build a tiny random NLI cross-encoder on disk, in the layout our real models use.

The directory holds what ``CrossEncoder(path)`` and our ONNX backend read: ``config.json`` (with
``id2label``), WordPiece tokenizer files, ``model.safetensors`` and ``onnx/model.onnx``. Weights are
random, so scores mean nothing; tests use it for shapes, invariants and backend agreement.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

DEFAULT_ID2LABEL: dict[int, str] = {0: "entailment", 1: "neutral", 2: "contradiction"}

# Whole words keep common test sentences short; single letters and ##letters let any ASCII word be
# tokenized, so long premises really are long in tokens.
_WORDS = [
    "the",
    "a",
    "an",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "to",
    "of",
    "and",
    "or",
    "not",
    "no",
    "yes",
    "in",
    "on",
    "at",
    "for",
    "with",
    "by",
    "from",
    "this",
    "that",
    "it",
    "prompt",
    "requests",
    "information",
    "about",
    "asks",
    "user",
    "wants",
    "tell",
    "me",
    "what",
    "happened",
    "ceo",
    "caught",
    "kiss",
    "cam",
    "concert",
    "public",
    "event",
    "corporate",
    "executive",
    "incident",
    "weather",
    "today",
    "sunny",
    "rain",
    "cat",
    "dog",
    "sat",
    "mat",
    "how",
    "do",
    "i",
    "make",
    "bomb",
    "cake",
    "recipe",
    "bake",
    "help",
    "write",
    "code",
    "python",
    "hello",
    "world",
    "please",
    "thanks",
    "question",
    "answer",
    "story",
    "poem",
    "violence",
    "weapon",
    "drug",
    "hate",
    "speech",
    "self",
    "harm",
    "medical",
    "legal",
    "advice",
    "money",
    "bank",
]
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
_PUNCT = list(".,!?'\"-:;()")


def _vocab() -> list[str]:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    seen: dict[str, None] = {}
    for tok in [*specials, *_PUNCT, *_LETTERS, *(f"##{c}" for c in _LETTERS), *_WORDS]:
        seen.setdefault(tok, None)
    return list(seen)


def build_tiny_nli_model(
    out_dir: str | Path,
    *,
    id2label: Mapping[int, str] | None = None,
    permute: Sequence[int] | None = None,
    seed: int = 0,
    with_onnx: bool = True,
) -> Path:
    """Write a random 2-layer BERT NLI classifier (hidden 32) to ``out_dir`` and return the path.

    ``permute`` reorders the classifier rows: new row ``i`` is the row of label ``permute[i]`` of
    the unpermuted model (same ``seed``). When ``id2label`` is not given it is permuted to match, so
    the permuted copy must give the same entailment/neutral/contradiction probabilities as the
    original. Pass ``id2label`` alone for other label sets (e.g. 2-class, or ``LABEL_0..2``).
    """
    import torch
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        BertTokenizerFast,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    base_labels = dict(id2label) if id2label is not None else dict(DEFAULT_ID2LABEL)
    num_labels = len(base_labels)
    if permute is not None:
        if sorted(permute) != list(range(num_labels)):
            raise ValueError(
                f"permute must be a permutation of 0..{num_labels - 1}, got {permute}"
            )
        if id2label is None:
            base_labels = {i: DEFAULT_ID2LABEL[p] for i, p in enumerate(permute)}

    vocab = _vocab()
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(
        vocab_file=str(out / "vocab.txt"), do_lower_case=True, model_max_length=128
    )
    tokenizer.save_pretrained(out)

    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        type_vocab_size=2,
        # The default 0.02 gives near-identical outputs for every input; 0.5 makes them differ.
        initializer_range=0.5,
        num_labels=num_labels,
        id2label={int(k): v for k, v in base_labels.items()},
        label2id={v: int(k) for k, v in base_labels.items()},
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config).eval()
    with torch.no_grad():
        if permute is not None:
            idx = torch.tensor(list(permute))
            model.classifier.weight.copy_(model.classifier.weight[idx].clone())
            model.classifier.bias.copy_(model.classifier.bias[idx].clone())
    model.save_pretrained(out, safe_serialization=True)

    if with_onnx:
        export_onnx(model, tokenizer, out / "onnx" / "model.onnx")
    return out


def export_onnx(model: object, tokenizer: object, path: Path) -> Path:
    """Export a HF sequence classifier to ONNX with dynamic batch and sequence axes."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    enc = tokenizer(["a premise here"], ["a hypothesis"], return_tensors="pt")  # type: ignore[operator]
    names = ["input_ids", "attention_mask", "token_type_ids"]
    args = tuple(enc[n] for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["logits"] = {0: "batch"}
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # tracer chatter about shape-dependent Python branches
        torch.onnx.export(
            model,  # type: ignore[arg-type]
            args,
            str(path),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    return path


def logit_runner(model_dir, backend="torch", onnx_file=None):
    """``runner(pairs, batch_size=..)``: raw logits in model order, as distillation reads them."""
    from crossingguard.inference.scorer import load_scorer

    scorer = load_scorer(
        model_dir, backend=backend, onnx_file=onnx_file, max_length=512
    )
    return scorer.raw_logits
