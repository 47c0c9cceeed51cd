"""Ship a trained run as a built-in model: shrink, export, evaluate, card, install.

    crossingguard ship runs/mini --name crossingguard-nli-mini

What lands in ``src/crossingguard/models/NAME`` is what the card promises: one master copy of the
weights, fp16 ``model.safetensors`` (for the torch backend, sentence-transformers'
``CrossEncoder(path)`` and further distillation), the weightless fp32 ONNX graph that the default
backend fills from those weights at load (``onnx/graph.onnx`` + ``graph_weights.json``), the
tokenizer and config, and a model card whose numbers come from the evaluation run here on that
default path. No int8 file is shipped: dynamic int8 is batch-dependent and drifted from fp32.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from crossingguard.errors import ModelError
from crossingguard.io import replace_dir
from crossingguard.toolkit.data.nli import GENERATED, SOURCES

SHIPPED_EVAL_SETS = ("mnli-dev-matched", "snli-dev", "xnli-en-dev", "guard-nli-dev")
GUARD_PAIRS_LICENCE = (
    "mixed: built from the guard/ training sources of the data README (MIT, Apache-2.0, CC BY 4.0, "
    "ODC-BY; BeaverTails and ToxicChat parts CC BY-NC 4.0; ETHOS GPL-3.0)"
)
INTENT_PAIRS_LICENCE = "built from the routing/ train splits of the data README (HWU64: CC BY 4.0; SNIPS: CC0)"
_SKIP = {"checkpoints", "onnx", "README.md"}


def _licence(source: str) -> str:
    if source in SOURCES:
        return SOURCES[source].licence
    if source in GENERATED:
        return (
            INTENT_PAIRS_LICENCE
            if source.startswith("intent-")
            else GUARD_PAIRS_LICENCE
        )
    return "see the data file"


def evaluate_variants(
    model_dir: Path,
    eval_sets: tuple[str, ...],
    *,
    limit: int | None,
    console: Console,
    precisions: tuple[str, ...] = ("fp32", "int8"),
) -> dict[str, dict[str, Any]]:
    """F1 on each eval set of the default path (ONNX fp32 from the shipped fp16 weights) and of
    the opt-in int8 graph derived from them (``onnx-int8``; skipped where it falls back to fp32)."""
    from crossingguard.inference.scorer import load_scorer
    from crossingguard.toolkit.data.nli import load_nli
    from crossingguard.toolkit.evaluation.nli_eval import evaluate_nli

    datasets = [load_nli(name) for name in eval_sets]
    if limit:
        datasets = [d.head(limit) for d in datasets]
    results: dict[str, dict[str, Any]] = {}
    for precision in precisions:
        scorer = load_scorer(model_dir, backend="onnx", precision=precision)  # type: ignore[arg-type]
        if scorer.precision != precision:
            console.print(
                f"onnx-{precision} not evaluated: {'; '.join(scorer.notices)}"
            )
            continue
        variant = f"onnx-{precision}"
        results[variant] = {}
        for data in datasets:
            ev = evaluate_nli(scorer, data, show_progress=True)
            results[variant][data.name] = ev.to_dict()
            console.print(
                f"{variant} {data.name}: F1 micro {ev.to_dict()['f1_micro']:.4f}"
            )
    return results


def _evaluation_key(final: Path, eval_sets: tuple[str, ...], limit: int | None) -> str:
    """What an evaluation depends on: the trained weights, the sets and the limit."""
    import hashlib

    digest = hashlib.sha256()
    with open(final / "model.safetensors", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return json.dumps(
        {"weights": digest.hexdigest(), "sets": list(eval_sets), "limit": limit}
    )


def ship_model(
    run_dir: str | Path,
    *,
    name: str,
    dest_root: str | Path | None = None,
    eval_sets: tuple[str, ...] = SHIPPED_EVAL_SETS,
    limit: int | None = None,
    console: Console | None = None,
) -> Path:
    """Export and gate ``run_dir/final``, evaluate it, and install it as built-in model ``name``."""
    from crossingguard.inference.loading import MODELS_DIR
    from crossingguard.toolkit.training.export import export_fp32, save_fp16_safetensors
    from crossingguard.toolkit.training.model_card import write_model_card
    from crossingguard.toolkit.training.onnx_graph import write_weightless_graph
    from crossingguard.toolkit.training.rowwise_int8 import write_int8_graph
    from crossingguard.toolkit.training.trainer import hardware_description

    console = console or Console(stderr=True)
    run_dir = Path(run_dir)
    final = run_dir / "final"
    if not (final / "config.json").is_file():
        raise ModelError(
            f"{final} holds no trained model: run `crossingguard train` first"
        )
    train_config = json.loads((run_dir / "config.json").read_text())
    summary = json.loads((run_dir / "training_summary.json").read_text())
    data_report = json.loads((run_dir / "data_report.json").read_text())

    dest_root = Path(dest_root) if dest_root else MODELS_DIR
    dest_root.mkdir(
        parents=True, exist_ok=True
    )  # fail before the long work, not after it
    key = _evaluation_key(final, eval_sets, limit)
    key_file = run_dir / "evaluation.key"
    dest = dest_root / name
    with tempfile.TemporaryDirectory(dir=dest_root) as tmp:
        staged = Path(tmp) / name
        staged.mkdir()
        for item in final.iterdir():
            if item.name in _SKIP:
                continue
            (shutil.copytree if item.is_dir() else shutil.copy2)(
                item, staged / item.name
            )
        # One master copy of the weights (fp16); the ONNX graph is exported from exactly those
        # weights and shipped without them (crossingguard.toolkit.training.onnx_graph).
        save_fp16_safetensors(staged)
        console.print(f"exporting {staged.name} to a weightless fp32 ONNX graph")
        full = export_fp32(staged, Path(tmp) / "model.onnx")
        write_weightless_graph(full, staged)
        full.unlink()
        write_int8_graph(staged)
        if (
            (run_dir / "evaluation.json").is_file()
            and key_file.is_file()
            and key_file.read_text() == key
        ):
            console.print(
                f"reusing {run_dir / 'evaluation.json'} (same weights, sets and limit)"
            )
            evaluation = json.loads((run_dir / "evaluation.json").read_text())
        else:
            evaluation = evaluate_variants(
                staged, eval_sets, limit=limit, console=console
            )
            (run_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2))
            key_file.write_text(key)
        (staged / "training_summary.json").write_text(json.dumps(summary, indent=2))
        (staged / "evaluation.json").write_text(json.dumps(evaluation, indent=2))
        sources = data_report["sources"]
        datasets = [
            {"name": source, "licence": _licence(source), "pairs": info["used"]}
            for source, info in sources.items()
        ]
        loss = train_config["loss"]
        distil = train_config["distillation"]
        fp32 = evaluation.get("onnx-fp32", {})
        extra = _training_notes(train_config, summary)
        write_model_card(
            staged,
            name=name,
            base_model=(  # a second stage names the model it continues
                train_config["base_model"]
                if train_config["base_model"] != name
                else f"{name} (its previous build)"
            ),
            datasets=datasets,
            loss=(
                "PrecomputedDistillationLoss (alpha * CE + beta * MSE on teacher logits)"
                if loss == "distillation"
                else "CrossEntropyLoss"
            ),
            alpha=distil["alpha"] if loss == "distillation" else None,
            beta=distil["beta"] if loss == "distillation" else None,
            training_time_s=summary.get("train_seconds_this_run"),
            hardware=summary.get("hardware", "unknown"),
            eval_results=fp32,
            eval_hardware=hardware_description(),
            extra_sections=extra,
            learning_curve_png="learning_curve.png"
            if (staged / "learning_curve.png").exists()
            else None,
            repo_id=name,
            license="other",
        )
        replace_dir(staged, dest)
    console.print(f"installed {dest}")
    return dest


def _training_notes(config: dict, summary: dict) -> str:
    t = config["training"]
    keep = config["student"].get("keep_layers")
    lines = [
        "## Training configuration",
        "",
        f"- base model: `{config['base_model']}`"
        + (f", encoder layers kept: {keep}" if keep else ""),
        f"- epochs {t['epochs']}, learning rate {t['learning_rate']}, batch size {t['batch_size']}, "
        f"warmup ratio {t['warmup_ratio']}, max length {t['max_length']}, seed {t['seed']}, bf16 autocast {t['bf16']}",
        f"- {summary.get('pairs')} training pairs, {summary.get('global_step')} steps",
        "",
    ]
    return "\n".join(lines) + "\n"
