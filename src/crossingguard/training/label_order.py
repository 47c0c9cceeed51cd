"""Map a model's ``id2label`` onto project order (0 entailment, 1 neutral, 2 contradiction).

Teachers, students and exported files may order their heads differently; every consumer of raw
logits goes through :func:`model_to_project_index` so orders are remapped, never assumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crossingguard.errors import InputError, ModelError
from crossingguard.labels import LABELS, label_to_id

PROJECT_LABELS: tuple[str, str, str] = LABELS


def normalize_label(name: Any) -> int | None:
    """Project id for a label name such as ``ENTAILMENT`` or ``contradiction``; None if unknown."""
    try:
        return label_to_id(str(name))
    except InputError:
        return None


def model_to_project_index(
    id2label: Mapping[Any, str] | None, *, where: str = "model"
) -> list[int]:
    """``order[k]`` = the model output column holding project label ``k``.

    So ``logits[:, order]`` is in project order. Raises :class:`ModelError` when the names do not
    name entailment, neutral and contradiction exactly once each (``LABEL_0`` style names carry no
    order, so we refuse to guess).
    """
    if not id2label:
        raise ModelError(
            f"{where}: no id2label found; expected entailment/neutral/contradiction names"
        )
    by_index = {int(k): v for k, v in id2label.items()}
    if sorted(by_index) != [0, 1, 2]:
        raise ModelError(
            f"{where}: expected 3 labels with ids 0, 1, 2, got id2label={by_index}; an NLI model "
            "needs entailment, neutral and contradiction heads"
        )
    order: dict[int, int] = {}
    for idx, name in by_index.items():
        pid = normalize_label(name)
        if pid is None or pid in order:
            raise ModelError(
                f"{where}: cannot read the label order from id2label={by_index} (label {name!r} "
                f"{'is unknown' if pid is None else 'is repeated'}); set id2label in config.json to "
                "entailment/neutral/contradiction names"
            )
        order[pid] = idx
    return [order[k] for k in range(3)]
