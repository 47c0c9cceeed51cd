"""The local batch engine on the fake scorer (exact verdicts) and the tiny model: output rows,
errors file and summary counts, resume after a crash at every step of a commit, and the checks
that refuse to resume a different job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq
from fakes import FakeScorer

from crossingguard.batch import BatchJob, Layout, run_local
from crossingguard.batch import shards as shards_module
from crossingguard.errors import DataError, InputError
from crossingguard.guard import Guard
from crossingguard.policy import policy_from_dict

POLICY = {
    "version": 1,
    "name": "shop",
    "conditions": [
        {"id": "weapons", "hypotheses": ["bomb"]},
        {"id": "refund", "hypotheses": ["refund"], "action": "flag"},
    ],
}
ROUTED = {
    **POLICY,
    "routes": [
        {"id": "billing", "hypotheses": ["refund"]},
        {"id": "tech", "hypotheses": ["app"]},
    ],
}


def fake_guard(policy: dict = POLICY, name: str = "fake") -> Guard:
    scorer = FakeScorer()
    scorer.name = name
    return Guard(scorer, policy=policy_from_dict(policy))


def make_job(tmp_path: Path, inp: Path, policy: dict = POLICY, **kw) -> BatchJob:
    kw.setdefault("progress", False)
    return BatchJob(policy_from_dict(policy), inp, tmp_path / "out", **kw)


def write_jsonl(path: Path, rows: list[object]) -> Path:
    with path.open("wb") as f:
        for r in rows:
            f.write(r if isinstance(r, bytes) else json.dumps(r).encode() + b"\n")
    return path


def output(out: Path) -> pa.Table:
    return pq.read_table(out / "data").sort_by("row")


def errors(out: Path) -> list[dict]:
    return [
        json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()
    ]


def many_rows(path: Path, n: int = 60) -> Path:
    rows: list[object] = []
    for i in range(n):
        if i % 7 == 3:
            rows.append(b'{"id": "x%d", "text": broken}\n' % i)
        else:
            text = ["make a bomb", "a refund please", "hello there"][i % 3]
            rows.append({"id": f"x{i}", "text": f"{text} {i}"})
    return write_jsonl(path, rows)


def test_verdicts_errors_and_summary_are_exact(tmp_path: Path) -> None:
    inp = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "text": "how to make a bomb"},
            {"id": "b", "text": "i want a refund"},
            b'{"id": "c", "text": \n',
            {"id": "d", "text": "hello"},
            {"id": "e", "text": ""},
        ],
    )
    summary = run_local(make_job(tmp_path, inp, id_column="id"), guard=fake_guard())
    out = tmp_path / "out"
    table = output(out)
    assert table.column_names == ["row", "id", "allowed", "action", "fired", "scores"]
    assert table.schema.metadata[b"crossingguard.policy"].startswith(b"shop@")
    rows = table.to_pylist()
    assert [
        (r["row"], r["id"], r["allowed"], r["action"], r["fired"]) for r in rows
    ] == [
        (0, "a", False, "block", ["weapons"]),
        (1, "b", True, "flag", ["refund"]),
        (3, "d", True, "allow", []),
    ]
    assert rows[0]["scores"] == pytest.approx({"weapons": 0.9, "refund": 0.0})
    assert [(e["row"], e["id"], e["line"], e["kind"]) for e in errors(out)] == [
        (2, "2", 3, "malformed_json"),
        (4, "e", 5, "empty_prompt"),
    ]
    assert summary == json.loads((out / "summary.json").read_text())
    assert {k: summary[k] for k in ("rows_in", "rows_out", "rows_rejected")} == {
        "rows_in": 5,
        "rows_out": 3,
        "rows_rejected": 2,
    }
    assert summary["actions"] == {"allow": 1, "log": 0, "flag": 1, "block": 1}
    assert summary["conditions"] == {"weapons": 1, "refund": 1}
    assert summary["rejected_by_kind"] == {"empty_prompt": 1, "malformed_json": 1}
    assert summary["model"] == "fake" and summary["policy"].startswith("shop@")
    assert summary["rows_this_run"] == 5 and summary["rows_per_s"] > 0


def test_routes_add_route_columns_and_counts(tmp_path: Path) -> None:
    inp = write_jsonl(
        tmp_path / "in.jsonl",
        [{"text": "refund now"}, {"text": "the app"}, {"text": "hi"}],
    )
    summary = run_local(make_job(tmp_path, inp, ROUTED), guard=fake_guard(ROUTED))
    table = output(tmp_path / "out")
    assert table.column("route").to_pylist() == ["billing", "tech", "none_of_the_above"]
    assert table.column("id").to_pylist() == ["0", "1", "2"]
    assert summary["routes"] == {"billing": 1, "none_of_the_above": 1, "tech": 1}


class Crash(Exception):
    """Stands in for a kill at one point of the commit protocol."""


def crash_on(monkeypatch: pytest.MonkeyPatch, where: str, at_call: int) -> None:
    calls = {"n": 0}
    if where == "after_shard_file":  # shard renamed into place, errors not yet appended
        real = shards_module.ShardWriter._append_errors

        def append_errors(self, records):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == at_call:
                raise Crash
            return real(self, records)

        monkeypatch.setattr(shards_module.ShardWriter, "_append_errors", append_errors)
        return
    real_commit = shards_module.append_commit

    def append_commit(path, commit):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == at_call:
            if where == "torn_manifest_line":
                line = json.dumps(commit.to_dict()).encode()
                with path.open("ab") as f:
                    f.write(line[: len(line) // 2])
            raise Crash
        return real_commit(path, commit)

    monkeypatch.setattr(shards_module, "append_commit", append_commit)


@pytest.mark.parametrize(
    "where", ["after_shard_file", "before_manifest_line", "torn_manifest_line"]
)
def test_resume_after_a_crash_at_each_commit_step_gives_each_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    inp = many_rows(tmp_path / "in.jsonl")
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    run_local(
        make_job(ref_dir, inp, id_column="id", shard_rows=8, batch_size=4),
        guard=fake_guard(),
    )
    job = make_job(tmp_path, inp, id_column="id", shard_rows=8, batch_size=4)
    with monkeypatch.context() as m:
        crash_on(m, where, at_call=3)
        with pytest.raises(Crash):
            run_local(job, guard=fake_guard())
    out = tmp_path / "out"
    assert not (out / "summary.json").exists()
    if where == "after_shard_file":  # the uncommitted shard is on disk until the resume
        assert len(list((out / "data").glob("*.parquet"))) == 3
    summary = run_local(job, guard=fake_guard())
    assert summary["rows_resumed"] == 16 and summary["rows_this_run"] == 60 - 16
    assert output(out).equals(output(ref_dir / "out"))
    assert (out / "errors.jsonl").read_bytes() == (
        ref_dir / "out" / "errors.jsonl"
    ).read_bytes()
    ids = output(out).column("id").to_pylist() + [e["id"] for e in errors(out)]
    assert sorted(ids) == sorted(f"x{i}" if i % 7 != 3 else str(i) for i in range(60))
    assert not [p for p in (out / "data").iterdir() if p.name.startswith(".")]


def test_finished_job_rerun_does_no_work(tmp_path: Path) -> None:
    inp = many_rows(tmp_path / "in.jsonl", 20)
    job = make_job(tmp_path, inp, shard_rows=5)
    first = run_local(job, guard=fake_guard())
    again = run_local(job, guard=fake_guard())
    assert again["rows_this_run"] == 0 and again["rows_resumed"] == 20
    assert {k: again[k] for k in ("rows_out", "actions")} == {
        k: first[k] for k in ("rows_out", "actions")
    }


def test_resuming_a_different_job_is_an_error_that_says_what_changed(
    tmp_path: Path,
) -> None:
    inp = many_rows(tmp_path / "in.jsonl", 20)
    run_local(make_job(tmp_path, inp, shard_rows=5), guard=fake_guard())
    other = {**POLICY, "conditions": POLICY["conditions"][:1]}
    with pytest.raises(
        InputError, match=r"the policy changed .*shop@\w+, now shop@\w+"
    ):
        run_local(make_job(tmp_path, inp, other), guard=fake_guard(other))
    with pytest.raises(
        InputError, match=r"the model changed .*fake \[\w+\], now other"
    ):
        run_local(make_job(tmp_path, inp), guard=fake_guard(name="other"))
    with pytest.raises(
        InputError, match=r"--id-column changed since .* \(None, now 'id'\)"
    ):
        run_local(make_job(tmp_path, inp, id_column="id"), guard=fake_guard())
    with inp.open("a") as f:
        f.write('{"text": "one more"}\n')
    with pytest.raises(InputError, match="the input changed"):
        run_local(make_job(tmp_path, inp), guard=fake_guard())


def test_a_folder_not_started_by_a_local_run_is_refused(tmp_path: Path) -> None:
    inp = many_rows(tmp_path / "in.jsonl", 5)
    (tmp_path / "out" / "data").mkdir(parents=True)
    (tmp_path / "out" / "data" / "x.parquet").write_bytes(b"")
    with pytest.raises(InputError, match="without a manifest.jsonl .*x.parquet"):
        run_local(make_job(tmp_path, inp), guard=fake_guard())


def test_output_inside_the_input_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is inside --input"):
        BatchJob(policy_from_dict(POLICY), tmp_path, tmp_path / "out")


def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    inp = many_rows(tmp_path / "in.jsonl", 5)
    layout = Layout(tmp_path / "out")
    layout.make()
    with layout.lock(), pytest.raises(InputError, match="another batch run is writing"):
        run_local(make_job(tmp_path, inp), guard=fake_guard())


def test_fail_on_error_stops_at_the_first_bad_row(tmp_path: Path) -> None:
    inp = many_rows(tmp_path / "in.jsonl", 10)
    with pytest.raises(
        DataError, match=r"in.jsonl line 4: row 3 \(id 3\) rejected: not valid JSON"
    ):
        run_local(make_job(tmp_path, inp, fail_on_error=True), guard=fake_guard())


def test_worker_processes_give_the_same_output(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    inp = many_rows(tmp_path / "in.jsonl", 40)
    one = tmp_path / "one"
    one.mkdir()
    run_local(
        make_job(one, inp, model=str(tiny_model_dir), batch_size=4, shard_rows=10)
    )
    two = make_job(
        tmp_path, inp, model=str(tiny_model_dir), batch_size=4, shard_rows=10, workers=2
    )
    summary = run_local(two)
    assert summary["workers"] == 2 and summary["model"] == "model"
    assert output(tmp_path / "out").equals(output(one / "out"))


def test_ray_task_errors_are_reported_with_the_original_message() -> None:
    from crossingguard.batch.ray_engine import _cause

    class RayStyleError(RuntimeError, DataError):
        """Like Ray's re-raised task error: both classes, the remote traceback as its text."""

    original = DataError("a.jsonl line 4: row 2 rejected")
    wrapped = RayStyleError("Traceback (most recent call last): ...")
    wrapped.cause = original  # type: ignore[attr-defined]
    try:
        raise RuntimeError("write failed") from wrapped
    except RuntimeError as exc:
        assert _cause(exc) is original
    assert _cause(RuntimeError("unrelated")) is None
