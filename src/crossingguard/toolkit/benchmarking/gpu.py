"""The GPU part: samples/s at batch 64 and peak GPU memory, like the model card's table.

Runs only where torch sees a CUDA device: our torch backend (``load_scorer(dir, backend="torch",
device="cuda")``) and ``CrossEncoder.predict`` at batch 64 on the NLI pairs, fp32, each after a
warm-up, with ``torch.cuda.max_memory_allocated`` reset before each. On a CPU-only machine it
returns a note saying why it was skipped. ONNX Runtime on CUDA is not measured: our ONNX backend
runs the CPU execution provider only, and the note says whether onnxruntime here could do CUDA.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from crossingguard.toolkit.benchmarking.workloads import Pair

BATCH = 64


def _cuda_available() -> tuple[bool, str]:
    try:
        import torch
    except ImportError:
        return False, "torch is not installed"
    if not torch.cuda.is_available():
        return False, "no CUDA device (torch.cuda.is_available() is False)"
    return True, torch.cuda.get_device_name(0)


def _ort_cuda_note() -> str:
    try:
        import onnxruntime as ort  # type: ignore[import-untyped]
    except ImportError:
        return "onnxruntime is not installed"
    if "CUDAExecutionProvider" in ort.get_available_providers():
        return (
            "onnxruntime has the CUDA provider, but our ONNX backend runs on CPU only; "
            "not measured"
        )
    return "onnxruntime here has no CUDA provider (onnxruntime-gpu is not installed); not measured"


def gpu_section(
    model_dir: Path, pairs: list[Pair], *, repeats: int = 2
) -> dict[str, Any]:
    ok, what = _cuda_available()
    if not ok:
        return {
            "skipped": True,
            "note": f"GPU part skipped: {what}.",
            "onnx_cuda": _ort_cuda_note(),
        }
    import torch

    from crossingguard.inference.scorer import load_scorer
    from crossingguard.toolkit.benchmarking.systems import load_cross_encoder_fp32

    rows: dict[str, Any] = {}
    runners = {
        "crossingguard torch fp32 (cuda)": lambda: load_scorer(
            model_dir, backend="torch", device="cuda"
        ),
        "CrossEncoder.predict fp32 (cuda, batch 64)": lambda: load_cross_encoder_fp32(
            str(model_dir), device="cuda"
        ),
    }
    for label, load in runners.items():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        model = load()
        if hasattr(model, "encoder"):  # our scorer

            def score(m: Any = model) -> Any:
                return m.predict(pairs, batch_size=BATCH)

        else:

            def score(m: Any = model) -> Any:
                return m.predict(
                    [list(p) for p in pairs], batch_size=BATCH, show_progress_bar=False
                )

        score()
        torch.cuda.synchronize()
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            score()
            torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t0)
        rows[label] = {
            "samples_per_s": len(pairs) / best,
            "peak_gpu_memory_mb": torch.cuda.max_memory_allocated() / 2**20,
        }
        del model
    return {
        "skipped": False,
        "device": what,
        "pairs": len(pairs),
        "batch_size": BATCH,
        "rows": rows,
        "onnx_cuda": _ort_cuda_note(),
    }
