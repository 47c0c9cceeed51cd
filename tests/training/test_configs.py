"""The committed training configs validate, and the v3 students share one teacher-logits run."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossingguard.toolkit.data.nli import GENERATED, SOURCES
from crossingguard.toolkit.training.config import load_config

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_validates_and_names_known_sources(path: Path) -> None:
    cfg = load_config(path)
    known = set(SOURCES) | set(GENERATED)
    for entry in cfg.data.train:
        assert entry.source in known, f"{path.name}: unknown source {entry.source}"
    for name in [*cfg.data.eval_sets, *cfg.data.dev]:
        assert name in known, f"{path.name}: unknown eval/dev set {name}"
    for (
        name
    ) in cfg.data.dev:  # dev sets are scored 3-way during training: no two-way set
        assert name in GENERATED or not SOURCES[name].two_way
    if cfg.loss == "distillation":
        assert cfg.distillation.teacher_logits and cfg.training.epochs == 1
        assert (cfg.distillation.alpha, cfg.distillation.beta) == (
            0.5,
            0.5,
        )  # the card's loss


def test_v3_students_share_data_and_seed_so_one_logits_run_serves_both() -> None:
    root = CONFIGS[0].parent
    mini, micro = (
        load_config(root / "mini-v3-distill.yaml"),
        load_config(root / "micro-v3.yaml"),
    )
    assert mini.data == micro.data and mini.training.seed == micro.training.seed
    assert mini.distillation.teacher_logits == micro.distillation.teacher_logits
    teacher = load_config(root / "mini-v3.yaml")
    assert teacher.training.epochs == 2 and teacher.data.train == mini.data.train
    assert micro.student.keep_layers == [0, 2, 5]
