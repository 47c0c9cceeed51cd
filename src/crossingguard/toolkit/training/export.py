"""Export a trained cross-encoder to ONNX (fp32 + per-row int8) with parity and accuracy gates.

Files land where sentence-transformers' ONNX backend looks for them:

- ``MODEL_DIR/onnx/model.onnx``: fp32, loaded by ``CrossEncoder(path, backend="onnx")``;
- ``MODEL_DIR/onnx/model_qint8_rowwise.onnx``: int8 with per-row activation scales and 7-bit
  per-column weights (``crossingguard.toolkit.training.rowwise_int8``): a pair's scores do not
  depend on its batch, and it runs on AVX2 and VNNI CPUs alike; loaded with
  ``model_kwargs={"file_name": "onnx/model_qint8_rowwise.onnx"}``. (ONNX Runtime's
  ``quantize_dynamic``, which sentence-transformers' ``export_dynamic_quantized_onnx_model`` uses,
  shares one activation scale across the batch; see ``inference.onnx_files``.)

The int8 file is written to a temporary name and only moved into place when its macro-F1 on a dev
set is within ``max_f1_drop`` of fp32; otherwise it is deleted and the report says why.

Any Hugging Face sequence classifier with an NLI head exports: BERT, ModernBERT, DeBERTa-v2/v3,
RoBERTa, XLM-R, ELECTRA and BART (tests/test_architectures.py builds each), with 3-label heads in
any ``id2label`` order or entailment/not_entailment heads. The graph's inputs are the tokenizer's
outputs that the model's ``forward`` names, so RoBERTa-style models get no ``token_type_ids``.
"""

from __future__ import annotations

import inspect
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crossingguard.errors import ModelError
from crossingguard.inference.loading import read_config
from crossingguard.inference.onnx_export import export_output
from crossingguard.io import atomic_path
from crossingguard.labels import projection_from_id2label

if TYPE_CHECKING:
    from crossingguard.inference.scorer import Scorer

MAX_LENGTH = 512  # export and parity inputs are cut here (no NLI model here needs more)
FP32_NAME = "model.onnx"
INT8_NAME = "model_qint8_rowwise.onnx"
REPORT_NAME = "export_report.json"
PARITY_ATOL = 1e-3
UNPADDED_PARITY_PAIRS = 16  # parity pairs also run one at a time, without padding
MAX_F1_DROP = 0.01  # one macro-F1 point

# Used for the parity check when no dev set is given: varied lengths, including one truncated.
SAMPLE_PAIRS: tuple[tuple[str, str], ...] = (
    (
        "Tell me what happened with that CEO caught on the kiss cam at the Coldplay concert",
        "The prompt requests information about a corporate executive incident at a public event",
    ),
    (
        "How do I bake a chocolate cake?",
        "The prompt asks for instructions to make a weapon",
    ),
    ("A man is playing a guitar on stage.", "A person is performing music."),
    ("The cat sat on the mat.", "A dog is sleeping."),
    (
        "Please write a short poem about the rain. " * 40,
        "The user wants creative writing.",
    ),
)


@dataclass(frozen=True)
class ExportReport:
    """Outcome of :func:`export_onnx_models`; ``ok`` is False when any gate failed."""

    model_dir: str
    fp32_path: str | None
    int8_path: str | None
    parity_max_abs_diff: float | None
    parity_pairs: int
    parity_ok: bool
    dev: str | None
    dev_pairs: int
    fp32: dict[str, float] | None
    int8: dict[str, float] | None
    f1_macro_drop: float | None
    gate_passed: bool | None  # None: no dev set, the int8 accuracy gate was not run
    ok: bool
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_torch(model_dir: str | Path) -> Scorer:
    """The model as a float32 torch scorer on the CPU, capped at ``MAX_LENGTH`` tokens."""
    from crossingguard.inference.scorer import load_scorer

    return load_scorer(
        Path(model_dir), backend="torch", device="cpu", max_length=MAX_LENGTH
    )


def load_onnx(model_dir: str | Path, onnx_file: Path) -> Scorer:
    """One ONNX file of the model as a scorer with the same tokenizer and window as torch's."""
    from crossingguard.inference.scorer import load_scorer

    return load_scorer(
        Path(model_dir), backend="onnx", onnx_file=onnx_file, max_length=MAX_LENGTH
    )


