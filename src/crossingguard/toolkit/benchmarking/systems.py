"""The systems compared: ours and what a user would run instead, all on the same weights.

Each system turns pairs (or prompts x shared hypotheses) into :class:`Scores`: an entailment
score per pair and, where the system gives one, the full E/N/C distribution. Systems are built
from a :class:`SystemSpec` through a registry (``FACTORIES``), so the timing process and the
peak-RSS subprocesses (:mod:`crossingguard.toolkit.benchmarking.memory`) build them the same way.

What each one runs is what its users write:

* ``ours-onnx`` / ``ours-torch``: ``load_scorer(dir, backend=..., onnx_file=...).predict(pairs)``;
* ``guard``: ``Guard(load_scorer(dir), conditions=..., cache_size=0).check_batch(prompts)``, the
  product path with its validation, duplicate removal and verdicts (no cache, so nothing is reused);
* ``cross-encoder``: the card's usage, ``CrossEncoder(dir).predict(pairs)`` in fp32 + softmax,
  with its default batch size or a given one;
* ``zero-shot``: ``pipeline("zero-shot-classification", model=dir)(prompts, candidate_labels=...,
  hypothesis_template="{}", multi_label=True)``, as LLM Guard and guardrails-ai run NLI checks;
  it gives entailment vs contradiction only (no neutral);
* ``embedding``: cosine similarity of all-MiniLM-L6-v2 embeddings on ONNX Runtime (the routing
  embedder), the cheap reference; its scores are similarities, not NLI probabilities.

Our scorer windows prompts longer than the model's window; ``CrossEncoder`` and the pipeline
truncate them, as their users get.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from crossingguard.errors import ModelError

Pair = tuple[str, str]
BATCH_SIZE = 64  # our scorer's batch size in every row (the card's throughput setting)


@dataclass(frozen=True)
class Scores:
    """``entail``: (n,) decision score; ``probs``: (n, 3) E/N/C rows or ``None``.

    ``three_way`` is False where the system has no neutral class (the zero-shot pipeline's
    multi-label mode softmaxes entailment against contradiction only).
    """

    entail: np.ndarray
    probs: np.ndarray | None
    three_way: bool = True


@dataclass(frozen=True)
class SystemSpec:
    """How to build one system; plain data so it can be sent to a subprocess as JSON."""

    key: str
    label: str
    model_dir: str
    onnx_file: str | None = None
    precision: str | None = (
        None  # our ONNX rows: "fp32" or "int8" (load_scorer's precision)
    )
    batch_size: int | None = None
    threads: int | None = None
    embedder: str | None = None
    default: bool = False  # our default path (what load_scorer(dir) picks)
    pair_scoring: bool = True  # False: prompts x shared hypotheses only (the Guard)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class System(Protocol):
    spec: SystemSpec

    def score_pairs(self, pairs: Sequence[Pair]) -> Scores: ...

    def score_prompts(
        self, prompts: Sequence[str], hypotheses: Sequence[str]
    ) -> Scores: ...


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _nli_scores(probs: np.ndarray) -> Scores:
    probs = np.asarray(probs, dtype=np.float32)
    return Scores(probs[:, 0].copy(), probs)


def _cross(prompts: Sequence[str], hypotheses: Sequence[str]) -> list[Pair]:
    return [(p, h) for p in prompts for h in hypotheses]


def _set_torch_threads(threads: int | None) -> None:
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def _projection(model_dir: str) -> np.ndarray:
    """Model label order -> E/N/C, from config.json ``id2label`` (never assumed)."""
    from crossingguard.inference.loading import read_config
    from crossingguard.labels import projection_from_id2label

    return projection_from_id2label(read_config(Path(model_dir)).get("id2label"))


# ------------------------------------------------------------------------------- ours
class OurScorer:
    def __init__(self, spec: SystemSpec, backend: str) -> None:
        from crossingguard.inference.scorer import load_scorer

        self.spec = spec
        kwargs: dict[str, Any] = {"onnx_file": spec.onnx_file, "threads": spec.threads}
        if spec.precision is not None:
            kwargs["precision"] = spec.precision
        self.scorer = load_scorer(spec.model_dir, backend=backend, **kwargs)  # type: ignore[arg-type]
        # What actually runs (int8 falls back to fp32 where it is unsafe; the notice says why).
        self.runs = (
            f"{self.scorer.backend} {getattr(self.scorer, 'precision', '')}".strip()
        )
        self.notices = tuple(getattr(self.scorer, "notices", ()))

    def score_pairs(self, pairs: Sequence[Pair]) -> Scores:
        return _nli_scores(self.scorer.predict(pairs, batch_size=BATCH_SIZE))

    def score_prompts(
        self, prompts: Sequence[str], hypotheses: Sequence[str]
    ) -> Scores:
        return self.score_pairs(_cross(prompts, hypotheses))


class OurGuard:
    """The product path; the hypotheses become plain conditions so every pair's row is reported."""

    def __init__(self, spec: SystemSpec) -> None:
        from crossingguard.inference.scorer import load_scorer

        self.spec = spec
        self.scorer = load_scorer(spec.model_dir, threads=spec.threads)
        self._guards: dict[tuple[str, ...], Any] = {}

    def _guard(self, hypotheses: Sequence[str]) -> Any:
        key = tuple(hypotheses)
        if key not in self._guards:
            from crossingguard.guard import Guard

            self._guards[key] = Guard(
                self.scorer, conditions=list(key), batch_size=BATCH_SIZE, cache_size=0
            )
        return self._guards[key]

    def score_pairs(self, pairs: Sequence[Pair]) -> Scores:
        raise ModelError("the guard row scores prompts against shared conditions only")

    def score_prompts(
        self, prompts: Sequence[str], hypotheses: Sequence[str]
    ) -> Scores:
        verdicts = self._guard(hypotheses).check_batch(list(prompts))
        probs = np.array(
            [
                [r.entailment, r.neutral, r.contradiction]
                for v in verdicts
                for r in v.results
            ],
            dtype=np.float32,
        )
        return _nli_scores(probs)


