import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")  # train, distill and export need the train extra

from tiny_model import logit_runner
from typer.testing import CliRunner

from crossingguard.cli.app import app
from crossingguard.toolkit.training.teacher_logits import load_teacher_logits

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
        load_teacher_logits(out, pairs), logit_runner(tiny_model_dir)(pairs), atol=1e-5
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


def _mix_config(tmp_path, sources):
    config = tmp_path / "mix.yaml"
    config.write_text(
        "name: t\nbase_model: x\noutput_dir: "
        + str(tmp_path / "run")
        + "\ndata:\n  train:\n"
        + "".join(f"    - source: {s}\n" for s in sources)
        + f"  eval_sets: []\n  dev: [{sources[0]}]\n  dev_limit: 10\n"
    )
    return config


def test_export_mix_round_trips_to_the_same_pairs(tmp_path):
    from crossingguard.toolkit.training.config import load_config
    from crossingguard.toolkit.training.mix import build_mix

    many = [
        (
            f"premise {i}",
            f"hypothesis {i}",
            ("entailment", "neutral", "contradiction")[i % 3],
        )
        for i in range(30)
    ]
    a = _jsonl(tmp_path / "a.jsonl", many[:20])
    b = _jsonl(tmp_path / "b.jsonl", many[20:])
    config = _mix_config(tmp_path, [a, b])
    out = tmp_path / "exported"
    result = CliRunner().invoke(app, ["train", str(config), "--export-mix", str(out)])
    assert result.exit_code == 0, result.output
    original = build_mix(load_config(config).data, seed=42)
    overrides = (out / "overrides.txt").read_text().split("\n")
    exported = build_mix(load_config(config, [o for o in overrides if o]).data, seed=42)
    assert sorted(
        zip(
            exported.premises,
            exported.hypotheses,
            exported.labels.tolist(),
            strict=True,
        )
    ) == sorted(
        zip(
            original.premises,
            original.hypotheses,
            original.labels.tolist(),
            strict=True,
        )
    )
    report = json.loads((out / "data_report.json").read_text())
    assert report["pairs"] == 30 and {
        r["used"] for r in report["sources"].values()
    } == {20, 10}
    dev_rows = (out / "dev" / f"{a}.jsonl".replace("/", "_")).read_text().splitlines()
    assert len(dev_rows) == 10
    assert (
        "crossingguard train" in result.stdout and "data.eval_sets=[]" in result.stdout
    )


def test_distill_set_overrides_the_config_mix(tiny_model_dir, tmp_path):
    a = _jsonl(tmp_path / "a.jsonl", ROWS)
    config = _mix_config(tmp_path, [a])
    out = tmp_path / "logits"
    args = [
        "distill",
        "teacher-logits",
        "--teacher",
        str(tiny_model_dir),
        "--config",
        str(config),
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, [*args, "--set", "data.total_cap=2"])
    assert result.exit_code == 0, result.output
    meta = json.loads(next(out.rglob("meta.json")).read_text())
    assert meta["n_rows"] == 2 and meta["status"] == "complete"
    bad = CliRunner().invoke(app, [*args, "--set", "data.total_cap=0"])
    assert bad.exit_code == 2 and "total_cap" in bad.output
    no_config = CliRunner().invoke(
        app,
        [
            "distill",
            "teacher-logits",
            "--teacher",
            str(tiny_model_dir),
            "--data",
            str(a),
            "--out",
            str(out),
            "--set",
            "a=1",
        ],
    )
    assert no_config.exit_code == 2 and "--set needs --config" in no_config.output
