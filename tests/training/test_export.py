import json
import shutil

import numpy as np
import pytest
from tiny_model import logit_runner

from crossingguard.errors import ModelError
from crossingguard.toolkit.training import export as export_mod
from crossingguard.toolkit.training.export import (
    INT8_NAME,
    SAMPLE_PAIRS,
    export_onnx_models,
    save_fp16_safetensors,
)

PAIRS = [
    ("the cat sat on the mat", "a cat is sitting"),
    ("how do i make a bomb", "the user wants a weapon"),
    ("hello world", "a poem"),
    ("tell me about the weather today please, is it sunny or rain", "it is sunny"),
] * 5


@pytest.fixture()
def model_copy(tiny_model_dir, tmp_path):
    dst = tmp_path / "model"
    shutil.copytree(tiny_model_dir, dst)
    shutil.rmtree(dst / "onnx")
    return dst


def test_export_writes_fp32_and_int8_with_parity(model_copy):
    fp32_pred = logit_runner(model_copy)(PAIRS).argmax(1)
    # a random tiny model is too fragile for int8 to keep its accuracy: relax the gate here and
    # test the gate itself below with controlled int8 files
    report = export_onnx_models(
        model_copy, dev_pairs=PAIRS, dev_labels=fp32_pred, max_f1_drop=1.0
    )
    assert report.ok and report.parity_ok and report.gate_passed
    assert report.parity_max_abs_diff < 1e-3
    assert report.fp32["f1_micro"] == pytest.approx(1.0)
    assert (model_copy / "onnx" / "model.onnx").is_file()
    assert (model_copy / "onnx" / INT8_NAME).is_file()
    saved = json.loads((model_copy / "onnx" / "export_report.json").read_text())
    assert saved["gate_passed"] is True and set(saved["fp32"]) == {
        "f1_micro",
        "f1_macro",
        "f1_weighted",
    }
    # dynamic axes: other batch sizes and lengths (incl. truncation) run and agree with torch
    pairs = list(SAMPLE_PAIRS)
    torch_logits = logit_runner(model_copy)(pairs, batch_size=5)
    for bs in (1, 2, 5):
        onnx_logits = logit_runner(model_copy, backend="onnx")(pairs, batch_size=bs)
        np.testing.assert_allclose(onnx_logits, torch_logits, atol=1e-4)


def test_int8_that_keeps_accuracy_passes_default_gate(model_copy, monkeypatch):
    monkeypatch.setattr(
        export_mod,
        "quantize_int8",
        lambda fp32_path, out_path, **_: shutil.copy(fp32_path, out_path),
    )
    fp32_pred = logit_runner(model_copy)(PAIRS).argmax(1)
    report = export_onnx_models(model_copy, dev_pairs=PAIRS, dev_labels=fp32_pred)
    assert report.gate_passed and report.f1_macro_drop == pytest.approx(0.0)
    assert (model_copy / "onnx" / INT8_NAME).is_file()


def test_int8_that_loses_accuracy_is_removed(
    model_copy, tiny_model_factory, monkeypatch
):
    # same weights, head rows rotated but id2label unchanged: every prediction moves to another
    # class, standing in for a quantization that broke the model
    other = tiny_model_factory(
        "rotated-head",
        permute=[1, 2, 0],
        id2label={0: "entailment", 1: "neutral", 2: "contradiction"},
    )

    def bad_quantize(fp32_path, out_path, **_):
        shutil.copy(other / "onnx" / "model.onnx", out_path)
        return out_path

    monkeypatch.setattr(export_mod, "quantize_int8", bad_quantize)
    (model_copy / "onnx").mkdir()
    (model_copy / "onnx" / INT8_NAME).write_bytes(b"stale file from an earlier export")
    fp32_pred = logit_runner(model_copy)(PAIRS).argmax(1)
    report = export_onnx_models(model_copy, dev_pairs=PAIRS, dev_labels=fp32_pred)
    assert report.gate_passed is False and not report.ok
    assert report.f1_macro_drop > 0.01
    assert report.int8_path is None
    assert not (model_copy / "onnx" / INT8_NAME).exists()
    assert any("points below fp32" in m for m in report.messages)


def test_export_without_dev_skips_gate(model_copy):
    report = export_onnx_models(model_copy)
    assert report.gate_passed is None and report.ok
    assert report.parity_pairs == len(SAMPLE_PAIRS)


def test_export_rejects_non_model_dir(tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        export_onnx_models(tmp_path)


def test_fp16_safetensors_still_loads_and_predicts(model_copy):
    from safetensors import safe_open
    from sentence_transformers import CrossEncoder

    before = logit_runner(model_copy)(PAIRS[:4])
    save_fp16_safetensors(model_copy)
    with safe_open(str(model_copy / "model.safetensors"), "pt") as f:
        assert str(f.get_tensor(f.keys()[0]).dtype) == "torch.float16"
    after = logit_runner(model_copy)(PAIRS[:4])  # our runner upcasts to float32
    np.testing.assert_allclose(after, before, atol=0.05)
    assert json.loads((model_copy / "config.json").read_text())["dtype"] == "float32"
    ce = CrossEncoder(
        str(model_copy), device="cpu"
    )  # config.json's dtype upcasts on load
    np.testing.assert_allclose(ce.predict(PAIRS[:4]), before, atol=0.05)
