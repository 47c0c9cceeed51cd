"""The backend interface: token arrays in, raw model logits (model label order) out."""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np

BackendName = Literal["auto", "onnx", "torch"]


class Backend(Protocol):
    """Runs one padded batch. Backends know nothing about labels, windows or batching."""

    name: str
    uses_token_type_ids: bool

    def forward(
        self,
        input_ids: np.ndarray,
        attention_mask: np.ndarray,
        token_type_ids: np.ndarray,
    ) -> np.ndarray:
        """Return float32 logits of shape (batch, num_model_labels)."""
        ...
