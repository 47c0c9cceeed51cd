"""`crossingguard train` on the tiny model: checkpoints, resume, layer dropping, distillation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossingguard.errors import ConfigError
from crossingguard.toolkit.training.config import TrainConfig, load_config

WORDS = [
    "the man is",
    "a dog runs",
    "the cat was not",
    "a woman and a man",
    "yes it is",
    "no one was",
]


def _write_pairs(path: Path, n: int, offset: int = 0) -> Path:
    rows = []
    for i in range(n):
        j = i + offset
        rows.append(
            {
                "premise": f"{WORDS[j % 6]} {j}",
                "hypothesis": f"{WORDS[(j * 5) % 6]} {j % 7}",
                "label": j % 3,
            }
        )
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _config(tmp_path: Path, base: Path, **extra) -> TrainConfig:
    train = _write_pairs(tmp_path / "train.jsonl", 48)
    dev = _write_pairs(tmp_path / "dev.jsonl", 12, offset=1000)
    tree = {
        "name": "tiny-student",
        "base_model": str(base),
        "output_dir": str(tmp_path / "run"),
        "data": {
            "train": [{"source": str(train)}],
            "eval_sets": [str(dev)],
            "dev": [str(dev)],
            "dev_limit": 12,
        },
        "training": {
            "batch_size": 8,
            "max_steps": 2,
            "save_steps": 2,
            "eval_steps": 2,
            "logging_steps": 1,
            "max_length": 32,
            "threads": 1,
        },
    }
    for key, value in extra.items():
        section, name = key.split("__")
        tree.setdefault(section, {})[name] = value
    return TrainConfig.model_validate(tree)


def test_train_saves_a_crossencoder_then_resumes_from_its_checkpoint(
    tmp_path, tiny_model_dir
):
    from sentence_transformers.cross_encoder import CrossEncoder

    from crossingguard.toolkit.training.trainer import train

    config = _config(tmp_path, tiny_model_dir)
    final = train(config)
    assert (final / "model.safetensors").exists() and (
        final / "learning_curve.png"
    ).exists()
    assert (tmp_path / "run" / "checkpoints" / "checkpoint-2").is_dir()
    assert CrossEncoder(str(final)).predict([("the man is", "a dog runs")]).shape == (
        1,
        3,
    )

    with pytest.raises(ConfigError, match="pass --resume"):
        train(config)
    resumed = config.model_copy(
        update={"training": config.training.model_copy(update={"max_steps": 4})}
    )
    train(resumed, resume=True)
    summary = json.loads((tmp_path / "run" / "training_summary.json").read_text())
    assert summary["global_step"] == 4
    assert [p["step"] for p in summary["history"]] == [
        2,
        4,
    ]  # the step-2 point survived the resume


def test_layer_dropping_keeps_the_named_layers(tmp_path, tiny_model_dir):
    import torch
    from transformers import AutoModelForSequenceClassification

    from crossingguard.toolkit.training.student import build_student

    out = build_student(str(tiny_model_dir), tmp_path / "student", keep_layers=[1])
    teacher = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir)
    student = AutoModelForSequenceClassification.from_pretrained(out)
    assert student.config.num_hidden_layers == 1
    assert student.config.id2label == {
        0: "entailment",
        1: "neutral",
        2: "contradiction",
    }
    kept = student.bert.encoder.layer[0].attention.self.query.weight
    assert torch.equal(kept, teacher.bert.encoder.layer[1].attention.self.query.weight)
    with pytest.raises(ConfigError, match="keep_layers"):
        build_student(str(tiny_model_dir), tmp_path / "bad", keep_layers=[0, 5])


def test_distillation_run_on_precomputed_teacher_logits(tmp_path, tiny_model_dir):
    from crossingguard.toolkit.training.mix import build_mix
    from crossingguard.toolkit.training.teacher_logits import compute_teacher_logits
    from crossingguard.toolkit.training.trainer import train

    config = _config(
        tmp_path,
        tiny_model_dir,
        student__keep_layers=[0],
        distillation__teacher_logits=str(tmp_path / "logits"),
    )
    config = config.model_copy(update={"loss": "distillation"})
    mix = build_mix(config.data, seed=config.training.seed)
    compute_teacher_logits(
        str(tiny_model_dir),
        list(zip(mix.premises, mix.hypotheses, strict=True)),
        tmp_path / "logits",
        show_progress=False,
    )
    final = train(config)
    assert json.loads((final / "config.json").read_text())["num_hidden_layers"] == 1


def test_config_errors_name_the_bad_path(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: x\nbase_model: b\noutput_dir: o\ndata: {train: [{source: s}]}\ntraining: {learning_rate: -1}\n"
    )
    with pytest.raises(
        ConfigError, match=r"training -> learning_rate: Input should be greater than 0"
    ):
        load_config(path)
    with pytest.raises(ConfigError, match="extra_key: Extra inputs are not permitted"):
        load_config(path, ["training.learning_rate=1e-5", "extra_key=1"])
    assert (
        load_config(path, ["training.learning_rate=1e-5"]).training.learning_rate
        == 1e-5
    )


def test_ship_installs_fp16_weights_a_weightless_fp32_graph_and_a_card(
    tmp_path, tiny_model_dir
):
    from safetensors import safe_open

    from crossingguard.inference.scorer import load_scorer
    from crossingguard.toolkit.training.ship import ship_model
    from crossingguard.toolkit.training.trainer import train

    config = _config(tmp_path, tiny_model_dir)
    train(config)
    dev = str(tmp_path / "dev.jsonl")
    dest_root = tmp_path / "models" / "not-yet"  # created by ship, before the long work
    shipped = ship_model(
        tmp_path / "run", name="tiny", dest_root=dest_root, eval_sets=(dev,)
    )
    assert sorted(p.name for p in (shipped / "onnx").iterdir()) == [
        "graph.onnx",
        "graph_int8.onnx",
        "graph_int8_weights.json",
        "graph_weights.json",
    ]
    with safe_open(str(shipped / "model.safetensors"), "np") as weights:
        assert all(
            str(weights.get_tensor(k).dtype) == "float16" for k in weights.keys()
        )
    assert "model-index" in (shipped / "README.md").read_text()
    evaluation = json.loads((shipped / "evaluation.json").read_text())
    assert set(evaluation) == {"onnx-fp32", "onnx-int8"}
    scorer = load_scorer(shipped)
    assert (scorer.backend, scorer.precision) == ("onnx", "fp32")
    assert load_scorer(shipped, precision="int8").precision == "int8"
    probs = scorer.predict([("the man is", "a dog runs")])
    assert probs.shape == (1, 3) and abs(probs.sum() - 1) < 1e-5
    # Same weights, sets and limit: the second ship reuses the evaluation instead of redoing it.
    import crossingguard.toolkit.training.ship as ship_module

    def _no_second_evaluation(*args, **kwargs):
        raise AssertionError("evaluated twice")

    original = ship_module.evaluate_variants
    ship_module.evaluate_variants = _no_second_evaluation
    try:
        again = ship_model(
            tmp_path / "run", name="tiny", dest_root=dest_root, eval_sets=(dev,)
        )
    finally:
        ship_module.evaluate_variants = original
    assert json.loads((again / "evaluation.json").read_text()) == evaluation


def test_student_from_a_permuted_head_is_reordered_to_project_order(
    tmp_path, tiny_model_factory
):
    from crossingguard.inference.scorer import load_scorer
    from crossingguard.toolkit.training.student import build_student

    teacher = tiny_model_factory("permuted-teacher", permute=[2, 0, 1], with_onnx=False)
    student = build_student(str(teacher), tmp_path / "student")
    pairs = [("the man is", "a dog runs"), ("yes it is", "no one was")]
    expected = load_scorer(teacher, backend="torch").predict(pairs)
    got = load_scorer(student, backend="torch").predict(pairs)
    assert abs(expected - got).max() < 1e-5
