"""Distillation loss on precomputed teacher logits, for sentence-transformers' CrossEncoderTrainer.

    L = alpha * CE(z_s, y) + beta * MSE(z_s, z_t)

How labels travel: the trainer's collator lifts exactly one label column out of a batch and hands
every other column to the loss as text inputs (our loss wants exactly two: premise, hypothesis).
So gold label and teacher logits share one ``label`` column holding ``[gold, t_e, t_n, t_c]`` per
row, in project order (0 entailment, 1 neutral, 2 contradiction); the collator turns a list-valued
column into a list of 4-element tensors. :func:`build_distillation_dataset` writes that shape.

The student may use any label order (read from its ``id2label``); its logits are permuted into
project order before the loss, so a student with a different head order is never silently mixed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from torch import nn

from crossingguard.errors import ConfigError, InputError
from crossingguard.training.label_order import PROJECT_LABELS, model_to_project_index

if TYPE_CHECKING:
    import datasets
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder

LABEL_COLUMN = "label"
TEXT_COLUMNS = ("premise", "hypothesis")


def build_distillation_dataset(
    premises: Sequence[str],
    hypotheses: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    teacher_logits: np.ndarray,
) -> datasets.Dataset:
    """Columns ``premise``, ``hypothesis``, ``label`` = ``[gold, t_e, t_n, t_c]`` (project order).

    ``teacher_logits`` must already be in project order E/N/C, as :func:`load_teacher_logits`
    returns them.
    """
    import datasets

    n = len(premises)
    if n == 0:
        raise InputError(
            "cannot build a distillation dataset from 0 pairs: the training data is empty"
        )
    if len(hypotheses) != n or len(labels) != n:
        raise InputError(
            f"premises, hypotheses and labels must be the same length, got {n}, {len(hypotheses)} "
            f"and {len(labels)}"
        )
    t = np.asarray(teacher_logits, dtype=np.float64)
    if t.shape != (n, 3):
        raise InputError(
            f"teacher logits must have shape ({n}, 3) (one E/N/C row per pair), got {t.shape}; "
            "recompute them with `crossingguard distill teacher-logits` for this data"
        )
    if not np.isfinite(t).all():
        raise InputError("teacher logits hold NaN or inf values; recompute them")
    y = np.asarray(labels)
    if (
        y.ndim != 1
        or not np.issubdtype(y.dtype, np.integer)
        or ((y < 0) | (y > 2)).any()
    ):
        bad = y[(y < 0) | (y > 2)][:1] if np.issubdtype(y.dtype, np.number) else y[:1]
        raise InputError(
            f"labels must be integer class ids 0/1/2 ({', '.join(PROJECT_LABELS)}), got "
            f"{bad.tolist() if bad.size else y.dtype}"
        )
    packed = np.concatenate([y[:, None].astype(np.float64), t], axis=1)
    features = datasets.Features(
        {
            TEXT_COLUMNS[0]: datasets.Value("string"),
            TEXT_COLUMNS[1]: datasets.Value("string"),
            LABEL_COLUMN: datasets.Sequence(datasets.Value("float32"), length=4),
        }
    )
    return datasets.Dataset.from_dict(
        {
            TEXT_COLUMNS[0]: list(premises),
            TEXT_COLUMNS[1]: list(hypotheses),
            LABEL_COLUMN: packed.tolist(),
        },
        features=features,
    )


class PrecomputedDistillationLoss(nn.Module):
    """``alpha * CE(student, gold) + beta * MSE(student logits, teacher logits)``.

    Args:
        model: the 3-label student ``CrossEncoder`` being trained.
        alpha: weight of cross-entropy against the gold label.
        beta: weight of the mean squared error against the teacher's raw logits.
        log_components: return ``{"ce": ..., "mse": ...}`` (already weighted) so the trainer
            logs both terms; it sums them for the backward pass.

    Inputs: (premise, hypothesis) pairs; label ``[gold, t_e, t_n, t_c]`` in project order.
    """

    def __init__(
        self,
        model: CrossEncoder,
        alpha: float = 0.5,
        beta: float = 0.5,
        *,
        log_components: bool = False,
    ) -> None:
        super().__init__()
        import torch
        from sentence_transformers.cross_encoder import CrossEncoder

        if not isinstance(model, CrossEncoder):
            raise ConfigError(
                f"PrecomputedDistillationLoss expects a sentence_transformers CrossEncoder, got "
                f"{type(model).__name__}"
            )
        if model.num_labels != 3:
            raise ConfigError(
                f"PrecomputedDistillationLoss needs a 3-label NLI student (entailment/neutral/"
                f"contradiction), got a model with {model.num_labels} output label(s); load the "
                "base model with num_labels=3"
            )
        for name, w in (("alpha", alpha), ("beta", beta)):
            if not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
                raise ConfigError(
                    f"loss -> {name}: must be a finite number >= 0, got {w!r}"
                )
        if alpha == 0 and beta == 0:
            raise ConfigError(
                "loss -> alpha, beta: at least one must be > 0, got both 0"
            )
        self.model = model
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.log_components = log_components
        id2label = getattr(getattr(model, "config", None), "id2label", None)
        # project label k lives at student output column self._order[k]
        order = model_to_project_index(id2label, where="student model config.json")
        self.register_buffer(
            "_order", torch.tensor(order, dtype=torch.long), persistent=False
        )

    def forward(
        self,
        inputs: list[list[str]],
        labels: Any,
        prompt: str | None = None,
        task: str | None = None,
    ) -> torch.Tensor | dict[str, torch.Tensor]:
        import torch
        import torch.nn.functional as F
        from sentence_transformers.util import batch_to_device

        if len(inputs) != 2:
            raise InputError(
                f"PrecomputedDistillationLoss expects two text columns (premise, hypothesis) besides "
                f"'{LABEL_COLUMN}', got {len(inputs)}; build the dataset with "
                "build_distillation_dataset()"
            )
        n = len(inputs[0])
        target = self._targets(labels, n)
        gold = target[:, 0]
        if not torch.all((gold == gold.round()) & (gold >= 0) & (gold <= 2)):
            raise InputError(
                "the first value of each label row must be the gold class 0, 1 or 2, got "
                f"{gold[(gold != gold.round()) | (gold < 0) | (gold > 2)][:3].tolist()}"
            )
        teacher = target[:, 1:]

        pairs = list(zip(inputs[0], inputs[1]))
        tokens = self.model.preprocess(pairs, prompt=prompt, task=task)
        tokens = batch_to_device(tokens, self.model.device)
        logits = self.model(tokens)["scores"]
        logits = logits.index_select(
            1, self._order.to(logits.device)
        )  # project order E/N/C

        ce = F.cross_entropy(logits, gold.long().to(logits.device))
        mse = F.mse_loss(logits, teacher.to(device=logits.device, dtype=logits.dtype))
        if self.log_components:
            return {"ce": self.alpha * ce, "mse": self.beta * mse}
        return self.alpha * ce + self.beta * mse

    @staticmethod
    def _targets(labels: Any, n: int) -> torch.Tensor:
        import torch

        if labels is None:
            raise InputError(
                f"PrecomputedDistillationLoss needs a '{LABEL_COLUMN}' column of [gold, t_e, t_n, t_c] rows"
            )
        if isinstance(labels, (list, tuple)):
            labels = (
                torch.stack(
                    [
                        torch.as_tensor(r, dtype=torch.float32).reshape(-1)
                        for r in labels
                    ]
                )
                if all(torch.as_tensor(r).numel() == 4 for r in labels)
                else None
            )
            if labels is None:
                raise InputError(
                    "each label row must be [gold, t_e, t_n, t_c] (4 numbers); got rows of another "
                    "length. Build the dataset with build_distillation_dataset()"
                )
        labels = torch.as_tensor(labels).float()
        if labels.shape != (n, 4):
            raise InputError(
                f"expected labels of shape ({n}, 4) = [gold, t_e, t_n, t_c] per pair, got "
                f"{tuple(labels.shape)}; a plain class-id column needs CrossEntropyLoss instead"
            )
        if not torch.isfinite(labels).all():
            raise InputError(
                "teacher logits in the label column hold NaN or inf values"
            )
        return labels

    def get_config_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "beta": self.beta}
