"""ONNX Runtime backend (the CPU default); never imports torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from crossingguard.errors import ModelError
from crossingguard.inference.int8_check import PROBE_METADATA_KEY
from crossingguard.inference.onnx_files import OnnxModel


def make_session(
    path: Path,
    *,
    threads: int | None = None,
    initializers: dict[str, np.ndarray] | None = None,
) -> tuple[Any, list[Any]]:
    """An ONNX Runtime CPU session for ``path``; the one place sessions are configured.

    ``initializers`` supplies the weights of a weightless graph in memory. ONNX Runtime does not
    copy them, so the returned OrtValues must live as long as the session: keep the list.
    """
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover - onnxruntime is a base dependency
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
    keep: list[Any] = []
    if initializers:
        keep = [ort.OrtValue.ortvalue_from_numpy(a) for a in initializers.values()]
        options.add_external_initializers(list(initializers), keep)
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        raise ModelError(f"ONNX Runtime cannot load {path}: {exc}") from exc
    return session, keep


class OnnxBackend:
    """Runs one ONNX sequence classifier with ONNX Runtime on CPU."""

    name = "onnx"

    def __init__(self, model: OnnxModel | Path, *, threads: int | None = None) -> None:
        if isinstance(model, Path):
            model = OnnxModel(model, "fp32")
        self.model = model
        self.path = model.path
        self.precision = model.precision
        self._session, self._keep_alive = make_session(
            model.path, threads=threads, initializers=model.initializers
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._inputs
        if missing:
            raise ModelError(
                f"{model.path} lacks inputs {sorted(missing)}; expected a sequence classifier "
                "export with input_ids and attention_mask (and optionally token_type_ids)"
            )
        self.uses_token_type_ids = "token_type_ids" in self._inputs
        outputs = [o.name for o in self._session.get_outputs()]
        self._output = "logits" if "logits" in outputs else outputs[0]
        # what the exporter's int8 self-check measured, if it recorded it (int8_check)
        recorded = self._session.get_modelmeta().custom_metadata_map.get(
            PROBE_METADATA_KEY
        )
        try:
            self.export_probe_diff: float | None = (
                float(recorded) if recorded is not None else None
            )
        except ValueError:
            self.export_probe_diff = None

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
