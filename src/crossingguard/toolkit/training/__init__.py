"""Training: distillation losses, teacher logits, export and model cards (needs the `train` extra)."""
