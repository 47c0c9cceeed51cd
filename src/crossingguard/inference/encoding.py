"""Turn (premise, hypothesis) pairs into padded token batches, windowing long premises.

The hypothesis (the condition) is always kept whole. A premise too long for the model's window is
not silently cut: it is split into overlapping windows, each scored with the full hypothesis, and
the scorer aggregates the windows (see ``scorer.aggregate_windows``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossingguard.errors import InputError, ModelError

MIN_PREMISE_TOKENS = 8  # fewer premise tokens per window than this cannot carry meaning


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

    def __init__(self, tokenizer: Any, *, max_length: int, pad_id: int) -> None:
        from tokenizers import Tokenizer

        self.max_length = max_length
        self.pad_id = pad_id
        self._tok = tokenizer
        # Windows are re-tokenized from premise substrings; boundary tokens can shift by one, so
        # a truncating copy (premise side only) guarantees the window still fits.
        self._tok_trunc = Tokenizer.from_str(tokenizer.to_str())
        self._tok_trunc.enable_truncation(max_length, strategy="only_first")

    def rows(self, pairs: Sequence[tuple[str, str]]) -> list[Row]:
        """Model inputs for every pair, in pair order (long premises give several rows)."""
        out: list[Row] = []
        for i, enc in enumerate(self._tok.encode_batch(list(pairs))):
            if len(enc.ids) <= self.max_length:
                out.append(Row(i, list(enc.ids), list(enc.type_ids)))
                continue
            premise, hypothesis = pairs[i]
            windows = self.premise_windows(premise, hypothesis, pair_index=i)
            for wenc in self._tok_trunc.encode_batch(
                [(w, hypothesis) for w in windows]
            ):
                out.append(Row(i, list(wenc.ids), list(wenc.type_ids)))
        return out

    def premise_windows(
        self, premise: str, hypothesis: str, *, pair_index: int = 0
    ) -> list[str]:
        """Split ``premise`` into overlapping substrings that each fit beside the hypothesis.

        Each window holds ``budget`` premise tokens (the model window minus the hypothesis and
        special tokens); consecutive windows overlap by a quarter of that, so text cut at one
        boundary is whole in the next, and the last window ends at the premise's end.
        """
        full = self._tok.encode(premise, hypothesis)
        if len(full.ids) <= self.max_length:
            return [premise]
        prem = self._tok.encode(premise, add_special_tokens=False)
        n = len(prem.ids)
        budget = self.max_length - (len(full.ids) - n)
        if budget < MIN_PREMISE_TOKENS:
            raise InputError(
                f"pairs -> {pair_index} -> hypothesis: too long for this model "
                f"({len(full.ids) - n} tokens with special tokens, window is {self.max_length}); "
                "shorten the condition"
            )
        step = budget - budget // 4
        starts = list(range(0, n - budget, step)) + [n - budget]
        offsets = prem.offsets
        return [premise[offsets[s][0] : offsets[s + budget - 1][1]] for s in starts]

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
