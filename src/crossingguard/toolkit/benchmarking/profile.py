"""Where the time goes on the guard workload, and how far we are from the FLOP bound.

The default path (``load_scorer(dir).predict(pairs)``) is timed end to end and then rebuilt step
by step from public pieces, each step timed on the same pairs:

1. the scorer's preprocess (``scorer.encoder.rows``): tokenising every pair, which is timed
   alone with the same tokenizer, and windowing the pairs whose prompt is longer than the
   model's window (the preprocess time minus the tokenising);
2. assembling padded, length-sorted batches of 64 (``scorer.encoder.batches``);
3. the model itself: an ONNX Runtime session built by the backend's own ``make_session`` on the
   same graph, fed exactly those batches;
4. the rest (validation, softmax, merging windows in Python) is the end-to-end time minus 1-3.

It also counts what the work contains (distinct prompts and hypotheses against pairs, padding
tokens, windows), times a few ONNX Runtime settings on a subset of the same batches (threads,
the fp32 and int8 files, the transformer-fused graph), and estimates the FLOP bound: encoder
FLOPs per row at the real token counts, against a measured fp32 matmul peak on this CPU.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from crossingguard.toolkit.benchmarking.workloads import Workload

BATCH = 64
VARIANT_ROWS = 512  # rows of the workload used to compare session settings


@dataclass(frozen=True)
class ModelShape:
    layers: int
    hidden: int
    intermediate: int

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ModelShape:
        return cls(
            int(config["num_hidden_layers"]),
            int(config["hidden_size"]),
            int(config["intermediate_size"]),
        )


def row_flops(length: int | np.ndarray, shape: ModelShape) -> np.ndarray:
    """Multiply-add FLOPs (2 per MAC) of one encoder pass over ``length`` tokens.

    Per layer: Q, K, V and output projections 8 L h^2, attention scores and weighted sum
    4 L^2 h, feed-forward 4 L h i; plus pooler and 3-way head. Embeddings, softmax, layer norm
    and GELU are not matmuls and are left out, so this is a lower bound on the work.
    """
    L = np.asarray(length, dtype=np.float64)
    h, i = shape.hidden, shape.intermediate
    per_layer = 8 * L * h * h + 4 * L * L * h + 4 * L * h * i
    return shape.layers * per_layer + 2 * h * h + 2 * h * 3


def _best(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def matmul_peak(repeats: int = 5) -> dict[str, Any]:
    """Best fp32 GFLOP/s of large matmuls on all cores (numpy, and torch when installed)."""
    rng = np.random.default_rng(0)
    shapes = [
        (1024, 1024, 1024),
        (4096, 384, 1536),
    ]  # square, and a feed-forward-like shape
    out: dict[str, Any] = {}
    for m, k, n in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        a @ b
        s = _best(partial(np.matmul, a, b), repeats)
        out[f"numpy {m}x{k}x{n}"] = 2 * m * k * n / s / 1e9
        try:
            import torch
        except ImportError:
            continue
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        ta @ tb
        s = _best(partial(torch.matmul, ta, tb), repeats)
        out[f"torch {m}x{k}x{n}"] = 2 * m * k * n / s / 1e9
    return {"gflops": max(out.values()), "measured": out}


def padding_stats(
    lengths: Sequence[int], batch_size: int, *, sort: bool
) -> dict[str, Any]:
    """Real vs padded tokens when rows are batched (sorted by length, or in arrival order)."""
    lens = np.asarray(sorted(lengths) if sort else list(lengths))
    padded = sum(
        int(lens[i : i + batch_size].max()) * len(lens[i : i + batch_size])
        for i in range(0, len(lens), batch_size)
    )
    real = int(lens.sum())
    return {
        "real_tokens": real,
        "padded_tokens": padded,
        "waste": 1 - real / padded if padded else 0.0,
    }


def _session(model: Any, threads: int | None) -> tuple[Any, list[Any]]:
    """A session configured exactly as our ONNX backend configures its own (same function)."""
    from crossingguard.inference.onnx_backend import make_session

    return make_session(model.path, threads=threads, initializers=model.initializers)


def _runner(
    model: Any, threads: int | None, feeds: list[dict[str, np.ndarray]]
) -> Callable[[], None]:
    session, keep = _session(model, threads)
    names = {i.name for i in session.get_inputs()}
    inputs = [{k: v for k, v in f.items() if k in names} for f in feeds]
    output = session.get_outputs()[0].name

    def run() -> None:
        for feed in inputs:
            session.run([output], feed)

    run.keep_alive = keep  # type: ignore[attr-defined]  # in-memory weights live with the session
    return run


def _fused_copy(fp32: Any, config: dict[str, Any], out_dir: Path) -> Any:
    """The fp32 graph after ONNX Runtime's offline transformer fusions (needs ``onnx``).

    A weightless graph gets its in-memory weights written in first: the fusions match on them.
    """
    import onnx
    from onnx import numpy_helper
    from onnxruntime.transformers.optimizer import (  # type: ignore[import-untyped]
        optimize_model,
    )

    from crossingguard.inference.onnx_files import OnnxModel

    source = fp32.path
    if fp32.initializers:
        # The weightless graph names its tensors as external data; replace those entries
        # with the in-memory fp32 arrays so the saved copy is self-contained.
        graph = onnx.load(str(fp32.path), load_external_data=False)
        kept = [t for t in graph.graph.initializer if t.name not in fp32.initializers]
        del graph.graph.initializer[:]
        graph.graph.initializer.extend(kept)
        graph.graph.initializer.extend(
            numpy_helper.from_array(a, name) for name, a in fp32.initializers.items()
        )
        source = out_dir / "model_with_weights.onnx"
        onnx.save(graph, str(source))
    model = optimize_model(
        str(source),
        model_type="bert",
        num_heads=int(config.get("num_attention_heads", 0)),
        hidden_size=int(config.get("hidden_size", 0)),
    )
    path = out_dir / "model_fused.onnx"
    model.save_model_to_file(str(path))
    return OnnxModel(path, "fp32")


def session_variants(
    default: Any,
    fp32: Any,
    int8: Any,
    config: dict[str, Any],
    feeds: list[dict[str, np.ndarray]],
    *,
    threads: int | None,
    repeats: int,
) -> dict[str, Any]:
    """Forward seconds of the same batches under other session settings and graphs."""
    if default is None:
        return {
            "note": "the default path is torch; no ONNX Runtime settings to compare"
        }
    cores = os.cpu_count() or 1
    plain = _best(_runner(default, threads, feeds), repeats)
    out: dict[str, Any] = {
        "rows": sum(len(f["input_ids"]) for f in feeds),
        "default_model": default.description,
        "default_s": plain,
        "variants": {},
    }
    variants: dict[str, tuple[Any, int | None]] = {"intra_op_threads=1": (default, 1)}
    if cores > 1 and threads != cores:
        variants[f"intra_op_threads={cores}"] = (default, cores)
    for model in (fp32, int8):
        if model is not None and model.path != default.path:
            variants[model.description] = (model, threads)
    with tempfile.TemporaryDirectory() as tmp:
        if fp32 is not None:
            try:
                variants["fp32 + ORT transformer fusion"] = (
                    _fused_copy(fp32, config, Path(tmp)),
                    threads,
                )
            except Exception as exc:  # noqa: BLE001 - optional measurement; the report says why
                out["fused_error"] = f"{type(exc).__name__}: {exc}"
        for label, (model, t) in variants.items():
            s = _best(_runner(model, t, feeds), repeats)
            out["variants"][label] = {"seconds": s, "speedup_vs_default": plain / s}
    return out


def profile_guard(
    scorer: Any,
    workload: Workload,
    *,
    default_model: Any,
    fp32_model: Any,
    int8_model: Any,
    threads: int | None,
    peak: dict[str, Any],
    repeats: int = 2,
) -> dict[str, Any]:
    """The breakdown described in the module docstring, as plain data."""
    from crossingguard.inference.encoding import load_tokenizer
    from crossingguard.inference.loading import read_config

    model_dir = Path(scorer.model_dir)
    config = read_config(model_dir)
    shape = ModelShape.from_config(config)
    pairs = workload.pairs()
    tok = load_tokenizer(model_dir)  # configured as the scorer's own

    t_total = _best(lambda: scorer.predict(pairs, batch_size=BATCH), repeats)
    # The scorer's own preprocess (tokenise + window) and batch assembly, timed alone.
    t_pre = _best(lambda: scorer.encoder.rows(pairs), repeats)
    t_tok = _best(lambda: tok.encode_batch(pairs), repeats)
    t_win = max(0.0, t_pre - t_tok)
    rows = scorer.encoder.rows(pairs)
    t_batch = _best(lambda: list(scorer.encoder.batches(rows, BATCH)), repeats)
    feeds = [
        {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        for _, ids, mask, types in scorer.encoder.batches(rows, BATCH)
    ]
    lengths = [len(r.ids) for r in rows]
    windowed = sum(1 for c in np.bincount([r.pair for r in rows]) if c > 1)

    forward: dict[str, Any]
    if default_model is not None:
        t_fwd = _best(_runner(default_model, threads, feeds), repeats)
        step = max(1, len(feeds) // max(1, VARIANT_ROWS // BATCH))
        forward = session_variants(
            default_model,
            fp32_model,
            int8_model,
            config,
            feeds[::step],
            threads=threads,
            repeats=repeats,
        )
    else:
        t_fwd = float("nan")
        forward = {
            "note": "the default path is torch; the model step is not timed separately"
        }
    known = t_pre + t_batch + (0.0 if np.isnan(t_fwd) else t_fwd)
    t_other = max(0.0, t_total - known)

    prompts = {p for p, _ in pairs}
    hyps = {h for _, h in pairs}
    t_tok_distinct = _best(
        lambda: (tok.encode_batch(sorted(prompts)), tok.encode_batch(sorted(hyps))),
        repeats,
    )
    useful = float(row_flops(np.asarray(lengths), shape).sum())
    padded_lengths = np.concatenate(
        [np.full(len(f["input_ids"]), f["input_ids"].shape[1]) for f in feeds]
    )
    padded = float(row_flops(padded_lengths, shape).sum())
    peak_flops = peak["gflops"] * 1e9
    per_pair = useful / len(pairs)
    # The same pairs as one row each, cut at the window (what a truncating cross-encoder runs):
    # how much of our work is the windowing itself.
    one_row = np.minimum(
        [len(e.ids) for e in tok.encode_batch(pairs)], scorer.max_length
    )
    one_row_flops = float(row_flops(one_row, shape).sum())
    # Per prompt (pairs are prompt-major): the least time one call can take at the peak.
    k = workload.pairs_per_prompt
    row_f = row_flops(np.asarray(lengths), shape)
    per_prompt = np.bincount([r.pair // k for r in rows], weights=row_f)
    n = len(pairs)
    return {
        "workload": workload.name,
        "pairs": n,
        "rows": len(rows),
        "model_window_tokens": scorer.max_length,
        "windowed_pairs": windowed,
        "distinct_prompts": len(prompts),
        "distinct_hypotheses": len(hyps),
        "distinct_pairs": len(set(pairs)),
        "tokens_per_row": {
            "mean": float(np.mean(lengths)),
            "p50": float(np.percentile(lengths, 50)),
            "max": int(max(lengths)),
        },
        "padding": {
            "sorted_batches_of_64": padding_stats(lengths, BATCH, sort=True),
            "arrival_order_batches_of_64": padding_stats(lengths, BATCH, sort=False),
        },
        "seconds": {
            "total": t_total,
            "tokenize": t_tok,
            "windowing": t_win,
            "batch_assembly": t_batch,
            "model_forward": t_fwd,
            "python_other": t_other,
        },
        "python_other_us_per_pair": t_other / n * 1e6,
        "tokenize_distinct_texts_once_s": t_tok_distinct,
        "session": forward,
        "flops": {
            "per_pair_useful": per_pair,
            "useful_total": useful,
            "padded_total": padded,
            "matmul_peak_gflops": peak["gflops"],
            "matmul_peak_measured": peak["measured"],
            "achieved_useful_gflops": useful / t_total / 1e9,
            "share_of_peak_end_to_end": useful / t_total / peak_flops,
            "share_of_peak_model_step": padded / t_fwd / peak_flops
            if not math.isnan(t_fwd)
            else None,
            "bound_pairs_per_s": peak_flops / per_pair,
            "pairs_per_s": n / t_total,
            "rows_per_pair": len(rows) / n,
            "one_row_per_pair_total": one_row_flops,
            "one_row_per_pair_bound_pairs_per_s": peak_flops * n / one_row_flops,
            "floor_ms_per_prompt_p50": float(np.percentile(per_prompt, 50))
            / peak_flops
            * 1e3,
            "floor_ms_per_prompt_p50_one_row_per_pair": float(
                np.percentile(
                    np.bincount(np.arange(n) // k, weights=row_flops(one_row, shape)),
                    50,
                )
            )
            / peak_flops
            * 1e3,
        },
        "estimated_gains": estimated_gains(
            t_total,
            t_tok,
            t_tok_distinct,
            t_fwd,
            t_other,
            padding_stats(lengths, BATCH, sort=True),
            forward,
        ),
    }


def estimated_gains(
    total: float,
    tok: float,
    tok_distinct: float,
    fwd: float,
    other: float,
    padding: dict[str, Any],
    session: dict[str, Any],
) -> list[dict[str, Any]]:
    """Seconds each known change would save on this workload, largest first (estimates).

    Each is measured or bounded separately, so they do not add up exactly.
    """
    gains: list[dict[str, Any]] = [
        {
            "change": "tokenise each distinct prompt and hypothesis once, assemble pair ids",
            "saved_s": max(0.0, tok - tok_distinct),
            "basis": "measured tokenisation of distinct texts",
        },
        {
            "change": "remove the remaining padding (tighter length buckets)",
            "saved_s": (fwd * padding["waste"]) if not math.isnan(fwd) else 0.0,
            "basis": "model time x padded share (upper bound)",
        },
        {
            "change": "cut Python overhead per pair (validation, batching, merging)",
            "saved_s": other * 0.5,
            "basis": "half of the remainder (holds timing noise under load)",
        },
    ]
    default_s = session.get("default_s")
    for label, v in session.get("variants", {}).items():
        if default_s and v["speedup_vs_default"] > 1.0 and not math.isnan(fwd):
            gains.append(
                {
                    "change": f"ONNX Runtime: {label}",
                    "saved_s": fwd * (1 - 1 / v["speedup_vs_default"]),
                    "basis": "measured on a subset of the same batches",
                }
            )
    for g in gains:
        g["speedup_if_alone"] = total / max(1e-9, total - g["saved_s"])
    return sorted(gains, key=lambda g: -g["saved_s"])