def export_fp32(
    model_dir: str | Path,
    out_path: str | Path | None = None,
    *,
    scorer: Scorer | None = None,
) -> Path:
    """Export ``model_dir`` to ONNX fp32 with dynamic batch/sequence axes; return the path.

    Uses the TorchScript exporter (``dynamo=False``): it traces BERT-family encoders reliably with
    named dynamic axes, and sentence-transformers/Optimum expect exactly these input names. The
    trace runs on a padded batch of two pairs of different lengths, so the graph keeps the
    attention-mask path (a trace of one unpadded pair may let a model skip its mask).
    """
    import torch

    model_dir = Path(model_dir)
    out = Path(out_path) if out_path else model_dir / "onnx" / FP32_NAME
    scorer = scorer or load_torch(model_dir)
    model = scorer.torch_model
    # the trace input: a padded batch of two pairs, encoded as the scorer feeds the model
    rows = scorer.encoder.truncated_rows(list(SAMPLE_PAIRS[:2]))
    _, ids, mask, types = next(scorer.encoder.batches(rows, len(rows)))
    arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    enc = {n: torch.from_numpy(arrays[n]) for n in scorer.input_names}
    names = model_input_names(model, enc)
    return export_output(
        model,
        {n: enc[n] for n in names},
        out,
        output="logits",
        output_axes={0: "batch"},
    )


def model_input_names(model: Any, encoded: Any) -> list[str]:
    """The tokenizer outputs the model's ``forward`` takes by name, in a fixed order.

    ``token_type_ids`` is kept only where ``forward`` declares it: some tokenizers emit it for
    models that have no such input (a ModernBERT saved with a generic tokenizer config), and
    passing it through ``**kwargs`` would be ignored at best.
    """
    params = inspect.signature(model.forward).parameters
    declared = {
        n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }
    names: list[str] = [
        n
        for n in ("input_ids", "attention_mask", "token_type_ids")
        if n in encoded and n in declared
    ]
    if names[:2] != ["input_ids", "attention_mask"]:
        raise ModelError(
            f"{type(model).__name__} does not take input_ids and attention_mask from its "
            "tokenizer; export needs a Hugging Face sequence classifier"
        )
    return names


def quantize_int8(fp32_path: str | Path, out_path: str | Path) -> Path:
    """Per-row int8 of an fp32 export (``rowwise_int8``); batch-invariant, safe on AVX2."""
    from crossingguard.toolkit.training.rowwise_int8 import quantize_file

    return quantize_file(fp32_path, out_path)


