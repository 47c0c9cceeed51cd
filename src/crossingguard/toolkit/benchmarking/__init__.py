"""Speed side by side with what users would run instead (`crossingguard bench`).

One process loads every system on the same weights and scores the same workloads:

* :mod:`workloads`: NLI dev pairs, guard prompts x a pack's hypotheses, single-prompt latency,
  routing (1 prompt x 77 routes), built from ``../shared/data``;
* :mod:`systems`: our scorer (each ONNX file, torch), our ``Guard``, sentence-transformers
  ``CrossEncoder.predict``, the transformers zero-shot pipeline, the embedding similarity;
* :mod:`runner`: timing (interleaved repeats, time budgets), agreement with the fp32 reference;
* :mod:`memory`: peak RSS of each system in a fresh subprocess;
* :mod:`profile`: where the time goes on the guard workload, and the FLOP bound;
* :mod:`gpu`: the CUDA part (skipped with a note on CPU-only machines);
* :mod:`report`: Markdown, JSON and a PNG chart; :mod:`compare` ties them together.
"""

from crossingguard.toolkit.benchmarking.compare import BenchOptions, run_bench

__all__ = ["BenchOptions", "run_bench"]
