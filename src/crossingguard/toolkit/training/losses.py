"""Losses for sentence-transformers' CrossEncoderTrainer: partial-label NLL and distillation.

    PartialLabelLoss:             L = -log sum_{k in S(y)} softmax(z_s)_k
    PrecomputedDistillationLoss:  L = alpha * NLL_S(z_s, y) + beta * MSE(z_s, z_t)

``y`` is a label code (:mod:`crossingguard.toolkit.data.label_sets`): 0/1/2 are the full labels, for which
the partial-label NLL is exactly cross-entropy; 3 is ``not-entailed``, the set {neutral,
contradiction} of two-way rows, for which it maximises log(P(neutral) + P(contradiction)) (the
marginal likelihood on the 3-way head) and leaves the split between the two to the other data.

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
from crossingguard.labels import head_columns
from crossingguard.toolkit.data.label_sets import LABEL_SET_NAMES, LABEL_SETS, N_CODES

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

    ``gold`` is a label code 0..3 (3 = not-entailed, a two-way row). ``teacher_logits`` must
    already be in project order E/N/C, as :func:`load_teacher_logits` returns them.
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
        or ((y < 0) | (y >= N_CODES)).any()
    ):
        bad = (
            y[(y < 0) | (y >= N_CODES)][:1]
            if np.issubdtype(y.dtype, np.number)
            else y[:1]
        )
        raise InputError(
            f"labels must be integer label codes 0..{N_CODES - 1} ({', '.join(LABEL_SET_NAMES)}), "
            f"got {bad.tolist() if bad.size else y.dtype}"
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


def partial_label_nll(logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Mean of ``-log sum_{k in S(code)} softmax(logits)_k`` over rows (logits in project order).

    For codes 0/1/2 this is ``F.cross_entropy``; code 3 (not-entailed) sums neutral and
    contradiction. Computed with ``logsumexp`` over the allowed columns, so it stays finite where
    a probability underflows.
    """
    import torch

    table = torch.zeros((N_CODES, 3), dtype=torch.bool, device=logits.device)
    for code, members in enumerate(LABEL_SETS):
        table[code, list(members)] = True
    allowed = table[codes.long().to(logits.device)]
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    masked = log_probs.masked_fill(~allowed, float("-inf"))
    return -(torch.logsumexp(masked, dim=-1)).mean()


def _check_codes(codes: torch.Tensor) -> None:
    import torch

    bad = (codes != codes.round()) | (codes < 0) | (codes >= N_CODES)
    if torch.any(bad):
        raise InputError(
            f"label codes must be 0..{N_CODES - 1} ({', '.join(LABEL_SET_NAMES)}), got "
            f"{codes[bad][:3].tolist()}"
        )


class _ProjectOrderLoss(nn.Module):
    """Shared part: check the model is a 3-label NLI CrossEncoder, read its head order, and score
    (premise, hypothesis) inputs into logits in project order E/N/C."""

    def __init__(self, model: CrossEncoder) -> None:
        super().__init__()
        import torch
        from sentence_transformers.cross_encoder import CrossEncoder

        name = type(self).__name__
        if not isinstance(model, CrossEncoder):
            raise ConfigError(
                f"{name} expects a sentence_transformers CrossEncoder, got {type(model).__name__}"
            )
        if model.num_labels != 3:
            raise ConfigError(
                f"{name} needs a 3-label NLI student (entailment/neutral/contradiction), got a "
                f"model with {model.num_labels} output label(s); load the base model with "
                "num_labels=3"
            )
        self.model = model
        id2label = getattr(getattr(model, "config", None), "id2label", None)
        # project label k lives at model output column self._order[k]
        order = head_columns(id2label, where="student model config.json")
        self.register_buffer(
            "_order", torch.tensor(order, dtype=torch.long), persistent=False
        )

    def _project_logits(
        self, inputs: list[list[str]], prompt: str | None, task: str | None
    ) -> torch.Tensor:
        from sentence_transformers.util import batch_to_device

        if len(inputs) != 2:
            raise InputError(
                f"{type(self).__name__} expects two text columns (premise, hypothesis) besides "
                f"'{LABEL_COLUMN}', got {len(inputs)}"
            )
        pairs = list(zip(inputs[0], inputs[1], strict=True))
        tokens = self.model.preprocess(pairs, prompt=prompt, task=task)
        tokens = batch_to_device(tokens, self.model.device)
        logits = self.model(tokens)["scores"]
        return logits.index_select(1, self._order.to(logits.device))


