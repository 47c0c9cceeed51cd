import json

import numpy as np
import pytest
from typer.testing import CliRunner

from crossingguard.cli.app import app
from crossingguard.errors import InputError
from crossingguard.toolkit.evaluation.nli_eval import evaluate_predictions

ROWS = [
    ("the cat sat on the mat", "a cat is sitting", "entailment"),
    ("how do i make a bomb", "the user wants a cake recipe", "contradiction"),
    ("tell me about the weather today", "it is sunny", "neutral"),
    ("please write a poem", "the user wants creative writing", "entailment"),
    ("hello world", "the prompt asks for medical advice", "contradiction"),
]


@pytest.fixture()
def dev_file(tmp_path):
    path = tmp_path / "dev.jsonl"
    path.write_text(
        "".join(
            json.dumps({"premise": p, "hypothesis": h, "label": y}) + "\n"
            for p, h, y in ROWS
        )
    )
    return path


def test_evaluate_predictions_hand_checked():
    gold = [0, 0, 1, 1, 2, 2]
    probs = np.eye(3)[[0, 1, 1, 1, 2, 0]]
    ev = evaluate_predictions("toy", gold, probs, seconds=2.0)
    d = ev.to_dict()
    assert d["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert d["f1_micro"] == pytest.approx(4 / 6)
    # F1 = 2TP / (2TP + FP + FN): E 2/4, N 4/5, C 2/3
    assert d["f1_macro"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert d["precision"]["neutral"] == pytest.approx(2 / 3)
    assert d["recall"]["contradiction"] == pytest.approx(0.5)
    assert d["throughput_samples_per_s"] == pytest.approx(3.0)
    with pytest.raises(InputError, match=r"expected \(6, 3\) scores"):
        evaluate_predictions("toy", gold, probs[:, :2])


def test_eval_cli_json_and_out(tiny_model_dir, dev_file, tmp_path):
    out = tmp_path / "eval"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--model",
            str(tiny_model_dir),
            "--data",
            str(dev_file),
            "--json",
            "--out",
            str(out),
            "--backend",
            "onnx",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    ((_, res),) = payload["results"].items()
    assert res["n"] == 5 and {"f1_micro", "f1_macro", "f1_weighted"} <= res.keys()
    assert np.array(res["confusion_matrix"]).sum() == 5
    assert res["throughput_samples_per_s"] > 0
    assert (out / "eval_results.json").is_file()
    assert list(out.glob("confusion_*.png"))


def test_eval_cli_table_and_limit(tiny_model_dir, dev_file):
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--model",
            str(tiny_model_dir),
            "--data",
            str(dev_file),
            "--limit",
            "3",
            "--backend",
            "torch",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "f1_macro" in result.stdout and "(n=3)" in result.stdout


def test_eval_cli_bad_input_exits_2(tiny_model_dir, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    bad_label = tmp_path / "bad.jsonl"
    bad_label.write_text(
        json.dumps({"premise": "a", "hypothesis": "b", "label": "maybe"}) + "\n"
    )
    for path in (empty, bad_label, tmp_path / "missing.jsonl"):
        result = CliRunner().invoke(
            app, ["eval", "--model", str(tiny_model_dir), "--data", str(path)]
        )
        assert result.exit_code == 2, (path, result.output)
        assert "Traceback" not in result.output and "Error:" in result.output
