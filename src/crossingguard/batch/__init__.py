"""Batch moderation of whole datasets: JSONL, CSV or Parquet in, Parquet verdicts out.

``run_local`` streams the input through one process (or a few worker processes) and commits
output in shards that survive ``kill -9``; ``run_ray`` (``crossingguard.batch.ray_engine``, needs
the ``ray`` extra) runs the same job on Ray Data. Both read the input with the same readers and
build rows with the same code, so their outputs match row for row.

Needs pyarrow (the ``batch`` extra); ``import crossingguard`` does not import this package.
"""

from crossingguard.batch.job import BatchJob, Layout
from crossingguard.batch.local import run_local

__all__ = ["BatchJob", "Layout", "run_local"]
