import pytest

from crossingguard.errors import InputError
from crossingguard.toolkit.training.model_card import (
    read_front_matter,
    write_model_card,
)

DATASETS = [
    {"name": "lingnli-train", "licence": "unstated", "pairs": 44983},
    {"name": "sick-train", "licence": "CC BY-NC-SA 3.0", "pairs": 4439},
]
EVAL = {
    "mnli-dev-matched": {
        "f1_micro": 0.81,
        "f1_macro": 0.80,
        "f1_weighted": 0.805,
        "throughput_samples_per_s": 812.3,
    },
    "guard-nli-dev": {"f1_micro": 0.9, "f1_macro": 0.89, "f1_weighted": 0.9},
}


def test_card_front_matter_parses_and_matches_reference_structure(tmp_path):
    path = write_model_card(
        tmp_path,
        name="crossingguard-nli-micro",
        base_model="runs/mini/final",
        datasets=DATASETS,
        loss="PrecomputedDistillationLoss",
        alpha=0.5,
        beta=0.5,
        training_time_s=5400,
        hardware="2 CPU cores",
        eval_results=EVAL,
        extra_sections="## Limitations\n\nTiny.",
        learning_curve_png="learning_curve.png",
        license="apache-2.0",
    )
    meta = read_front_matter(path)
    assert {
        "sentence-transformers",
        "cross-encoder",
        "loss:PrecomputedDistillationLoss",
        "dataset_size:49422",
    } <= set(meta["tags"])
    assert meta["pipeline_tag"] == "text-classification"
    assert meta["library_name"] == "sentence-transformers"
    assert meta["metrics"] == ["f1_macro", "f1_micro", "f1_weighted"]
    (index,) = meta["model-index"]
    assert index["name"] == "CrossEncoder based on runs/mini/final"
    first = index["results"][0]
    assert first["task"]["type"] == "cross-encoder-classification"
    assert first["dataset"]["name"] == "mnli-dev-matched"
    assert first["metrics"][0] == {
        "type": "f1_macro",
        "value": 0.80,
        "name": "F1 Macro",
    }
    text = path.read_text()
    assert "| mnli-dev-matched | 0.8100 | 0.8000 | 0.8050 | 812.3 |" in text
    assert 'CrossEncoder("crossingguard-nli-micro")' in text
    assert "non-commercial use only (sick-train)" in text
    assert (
        "\\alpha = 0.5" in text
        and "## Limitations" in text
        and "learning_curve.png" in text
    )


def test_card_rejects_incomplete_dataset_entries(tmp_path):
    with pytest.raises(InputError, match="datasets -> 0: missing licence"):
        write_model_card(
            tmp_path,
            name="x",
            base_model="b",
            datasets=[{"name": "a", "pairs": 1}],
            loss="CrossEntropyLoss",
            alpha=None,
            beta=None,
            training_time_s=None,
            hardware="cpu",
            eval_results={},
        )
