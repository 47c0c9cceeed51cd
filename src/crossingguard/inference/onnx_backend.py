"""ONNX Runtime backend (the CPU default); never imports torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crossingguard.errors import ModelError


class OnnxBackend:
    """Runs ``onnx/model*.onnx`` with ONNX Runtime on CPU."""

    name = "onnx"

    def __init__(self, onnx_path: Path, *, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except (
            ImportError
        ) as exc:  # pragma: no cover - onnxruntime is a base dependency
            raise ModelError(
                "onnxruntime is not installed: pip install onnxruntime"
            ) from exc
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = (
            3  # ORT warns about unused initializers in many exports
        )
        try:
            self._session = ort.InferenceSession(
                str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ModelError(f"ONNX Runtime cannot load {onnx_path}: {exc}") from exc
        self.path = onnx_path
        self._inputs = {i.name for i in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._inputs
        if missing:
            raise ModelError(
                f"{onnx_path} lacks inputs {sorted(missing)}; expected a sequence classifier "
                "export with input_ids and attention_mask (and optionally token_type_ids)"
            )
        self.uses_token_type_ids = "token_type_ids" in self._inputs
        outputs = [o.name for o in self._session.get_outputs()]
        self._output = "logits" if "logits" in outputs else outputs[0]

    def forward(
        self,
        input_ids: np.ndarray,
        attention_mask: np.ndarray,
        token_type_ids: np.ndarray,
    ) -> np.ndarray:
        feed = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.uses_token_type_ids:
            feed["token_type_ids"] = token_type_ids
        (logits,) = self._session.run([self._output], feed)
        return np.asarray(logits, dtype=np.float32)
