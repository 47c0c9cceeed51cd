"""Torch backend through sentence-transformers ``CrossEncoder``; imported only when asked for."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np

from crossingguard.errors import ModelError


class TorchBackend:
    """Any Hugging Face NLI sequence classifier, loaded with ``CrossEncoder(path)``."""

    name = "torch"

    def __init__(
        self, model_dir: Path, *, threads: int | None = None, device: str | None = None
    ):
        try:
            import torch
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise ModelError(
                "the torch backend needs the train extra: pip install 'crossingguard[train]' "
                "(or use --backend onnx with a model that has onnx/model.onnx)"
            ) from exc
        if threads is not None:
            torch.set_num_threads(
                threads
            )  # process-wide: torch has no per-model thread pool
        self._torch = torch
        try:
            # Shipped weights are fp16 to keep the package small; on a CPU, fp16 matmuls are slow
            # and lose accuracy, so load them as float32 there.
            on_cpu = (
                device is None
                and not torch.cuda.is_available()
                or str(device).startswith("cpu")
            )
            # Weights only from safetensors: a pytorch_model.bin is a pickle, and unpickling a
            # downloaded file can run code (SECURITY.md).
            model_kwargs: dict[str, Any] = {"use_safetensors": True}
            if on_cpu:
                model_kwargs["dtype"] = torch.float32
            encoder = CrossEncoder(
                str(model_dir), device=device, model_kwargs=model_kwargs
            )
        except Exception as exc:
            hint = (
                "; we load weights only from model.safetensors (never pickled .bin files): "
                "convert it once with transformers (save_pretrained(safe_serialization=True))"
                if not (Path(model_dir) / "model.safetensors").is_file()
                else ""
            )
            raise ModelError(
                f"sentence-transformers cannot load {model_dir}: {exc}{hint}"
            ) from exc
        self.model = encoder.model.eval()
        self.device = self.model.device
        self.uses_token_type_ids = takes_token_type_ids(self.model, encoder.tokenizer)

    def forward(
        self,
        input_ids: np.ndarray,
        attention_mask: np.ndarray,
        token_type_ids: np.ndarray,
    ) -> np.ndarray:
        torch = self._torch
        feed = {
            "input_ids": torch.from_numpy(input_ids).to(self.device),
            "attention_mask": torch.from_numpy(attention_mask).to(self.device),
        }
        if self.uses_token_type_ids:
            feed["token_type_ids"] = torch.from_numpy(token_type_ids).to(self.device)
        with torch.inference_mode():
            logits = self.model(**feed).logits
        return logits.float().cpu().numpy()


def takes_token_type_ids(model: Any, tokenizer: Any) -> bool:
    """Whether to feed ``token_type_ids``: the tokenizer emits them and ``forward`` names them.

    BERT, ELECTRA and DeBERTa tokenizers emit them; RoBERTa, XLM-R, BART and ModernBERT ones do
    not. A tokenizer config can still list them for a model without the input (a ModernBERT saved
    with a generic tokenizer): ``forward(**kwargs)`` would swallow or reject them, so the model's
    declared parameters decide as well, the same rule the ONNX export uses for its inputs.
    """
    names = getattr(tokenizer, "model_input_names", None) or ["token_type_ids"]
    if "token_type_ids" not in names:
        return False
    param = inspect.signature(model.forward).parameters.get("token_type_ids")
    return param is not None and param.kind not in (
        param.VAR_KEYWORD,
        param.VAR_POSITIONAL,
    )
