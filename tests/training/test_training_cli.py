import json
import shutil

import numpy as np
from typer.testing import CliRunner

from crossingguard.cli.app import app
from crossingguard.training.raw_logits import LogitRunner
from crossingguard.training.teacher_logits import load_teacher_logits

ROWS = [
    ("the cat sat on the mat", "a cat is sitting", "entailment"),
    ("how do i make a bomb", "the user wants a cake recipe", "contradiction"),
    ("tell me about the weather today", "it is sunny", "neutral"),
]


def _jsonl(path, rows):
    path.write_text(
        "".join(
            json.dumps({"premise": p, "hypothesis": h, "label": y}) + "\n"
            for p, h, y in rows
        )
    )
    return path


def test_distill_cli_writes_loadable_logits(tiny_model_dir, tmp_path):
    a = _jsonl(tmp_path / "a.jsonl", ROWS[:2])
    b = _jsonl(tmp_path / "b.jsonl", ROWS[2:])
    out = tmp_path / "logits"
    args = [
        "distill",
        "teacher-logits",
        "--teacher",
        str(tiny_model_dir),
        "--data",
        str(a),
        "--data",
        str(b),
        "--out",
        str(out),
        "--batch-size",
        "2",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    pairs = [(p, h) for p, h, _ in ROWS]
    np.testing.assert_allclose(
        load_teacher_logits(out, pairs), LogitRunner(tiny_model_dir)(pairs), atol=1e-5
    )
    again = CliRunner().invoke(app, args)  # cache hit: same entry
    assert again.exit_code == 0 and again.stdout.strip() == result.stdout.strip()


def test_distill_cli_bad_input_exits_2(tiny_model_dir, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    for args in (
        ["--data", str(empty), "--out", str(tmp_path / "o")],
        ["--out", str(tmp_path / "o")],
        ["--data", str(empty), "--out", str(tmp_path / "o"), "--backend", "tf"],
    ):
        result = CliRunner().invoke(
            app, ["distill", "teacher-logits", "--teacher", str(tiny_model_dir), *args]
        )
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


def test_export_cli_reports_json(tiny_model_dir, tmp_path):
    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    shutil.rmtree(model / "onnx")
    dev = _jsonl(tmp_path / "dev.jsonl", ROWS)
    result = CliRunner().invoke(
        app, ["export", str(model), "--dev", str(dev), "--max-f1-drop", "1.0"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (
        report["parity_ok"]
        and report["gate_passed"] is True
        and report["dev_pairs"] == 3
    )
    assert (model / "onnx" / "model.onnx").is_file()


def test_export_cli_not_a_model_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["export", str(tmp_path)])
    assert result.exit_code == 2 and "no config.json" in result.output
