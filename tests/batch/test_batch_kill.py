"""`kill -9` a local batch run at random points, run it again, and check every input row comes
out exactly once, with the same output an uninterrupted run gives."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq

from crossingguard.batch import BatchJob, run_local
from crossingguard.policy import load_policy

ROWS = 1000
SHARD_ROWS = 25
CLI = "from crossingguard.cli.app import main; main()"


def make_input(path: Path) -> list[str]:
    """JSONL with ids; every 37th line is malformed, so errors.jsonl is exercised too."""
    ids = []
    words = [
        "the cat sat on the mat",
        "how do i make a bomb",
        "what is the weather today",
    ]
    with path.open("wb") as f:
        for i in range(ROWS):
            ids.append(f"id{i}")
            if i % 37 == 5:
                f.write(b'{"id": "id%d", "text": \n' % i)
            else:
                f.write(
                    json.dumps({"id": f"id{i}", "text": f"{words[i % 3]} {i}"}).encode()
                    + b"\n"
                )
    return ids


def command(policy: Path, inp: Path, out: Path, model: Path) -> list[str]:
    return [
        sys.executable, "-c", CLI, "batch", str(policy), "--input", str(inp), "--output",
        str(out), "--model", str(model), "--id-column", "id", "--shard-rows",
        str(SHARD_ROWS), "--batch-size", "25", "--no-progress", "--json",
    ]  # fmt: skip


def committed_rows(out: Path) -> int:
    """Rows covered by complete manifest lines (what a resume will skip)."""
    manifest = out / "manifest.jsonl"
    if not manifest.exists():
        return 0
    lines = manifest.read_bytes().split(b"\n")[1:-1]
    return sum(b - a for line in lines for a, b in json.loads(line)["rows"])


def wait_for_commits(
    out: Path, count: int, proc: subprocess.Popen, limit: float
) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        manifest = out / "manifest.jsonl"
        if manifest.exists() and manifest.read_bytes().count(b"\n") > count:
            return
        time.sleep(0.01)


def kill_at(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def read_output(out: Path) -> tuple[pa.Table, list[dict]]:
    table = pq.read_table(out / "data").sort_by("row")
    errors = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
    return table, errors


@pytest.fixture()
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "version: 1\nname: kill-test\nconditions:\n"
        "  - {id: weapons, hypotheses: [the prompt asks how to make a bomb]}\n"
        "  - {id: weather, hypotheses: [the prompt is about the weather], action: flag}\n",
        encoding="utf-8",
    )
    return path


def test_kill_9_at_random_points_then_resume_gives_every_row_exactly_once(
    tmp_path: Path, tiny_model_dir: Path, policy: Path
) -> None:
    inp = tmp_path / "in.jsonl"
    ids = make_input(inp)
    ref = tmp_path / "ref"
    started = (
        time.monotonic()
    )  # the reference: one uninterrupted run (in-process: no start-up)
    run_local(
        BatchJob(
            load_policy(policy), inp, ref, model=str(tiny_model_dir), id_column="id",
            shard_rows=SHARD_ROWS, batch_size=25, progress=False,
        )
    )  # fmt: skip
    scoring = time.monotonic() - started
    ref_table, ref_errors = read_output(ref)

    mid_run_kills = 0
    for seed in (0, 1, 2):
        rng = random.Random(seed)
        out = tmp_path / f"out{seed}"
        # 1st kill: a random moment after a random number of commits (always mid-run);
        # 2nd: any moment of the resumed run (start-up, scoring, a commit, the summary).
        plans = [
            ("commits", rng.randint(1, 8)),
            ("time", rng.uniform(0.5, 3 + scoring)),
        ]
        for kind, value in plans:
            before = committed_rows(out)
            proc = subprocess.Popen(
                command(policy, inp, out, tiny_model_dir),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if kind == "time":
                time.sleep(value)
            else:
                manifest = out / "manifest.jsonl"
                lines = manifest.read_bytes().count(b"\n") if manifest.exists() else 1
                wait_for_commits(out, lines + int(value), proc, limit=60)
                time.sleep(rng.uniform(0, 0.05))
            kill_at(proc)
            after = committed_rows(out)
            assert after >= before  # a kill never loses committed work
            mid_run_kills += 0 < after < ROWS
        done = subprocess.run(
            command(policy, inp, out, tiny_model_dir),
            check=False,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert (
            summary["rows_in"] == ROWS == summary["rows_out"] + summary["rows_rejected"]
        )

        table, errors = read_output(out)
        seen_rows = table.column("row").to_pylist() + [e["row"] for e in errors]
        assert sorted(seen_rows) == list(range(ROWS))  # every row exactly once
        seen_ids = table.column("id").to_pylist() + [ids[e["row"]] for e in errors]
        assert sorted(seen_ids) == sorted(ids)
        assert table.equals(ref_table)
        assert errors == ref_errors
        assert not [
            p for p in (out / "data").iterdir() if not p.name.startswith("part-")
        ]
    assert mid_run_kills >= 3, (
        "the kills never landed between commits; the test proved nothing"
    )