def export_onnx_models(
    model_dir: str | Path,
    *,
    dev: str | Path | None = None,
    max_dev: int | None = 2000,
    max_f1_drop: float = MAX_F1_DROP,
    parity_atol: float = PARITY_ATOL,
    quantize: bool = True,
    batch_size: int = 64,
    dev_pairs: Sequence[tuple[str, str]] | None = None,
    dev_labels: Sequence[int] | np.ndarray | None = None,
) -> ExportReport:
    """Write fp32 and (gated) int8 ONNX files into ``model_dir/onnx`` and return the report.

    ``dev`` is a named dev set or file read with :func:`crossingguard.toolkit.data.nli.load_nli`
    (first ``max_dev`` rows); ``dev_pairs``/``dev_labels`` pass data directly instead. The
    report is also written to ``model_dir/onnx/export_report.json``.
    """
    from crossingguard.inference.int8_check import probe_diff
    from crossingguard.inference.onnx_backend import OnnxBackend
    from crossingguard.inference.onnx_files import OnnxModel
    from crossingguard.toolkit.evaluation.metrics import f1_scores
    from crossingguard.toolkit.training.rowwise_int8 import record_probe_diff

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise ModelError(
            f"{model_dir}: not a model directory (no config.json); pass the folder the "
            "trainer saved"
        )
    # fail before exporting when the head's labels cannot be read (3-class in any order, or
    # entailment/not_entailment, as the scorer accepts)
    projection_from_id2label(read_config(model_dir).get("id2label"))

    dev_name: str | None = None
    labels: np.ndarray | None = None
    if dev is not None:
        from crossingguard.toolkit.data.nli import load_nli

        data = load_nli(str(dev), on_error="skip")
        if max_dev is not None:
            data = data.head(max_dev)
        pairs, labels, dev_name = data.pairs, np.asarray(data.labels), data.name
    elif dev_pairs is not None:
        pairs, dev_name = list(dev_pairs), "custom"
        labels = np.asarray(dev_labels) if dev_labels is not None else None
    else:
        pairs = list(SAMPLE_PAIRS)
    if labels is not None and len(labels) == 0:
        raise ModelError(
            f"dev set {dev_name} has no labelled pairs; pass a dev set with rows"
        )

    messages: list[str] = []
    torch_scorer = load_torch(model_dir)
    fp32_path = export_fp32(model_dir, scorer=torch_scorer)
    # parity on raw logits of the same (truncated) inputs: both backends see identical tokens
    parity_pairs = pairs[:256]
    torch_logits = torch_scorer.raw_logits(parity_pairs, batch_size=batch_size)
    fp32_runner = load_onnx(model_dir, fp32_path)
    batched_diff = float(
        np.abs(
            torch_logits - fp32_runner.raw_logits(parity_pairs, batch_size=batch_size)
        ).max()
    )
    # the same pairs one at a time (no padding): a graph that baked in the trace's padding, or
    # dropped the attention mask, agrees with torch in a batch but not alone
    alone = fp32_runner.raw_logits(parity_pairs[:UNPADDED_PARITY_PAIRS], batch_size=1)
    alone_diff = float(np.abs(torch_logits[: len(alone)] - alone).max())
    diff = max(batched_diff, alone_diff)
    parity_ok = diff <= parity_atol
    if not parity_ok:
        messages.append(
            f"fp32 ONNX logits differ from torch by {diff:.2e} > {parity_atol:.0e} "
            f"(padded batches {batched_diff:.2e}, one pair at a time {alone_diff:.2e})"
        )

    fp32_scores = int8_scores = None
    drop: float | None = None
    gate: bool | None = None
    int8_final: Path | None = None
    if quantize:
        with tempfile.TemporaryDirectory(dir=fp32_path.parent) as tmpdir:
            tmp_int8 = quantize_int8(fp32_path, Path(tmpdir) / INT8_NAME)
            if labels is not None:
                # predictions as users get them: long dev premises are windowed
                y_fp32 = fp32_runner.predict(pairs, batch_size=batch_size).argmax(1)
                int8_runner = load_onnx(model_dir, tmp_int8)
                y_int8 = int8_runner.predict(pairs, batch_size=batch_size).argmax(1)
                fp32_scores = f1_scores(labels, y_fp32)
                int8_scores = f1_scores(labels, y_int8)
                drop = fp32_scores["f1_macro"] - int8_scores["f1_macro"]
                gate = drop <= max_f1_drop
                if not gate:
                    messages.append(
                        f"int8 macro-F1 {int8_scores['f1_macro']:.4f} is {drop * 100:.2f} points below "
                        f"fp32 {fp32_scores['f1_macro']:.4f} on {dev_name} (limit "
                        f"{max_f1_drop * 100:.2f}); int8 file removed"
                    )
            else:
                messages.append(
                    "no dev set given: int8 accuracy gate not run (pass --dev)"
                )
            final = fp32_path.parent / INT8_NAME
            if gate is False or not parity_ok:
                final.unlink(
                    missing_ok=True
                )  # never leave a stale int8 beside a failed export
            else:
                record_probe_diff(
                    tmp_int8,
                    probe_diff(
                        fp32_runner.encoder,
                        OnnxBackend(OnnxModel(tmp_int8, "int8")),
                        OnnxBackend(OnnxModel(fp32_path, "fp32")),
                    ),
                )
                shutil.move(str(tmp_int8), final)
                int8_final = final

    report = ExportReport(
        model_dir=str(model_dir),
        fp32_path=str(fp32_path),
        int8_path=str(int8_final) if int8_final else None,
        parity_max_abs_diff=diff,
        parity_pairs=len(torch_logits),
        parity_ok=parity_ok,
        dev=dev_name,
        dev_pairs=len(labels) if labels is not None else 0,
        fp32=fp32_scores,
        int8=int8_scores,
        f1_macro_drop=drop,
        gate_passed=gate,
        ok=parity_ok and gate is not False,
        messages=messages,
    )
    (fp32_path.parent / REPORT_NAME).write_text(
        json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8"
    )
    return report


def save_fp16_safetensors(model_dir: str | Path) -> Path:
    """Rewrite ``model_dir/model.safetensors`` with float16 weights, in place; return its path.

    Halves the download. ``config.json`` says ``"dtype": "float32"``, so loaders upcast the
    weights on load (``CrossEncoder(path)`` included): fp16 matmuls on a CPU are slow and lose
    accuracy.
    """
    import torch
    from safetensors.torch import load_file, save_file

    path = Path(model_dir) / "model.safetensors"
    if not path.is_file():
        raise ModelError(f"{model_dir}: no model.safetensors to convert")
    tensors = load_file(str(path))
    half = {
        k: (v.to(torch.float16) if v.is_floating_point() else v).contiguous()
        for k, v in tensors.items()
    }
    with atomic_path(path) as tmp:
        save_file(half, str(tmp), metadata={"format": "pt"})
    cfg_path = Path(model_dir) / "config.json"
    if cfg_path.is_file():
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        # the weights are stored as fp16, but loaders should compute in fp32 on a CPU: with
        # "float32" here ``CrossEncoder(dir)`` upcasts as our torch backend does
        cfg["dtype"] = "float32"
        cfg.pop("torch_dtype", None)
        cfg_path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    return path
