"""Tiny random NLI classifiers of the architectures users bring, built offline in code.

The card's family (ModernBERT) and the NLI models people download (DeBERTa-v3, RoBERTa-MNLI,
XLM-R-XNLI, ELECTRA, BART-MNLI) are not BERT: they differ in tokenizer (WordPiece, byte-level BPE,
SentencePiece Unigram), special-token template (``[CLS] A [SEP] B [SEP]`` vs ``<s> A </s></s> B
</s>``), padding id, whether ``token_type_ids`` exist, pooling (CLS, mean, last ``</s>``) and head
order. Each spec here reproduces those traits at hidden size 32 with one or two layers, so the
whole engine (torch backend, ONNX export, ONNX backend) can be checked on them in seconds.

Weights are random (seeded); the heads' ``id2label`` copy the orders of well-known hub models.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiny_model import _WORDS, _vocab

MAX_LENGTH = 128
# Random init with the default std (0.02) gives nearly equal logits for every input; a wider one
# makes outputs differ between inputs, so order, padding and label-mapping mistakes show.
INIT_RANGE = 0.5
DEBERTA_INIT_RANGE = (
    0.3  # 0.5 saturates DeBERTa (every pair ~(0, 1, 0)); 0.1 scores all alike
)

# Label orders of real hub models, so the mapping to entailment/neutral/contradiction is tested on
# the orders users meet.
MNLI_CNE = {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}  # roberta-large-mnli
BART_MNLI = {
    0: "contradiction",
    1: "neutral",
    2: "entailment",
}  # facebook/bart-large-mnli
ENC = {0: "entailment", 1: "neutral", 2: "contradiction"}  # MoritzLaurer DeBERTa-v3 NLI
NEC = {0: "neutral", 1: "entailment", 2: "contradiction"}
ZEROSHOT_2 = {0: "entailment", 1: "not_entailment"}  # MoritzLaurer *-zeroshot-v2.0
REVERSED_2 = {0: "not_entailment", 1: "entailment"}


@dataclass(frozen=True)
class ArchSpec:
    """One architecture: how to build its tokenizer and model, and what we expect of it."""

    name: str
    id2label: Mapping[int, str]
    reads_token_type_ids: (
        bool  # the tokenizer emits them and the model has embeddings for them
    )
    tokenizer: Callable[[], Any]
    model: Callable[[Any, Mapping[int, str]], Any]


# --- tokenizers -------------------------------------------------------------------------------


def _corpus() -> list[str]:
    """Sentences covering the test vocabulary, for training byte-level BPE merges."""
    words = list(_WORDS)
    return [" ".join(words[i : i + 7]) for i in range(0, len(words), 3)] + words


def _byte_level_bpe(
    specials: list[str], vocab_size: int = 400
) -> tuple[dict[str, int], list]:
    """Vocab and merges of a byte-level BPE (GPT-2 style: any text encodes, no unknowns)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer)
    model = json.loads(tok.to_str())["model"]
    return dict(model["vocab"]), [
        tuple(m) if isinstance(m, list) else tuple(m.split()) for m in model["merges"]
    ]


def _unigram_vocab(specials: list[str]) -> list[tuple[str, float]]:
    """SentencePiece-style pieces: whole words (``▁the``) plus single characters as a fallback."""
    pieces = [(s, 0.0) for s in specials]
    pieces += [(f"▁{w}", -5.0) for w in _WORDS]
    chars = (
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;()#%&/"
    )
    pieces += (
        [("▁", -8.0)] + [(c, -10.0) for c in chars] + [(f"▁{c}", -9.0) for c in chars]
    )
    seen: dict[str, float] = {}
    for piece, score in pieces:
        seen.setdefault(piece, score)
    return list(seen.items())


def _wordpiece_tokenizer(
    tokenizer_class_name: str = "BertTokenizer",
) -> Callable[[], Any]:
    def build() -> Any:
        import transformers

        vocab = {tok: i for i, tok in enumerate(_vocab())}
        cls = getattr(transformers, tokenizer_class_name)
        return cls(vocab=vocab, do_lower_case=True, model_max_length=MAX_LENGTH)

    return build


def _roberta_tokenizer(class_name: str) -> Callable[[], Any]:
    def build() -> Any:
        import transformers

        # RoBERTa/BART ids: <s> 0, <pad> 1, </s> 2, <unk> 3; pad is not 0
        vocab, merges = _byte_level_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
        cls = getattr(transformers, class_name)
        return cls(vocab=vocab, merges=merges, model_max_length=MAX_LENGTH)

    return build


