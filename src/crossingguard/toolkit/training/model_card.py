"""Write a Hugging Face model card (README.md) in the layout of the CrossingGuard reference card.

The YAML front matter is produced with ``yaml.safe_dump`` from plain data, so it always parses;
``model-index`` uses the reference card's structure (one ``cross-encoder-classification`` result
per eval dataset with F1 macro/micro/weighted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from crossingguard.errors import InputError

F1_KEYS = (
    ("f1_macro", "F1 Macro"),
    ("f1_micro", "F1 Micro"),
    ("f1_weighted", "F1 Weighted"),
)
_NON_COMMERCIAL = re.compile(r"(^|[\s-])nc([\s-]|$)|non-?commercial", re.IGNORECASE)


def _front_matter(
    *,
    name: str,
    base_model: str,
    datasets: Sequence[Mapping[str, Any]],
    loss: str,
    eval_results: Mapping[str, Mapping[str, Any]],
    n_pairs: int,
    license: str | None,
    hub_datasets: Sequence[str],
) -> dict[str, Any]:
    results = []
    for ds_name, metrics in eval_results.items():
        values = [
            {"type": key, "value": float(metrics[key]), "name": label}
            for key, label in F1_KEYS
            if key in metrics
        ]
        if not values:
            continue
        results.append(
            {
                "task": {
                    "type": "cross-encoder-classification",
                    "name": "Cross Encoder Classification",
                },
                "dataset": {"name": ds_name, "type": ds_name},
                "metrics": values,
            }
        )
    meta: dict[str, Any] = {
        "language": ["en"],
        "tags": [
            "sentence-transformers",
            "cross-encoder",
            "reranker",
            "generated_from_trainer",
            f"dataset_size:{n_pairs}",
            f"loss:{loss}",
        ],
        "base_model": base_model,
    }
    if license:
        meta["license"] = license
    if hub_datasets:
        meta["datasets"] = list(hub_datasets)
    meta.update(
        {
            "pipeline_tag": "text-classification",
            "library_name": "sentence-transformers",
            "metrics": [key for key, _ in F1_KEYS],
            "model-index": [
                {"name": f"CrossEncoder based on {base_model}", "results": results}
            ],
        }
    )
    return meta


def _usage(repo_id: str) -> str:
    return f'''# Usage

```python
import numpy as np
from sentence_transformers import CrossEncoder

model = CrossEncoder("{repo_id}")
examples = [
    ("Tell me what happened with that CEO caught on the kiss cam at the Coldplay concert",
     "The prompt requests information about a corporate executive incident at a public event"),
    ("I've been following your company's work helping enterprises scale AI/ML with reliable data pipelines, would love to connect and hear how your team is approaching ML in production.",
     "The prompt requests information about a corporate executive incident at a public event"),
]
predictions = model.predict(examples)
label_map = {{0: "entailment", 1: "neutral", 2: "contradiction"}}

def softmax(x):
    exp_x = np.exp(x - np.max(x))
    return exp_x / exp_x.sum()

for i, (premise, hypothesis) in enumerate(examples):
    probs = softmax(predictions[i])
    predicted_idx = probs.argmax()
    print(f"\\n{{i+1}}. {{premise[:70]}}...")
    print(f"   → {{hypothesis}}")
    print(f"   ✓ {{label_map[predicted_idx].upper()}}: {{probs[predicted_idx]*100:.1f}}% " +
          f"(E: {{probs[0]*100:.1f}}% N: {{probs[1]*100:.1f}}%, C: {{probs[2]*100:.1f}}%)")
```

ONNX Runtime (CPU): `CrossEncoder("{repo_id}", backend="onnx")` loads `onnx/model.onnx`; add
`model_kwargs={{"file_name": "onnx/model_qint8_rowwise.onnx"}}` for the int8 export when present.

With CrossingGuard:

```bash
crossingguard check --model {repo_id} \\
  "Tell me what happened with that CEO caught on the kiss cam at the Coldplay concert" \\
  -c "The prompt requests information about a corporate executive incident at a public event"
```
'''


def _fmt(value: Any, digits: int = 4) -> str:
    return f"{float(value):.{digits}f}" if isinstance(value, (int, float)) else "-"


def write_model_card(
    model_dir: str | Path,
    *,
    name: str,
    base_model: str,
    datasets: Sequence[Mapping[str, Any]],
    loss: str,
    alpha: float | None,
    beta: float | None,
    training_time_s: float | None,
    hardware: str,
    eval_results: Mapping[str, Mapping[str, Any]],
    eval_hardware: str | None = None,
    extra_sections: str = "",
    learning_curve_png: str | None = None,
    repo_id: str | None = None,
    license: str | None = None,
    hub_datasets: Sequence[str] = (),
) -> Path:
    """Write ``model_dir/README.md`` and return its path.

    ``datasets``: one mapping per training source with ``name``, ``licence`` and ``pairs``.
    ``eval_results``: dataset name -> metrics with ``f1_micro``/``f1_macro``/``f1_weighted``
    (and optionally ``throughput_samples_per_s``), e.g. ``DatasetEval.to_dict()``.
    ``hardware`` is where it trained, ``eval_hardware`` where the evaluation ran (default: the same).
    ``repo_id`` is the id the usage example loads (default: ``name``); ``hub_datasets`` are Hugging
    Face dataset ids for the front matter.
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise InputError(f"model directory {model_dir} does not exist")
    for i, ds in enumerate(datasets):
        missing = {"name", "licence", "pairs"} - set(ds)
        if missing:
            raise InputError(
                f"datasets -> {i}: missing {', '.join(sorted(missing))}; each needs "
                "name, licence and pairs"
            )
    n_pairs = int(sum(int(ds["pairs"]) for ds in datasets))
    meta = _front_matter(
        name=name,
        base_model=base_model,
        datasets=datasets,
        loss=loss,
        eval_results=eval_results,
        n_pairs=n_pairs,
        license=license,
        hub_datasets=hub_datasets,
    )
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)

    lines = [
        f"# {name}",
        "",
        (
            "An NLI cross-encoder for **zero-shot** guardrails, moderation and prompt routing: the "
            "prompt is the premise, a plain-English condition the hypothesis, and the model says "
            f"entailment (0), neutral (1) or contradiction (2). Fine-tuned from `{base_model}`."
        ),
        "",
    ]

    lines += ["# Training", ""]
    if loss == "PrecomputedDistillationLoss" and alpha is not None and beta is not None:
        lines += [
            (
                "Distilled with MSE against precomputed teacher logits, averaged with cross "
                "entropy against the gold labels:"
            ),
            "",
            "$$",
            (
                r"\mathcal{L} = \alpha \cdot \mathcal{L}_{\text{CE}}(z^{(s)}, y) + "
                r"\beta \cdot \mathcal{L}_{\text{MSE}}(z^{(s)}, z^{(t)})"
            ),
            "$$",
            "",
            f"with \\\\(\\alpha = {alpha:g}\\\\) and \\\\(\\beta = {beta:g}\\\\).",
            "",
        ]
    else:
        lines += [f"Loss: `{loss}`.", ""]
    details = [f"- Training pairs: {n_pairs:,}"]
    if training_time_s is not None:
        details.append(
            f"- Training time: {training_time_s / 3600:.2f} h ({training_time_s:.0f} s)"
        )
    details.append(f"- Hardware: {hardware}")
    lines += details + ["", "| Dataset | Pairs | Licence |", "| --- | --- | --- |"]
    lines += [
        f"| {ds['name']} | {int(ds['pairs']):,} | {ds['licence']} |" for ds in datasets
    ]
    lines.append("")
    if learning_curve_png:
        lines += [f"![learning curve]({learning_curve_png})", ""]

    lines += [
        "# Evaluation Results",
        "",
        (
            "F1 scores per dataset (F1-Micro equals accuracy). Throughput measured at batch size "
            f"64 on {eval_hardware or hardware} (ONNX Runtime, the export listed below)."
        ),
        "",
        "| Dataset | F1 Micro | F1 Macro | F1 Weighted | Throughput (samples/s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for ds_name, m in eval_results.items():
        lines.append(
            f"| {ds_name} | {_fmt(m.get('f1_micro'))} | {_fmt(m.get('f1_macro'))} | "
            f"{_fmt(m.get('f1_weighted'))} | {_fmt(m.get('throughput_samples_per_s'), 1)} |"
        )
    lines.append("")
    lines.append(_usage(repo_id or name))

    lines += ["# Licences", ""]
    lines.append(
        f"Model licence: {license or 'see the repository'}. Training data licences are "
        "listed per dataset above."
    )
    nc = [
        str(ds["name"]) for ds in datasets if _NON_COMMERCIAL.search(str(ds["licence"]))
    ]
    if nc:
        lines += [
            "",
            (
                "**Note:** some training data is licensed for non-commercial use only "
                f"({', '.join(nc)}); check whether that restricts your use of this model."
            ),
        ]
    lines.append("")
    if extra_sections.strip():
        lines += [extra_sections.strip(), ""]

    path = model_dir / "README.md"
    path.write_text(f"---\n{front}---\n" + "\n".join(lines), encoding="utf-8")
    return path


def read_front_matter(path: str | Path) -> dict[str, Any]:
    """Parse the YAML front matter of a model card (for tests and checks)."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise InputError(f"{path}: no YAML front matter")
    end = text.index("\n---\n", 4)
    return yaml.safe_load(text[4:end])
