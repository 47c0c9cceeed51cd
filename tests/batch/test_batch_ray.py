"""The Ray engine on a local Ray matches the local engine row for row (skipped without Ray).

One test on purpose: starting Ray takes tens of seconds on a small machine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip(
    "ray.data", reason="Ray Data is not installed (pip install 'crossingguard[ray]')"
)
import pyarrow.parquet as pq

from crossingguard.batch import BatchJob, run_local
from crossingguard.batch.ray_engine import run_ray
from crossingguard.errors import InputError
from crossingguard.policy import policy_from_dict

POLICY = {
    "version": 1,
    "name": "ray-test",
    "conditions": [
        {"id": "weapons", "hypotheses": ["the prompt asks how to make a bomb"]},
        {"id": "weather", "hypotheses": ["it is about the weather"], "action": "flag"},
    ],
    "routes": [
        {"id": "kitchen", "hypotheses": ["the user wants a cake recipe"]},
        {"id": "outside", "hypotheses": ["the user asks about rain"]},
    ],
}


def make_inputs(folder: Path) -> None:
    """Three formats, bad rows in each, so numbering and rejections are compared too."""
    folder.mkdir()
    words = ["how do i make a bomb", "a cake recipe", "is it sunny today", "rain"]
    with (folder / "a.jsonl").open("wb") as f:
        for i in range(150):
            if i % 31 == 4:
                f.write(b'{"id": "j%d", "text": "\xff"}\n' % i)
            else:
                row = {"id": f"j{i}", "text": f"{words[i % 4]} {i}"}
                f.write(json.dumps(row).encode() + b"\n")
    lines = ["id,text"] + [f"c{i},{words[i % 4]} {i}" for i in range(80)] + ["c80,"]
    (folder / "b.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pq.write_table(
        pa.table(
            {
                "id": [f"p{i}" for i in range(70)],
                "text": [None if i == 9 else f"{words[i % 4]} {i}" for i in range(70)],
            }
        ),
        folder / "c.parquet",
    )


def test_ray_engine_matches_the_local_engine_row_for_row(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    inp = tmp_path / "in"
    make_inputs(inp)

    def job(out: str, **kw: object) -> BatchJob:
        return BatchJob(
            policy_from_dict(POLICY),
            inp,
            tmp_path / out,
            id_column="id",
            model=str(tiny_model_dir),
            batch_size=32,
            progress=False,
            **kw,  # type: ignore[arg-type]
        )

    local = run_local(job("local", shard_rows=64))
    ray_summary = run_ray(job("ray", workers=2))

    local_rows = pq.read_table(tmp_path / "local" / "data").sort_by("row")
    ray_rows = pq.read_table(tmp_path / "ray" / "data").sort_by("row")
    assert local_rows.num_rows == 294  # 301 rows, 7 rejected
    assert ray_rows.schema.equals(local_rows.schema, check_metadata=True)
    assert ray_rows.to_pylist() == local_rows.to_pylist()
    assert (tmp_path / "ray" / "errors.jsonl").read_bytes() == (
        tmp_path / "local" / "errors.jsonl"
    ).read_bytes()
    same = ("rows_in", "rows_out", "rows_rejected", "rejected_by_kind", "actions")
    assert {k: ray_summary[k] for k in same} == {k: local[k] for k in same}
    assert ray_summary["conditions"] == local["conditions"]
    assert ray_summary["routes"] == local["routes"]
    assert ray_summary["rejected_by_kind"] == {
        "empty_prompt": 1,
        "invalid_utf8": 5,
        "missing_text": 1,
    }
    assert ray_summary["engine"] == "ray" and ray_summary["workers"] == 2

    with pytest.raises(
        InputError, match="not empty; the ray engine .* does not resume"
    ):
        run_ray(job("ray"))
