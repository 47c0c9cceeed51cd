"""`crossingguard train CONFIG`: the model card's recipe on sentence-transformers' CrossEncoderTrainer.

One epoch by default, cross-entropy (or the card's distillation loss when the config names teacher
logits), evaluation on dev subsets during training, checkpoints every N steps and `--resume`.
Cross-entropy is :class:`~crossingguard.toolkit.training.losses.PartialLabelLoss`: plain cross-entropy on
3-way rows, the marginal likelihood of {neutral, contradiction} on two-way ``not-entailed`` rows,
so Curriculum and RTE can join a mix; the distillation loss treats the gold term the same way.
The final model is a standard CrossEncoder directory in OUTPUT_DIR/final, with the learning curve
(dev accuracy against training pairs seen) beside it.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from crossingguard.errors import ConfigError
from crossingguard.inference.cpu import cpu_model_name
from crossingguard.toolkit.training.config import TrainConfig, dump_config
from crossingguard.toolkit.training.mix import build_mix, write_data_report


def _last_checkpoint(checkpoint_dir: Path) -> str | None:
    checkpoints = sorted(
        (
            p
            for p in checkpoint_dir.glob("checkpoint-*")
            if p.name.split("-")[-1].isdigit()
        ),
        key=lambda p: int(p.name.split("-")[-1]),
    )
    return str(checkpoints[-1]) if checkpoints else None


def hardware_description() -> str:
    import os

    cpu = cpu_model_name()
    gpu = "no GPU"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = f"GPU {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return f"{os.cpu_count()} CPU cores ({cpu}), {gpu}"


def train(
    config: TrainConfig, *, resume: bool = False, console: Console | None = None
) -> Path:
    """Run one training job; returns the final model directory."""
    import torch
    from datasets import Dataset
    from sentence_transformers.base.evaluation import SequentialEvaluator
    from sentence_transformers.cross_encoder import CrossEncoder
    from sentence_transformers.cross_encoder.evaluation import (
        CrossEncoderClassificationEvaluator,
    )
    from sentence_transformers.cross_encoder.trainer import CrossEncoderTrainer
    from sentence_transformers.cross_encoder.training_args import (
        CrossEncoderTrainingArguments,
    )

    from crossingguard.toolkit.data.nli import load_nli
    from crossingguard.toolkit.training.student import build_student

    console = console or Console(stderr=True)
    t = config.training
    if t.threads:
        torch.set_num_threads(t.threads)
    out = Path(config.output_dir)
    checkpoint_dir = out / "checkpoints"
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(dump_config(config), indent=2))

    mix = build_mix(config.data, seed=t.seed, console=console)
    write_data_report(out, mix)

    init_dir = out / "init"
    if not (init_dir / "config.json").exists():
        console.print(f"initialising the student from {config.base_model}")
        build_student(
            config.base_model, init_dir, keep_layers=config.student.keep_layers
        )
    model = CrossEncoder(str(init_dir), num_labels=3, max_length=t.max_length)

    columns = {
        "premise": mix.premises,
        "hypothesis": mix.hypotheses,
        "label": mix.labels.tolist(),
    }
    if config.loss == "distillation":
        from crossingguard.toolkit.training.losses import (
            PrecomputedDistillationLoss,
            build_distillation_dataset,
        )
        from crossingguard.toolkit.training.teacher_logits import load_teacher_logits

        if not config.distillation.teacher_logits:
            raise ConfigError(
                "loss: distillation needs distillation.teacher_logits (a teacher-logits folder)"
            )
        logits = load_teacher_logits(
            config.distillation.teacher_logits,
            list(zip(mix.premises, mix.hypotheses, strict=True)),
        )
        train_dataset = build_distillation_dataset(
            mix.premises, mix.hypotheses, mix.labels, logits
        )
        loss: Any = PrecomputedDistillationLoss(
            model, alpha=config.distillation.alpha, beta=config.distillation.beta
        )
    else:
        from crossingguard.toolkit.training.losses import PartialLabelLoss

        train_dataset = Dataset.from_dict(columns)
        loss = PartialLabelLoss(model)

    evaluators = []
    for name in config.data.dev:
        dev = load_nli(
            name, limit=config.data.dev_limit
        )  # a two-way dev set is refused here
        evaluators.append(
            CrossEncoderClassificationEvaluator(
                sentence_pairs=[list(p) for p in dev.pairs],
                labels=dev.labels.tolist(),
                name=re.sub(
                    r"[^\w.-]+", "_", dev.name
                ),  # becomes a file name and a log key
                batch_size=64,
            )
        )
    evaluator = SequentialEvaluator(evaluators) if evaluators else None

    args = CrossEncoderTrainingArguments(
        output_dir=str(checkpoint_dir),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=64,
        learning_rate=t.learning_rate,
        warmup_steps=t.warmup_ratio,  # a float below 1 is a ratio in transformers v5
        weight_decay=t.weight_decay,
        seed=t.seed,
        data_seed=t.seed,
        bf16=t.bf16,
        eval_strategy="steps" if evaluator else "no",
        eval_steps=t.eval_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        logging_steps=t.logging_steps,
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        disable_tqdm=False,
    )
    trainer = CrossEncoderTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        loss=loss,
        evaluator=evaluator,
    )
    resume_from = _last_checkpoint(checkpoint_dir) if resume else None
    if resume and resume_from is None:
        console.print("no checkpoint found: starting from the beginning")
    elif resume_from:
        console.print(f"resuming from {resume_from}")
    elif _last_checkpoint(checkpoint_dir):
        raise ConfigError(
            f"{checkpoint_dir} already holds checkpoints: pass --resume to continue, or choose another output_dir"
        )
    started = time.time()
    trainer.train(resume_from_checkpoint=resume_from)
    elapsed = time.time() - started
    if evaluator is not None:
        trainer.log({f"eval_{k}": v for k, v in evaluator(model).items()})

    final = out / "final"
    model.save_pretrained(str(final))
    history = _history(trainer.state.log_history, t.batch_size)
    summary = {
        "name": config.name,
        "pairs": len(mix),
        "train_seconds_this_run": round(elapsed, 1),
        "hardware": hardware_description(),
        "global_step": trainer.state.global_step,
        "history": history,
    }
    (out / "training_summary.json").write_text(json.dumps(summary, indent=2))
    plot_learning_curve(history, final / "learning_curve.png", title=config.name)
    console.print(f"saved {final}")
    return final


def _history(log_history: list[dict], batch_size: int) -> list[dict]:
    """Dev accuracy (F1 micro) per evaluation, with the training pairs seen so far."""
    points: dict[int, dict] = {}
    for entry in log_history:
        accuracies = {
            k[len("eval_") : -len("_f1_micro")]: v
            for k, v in entry.items()
            if k.endswith("_f1_micro")
        }
        if accuracies:
            step = entry.get("step", 0)
            points[step] = {
                "step": step,
                "pairs_seen": step * batch_size,
                "f1_micro": accuracies,
            }
    return [points[step] for step in sorted(points)]


def plot_learning_curve(history: list[dict], path: Path, *, title: str) -> Path | None:
    """Accuracy against training pairs seen, one line per dev set."""
    if not history:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({n for point in history for n in point["f1_micro"]})
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in names:
        xs = [p["pairs_seen"] for p in history if name in p["f1_micro"]]
        ys = [p["f1_micro"][name] * 100 for p in history if name in p["f1_micro"]]
        ax.plot(xs, ys, marker="o", label=name)
    ax.set_xlabel("training pairs seen")
    ax.set_ylabel("dev accuracy (F1 micro, %)")
    ax.set_title(f"{title}: learning curve")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
