"""Raw (pre-softmax) logits from a model directory, with torch or ONNX Runtime.

The inference engine returns probabilities in project order; distillation and export checks need
the model's own raw logits, so this small runner sits beside them. Logits come back in the
model's head order together with its ``id2label``; callers reorder with
:func:`crossingguard.training.label_order.model_to_project_index`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crossingguard.errors import InputError, ModelError

Backend = Literal["torch", "onnx"]
MAX_LENGTH = 512


def read_id2label(model_dir: str | Path) -> dict[int, str]:
    cfg = Path(model_dir) / "config.json"
    if not cfg.is_file():
        raise ModelError(
            f"{model_dir}: no config.json; expected a Hugging Face model directory"
        )
    data = json.loads(cfg.read_text(encoding="utf-8"))
    return {int(k): v for k, v in (data.get("id2label") or {}).items()}


def load_tokenizer(model_dir: str | Path) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(model_dir))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{model_dir}: could not load its tokenizer ({exc})") from exc


def tokenize(
    tokenizer: Any, pairs: Sequence[tuple[str, str]], *, return_tensors: str
) -> Any:
    limit = min(
        int(getattr(tokenizer, "model_max_length", MAX_LENGTH) or MAX_LENGTH),
        MAX_LENGTH,
    )
    return tokenizer(
        [p for p, _ in pairs],
        [h for _, h in pairs],
        padding=True,
        truncation=True,
        max_length=limit,
        return_tensors=return_tensors,
    )


def _batches(
    pairs: Sequence[tuple[str, str]], batch_size: int
) -> Iterator[Sequence[tuple[str, str]]]:
    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, len(pairs), batch_size):
        yield pairs[start : start + batch_size]


class LogitRunner:
    """``runner(pairs) -> (n, num_labels) float32`` raw logits, model head order."""

    def __init__(
        self,
        model_dir: str | Path,
        *,
        backend: Backend = "torch",
        onnx_file: str | Path | None = None,
        threads: int | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        if not self.model_dir.is_dir():
            raise ModelError(f"model directory {model_dir} does not exist")
        self.backend = backend
        self.id2label = read_id2label(self.model_dir)
        self.tokenizer = load_tokenizer(self.model_dir)
        self._forward: Callable[[Sequence[tuple[str, str]]], np.ndarray]
        if backend == "torch":
            self._forward = self._torch_forward(threads)
        elif backend == "onnx":
            path = (
                Path(onnx_file) if onnx_file else self.model_dir / "onnx" / "model.onnx"
            )
            self._forward = self._onnx_forward(path, threads)
        else:
            raise InputError(f"backend must be 'torch' or 'onnx', got {backend!r}")

    def _torch_forward(
        self, threads: int | None
    ) -> Callable[[Sequence[tuple[str, str]]], np.ndarray]:
        import torch
        from transformers import AutoModelForSequenceClassification

        if threads:
            torch.set_num_threads(threads)
        try:
            # fp16 checkpoints are upcast: CPU half matmuls are slow and lose accuracy
            model = AutoModelForSequenceClassification.from_pretrained(
                str(self.model_dir), dtype=torch.float32
            ).eval()
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"{self.model_dir}: could not load the torch model ({exc})"
            ) from exc
        self.torch_model = model

        def forward(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
            enc = tokenize(self.tokenizer, pairs, return_tensors="pt")
            with torch.inference_mode():
                return model(**enc).logits.float().numpy()

        return forward

    def _onnx_forward(
        self, path: Path, threads: int | None
    ) -> Callable[[Sequence[tuple[str, str]]], np.ndarray]:
        import onnxruntime as ort

        if not path.is_file():
            raise ModelError(
                f"no ONNX file at {path}; run `crossingguard export {self.model_dir}` first"
            )
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        session = ort.InferenceSession(
            str(path), opts, providers=["CPUExecutionProvider"]
        )
        wanted = [i.name for i in session.get_inputs()]

        def forward(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
            enc = tokenize(self.tokenizer, pairs, return_tensors="np")
            feeds = {}
            for name in wanted:
                if name in enc:
                    feeds[name] = enc[name].astype(np.int64)
                elif name == "token_type_ids":
                    feeds[name] = np.zeros_like(enc["input_ids"], dtype=np.int64)
                else:
                    raise ModelError(
                        f"{path}: ONNX input {name!r} is not produced by the tokenizer"
                    )
            return np.asarray(session.run(None, feeds)[0], dtype=np.float32)

        return forward

    def __call__(
        self,
        pairs: Sequence[tuple[str, str]],
        *,
        batch_size: int = 64,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        out = []
        for batch in _batches(pairs, batch_size):
            out.append(self._forward(batch))
            if on_batch:
                on_batch(len(batch))
        if not out:
            return np.zeros((0, len(self.id2label) or 3), dtype=np.float32)
        return np.concatenate(out, axis=0)
