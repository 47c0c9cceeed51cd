"""Precompute a teacher's logits once, resumably, cached by (teacher, data) hash.

Layout under ``out_dir`` (one subfolder per cache key, so several teachers or data mixes can share
one cache folder)::

    out_dir/<key>/meta.json          teacher identity, its id2label, data hash, status
    out_dir/<key>/shard_00000.npy    float32 (rows, 3), project order E/N/C

Stored logits are always in project order (0 entailment, 1 neutral, 2 contradiction): a teacher
whose head uses another order is permuted on the way in, and the permutation is recorded in
``meta.json``. Shards are written atomically; an interrupted run resumes after the last complete
shard. :func:`load_teacher_logits` checks row count, shape and the hash of the pairs, so logits
can never be attached to the wrong data.

Throughput: within each shard the pairs are scored in order of length (premise + hypothesis
characters) and put back in data order afterwards, so each batch pads to nearly its own length
and large batches (``batch_size=None``: 512 on a GPU, 64 on a CPU) cost little padding. With the
torch backend the teacher runs on CUDA when one is available (``device="auto"``): the previous
path scored on the CPU even on a GPU machine, which is what held a run to about 130 pairs/s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crossingguard.errors import InputError, ModelError
from crossingguard.io import atomic_path, write_json_atomic
from crossingguard.labels import LABELS, head_columns

META_NAME = "meta.json"
FORMAT_VERSION = 1
DEFAULT_SHARD_ROWS = 8192
GPU_BATCH = 512
CPU_BATCH = 64
Backend = Literal["torch", "onnx"]
MAX_LENGTH = 512  # teacher inputs are cut here, as the card's recipe scored them
Scorer = Callable[[Sequence[tuple[str, str]], int, Callable[[int], None]], np.ndarray]
_WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.onnx", "onnx/*.onnx")


def pairs_sha256(pairs: Sequence[tuple[str, str]]) -> str:
    """Order-sensitive hash of (premise, hypothesis) pairs; unit/record separators keep it unambiguous."""
    h = hashlib.sha256()
    for premise, hypothesis in pairs:
        h.update(premise.encode("utf-8"))
        h.update(b"\x1f")
        h.update(hypothesis.encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def resolve_teacher(teacher: str | Path) -> Path:
    """A local model folder, or a Hugging Face hub id resolved to its downloaded snapshot."""
    path = Path(teacher).expanduser()
    if path.is_dir():
        return path.resolve()
    if path.exists() or str(teacher).startswith((".", "/", "~")):
        raise ModelError(f"teacher {teacher}: not a model directory")
    try:
        from huggingface_hub import snapshot_download

        return Path(
            snapshot_download(
                str(teacher),
                allow_patterns=[
                    "*.json",
                    "*.txt",
                    "*.model",
                    "*.safetensors",
                    "onnx/model.onnx",
                ],
            )
        )
    except (
        Exception
    ) as exc:  # hub errors come in many types; all mean "cannot get this teacher"
        raise ModelError(
            f"teacher {teacher!r} is neither a local folder nor a reachable Hugging Face model "
            f"({type(exc).__name__}: {exc}); pass a local path when offline"
        ) from exc


def teacher_identity(model_dir: Path, *, backend: str) -> dict[str, Any]:
    """What makes logits reproducible: config hash plus size and mtime of every weight file.

    Size+mtime (not a content hash) keeps this instant on multi-GB checkpoints; any rewrite of a
    weight file changes its mtime and so invalidates the cache.
    """
    config = model_dir / "config.json"
    if not config.is_file():
        raise ModelError(
            f"teacher {model_dir}: no config.json; expected a Hugging Face model folder"
        )
    weights = sorted(
        {p for pat in _WEIGHT_PATTERNS for p in model_dir.glob(pat) if p.is_file()}
    )
    if not weights:
        raise ModelError(
            f"teacher {model_dir}: no weight files (*.safetensors, *.bin, onnx/*.onnx)"
        )
    return {
        "path": str(model_dir),
        "backend": backend,
        "config_sha256": _file_sha256(config),
        "weights": [
            {
                "file": str(p.relative_to(model_dir)),
                "size": p.stat().st_size,
                "mtime_ns": p.stat().st_mtime_ns,
            }
            for p in weights
        ],
    }


def cache_key(identity: dict[str, Any], data_sha256: str) -> str:
    blob = json.dumps(
        {"v": FORMAT_VERSION, "teacher": identity, "data": data_sha256}, sort_keys=True
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def _shards(entry: Path) -> list[Path]:
    return sorted(entry.glob("shard_*.npy"))


def length_order(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """Indices that sort ``pairs`` by premise + hypothesis length (stable, so ties keep data order)."""
    lengths = np.fromiter(
        (len(p) + len(h) for p, h in pairs), dtype=np.int64, count=len(pairs)
    )
    return np.argsort(lengths, kind="stable")


def score_length_sorted(
    score: Scorer,
    pairs: Sequence[tuple[str, str]],
    batch_size: int,
    on_batch: Callable[[int], None],
) -> np.ndarray:
    """Score ``pairs`` shortest first and return the rows in the original order."""
    order = length_order(pairs)
    logits = np.asarray(score([pairs[i] for i in order], batch_size, on_batch))
    out = np.empty_like(logits)
    out[order] = logits
    return out


def resolve_device(device: str, backend: str) -> str:
    """``auto``: CUDA for the torch backend when torch sees a GPU, else the CPU."""
    if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
        raise InputError(f"device must be auto, cpu or cuda[:N], got {device!r}")
    if device != "auto":
        if device != "cpu" and backend != "torch":
            raise InputError(
                f"device {device!r} needs the torch backend (onnx scores on the CPU)"
            )
        return device
    if backend != "torch":
        return "cpu"
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def compute_teacher_logits(
    teacher: str | Path,
    pairs: Sequence[tuple[str, str]],
    out_dir: str | Path,
    *,
    batch_size: int | None = None,
    device: str = "auto",
    backend: Backend = "torch",
    shard_rows: int = DEFAULT_SHARD_ROWS,
    data_names: Sequence[str] = (),
    show_progress: bool = True,
    threads: int | None = None,
) -> Path:
    """Compute (or reuse, or resume) the teacher's logits for ``pairs``; return the entry folder.

    ``batch_size`` None: 512 on a GPU, 64 on a CPU (pairs are length-sorted within each shard, so
    large batches waste little padding). ``device``: auto, cpu or cuda[:N] (torch backend only).
    """
    from crossingguard.inference.scorer import load_scorer

    if not pairs:
        raise InputError("no pairs to score: the training data is empty")
    if shard_rows < 1:
        raise InputError(f"shard_rows must be >= 1, got {shard_rows}")
    if batch_size is not None and batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    device = resolve_device(device, backend)
    if batch_size is None:
        batch_size = CPU_BATCH if device == "cpu" else GPU_BATCH
    model_dir = resolve_teacher(teacher)
    identity = teacher_identity(model_dir, backend=backend)
    data_hash = pairs_sha256(pairs)
    key = cache_key(identity, data_hash)
    entry = Path(out_dir) / key
    entry.mkdir(parents=True, exist_ok=True)
    meta_path = entry / META_NAME
    if (
        meta_path.is_file()
        and json.loads(meta_path.read_text(encoding="utf-8")).get("status")
        == "complete"
    ):
        return entry

    runner = load_scorer(
        model_dir,
        backend=backend,
        threads=threads,
        device=device,
        max_length=MAX_LENGTH,
    )

    def score(
        pairs: Sequence[tuple[str, str]], bs: int, cb: Callable[[int], None]
    ) -> np.ndarray:
        # raw logits of truncated pairs (never windowed): the targets the card's recipe uses
        return runner.raw_logits(pairs, batch_size=bs, on_batch=cb)

    order = head_columns(runner.id2label, where=f"teacher {teacher} config.json")
    meta: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "status": "in_progress",
        "teacher": str(teacher),
        "teacher_identity": identity,
        "teacher_id2label": {str(k): v for k, v in sorted(runner.id2label.items())},
        "stored_label_order": list(LABELS),
        "teacher_columns_for_project_labels": order,
        "logits": "raw pre-softmax teacher logits, reordered into project order",
        "data_sources": list(data_names),
        "pairs_sha256": data_hash,
        "n_rows": len(pairs),
        "shard_rows": shard_rows,
        "device": device,
        "batch_size": batch_size,
        "scored_in": "length order within each shard, stored in data order",
    }
    if (
        meta_path.is_file()
    ):  # resuming: keep the shard size the existing shards were cut with
        old = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["shard_rows"] = shard_rows = int(old.get("shard_rows", shard_rows))
    write_json_atomic(meta_path, meta)

    n_shards = (len(pairs) + shard_rows - 1) // shard_rows
    done = {int(p.stem.split("_")[1]) for p in _shards(entry)}
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]teacher logits"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),  # stdout stays parseable
        disable=not show_progress,
        transient=False,
    ) as progress:
        rows_done = sum(
            min(shard_rows, len(pairs) - i * shard_rows) for i in done if i < n_shards
        )
        task = progress.add_task("score", total=len(pairs), completed=rows_done)
        for i in range(n_shards):
            if i in done:
                continue
            chunk = pairs[i * shard_rows : (i + 1) * shard_rows]
            logits = score_length_sorted(
                score, chunk, batch_size, lambda k: progress.advance(task, k)
            )
            if logits.shape != (len(chunk), 3) or not np.isfinite(logits).all():
                raise ModelError(
                    f"teacher returned logits of shape {logits.shape} (finite: "
                    f"{bool(np.isfinite(logits).all())}) for {len(chunk)} pairs; expected a 3-label "
                    "NLI model"
                )
            shard = entry / f"shard_{i:05d}.npy"
            with (
                atomic_path(shard) as tmp,
                tmp.open("wb") as handle,
            ):  # ".shard_*" is no shard
                np.save(handle, logits[:, order].astype(np.float32))
    meta["status"] = "complete"
    write_json_atomic(meta_path, meta)
    return entry


def _find_entry(path: Path, data_hash: str, n: int) -> Path:
    if (path / META_NAME).is_file():
        return path
    candidates = [p.parent for p in sorted(path.glob(f"*/{META_NAME}"))]
    matching = [
        p
        for p in candidates
        if json.loads((p / META_NAME).read_text(encoding="utf-8")).get("pairs_sha256")
        == data_hash
    ]
    if not matching:
        raise InputError(
            f"no teacher logits in {path} match this {n}-pair training data (checked "
            f"{len(candidates)} cache entr{'y' if len(candidates) == 1 else 'ies'}); run "
            "`crossingguard distill teacher-logits` with the same data files first"
        )
    if len(matching) > 1:
        raise InputError(
            f"{len(matching)} teacher-logit entries in {path} match this data "
            f"({', '.join(p.name for p in matching)}); pass the entry folder of the teacher you want"
        )
    return matching[0]


def load_teacher_logits(
    path: str | Path, expected_pairs: Sequence[tuple[str, str]]
) -> np.ndarray:
    """Load ``(n, 3)`` float32 logits in project order E/N/C for exactly ``expected_pairs``.

    ``path`` is a cache entry folder or the cache folder holding entries (the one whose data hash
    matches is used). Raises :class:`InputError` on any mismatch.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"teacher logits folder {path} does not exist")
    data_hash = pairs_sha256(expected_pairs)
    entry = _find_entry(path, data_hash, len(expected_pairs))
    meta = json.loads((entry / META_NAME).read_text(encoding="utf-8"))
    if meta.get("status") != "complete":
        raise InputError(
            f"teacher logits in {entry} are incomplete ({len(_shards(entry))} shard(s) written); "
            "rerun `crossingguard distill teacher-logits` with the same arguments to resume"
        )
    if meta.get("stored_label_order") != list(LABELS):
        raise InputError(
            f"{entry}: logits stored in order {meta.get('stored_label_order')}, "
            f"expected {list(LABELS)}; recompute them"
        )
    n = len(expected_pairs)
    if meta.get("n_rows") != n:
        raise InputError(
            f"{entry} holds logits for {meta.get('n_rows')} pairs but the data has {n}; "
            "the training data changed since the logits were computed"
        )
    if meta.get("pairs_sha256") != data_hash:
        raise InputError(
            f"{entry} was computed for different pairs (hash {meta.get('pairs_sha256')[:12]}, "
            f"data {data_hash[:12]}); recompute the teacher logits for this data"
        )
    parts = [np.load(p) for p in _shards(entry)]
    logits = np.concatenate(parts, axis=0) if parts else np.zeros((0, 3), np.float32)
    if logits.shape != (n, 3):
        raise InputError(
            f"{entry}: stored logits have shape {logits.shape}, expected ({n}, 3); "
            "the cache is damaged, delete the folder and recompute"
        )
    if not np.isfinite(logits).all():
        raise InputError(
            f"{entry}: stored logits hold NaN or inf values; delete and recompute"
        )
    return logits.astype(np.float32, copy=False)
