"""The output table: one row per scored input row, built from the guard's verdicts.

Both engines build their Parquet rows here, so their outputs can only differ if the scores do.
Columns (in this order):

* ``row`` (int64): the row number in the input (0-based, files in sorted order);
* ``id`` (string): the ``--id-column`` value, or the row number when there is none;
* ``allowed`` (bool), ``action`` (string: allow, log, flag or block): the verdict;
* ``fired`` (list of string): ids of the conditions that fired, in policy order;
* ``scores`` (struct of float32, one field per condition id): every condition's score, i.e. the
  probability of its ``fire_on`` label that was compared with its threshold;
* ``route`` (string), ``route_score`` (float32): only when the policy has routes.

The model and policy identity are the same for every row, so they sit in the Parquet file's
metadata (``crossingguard.model``, ``crossingguard.policy``) and in ``summary.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from crossingguard.guard import Guard, Verdict


def condition_ids(guard: Guard) -> list[str]:
    """The policy's condition ids (the condition text for ad-hoc conditions without a name)."""
    return [c.name or c.text for c in guard.conditions]


def has_routes(guard: Guard) -> bool:
    return bool(guard.policy is not None and guard.policy.routes)


def output_schema(guard: Guard) -> pa.Schema:
    ids = condition_ids(guard)
    fields = [
        pa.field("row", pa.int64(), nullable=False),
        pa.field("id", pa.string(), nullable=False),
        pa.field("allowed", pa.bool_(), nullable=False),
        pa.field("action", pa.string(), nullable=False),
        pa.field("fired", pa.list_(pa.string()), nullable=False),
    ]
    if ids:  # Parquet cannot store a struct without fields (a routes-only policy)
        fields.append(
            pa.field("scores", pa.struct([pa.field(c, pa.float32()) for c in ids]))
        )
    if has_routes(guard):
        fields += [
            pa.field("route", pa.string()),
            pa.field("route_score", pa.float32()),
        ]
    policy = guard.policy.identity if guard.policy is not None else ""
    return pa.schema(
        fields,
        metadata={
            "crossingguard.model": guard.model_name,
            "crossingguard.policy": policy,
        },
    )


def verdict_table(
    guard: Guard, rows: Sequence[int], ids: Sequence[str], verdicts: Sequence[Verdict]
) -> pa.Table:
    """The output rows for ``verdicts`` (one per row number / id, same order)."""
    schema = output_schema(guard)
    cols: dict[str, list[object]] = {
        "row": list(rows),
        "id": list(ids),
        "allowed": [v.allowed for v in verdicts],
        "action": [v.action for v in verdicts],
        "fired": [
            [r.name or r.condition for r in v.fired_conditions] for v in verdicts
        ],
    }
    names = condition_ids(guard)
    if names:
        cols["scores"] = [
            dict(zip(names, (r.score for r in v.results), strict=True))
            for v in verdicts
        ]
    if has_routes(guard):
        cols["route"] = [v.route.route if v.route else None for v in verdicts]
        cols["route_score"] = [v.route.score if v.route else None for v in verdicts]
    return pa.Table.from_pydict(cols, schema=schema)


def score_rows(
    guard: Guard, rows: Sequence[int], ids: Sequence[str], texts: Sequence[str]
) -> pa.Table:
    """Check ``texts`` with the guard and return their output rows."""
    if not texts:
        return output_schema(guard).empty_table()
    return verdict_table(guard, rows, ids, guard.check_batch(list(texts)))
