"""Two-way rows in the training mix: read as label code 3, counted, exported, trained, droppable."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from crossingguard.errors import DataError
from crossingguard.toolkit.data.label_sets import NOT_ENTAILED, label_set_masks
from crossingguard.toolkit.data.nli import load_nli
from crossingguard.toolkit.training.config import TrainConfig
from crossingguard.toolkit.training.mix import build_mix, export_mix


def _rows(path: Path, labels: list[str], tag: str) -> Path:
    path.write_text(
        "\n".join(
            json.dumps(
                {
                    "premise": f"{tag} premise number {i}",
                    "hypothesis": f"{tag} claim {i}",
                    "label": lab,
                }
            )
            for i, lab in enumerate(labels)
        )
        + "\n"
    )
    return path


def _config(tmp_path: Path, base: str = "unused", **data) -> TrainConfig:
    three = _rows(
        tmp_path / "three.jsonl", ["entailment", "neutral", "contradiction"] * 4, "full"
    )
    two = _rows(
        tmp_path / "two.csv", [], "x"
    )  # replaced below by a CSV in the RTE format
    two.write_text(
        "premise,hypothesis,label\n"
        + "".join(
            f"two premise {i},two claim {i},{'entailment' if i % 2 else 'not_entailment'}\n"
            for i in range(8)
        )
    )
    dev = _rows(
        tmp_path / "dev.jsonl", ["entailment", "neutral", "contradiction"], "dev"
    )
    tree = {
        "name": "t",
        "base_model": base,
        "output_dir": str(tmp_path / "run"),
        "data": {"train": [{"source": str(three)}, {"source": str(two)}], "eval_sets": [str(dev)],
                 "dev": [str(dev)], "dev_limit": 10, **data},
        "training": {"batch_size": 8, "max_steps": 2, "save_steps": 2, "eval_steps": 2, "logging_steps": 1,
                     "max_length": 32, "threads": 1},
    }  # fmt: skip
    return TrainConfig.model_validate(tree)


def test_two_way_rows_need_partial_labels(tmp_path):
    cfg = _config(tmp_path)
    two = cfg.data.train[1].source
    # without partial labels, a not_entailment row has no 3-way label: skipped and reported
    plain = load_nli(two)
    assert len(plain) == 4 and len(plain.report.malformed) == 4
    assert "partial_labels=True" in plain.report.malformed[0]
    partial = load_nli(two, partial_labels=True)
    assert partial.label_counts() == {
        "entailment": 4,
        "neutral": 0,
        "contradiction": 0,
        "not-entailed": 4,
    }
    assert label_set_masks(
        partial.labels[partial.labels == NOT_ENTAILED][:1]
    ).tolist() == [[0.0, 1.0, 1.0]]


def test_named_two_way_source_is_refused_without_partial_labels():
    with pytest.raises(DataError, match="two-way source.*partial_labels=True"):
        load_nli("rte-train")


def test_mix_counts_partial_rows_and_can_drop_them(tmp_path):
    cfg = _config(tmp_path)
    mix = build_mix(cfg.data, seed=0)
    assert len(mix) == 20 and int((mix.labels == NOT_ENTAILED).sum()) == 4
    two = mix.report[cfg.data.train[1].source]
    assert two["used_labels"] == {
        "entailment": 4,
        "neutral": 0,
        "contradiction": 0,
        "not-entailed": 4,
    }
    dropped = build_mix(_config(tmp_path, partial_labels=False).data, seed=0)
    assert len(dropped) == 16 and not (dropped.labels == NOT_ENTAILED).any()
    assert dropped.report[cfg.data.train[1].source]["two_way_dropped"] == 4


def test_export_keeps_the_label_set_and_reads_back(tmp_path):
    cfg = _config(tmp_path)
    overrides = export_mix(cfg, tmp_path / "mix")
    with gzip.open(tmp_path / "mix" / "train.jsonl.gz", "rt") as fh:
        names = {json.loads(line)["label"] for line in fh}
    assert names == {"entailment", "neutral", "contradiction", "not-entailed"}
    report = json.loads((tmp_path / "mix" / "data_report.json").read_text())
    assert report["labels"]["not-entailed"] == 4
    again = build_mix(
        TrainConfig.model_validate(
            {
                **cfg.model_dump(),
                "data": {
                    **cfg.data.model_dump(),
                    "train": [{"source": str(tmp_path / "mix" / "train.jsonl.gz")}],
                    "eval_sets": [],
                },
            }
        ).data,
        seed=0,
    )
    assert sorted(np.bincount(again.labels, minlength=4).tolist()) == sorted(
        np.bincount(build_mix(cfg.data, seed=0).labels, minlength=4).tolist()
    )
    assert any(o.startswith("data.train=") for o in overrides)


def test_train_runs_on_a_mix_with_partial_rows(tmp_path, tiny_model_dir):
    from crossingguard.toolkit.training.trainer import train

    cfg = _config(tmp_path, base=str(tiny_model_dir))
    final = train(cfg)
    report = json.loads((tmp_path / "run" / "data_report.json").read_text())
    assert report["labels"]["not-entailed"] == 4
    summary = json.loads((tmp_path / "run" / "training_summary.json").read_text())
    assert summary["global_step"] == 2 and (final / "model.safetensors").exists()
