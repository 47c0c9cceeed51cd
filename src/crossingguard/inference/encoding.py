"""Turn (premise, hypothesis) pairs into padded token batches, windowing long premises.

The hypothesis (the condition) is always kept whole. A premise too long for the model's window is
not silently cut: it is split into windows, each scored with the full hypothesis, and the scorer
aggregates the windows (see ``scorer.aggregate_windows``). By default a window is a run of whole
sentences of at most ``limits.LONG_PROMPT_WINDOW_TOKENS`` tokens (see :class:`Windowing`): a
harmful sentence in a long benign prompt is then scored with few neighbours and never cut in two.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crossingguard.errors import InputError, ModelError
from crossingguard.inference.sentences import sentence_starts
from crossingguard.limits import (
    LONG_PROMPT_WINDOW_TOKENS,
    MIN_PREMISE_TOKENS,
    WINDOW_OVERLAP_SENTENCES,
)

WindowStrategy = Literal["sentences", "sliding"]


@dataclass(frozen=True)
class Windowing:
    """How a premise too long for one model window is split.

    ``sentences`` (default): windows of whole sentences, at most ``tokens`` premise tokens each,
    consecutive windows sharing ``overlap`` sentences; a sentence longer than a window is cut into
    pieces that overlap by a quarter. ``sliding``: windows of ``tokens`` tokens cut anywhere,
    overlapping by a quarter (the scheme before sentence windows, kept for comparison).
    ``tokens=None`` makes windows as large as the model allows beside the hypothesis.
    """

    strategy: WindowStrategy = "sentences"
    tokens: int | None = LONG_PROMPT_WINDOW_TOKENS
    overlap: int = WINDOW_OVERLAP_SENTENCES

    def __post_init__(self) -> None:
        if self.strategy not in ("sentences", "sliding"):
            raise InputError(
                f"windowing strategy: must be sentences or sliding, got {self.strategy!r}"
            )
        if self.tokens is not None and (
            isinstance(self.tokens, bool)
            or not isinstance(self.tokens, int)
            or self.tokens < MIN_PREMISE_TOKENS
        ):
            raise InputError(
                f"window tokens: must be an integer >= {MIN_PREMISE_TOKENS} or None (as many "
                f"as fit), got {self.tokens!r}"
            )
        if (
            isinstance(self.overlap, bool)
            or not isinstance(self.overlap, int)
            or self.overlap < 0
        ):
            raise InputError(
                f"window overlap: must be a whole number of sentences >= 0, got {self.overlap!r}"
            )


# Vocabulary files transformers can build a fast tokenizer from when tokenizer.json is missing
# (WordPiece, BPE, SentencePiece).
VOCAB_FILES = (
    "vocab.txt",
    "vocab.json",
    "spm.model",
    "sentencepiece.bpe.model",
    "spiece.model",
    "tokenizer.model",
)


@dataclass(frozen=True)
class Row:
    """One model input: a whole pair, or one window of a long premise with the hypothesis."""

    pair: int
    ids: list[int]
    type_ids: list[int]


def load_tokenizer(model_dir: Path) -> Any:
    """A ``tokenizers.Tokenizer`` from ``tokenizer.json`` (or converted by transformers)."""
    from tokenizers import Tokenizer

    path = model_dir / "tokenizer.json"
    if path.is_file():
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:
            raise ModelError(f"cannot read {path}: {exc}") from exc
    else:
        # Without any vocabulary file transformers builds an empty tokenizer (special tokens only)
        # and every word becomes [UNK]: the model would load and score garbage.
        if not any((model_dir / name).is_file() for name in VOCAB_FILES):
            raise ModelError(
                f"{model_dir} has no tokenizer files (tokenizer.json, or one of "
                f"{', '.join(VOCAB_FILES)}); copy the tokenizer saved with this model "
                "(tokenizer.save_pretrained) into the folder"
            )
        try:
            from transformers import AutoTokenizer
        except ImportError as exc:
            raise ModelError(
                f"{model_dir} has no tokenizer.json; save the tokenizer with a fast tokenizer "
                "(tokenizer.save_pretrained) or install the train extra to convert it"
            ) from exc
        try:
            tokenizer = AutoTokenizer.from_pretrained(
                str(model_dir), use_fast=True
            ).backend_tokenizer
        except Exception as exc:
            raise ModelError(
                f"cannot load a tokenizer from {model_dir}: {exc}"
            ) from exc
    tokenizer.no_truncation()
    tokenizer.no_padding()
    # Prompts are untrusted text: "</s>" or "[SEP]" typed in one must not become the model's
    # separator. It would let a prompt restructure the pair, and BART-MNLI, which pools the last
    # </s>, fails outright when rows of a batch hold different numbers of them.
    tokenizer.encode_special_tokens = True
    return tokenizer


def pad_token_id(model_dir: Path, tokenizer: Any, config: dict[str, Any]) -> int:
    """The padding id: the tokenizer's pad token, else config ``pad_token_id``, else 0."""
    tok_cfg = model_dir / "tokenizer_config.json"
    if tok_cfg.is_file():
        try:
            pad = json.loads(tok_cfg.read_text(encoding="utf-8")).get("pad_token")
        except (UnicodeDecodeError, json.JSONDecodeError):
            pad = None
        if isinstance(pad, dict):
            pad = pad.get("content")
        if isinstance(pad, str) and tokenizer.token_to_id(pad) is not None:
            return int(tokenizer.token_to_id(pad))
    value = config.get("pad_token_id")
    return int(value) if isinstance(value, int) else 0


