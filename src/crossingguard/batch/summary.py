"""``summary.json``: what a batch job produced, counted from its output files.

The counts are read back from the Parquet shards and ``errors.jsonl`` rather than tallied while
scoring. A resumed job then needs no saved tallies, both engines share one summary, and the
summary can never disagree with the files beside it.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from crossingguard.errors import DataError
from crossingguard.io import write_json_atomic

if TYPE_CHECKING:
    from crossingguard.batch.job import BatchJob, Layout
    from crossingguard.guard import Guard

ACTIONS = ("allow", "log", "flag", "block")


def data_files(data_dir: Path) -> list[Path]:
    return sorted(
        p for p in data_dir.glob("*.parquet") if not p.name.startswith((".", "_"))
    )


def _value_counts(array: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in pc.value_counts(array).to_pylist():
        if item["values"] is not None:
            out[item["values"]] = int(item["counts"])
    return out


def count_output(
    data_dir: Path, condition_ids: list[str], routes: bool
) -> dict[str, Any]:
    """Rows, actions, fired conditions and routes in the output shards (read column by column)."""
    actions: Counter[str] = Counter({a: 0 for a in ACTIONS})
    fired: Counter[str] = Counter({c: 0 for c in condition_ids})
    route_counts: Counter[str] = Counter()
    rows = 0
    files = data_files(data_dir)
    columns = ["action", "fired"] + (["route"] if routes else [])
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(columns=columns):
            rows += batch.num_rows
            actions.update(_value_counts(batch.column("action")))
            fired.update(_value_counts(pc.list_flatten(batch.column("fired"))))
            if routes:
                route_counts.update(_value_counts(batch.column("route")))
    out: dict[str, Any] = {
        "rows": rows,
        "actions": dict(actions),
        "conditions": dict(fired),
    }
    if routes:
        out["routes"] = dict(sorted(route_counts.items()))
    return out


def count_errors(errors_path: Path) -> tuple[int, dict[str, int]]:
    """How many rows ``errors.jsonl`` holds, in total and per kind of problem."""
    kinds: Counter[str] = Counter()
    if errors_path.exists():
        with errors_path.open("rb") as handle:
            for raw in handle:
                if raw.strip():
                    kinds[json.loads(raw)["kind"]] += 1
    return sum(kinds.values()), dict(sorted(kinds.items()))


def build_summary(
    *,
    out_dir: Path,
    data_dir: Path,
    errors_path: Path,
    rows_in: int,
    condition_ids: list[str],
    routes: bool,
    run: dict[str, Any],
    model: str,
    policy_identity: str,
    policy_digest: str,
) -> dict[str, Any]:
    """The summary of a finished job; ``run`` holds this run's engine, timing and row counts."""
    output = count_output(data_dir, condition_ids, routes)
    rejected, kinds = count_errors(errors_path)
    if output["rows"] + rejected != rows_in:
        raise DataError(
            f"{out_dir}: the output holds {output['rows']} scored and {rejected} rejected rows "
            f"but the input has {rows_in}; the output folder was changed by hand or by another "
            "run: write to a new --output folder"
        )
    seconds = run.get("seconds") or 0.0
    summary: dict[str, Any] = {
        "rows_in": rows_in,
        "rows_out": output["rows"],
        "rows_rejected": rejected,
        "rejected_by_kind": kinds,
        "actions": output["actions"],
        "conditions": output["conditions"],
    }
    if routes:
        summary["routes"] = output["routes"]
    summary.update(
        {
            "model": model,
            "policy": policy_identity,
            "policy_digest": policy_digest,
            "engine": run.get("engine"),
            "workers": run.get("workers"),
            "rows_this_run": run.get("rows_this_run"),
            "rows_resumed": run.get("rows_resumed", 0),
            "seconds": round(seconds, 3),
            "rows_per_s": round(run["rows_this_run"] / seconds, 2)
            if seconds > 0
            else None,
            "startup_seconds": round(run.get("startup_seconds", 0.0), 3),
        }
    )
    return summary


def write_summary(
    layout: Layout, guard: Guard, job: BatchJob, *, rows_in: int, run: dict[str, Any]
) -> dict[str, Any]:
    """Build the finished job's summary (see :func:`build_summary`) and write ``summary.json``."""
    from crossingguard.batch.output import condition_ids, has_routes

    policy = guard.policy if guard.policy is not None else job.policy
    summary = build_summary(
        out_dir=layout.root,
        data_dir=layout.data,
        errors_path=layout.errors,
        rows_in=rows_in,
        condition_ids=condition_ids(guard),
        routes=has_routes(guard),
        run={"workers": job.workers, **run},
        model=guard.model_name,
        policy_identity=policy.identity,
        policy_digest=policy.digest,
    )
    write_json_atomic(layout.summary, summary)
    return summary