# ------------------------------------------------------------------------------- theirs
def _need_train_extra(what: str) -> ModelError:
    return ModelError(
        f"{what} needs the train extra (torch, sentence-transformers, transformers): "
        "pip install -e '.[train]', or leave it out with --systems"
    )


def load_cross_encoder_fp32(model_dir: str, *, device: str = "cpu") -> Any:
    """``CrossEncoder(dir)`` with fp32 weights, whatever dtype the directory stores."""
    try:
        import torch
        from sentence_transformers import CrossEncoder
    except ImportError as exc:
        raise _need_train_extra("the cross-encoder row") from exc
    return CrossEncoder(model_dir, device=device, model_kwargs={"dtype": torch.float32})


def cross_encoder_default_batch_size() -> int:
    """``CrossEncoder.predict``'s own default batch size (read, not assumed)."""
    from sentence_transformers import CrossEncoder

    return int(inspect.signature(CrossEncoder.predict).parameters["batch_size"].default)


class CrossEncoderSystem:
    def __init__(self, spec: SystemSpec) -> None:
        import torch

        _set_torch_threads(spec.threads)
        self.spec = spec
        self.model = load_cross_encoder_fp32(spec.model_dir)
        self.projection = _projection(spec.model_dir)
        self._identity = (
            torch.nn.Identity()
        )  # raw logits, as the card's usage softmaxes them

    def score_pairs(self, pairs: Sequence[Pair]) -> Scores:
        kwargs: dict[str, Any] = {
            "show_progress_bar": False,
            "activation_fn": self._identity,
        }
        if self.spec.batch_size is not None:
            kwargs["batch_size"] = self.spec.batch_size
        logits = np.asarray(self.model.predict([list(p) for p in pairs], **kwargs))
        return _nli_scores(_softmax(logits.astype(np.float32)) @ self.projection)

    def score_prompts(
        self, prompts: Sequence[str], hypotheses: Sequence[str]
    ) -> Scores:
        return self.score_pairs(_cross(prompts, hypotheses))


class ZeroShotPipeline:
    def __init__(self, spec: SystemSpec) -> None:
        try:
            import torch
            from transformers import pipeline
        except ImportError as exc:
            raise _need_train_extra("the zero-shot pipeline row") from exc
        _set_torch_threads(spec.threads)
        self.spec = spec
        self.pipe = pipeline(
            "zero-shot-classification",
            model=spec.model_dir,
            device="cpu",
            dtype=torch.float32,
        )

    def _entail(self, prompts: Sequence[str], hypotheses: Sequence[str]) -> np.ndarray:
        out = self.pipe(
            list(prompts),
            candidate_labels=list(hypotheses),
            hypothesis_template="{}",
            multi_label=True,
        )
        rows = out if isinstance(out, list) else [out]
        return np.array(
            [
                [
                    dict(zip(r["labels"], r["scores"], strict=False))[h]
                    for h in hypotheses
                ]
                for r in rows
            ],
            dtype=np.float32,
        ).ravel()

    @staticmethod
    def _scores(entail: np.ndarray) -> Scores:
        probs = np.stack([entail, np.zeros_like(entail), 1.0 - entail], axis=1)
        return Scores(entail, probs, three_way=False)

    def score_pairs(self, pairs: Sequence[Pair]) -> Scores:
        return self._scores(np.concatenate([self._entail([p], [h]) for p, h in pairs]))

    def score_prompts(
        self, prompts: Sequence[str], hypotheses: Sequence[str]
    ) -> Scores:
        return self._scores(self._entail(prompts, hypotheses))