class PartialLabelLoss(_ProjectOrderLoss):
    """Cross-entropy generalised to label sets: ``-log sum_{k in S(y)} P(k)``.

    Labels are label codes (``crossingguard.toolkit.data.label_sets``): a mix of full 3-way rows and
    two-way ``not-entailed`` rows trains one 3-way head, and a mix of full rows only gets exactly
    the cross-entropy of ``sentence_transformers``' ``CrossEntropyLoss`` (with the model's head
    order read from its ``id2label`` instead of assumed).
    """

    def forward(
        self,
        inputs: list[list[str]],
        labels: Any,
        prompt: str | None = None,
        task: str | None = None,
    ) -> torch.Tensor:
        import torch

        if labels is None:
            raise InputError(
                f"PartialLabelLoss needs a '{LABEL_COLUMN}' column of label codes"
            )
        codes = torch.as_tensor(labels).reshape(-1).float()
        n = len(inputs[0]) if inputs else 0
        if codes.numel() != n:
            raise InputError(
                f"expected one label code per pair ({n}), got {codes.numel()} values; a "
                "[gold, t_e, t_n, t_c] column needs PrecomputedDistillationLoss"
            )
        _check_codes(codes)
        return partial_label_nll(self._project_logits(inputs, prompt, task), codes)

    def get_config_dict(self) -> dict[str, Any]:
        return {"label_sets": dict(zip(LABEL_SET_NAMES, LABEL_SETS, strict=True))}


class PrecomputedDistillationLoss(_ProjectOrderLoss):
    """``alpha * NLL_S(student, gold) + beta * MSE(student logits, teacher logits)``.

    ``NLL_S`` is :func:`partial_label_nll`: cross-entropy for a full gold label, the marginal
    likelihood of {neutral, contradiction} for a two-way ``not-entailed`` row (code 3).

    Args:
        model: the 3-label student ``CrossEncoder`` being trained.
        alpha: weight of the (partial-label) cross-entropy against the gold label.
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
        super().__init__(model)
        for name, w in (("alpha", alpha), ("beta", beta)):
            if not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
                raise ConfigError(
                    f"loss -> {name}: must be a finite number >= 0, got {w!r}"
                )
        if alpha == 0 and beta == 0:
            raise ConfigError(
                "loss -> alpha, beta: at least one must be > 0, got both 0"
            )
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.log_components = log_components

    def forward(
        self,
        inputs: list[list[str]],
        labels: Any,
        prompt: str | None = None,
        task: str | None = None,
    ) -> torch.Tensor | dict[str, torch.Tensor]:
        import torch.nn.functional as F

        if len(inputs) != 2:
            raise InputError(
                f"PrecomputedDistillationLoss expects two text columns (premise, hypothesis) besides "
                f"'{LABEL_COLUMN}', got {len(inputs)}; build the dataset with "
                "build_distillation_dataset()"
            )
        target = self._targets(labels, len(inputs[0]))
        gold = target[:, 0]
        _check_codes(gold)
        logits = self._project_logits(inputs, prompt, task)
        ce = partial_label_nll(logits, gold)  # cross-entropy for full labels
        mse = F.mse_loss(
            logits, target[:, 1:].to(device=logits.device, dtype=logits.dtype)
        )
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