class PairEncoder:
    """Tokenizes pairs with the model's own template (special tokens, type ids)."""

    def __init__(
        self,
        tokenizer: Any,
        *,
        max_length: int,
        pad_id: int,
        windowing: Windowing | None = None,
    ) -> None:
        from tokenizers import Tokenizer

        self.max_length = max_length
        self.pad_id = pad_id
        self.windowing = windowing if windowing is not None else Windowing()
        self._tok = tokenizer
        # Windows are re-tokenized from premise substrings; boundary tokens can shift by one, so
        # a truncating copy (premise side only) guarantees the window still fits.
        self._tok_trunc = Tokenizer.from_str(tokenizer.to_str())
        self._tok_trunc.encode_special_tokens = (
            tokenizer.encode_special_tokens
        )  # not serialized
        self._tok_trunc.enable_truncation(max_length, strategy="only_first")
        self._tok_longest: Any = None  # built on first use by truncated_rows

    def rows(self, pairs: Sequence[tuple[str, str]]) -> list[Row]:
        """Model inputs for every pair, in pair order (long premises give several rows).

        A pair's rows depend only on that pair, never on the others in the call.
        """
        out: list[Row] = []
        premises: dict[
            str, Any
        ] = {}  # one tokenization per long premise, shared by its conditions
        for i, enc in enumerate(self._tok.encode_batch(list(pairs))):
            if len(enc.ids) <= self.max_length:
                out.append(Row(i, list(enc.ids), list(enc.type_ids)))
                continue
            premise, hypothesis = pairs[i]
            if premise not in premises:
                premises[premise] = self._tok.encode(premise, add_special_tokens=False)
            windows = self._windows(
                premise, premises[premise], len(enc.ids), pair_index=i
            )
            for wenc in self._tok_trunc.encode_batch(
                [(w, hypothesis) for w in windows]
            ):
                out.append(Row(i, list(wenc.ids), list(wenc.type_ids)))
        return out

    def truncated_rows(self, pairs: Sequence[tuple[str, str]]) -> list[Row]:
        """One model input per pair, cut to :attr:`max_length` tokens instead of windowed.

        Tokens are removed from the longer side first (Hugging Face's ``truncation=True``), so
        these are the inputs a ``transformers`` pipeline would score. Only for raw logits of the
        model on its own inputs (distillation targets, export parity); scores for users go
        through :meth:`rows`, which never cuts a premise.
        """
        if self._tok_longest is None:
            from tokenizers import Tokenizer

            self._tok_longest = Tokenizer.from_str(self._tok.to_str())
            self._tok_longest.encode_special_tokens = self._tok.encode_special_tokens
            self._tok_longest.enable_truncation(
                self.max_length, strategy="longest_first"
            )
        return [
            Row(i, list(enc.ids), list(enc.type_ids))
            for i, enc in enumerate(self._tok_longest.encode_batch(list(pairs)))
        ]

    def premise_windows(
        self, premise: str, hypothesis: str, *, pair_index: int = 0
    ) -> list[str]:
        """The premise substrings scored beside ``hypothesis``: ``[premise]`` when the pair fits.

        Each window fits beside the hypothesis; how they are cut is set by :attr:`windowing`.
        """
        full = self._tok.encode(premise, hypothesis)
        if len(full.ids) <= self.max_length:
            return [premise]
        prem = self._tok.encode(premise, add_special_tokens=False)
        return self._windows(premise, prem, len(full.ids), pair_index=pair_index)

    def _windows(
        self, premise: str, prem: Any, pair_tokens: int, *, pair_index: int
    ) -> list[str]:
        n = len(prem.ids)
        budget = self.max_length - (pair_tokens - n)
        if budget < MIN_PREMISE_TOKENS:
            raise InputError(
                f"pairs -> {pair_index} -> hypothesis: too long for this model "
                f"({pair_tokens - n} tokens with special tokens, window is {self.max_length}); "
                "shorten the condition"
            )
        cfg = self.windowing
        size = budget if cfg.tokens is None else min(budget, cfg.tokens)
        if cfg.strategy == "sliding":
            spans = _sliding(0, n, size)
        else:
            spans = _sentence_windows(
                _sentence_token_starts(premise, prem.offsets), n, size, cfg.overlap
            )
        offsets = prem.offsets
        return [premise[offsets[a][0] : offsets[b - 1][1]] for a, b in spans]

    def batches(
        self, rows: Sequence[Row], batch_size: int
    ) -> Iterator[tuple[np.ndarray, ...]]:
        """Yield (row indices, input_ids, attention_mask, token_type_ids), sorted by length.

        Sorting keeps padding small; the sort is stable on the row index, and padding is masked,
        so scores do not depend on batch size or input order (beyond float rounding).
        """
        order = sorted(range(len(rows)), key=lambda r: (len(rows[r].ids), r))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(rows[r].ids) for r in idx)
            ids = np.full((len(idx), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            types = np.zeros((len(idx), width), dtype=np.int64)
            for j, r in enumerate(idx):
                k = len(rows[r].ids)
                ids[j, :k] = rows[r].ids
                mask[j, :k] = 1
                types[j, :k] = rows[r].type_ids
            yield np.asarray(idx, dtype=np.int64), ids, mask, types


def _sliding(start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Token spans of ``size`` covering [start, end), overlapping by a quarter, the last flush."""
    if end - start <= size:
        return [(start, end)]
    step = size - size // 4
    firsts = list(range(start, end - size, step)) + [end - size]
    return [(s, s + size) for s in firsts]


def _sentence_token_starts(
    premise: str, offsets: Sequence[tuple[int, int]]
) -> list[int]:
    """Token indices where a sentence starts (the first token whose text begins in it)."""
    token_chars = np.fromiter(
        (a for a, _ in offsets), dtype=np.int64, count=len(offsets)
    )
    firsts = np.searchsorted(
        token_chars, np.asarray(sentence_starts(premise)), side="left"
    )
    starts = sorted({int(t) for t in firsts if t < len(offsets)} | {0})
    return starts


def _sentence_windows(
    starts: Sequence[int], n: int, size: int, overlap: int
) -> list[tuple[int, int]]:
    """Pack whole sentences greedily into token spans of at most ``size`` tokens.

    A sentence longer than ``size`` becomes sliding pieces of its own. With ``overlap`` > 0 the
    next window starts that many sentences before the previous one ended (never before its start).
    """
    sentences = list(zip(starts, [*starts[1:], n], strict=True))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        first, end = sentences[i]
        if end - first > size:
            spans.extend(_sliding(first, end, size))
            i += 1
            continue
        j = i + 1
        while j < len(sentences) and sentences[j][1] - first <= size:
            end = sentences[j][1]
            j += 1
        spans.append((first, end))
        i = j if j == len(sentences) else max(i + 1, j - overlap)
    return spans