class EmbeddingSimilarity:
    """Texts embedded with the torch-free routing embedder; shared hypotheses embedded once."""

    def __init__(self, spec: SystemSpec) -> None:
        from crossingguard.guard.routing.embedding import load_embedder

        self.spec = spec
        self.embedder = load_embedder(
            spec.embedder, backend="onnx", threads=spec.threads
        )
        self._cached: dict[tuple[str, ...], np.ndarray] = {}

    def score_pairs(self, pairs: Sequence[Pair]) -> Scores:
        texts = list(dict.fromkeys(t for pair in pairs for t in pair))
        vecs = self.embedder.embed(texts, batch_size=BATCH_SIZE)
        row = {t: i for i, t in enumerate(texts)}
        a = vecs[[row[p] for p, _ in pairs]]
        b = vecs[[row[h] for _, h in pairs]]
        return Scores((a * b).sum(axis=1), None, three_way=False)

    def score_prompts(
        self, prompts: Sequence[str], hypotheses: Sequence[str]
    ) -> Scores:
        key = tuple(hypotheses)
        if (
            key not in self._cached
        ):  # the router embeds route texts once, at construction
            self._cached[key] = self.embedder.embed(list(key), batch_size=BATCH_SIZE)
        vecs = self.embedder.embed(list(prompts), batch_size=BATCH_SIZE)
        return Scores((vecs @ self._cached[key].T).ravel(), None, three_way=False)


FACTORIES: dict[str, Callable[[SystemSpec], System]] = {
    "ours-onnx": lambda spec: OurScorer(spec, "onnx"),
    "ours-torch": lambda spec: OurScorer(spec, "torch"),
    "guard": OurGuard,
    "cross-encoder": CrossEncoderSystem,
    "zero-shot": ZeroShotPipeline,
    "embedding": EmbeddingSimilarity,
}


def build_system(spec: SystemSpec) -> System:
    if spec.key not in FACTORIES:
        raise ModelError(
            f"unknown system {spec.key!r}; expected one of {', '.join(FACTORIES)}"
        )
    return FACTORIES[spec.key](spec)


@dataclass(frozen=True)
class SystemChoice:
    """Which systems to compare (``None``: all that apply to the model)."""

    keys: tuple[str, ...] | None = None
    threads: int | None = None
    embedder: str | None = None
    extra_batch_sizes: tuple[int, ...] = field(default=(64,))


def default_onnx_precision() -> str:
    """The precision ``load_scorer`` runs when not told (read from its signature)."""
    from crossingguard.inference.scorer import load_scorer

    param = inspect.signature(load_scorer).parameters.get("precision")
    return str(param.default) if param is not None else "fp32"


def system_specs(model_dir: Path, choice: SystemChoice) -> list[SystemSpec]:
    """Our ONNX precisions (fp32, and the opt-in int8 where the model has one), torch, the
    guard, CrossEncoder (default and extra batch sizes), the zero-shot pipeline and the
    embedding reference, in that order."""
    from crossingguard.inference.onnx_files import has_int8, has_onnx

    wanted = set(choice.keys) if choice.keys is not None else set(FACTORIES)
    unknown = wanted - set(FACTORIES)
    if unknown:
        raise ModelError(
            f"--systems: unknown {', '.join(sorted(unknown))}; expected some of "
            f"{', '.join(FACTORIES)}"
        )
    d, t = str(model_dir), choice.threads
    onnx_default = has_onnx(model_dir)
    default_precision = default_onnx_precision()
    precisions = ["fp32"] + (["int8"] if has_int8(model_dir) else [])
    specs: list[SystemSpec] = []
    if "ours-onnx" in wanted and onnx_default:
        for precision in precisions:
            specs.append(
                SystemSpec(
                    "ours-onnx",
                    f"crossingguard onnx {precision}",
                    d,
                    precision=precision,
                    threads=t,
                    default=precision == default_precision,
                )
            )
    if "ours-torch" in wanted:
        specs.append(
            SystemSpec(
                "ours-torch",
                "crossingguard torch fp32",
                d,
                threads=t,
                default=not onnx_default,
            )
        )
    if "guard" in wanted:
        specs.append(
            SystemSpec(
                "guard",
                "crossingguard Guard.check_batch (default backend)",
                d,
                threads=t,
                pair_scoring=False,
            )
        )
    if "cross-encoder" in wanted:
        size = cross_encoder_default_batch_size()
        specs.append(
            SystemSpec(
                "cross-encoder",
                f"CrossEncoder.predict fp32 (batch {size}, default)",
                d,
                threads=t,
            )
        )
        for extra in choice.extra_batch_sizes:
            if extra != size:
                specs.append(
                    SystemSpec(
                        "cross-encoder",
                        f"CrossEncoder.predict fp32 (batch {extra})",
                        d,
                        batch_size=extra,
                        threads=t,
                    )
                )
    if "zero-shot" in wanted:
        specs.append(
            SystemSpec(
                "zero-shot",
                "transformers zero-shot pipeline (multi_label)",
                d,
                threads=t,
            )
        )
    if "embedding" in wanted:
        specs.append(
            SystemSpec(
                "embedding",
                "embedding similarity (all-MiniLM-L6-v2, ONNX)",
                d,
                threads=t,
                embedder=choice.embedder,
            )
        )
    return specs
