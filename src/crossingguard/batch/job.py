"""A batch job's settings, its output folder layout, and the identity a resume must match."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crossingguard.errors import InputError

if TYPE_CHECKING:
    from crossingguard.guard import Guard
    from crossingguard.inference.backends import BackendName
    from crossingguard.inference.onnx_files import Precision
    from crossingguard.policy import Policy

DEFAULT_BATCH_ROWS = 256
DEFAULT_SHARD_ROWS = 10_000


@dataclass(frozen=True)
class BatchJob:
    """Everything a batch run needs; both engines take one.

    ``batch_size`` is rows per guard call (the scorer still runs ``guard.batch_size`` pairs per
    model call); ``shard_rows`` is how many input rows one committed shard covers, i.e. the most
    work a kill can lose. ``workers`` is scoring processes (local) or actors (Ray).
    """

    policy: Policy
    input: Path
    output: Path
    text_column: str = "text"
    id_column: str | None = None
    model: str | None = None
    backend: BackendName = "auto"
    precision: Precision = "fp32"
    threads: int | None = None
    batch_size: int = DEFAULT_BATCH_ROWS
    shard_rows: int = DEFAULT_SHARD_ROWS
    workers: int = 1
    fail_on_error: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("batch_size", "shard_rows", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name}: must be an integer >= 1, got {value!r}")
        if not self.text_column:
            raise InputError("--text-column: must name a column, got an empty string")
        source = Path(os.path.abspath(Path(self.input).expanduser()))
        target = Path(os.path.abspath(Path(self.output).expanduser()))
        if target == source or source in target.parents:
            # its shards would be read back as input by the next (resumed) run
            raise InputError(
                f"--output {self.output}: is inside --input {self.input}; write the output "
                "somewhere else"
            )

    def load_guard(self, *, threads: int | None = None) -> Guard:
        """The guard for this job (loads the model: call once per process or actor)."""
        from crossingguard.guard import Guard

        return Guard.from_policy(
            self.policy,
            model=self.model,
            backend=self.backend,
            precision=self.precision,
            threads=threads if threads is not None else self.threads,
        )


class Layout:
    """Where a job's files go inside ``--output``.

    Shards live in ``data/`` so that ``pandas.read_parquet("OUT/data")`` (or any reader of a
    Parquet folder) sees only Parquet files; the summary, errors and manifest sit beside it.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()
        self.data = self.root / "data"
        self.errors = self.root / "errors.jsonl"
        self.summary = self.root / "summary.json"
        self.manifest = self.root / "manifest.jsonl"
        self.lock_file = self.root / ".lock"

    def make(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"--output {self.root}: exists and is not a folder")
        self.data.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the folder; the OS drops it if the process dies."""
        try:
            import fcntl
        except ImportError:  # no flock (Windows): run unlocked
            yield
            return
        with self.lock_file.open("a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InputError(
                    f"--output {self.root}: another batch run is writing to this folder; wait "
                    "for it to finish or use another --output"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def model_fingerprint(guard: Guard) -> str:
    """A short hash of the model's files (names, sizes, config), backend and precision.

    The model *name* alone is not enough: two local directories can share a name, and a built-in
    model can be replaced in place. Hashing every weight byte would take seconds per run, so the
    fingerprint hashes ``config.json`` and the name and size of every file instead.
    """
    scorer = guard.scorer
    model_dir = getattr(scorer, "model_dir", None)
    digest = hashlib.sha256(str(getattr(scorer, "backend", "")).encode())
    precision = getattr(scorer, "precision", "fp32")
    if (
        precision != "fp32"
    ):  # fp32 adds nothing, so fingerprints of earlier fp32 runs still match
        digest.update(f"precision={precision}".encode())
    if model_dir is None:
        digest.update(guard.model_name.encode())
        return digest.hexdigest()[:12]
    model_dir = Path(model_dir)
    config = model_dir / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(model_dir).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        digest.update(f"{rel}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()[:12]


def job_identity(
    job: BatchJob, guard: Guard, files: list[dict[str, Any]]
) -> dict[str, Any]:
    from crossingguard.batch.manifest import job_record

    policy = guard.policy if guard.policy is not None else job.policy
    return job_record(
        input_path=os.path.abspath(job.input),
        files=files,
        text_column=job.text_column,
        id_column=job.id_column,
        policy_identity=policy.identity,
        policy_digest=policy.digest,
        model=guard.model_name,
        model_fingerprint=model_fingerprint(guard),
    )
