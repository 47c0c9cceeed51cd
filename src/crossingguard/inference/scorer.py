"""The scoring engine: pairs in, entailment/neutral/contradiction probabilities out.

Work is split preprocess -> forward -> postprocess: ``PairEncoder`` tokenizes and windows, a
``Backend`` (ONNX Runtime or torch) returns raw logits in the model's label order, and the scorer
maps them to the card's order (0 entailment, 1 neutral, 2 contradiction) and merges windows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crossingguard.errors import CrossingGuardError, InputError, ModelError
from crossingguard.inference.backends import Backend, BackendName
from crossingguard.inference.cpu import cpu_isa_tags
from crossingguard.inference.encoding import (
    PairEncoder,
    Row,
    Windowing,
    load_tokenizer,
    pad_token_id,
)
from crossingguard.inference.int8_check import int8_agrees, probe_limit
from crossingguard.inference.loading import (
    model_max_length,
    read_config,
    resolve_model,
)
from crossingguard.inference.onnx_files import (
    GRAPH_FILE,
    INT8_GRAPH_FILE,
    PRECISIONS,
    WEIGHTS_FILE,
    OnnxModel,
    Precision,
    derived_int8_model,
    explicit_model,
    fp32_model,
    fp32_path,
    int8_candidates,
    is_quantized,
    onnx_files,
)
from crossingguard.labels import (
    CONTRADICTION,
    ENTAILMENT,
    NEUTRAL,
    projection_from_id2label,
)
from crossingguard.limits import MAX_PAIRS_PER_CALL, MAX_PROMPT_CHARS, PROGRESS_MIN_ROWS
from crossingguard.text import check_text

log = logging.getLogger("crossingguard")
Pair = tuple[str, str]
Progress = bool | Literal["auto"]
MIN_WINDOW = (
    16  # smallest max_length we accept: room for specials, a condition and some premise
)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def aggregate_windows(probs: np.ndarray) -> np.ndarray:
    """Merge the (windows, 3) E/N/C probabilities of one long premise into one row.

    A condition holds of the prompt if any part of it establishes the condition, and is
    contradicted only if every part contradicts it. So entailment is the max over windows,
    contradiction the min, and neutral takes the rest. Since max E + min C <= E_w + C_w <= 1 for
    the window w with the highest entailment, the result is always a valid distribution.
    """
    e = probs[:, ENTAILMENT].max()
    c = probs[:, CONTRADICTION].min()
    out = np.empty(3, dtype=probs.dtype)
    out[ENTAILMENT], out[CONTRADICTION] = e, c
    out[NEUTRAL] = max(0.0, 1.0 - e - c)
    return out


def validate_pairs(
    pairs: Sequence[Any],
    *,
    max_premise_chars: int | None = None,
    max_pairs: int | None = None,
) -> list[Pair]:
    """Check pairs are (non-empty premise, non-empty hypothesis) strings; name the bad one.

    ``max_premise_chars`` refuses longer premises and ``max_pairs`` larger calls before any work
    is done: scoring time grows with length and memory with the pairs held, so an unbounded call
    would hold the CPU for minutes or exhaust memory (see ``limits``). Text the tokenizer cannot
    read (lone surrogates) is refused too (``crossingguard.text``).
    """
    if isinstance(pairs, (str, bytes)):
        raise InputError(
            "pairs must be a list of (premise, hypothesis) tuples, got a string"
        )
    if max_pairs is not None and len(pairs) > max_pairs:
        raise InputError(
            f"pairs: {len(pairs):,} pairs in one call, more than the limit of {max_pairs:,}; "
            "score them in smaller calls (Guard.check_batch does this itself), or raise "
            "Scorer.max_pairs"
        )
    checked: list[Pair] = []
    for i, pair in enumerate(pairs):
        if (
            isinstance(pair, (str, bytes))
            or not isinstance(pair, Sequence)
            or len(pair) != 2
        ):
            raise InputError(
                f"pairs -> {i}: expected a (premise, hypothesis) pair, got {pair!r:.80}"
            )
        for part, value in zip(("premise", "hypothesis"), pair, strict=True):
            check_text(value, f"pairs -> {i} -> {part}")
        if max_premise_chars is not None and len(pair[0]) > max_premise_chars:
            raise InputError(
                f"pairs -> {i} -> premise: {len(pair[0]):,} characters, more than the limit of "
                f"{max_premise_chars:,}; shorten or split the prompt, or raise the limit "
                "(Scorer.max_prompt_chars, --max-prompt-chars)"
            )
        checked.append((pair[0], pair[1]))
    return checked


class Scorer:
    """Scores (premise, hypothesis) pairs with one NLI model; build it with :func:`load_scorer`.

    Settings callers may change after loading: :attr:`max_prompt_chars` (longest premise accepted,
    ``None`` for no limit), :attr:`progress` (progress bar on stderr for :meth:`predict`: ``False``,
    ``True`` or ``"auto"``, shown from ``limits.PROGRESS_MIN_ROWS`` model inputs) and
    :attr:`windowing` (how long premises are split).
    """

    _max_prompt_chars: int | None = MAX_PROMPT_CHARS
    _progress: Progress = False
    # Most pairs one predict() call accepts (``limits.MAX_PAIRS_PER_CALL``); callers with more
    # split them, as the guard does.
    max_pairs: int = MAX_PAIRS_PER_CALL

    def __init__(
        self,
        backend: Backend,
        encoder: PairEncoder,
        *,
        projection: np.ndarray,
        model_dir: Path,
        name: str,
        notices: tuple[str, ...] = (),
        id2label: dict[int, str] | None = None,
    ) -> None:
        self._backend = backend
        # the model's own head order, for callers of raw_logits (projection maps it to ours)
        self.id2label: dict[int, str] = dict(id2label or {})
        self.notices = notices
        self.encoder = encoder
        self.projection = projection
        self.model_dir = model_dir
        self.name = name

    @property
    def backend(self) -> str:
        """``"onnx"`` or ``"torch"``."""
        return self._backend.name

    @property
    def precision(self) -> str:
        """``"fp32"`` or ``"int8"`` for ONNX; ``"fp32"`` for torch on CPU."""
        return str(getattr(self._backend, "precision", "fp32"))

    @property
    def max_length(self) -> int:
        return self.encoder.max_length

    @property
    def max_prompt_chars(self) -> int | None:
        """Longest premise :meth:`predict` accepts, in characters (``None``: no limit)."""
        return self._max_prompt_chars

    @max_prompt_chars.setter
    def max_prompt_chars(self, value: int | None) -> None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise InputError(
                f"max_prompt_chars: must be an integer >= 1 or None (no limit), got {value!r}"
            )
        self._max_prompt_chars = value

    @property
    def progress(self) -> Progress:
        """Default for :meth:`predict`'s ``show_progress``."""
        return self._progress

    @progress.setter
    def progress(self, value: Progress) -> None:
        self._progress = _check_progress(value)

    @property
    def windowing(self) -> Windowing:
        """How premises too long for one window are split (see :class:`Windowing`)."""
        return self.encoder.windowing

    @windowing.setter
    def windowing(self, value: Windowing) -> None:
        if not isinstance(value, Windowing):
            raise InputError(
                f"windowing: expected a Windowing(strategy=..., tokens=..., overlap=...), "
                f"got {value!r:.80}"
            )
        self.encoder.windowing = value

    def predict(
        self,
        pairs: Sequence[Pair],
        *,
        batch_size: int = 64,
        show_progress: Progress | None = None,
    ) -> np.ndarray:
        """Return (n, 3) float32 probabilities, columns entailment, neutral, contradiction.

        Pairs are batched by length; long premises are scored in windows (:attr:`windowing`) and
        merged with :func:`aggregate_windows`. Output order follows input order, and a pair's
        row does not depend on the other pairs in the call. A premise longer than
        :attr:`max_prompt_chars` is an :class:`InputError`. ``show_progress``: ``None`` uses
        :attr:`progress`; ``"auto"`` shows a bar from ``limits.PROGRESS_MIN_ROWS`` model inputs.
        """
        checked = validate_pairs(
            pairs, max_premise_chars=self.max_prompt_chars, max_pairs=self.max_pairs
        )
        if batch_size < 1:
            raise InputError(f"batch_size: must be >= 1, got {batch_size}")
        mode = (
            self.progress if show_progress is None else _check_progress(show_progress)
        )
        if not checked:
            return np.zeros((0, 3), dtype=np.float32)
        rows = self.encoder.rows(checked)
        show = mode is True or (mode == "auto" and len(rows) >= PROGRESS_MIN_ROWS)
        row_probs = self._forward(rows, batch_size, show) @ self.projection
        return self._merge(rows, row_probs, len(checked))

    def predict_logits(
        self, pairs: Sequence[Pair], *, batch_size: int = 64
    ) -> np.ndarray:
        """Natural-log probabilities in E/N/C order: ``softmax(predict_logits(x)) == predict(x)``.

        For a 3-class model and a premise that fits one window these equal the model's logits up
        to a per-row constant. Zero probabilities (neutral of 2-class models) are clipped at 1e-12.
        """
        return np.log(np.clip(self.predict(pairs, batch_size=batch_size), 1e-12, None))

    def raw_logits(
        self,
        pairs: Sequence[Pair],
        *,
        batch_size: int = 64,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Pre-softmax logits, (n, num_model_labels) float32, in the model's head order.

        The column of each label is in :attr:`id2label`; ``logits @ projection`` after a softmax
        gives :meth:`predict`'s order. Unlike :meth:`predict`, a pair longer than the window is
        truncated (longest side first, as ``transformers`` does), never windowed: distillation
        targets and export parity checks need the model's logits of one input per pair, which is
        the card's recipe. ``on_batch(rows)`` is called after each batch.
        """
        checked = validate_pairs(pairs)
        if batch_size < 1:
            raise InputError(f"batch_size: must be >= 1, got {batch_size}")
        out = np.zeros((len(checked), self.projection.shape[0]), dtype=np.float32)
        if not checked:
            return out
        rows = self.encoder.truncated_rows(checked)
        for idx, ids, mask, types in self.encoder.batches(rows, batch_size):
            out[idx] = run_backend(self._backend, ids, mask, types, self.name)
            if on_batch is not None:
                on_batch(len(idx))
        return out

    @property
    def torch_model(self) -> Any:
        """The torch ``nn.Module`` behind a torch scorer (for export); ModelError on ONNX."""
        model = getattr(self._backend, "model", None)
        if self.backend != "torch" or model is None:
            raise ModelError(
                f"{self.name}: no torch model behind the {self.backend} backend; load it with "
                "backend='torch'"
            )
        return model

    @property
    def input_names(self) -> list[str]:
        """The inputs the backend feeds the model, in graph order."""
        names = ["input_ids", "attention_mask"]
        return (
            names + ["token_type_ids"] if self._backend.uses_token_type_ids else names
        )

    def windows(self, premise: str, hypothesis: str) -> list[str]:
        """The premise pieces that would be scored for this pair (one unless it is too long)."""
        return self.encoder.premise_windows(premise, hypothesis)

    def _forward(
        self, rows: list[Row], batch_size: int, show_progress: bool
    ) -> np.ndarray:
        out: np.ndarray | None = None
        progress = _progress(len(rows)) if show_progress else None
        try:
            for idx, ids, mask, types in self.encoder.batches(rows, batch_size):
                probs = softmax(run_backend(self._backend, ids, mask, types, self.name))
                if out is None:
                    out = np.empty((len(rows), probs.shape[1]), dtype=np.float32)
                if probs.shape[1] != self.projection.shape[0]:
                    raise ModelError(
                        f"model returned {probs.shape[1]} logits but config.json id2label has "
                        f"{self.projection.shape[0]} labels"
                    )
                out[idx] = probs
                if progress is not None:
                    progress[0].advance(progress[1], len(idx))
        finally:
            if progress is not None:
                progress[0].stop()
        if out is None:  # unreachable: predict() returns early for no pairs
            raise ModelError("no rows were scored")
        return out

    @staticmethod
    def _merge(rows: list[Row], row_probs: np.ndarray, n: int) -> np.ndarray:
        owners = np.fromiter((r.pair for r in rows), dtype=np.int64, count=len(rows))
        counts = np.bincount(owners, minlength=n)
        result = np.empty((n, 3), dtype=np.float32)
        single = counts[owners] == 1
        result[owners[single]] = row_probs[single]
        for pair in np.flatnonzero(counts > 1):
            result[pair] = aggregate_windows(row_probs[owners == pair])
        return result


def run_backend(
    backend: Backend, ids: np.ndarray, mask: np.ndarray, types: np.ndarray, name: str
) -> np.ndarray:
    """Logits for one padded batch; a backend failure is a :class:`ModelError` naming the model."""
    try:
        return np.asarray(backend.forward(ids, mask, types), dtype=np.float32)
    except (CrossingGuardError, MemoryError):
        raise
    except Exception as exc:  # ONNX Runtime and torch raise their own types
        raise ModelError(
            f"{name}: the {backend.name} backend failed on a batch of shape {ids.shape} "
            f"({type(exc).__name__}: {str(exc)[:300]}); the model files may be damaged or "
            "mismatched: load it again, or try --backend torch / onnx"
        ) from exc


# The pair run through the model at load time (see check_model_outputs): a few tokens, so it
# fits the smallest window a scorer accepts (MIN_WINDOW) with any tokenizer.
LOAD_CHECK_PAIR: Pair = ("hello", "world")


def check_vocabulary(tokenizer: Any, config: dict[str, Any], model_dir: Path) -> None:
    """A tokenizer with more tokens than the model's embedding belongs to another model: its
    higher ids would index past the embedding table (an error, or garbage, on some prompts only)."""
    size = config.get("vocab_size")
    have = int(tokenizer.get_vocab_size(with_added_tokens=True))
    if isinstance(size, int) and not isinstance(size, bool) and 0 < size < have:
        raise ModelError(
            f"{model_dir}: the tokenizer has {have:,} tokens but the model's embedding has "
            f"{size:,} (config.json vocab_size), so the tokenizer files come from another "
            "model; copy tokenizer.json and tokenizer_config.json from the model these "
            "weights were trained with"
        )


def check_model_outputs(
    backend: Backend, encoder: PairEncoder, projection: np.ndarray, model_dir: Path
) -> None:
    """Score one pair at load time, so a head that does not match ``id2label`` or weights that
    give NaN fail here, with the fix, instead of as wrong scores or an error on a later request."""
    rows = encoder.rows([LOAD_CHECK_PAIR])
    for _, ids, mask, types in encoder.batches(rows, len(rows)):
        logits = run_backend(backend, ids, mask, types, str(model_dir))
        if logits.ndim != 2 or logits.shape[0] != len(rows):
            raise ModelError(
                f"{model_dir}: the model returns an array of shape {logits.shape} for "
                f"{len(rows)} pair(s); expected (pairs, labels) logits of a sequence classifier"
            )
        if logits.shape[1] != projection.shape[0]:
            raise ModelError(
                f"{model_dir}: the model outputs {logits.shape[1]} logits per pair but "
                f"config.json id2label names {projection.shape[0]} labels; make id2label (and "
                "num_labels) list the classifier head's labels in the head's order"
            )
        if not np.isfinite(logits).all():
            raise ModelError(
                f"{model_dir}: the model returns NaN or infinite logits on a test pair, so "
                "its weights are damaged; download or copy the model again"
            )


def _check_progress(value: Any) -> Progress:
    if value is True or value is False or value == "auto":
        return value  # type: ignore[no-any-return]
    raise InputError(f"show_progress: must be True, False or 'auto', got {value!r}")


def _progress(total: int) -> tuple[Any, Any]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeRemainingColumn,
    )

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    task = progress.add_task("scoring", total=total)
    progress.start()
    return progress, task


def load_scorer(
    name_or_path: str | Path | None = None,
    *,
    backend: BackendName = "auto",
    threads: int | None = None,
    max_length: int | None = None,
    onnx_file: str | Path | None = None,
    precision: Precision = "fp32",
    device: str | None = None,
) -> Scorer:
    """Load a model by built-in name, directory or hub id (``None``: the default built-in model).

    ``backend="auto"`` uses ONNX Runtime when the model has an ONNX graph and onnxruntime imports,
    else torch via sentence-transformers. ``precision="fp32"`` (the default) runs the fp32 graph,
    whose scores do not depend on batch size or neighbours; ``"int8"`` runs the model's per-row int8
    graph (about 2x faster on CPU, scores still independent of the batch, ~1-1.5 % of labels
    differ from fp32), or another int8 export, only if this CPU supports its kernels and it
    agrees with fp32 on a probe set (else fp32, with a one-line notice in ``scorer.notices`` and
    the log). ``threads`` sets the CPU threads;
    ``max_length`` lowers the token window (long premises are windowed, never cut). ``onnx_file``
    picks a specific export; ``device`` is passed to the torch backend.
    """
    if backend not in ("auto", "onnx", "torch"):
        raise InputError(f"backend: must be auto, onnx or torch, got {backend!r}")
    if precision not in PRECISIONS:
        raise InputError(f"precision: must be fp32 or int8, got {precision!r}")
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
    ):
        raise InputError(f"threads: must be an integer >= 1, got {threads!r}")
    resolved = resolve_model(name_or_path)
    model_dir = resolved.path
    config = read_config(model_dir)
    projection = projection_from_id2label(config.get("id2label"))
    limit = model_max_length(model_dir, config)
    if limit < MIN_WINDOW:
        raise ModelError(
            f"{model_dir}: the model accepts only {limit} tokens (tokenizer_config.json "
            f"model_max_length or config.json max_position_embeddings); a pair needs at least "
            f"{MIN_WINDOW}: fix the value if it is wrong"
        )
    if max_length is not None:
        if (
            isinstance(max_length, bool)
            or not isinstance(max_length, int)
            or max_length < MIN_WINDOW
        ):
            raise InputError(
                f"max_length: must be an integer >= {MIN_WINDOW}, got {max_length!r}"
            )
        limit = min(limit, max_length)

    tokenizer = load_tokenizer(model_dir)
    check_vocabulary(tokenizer, config, model_dir)
    encoder = PairEncoder(
        tokenizer, max_length=limit, pad_id=pad_token_id(model_dir, tokenizer, config)
    )

    chosen = backend
    if backend == "auto":
        runnable = onnx_file is not None or _onnx_runnable(model_dir, precision)
        chosen = "onnx" if runnable and _onnxruntime_available() else "torch"
    notices: list[str] = []
    engine: Backend
    if chosen == "onnx":
        engine = _onnx_engine(
            model_dir, encoder, precision, onnx_file, threads, notices
        )
    else:
        from crossingguard.inference.torch_backend import TorchBackend

        engine = TorchBackend(model_dir, threads=threads, device=device)
    check_model_outputs(engine, encoder, projection, model_dir)
    for notice in notices:
        log.warning(notice)
    return Scorer(
        engine,
        encoder,
        projection=projection,
        model_dir=model_dir,
        name=resolved.name,
        notices=tuple(notices),
        id2label={int(k): str(v) for k, v in config["id2label"].items()},
    )


def _onnx_runnable(model_dir: Path, precision: Precision) -> bool:
    """Whether the ONNX backend can serve ``precision`` for this directory."""
    if precision == "int8" and (
        int8_candidates(model_dir) or (model_dir / "onnx" / INT8_GRAPH_FILE).is_file()
    ):
        return True
    return (
        any(not is_quantized(f) for f in onnx_files(model_dir))
        or (model_dir / "onnx" / GRAPH_FILE).is_file()
    )


def _onnx_engine(
    model_dir: Path,
    encoder: PairEncoder,
    precision: Precision,
    onnx_file: str | Path | None,
    threads: int | None,
    notices: list[str],
) -> Backend:
    """The ONNX backend for ``precision``: fp32, or int8 only where it is safe on this CPU."""
    from crossingguard.inference.onnx_backend import OnnxBackend

    if onnx_file is not None:
        return OnnxBackend(explicit_model(model_dir, onnx_file), threads=threads)
    if precision == "fp32":
        fp32 = fp32_model(model_dir)
        if fp32 is None:
            raise ModelError(
                f"no ONNX export in {model_dir} for fp32 (expected onnx/model.onnx or onnx/graph.onnx)"
                + (
                    "; it has int8 exports: pass precision='int8' (--precision int8)"
                    if any(is_quantized(f) for f in onnx_files(model_dir))
                    else ""
                )
                + ", export one with `crossingguard export`, or use the torch backend"
            )
        return OnnxBackend(fp32, threads=threads)
    # The fp32 graph is the int8 file's reference, loaded only when it is needed: the self-check
    # is cached per CPU, so a second int8 load reads no fp32 weights.
    reference: list[Backend] = []

    def fp32_backend() -> Backend:
        if not reference:
            fp32 = fp32_model(model_dir)
            if fp32 is None:
                raise ModelError(
                    f"no ONNX export in {model_dir} runs on this CPU; use the torch backend"
                )
            reference.append(OnnxBackend(fp32, threads=threads))
        return reference[0]

    candidates = int8_candidates(model_dir)
    derived = None if candidates else derived_int8_model(model_dir)
    if not candidates and derived is None:
        backend = fp32_backend()
        notices.append(
            f"{model_dir.name}: no int8 export for this CPU ({', '.join(sorted(cpu_isa_tags()))}); "
            "using fp32"
        )
        return backend
    chosen = derived if derived is not None else OnnxModel(candidates[0], "int8")
    int8 = OnnxBackend(chosen, threads=threads)
    if fp32_path(model_dir) is None:
        notices.append(
            f"{chosen.path.name}: no fp32 graph to check it against; using it unchecked"
        )
        return int8
    limit = probe_limit(int8.export_probe_diff)
    ok, diff = int8_agrees(
        chosen.path,
        encoder,
        int8,
        fp32_backend,
        weights=model_dir / WEIGHTS_FILE if derived is not None else None,
        limit=limit,
    )
    if ok:
        return int8
    notices.append(
        f"{chosen.path.name} drifts from fp32 on this CPU (max probability difference "
        f"{diff:.3f} > {limit:.3f}); using fp32"
    )
    return fp32_backend()


def _onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True