def _xlmr_tokenizer() -> Any:
    from transformers import XLMRobertaTokenizer

    vocab = _unigram_vocab(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return XLMRobertaTokenizer(vocab=vocab, model_max_length=MAX_LENGTH)


def _deberta_tokenizer() -> Any:
    from transformers import DebertaV2Tokenizer

    # DeBERTa-v3 ids: [PAD] 0, [CLS] 1, [SEP] 2, [UNK] 3
    vocab = _unigram_vocab(["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"])
    return DebertaV2Tokenizer(
        vocab=vocab, unk_id=3, do_lower_case=False, model_max_length=MAX_LENGTH
    )


def _modernbert_tokenizer() -> Any:
    """Like answerdotai/ModernBERT-base: byte-level BPE, ``[CLS] A [SEP] B [SEP]``, no type ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
    vocab, merges = _byte_level_bpe(specials)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token="[MASK]",
        model_input_names=["input_ids", "attention_mask"],
        model_max_length=MAX_LENGTH,
    )


# --- models -----------------------------------------------------------------------------------


def _labels(id2label: Mapping[int, str]) -> dict[str, Any]:
    return {
        "num_labels": len(id2label),
        "id2label": {int(k): v for k, v in id2label.items()},
        "label2id": {v: int(k) for k, v in id2label.items()},
    }


def _special_ids(tokenizer: Any) -> dict[str, int]:
    return {
        "vocab_size": len(tokenizer),
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.cls_token_id,
        "eos_token_id": tokenizer.sep_token_id,
    }


_ENCODER = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "initializer_range": INIT_RANGE,
}


def _modernbert(tokenizer: Any, id2label: Mapping[int, str]) -> Any:
    from transformers import ModernBertConfig, ModernBertForSequenceClassification

    config = ModernBertConfig(
        **_ENCODER,
        **_special_ids(tokenizer),
        cls_token_id=tokenizer.cls_token_id,
        sep_token_id=tokenizer.sep_token_id,
        max_position_embeddings=MAX_LENGTH,
        global_attn_every_n_layers=2,  # layer 0 global, layer 1 local (sliding window)
        local_attention=16,  # shorter than the test pairs, so the sliding window is exercised
        classifier_pooling="mean",  # padding must be masked out of the mean
        **_labels(id2label),
    )
    return ModernBertForSequenceClassification(config)


def _deberta(type_vocab_size: int) -> Callable[[Any, Mapping[int, str]], Any]:
    """DeBERTa-v3 layout: relative attention with log buckets and no absolute positions.

    ``type_vocab_size=0`` is what v3 checkpoints ship (the tokenizer still emits token_type_ids,
    which the model ignores, so the export drops them); 2 gives them embeddings, as in v1/v2-style
    fine-tunes that kept segment ids.
    """

    def build(tokenizer: Any, id2label: Mapping[int, str]) -> Any:
        from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

        config = DebertaV2Config(
            **{**_ENCODER, "initializer_range": DEBERTA_INIT_RANGE},
            **_special_ids(tokenizer),
            max_position_embeddings=MAX_LENGTH,
            relative_attention=True,
            position_buckets=32,
            max_relative_positions=-1,
            pos_att_type=["p2c", "c2p"],
            norm_rel_ebd="layer_norm",
            share_att_key=True,
            position_biased_input=False,
            type_vocab_size=type_vocab_size,
            **_labels(id2label),
        )
        return DebertaV2ForSequenceClassification(config)

    return build


def _roberta(tokenizer: Any, id2label: Mapping[int, str]) -> Any:
    from transformers import RobertaConfig, RobertaForSequenceClassification

    config = RobertaConfig(
        **_ENCODER,
        **_special_ids(tokenizer),
        max_position_embeddings=MAX_LENGTH + 2,  # positions start after padding_idx
        type_vocab_size=1,
        **_labels(id2label),
    )
    return RobertaForSequenceClassification(config)


def _xlm_roberta(tokenizer: Any, id2label: Mapping[int, str]) -> Any:
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    config = XLMRobertaConfig(
        **_ENCODER,
        **_special_ids(tokenizer),
        max_position_embeddings=MAX_LENGTH + 2,
        type_vocab_size=1,
        **_labels(id2label),
    )
    return XLMRobertaForSequenceClassification(config)


def _electra(tokenizer: Any, id2label: Mapping[int, str]) -> Any:
    from transformers import ElectraConfig, ElectraForSequenceClassification

    config = ElectraConfig(
        **_ENCODER,
        **_special_ids(tokenizer),
        embedding_size=16,  # smaller than hidden, as in ELECTRA: exercises embeddings_project
        max_position_embeddings=MAX_LENGTH,
        type_vocab_size=2,
        **_labels(id2label),
    )
    return ElectraForSequenceClassification(config)


def _bart(tokenizer: Any, id2label: Mapping[int, str]) -> Any:
    from transformers import BartConfig, BartForSequenceClassification

    config = BartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=MAX_LENGTH,
        init_std=INIT_RANGE,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_bos_token_id=tokenizer.bos_token_id,
        **_labels(id2label),
    )
    return BartForSequenceClassification(config)


SPECS: dict[str, ArchSpec] = {
    spec.name: spec
    for spec in (
        ArchSpec("modernbert", NEC, False, _modernbert_tokenizer, _modernbert),
        ArchSpec("deberta-v3", ENC, False, _deberta_tokenizer, _deberta(0)),
        ArchSpec("deberta-v2-typed", ZEROSHOT_2, True, _deberta_tokenizer, _deberta(2)),
        ArchSpec(
            "roberta", MNLI_CNE, False, _roberta_tokenizer("RobertaTokenizer"), _roberta
        ),
        ArchSpec("xlm-roberta", BART_MNLI, False, _xlmr_tokenizer, _xlm_roberta),
        ArchSpec(
            "electra", REVERSED_2, True, _wordpiece_tokenizer("BertTokenizer"), _electra
        ),
        ArchSpec("bart", BART_MNLI, False, _roberta_tokenizer("BartTokenizer"), _bart),
    )
}


def build_arch_model(name: str, out_dir: str | Path, *, seed: int = 0) -> Path:
    """Save a tiny random ``name`` classifier (config, tokenizer, safetensors) to ``out_dir``.

    No ONNX file is written: exporting is part of what the tests check.
    """
    import torch

    spec = SPECS[name]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = spec.tokenizer()
    torch.manual_seed(seed)
    model = spec.model(tokenizer, spec.id2label).eval()
    tokenizer.save_pretrained(out)
    model.save_pretrained(out, safe_serialization=True)
    return out
