"""`crossingguard batch` on the tiny model: the summary it prints, the files it writes, and bad
input exiting 2 with a message that says how to fix it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pyarrow")
from typer.testing import CliRunner

from crossingguard.cli.app import app

runner = CliRunner()


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nname: cli\nconditions:\n  - {id: cake, hypotheses: [a cake recipe]}\n",
        encoding="utf-8",
    )
    data = tmp_path / "in.csv"
    data.write_text(
        "key,prompt\n1,how do i make a cake\n2,\n3,the cat sat\n", encoding="utf-8"
    )
    return policy, data


def run(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def test_batch_prints_the_summary_and_writes_the_folder(
    tmp_path: Path, files: tuple[Path, Path], tiny_model_dir: Path
) -> None:
    policy, data = files
    out = tmp_path / "out"
    common = [
        "batch", str(policy), "-i", str(data), "-o", str(out), "-m", str(tiny_model_dir),
        "--text-column", "prompt", "--id-column", "key", "--no-progress",
    ]  # fmt: skip
    r = run(*common, "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert (summary["rows_in"], summary["rows_out"], summary["rows_rejected"]) == (
        3,
        2,
        1,
    )
    assert summary["policy"].startswith("cli@") and summary["model"] == "model"
    assert json.loads((out / "summary.json").read_text()) == summary
    error = json.loads((out / "errors.jsonl").read_text())
    assert (error["id"], error["kind"]) == ("2", "empty_prompt")
    assert sorted(p.name for p in (out / "data").iterdir()) == ["part-000000.parquet"]

    again = run(*common)  # finished: resumes with nothing to do, in words this time
    assert again.exit_code == 0, again.output
    assert "3 rows in: 2 scored" in again.stdout and "1 rejected" in again.stdout
    assert "3 resumed from earlier runs" in again.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--ray-address", "auto"], "only the ray engine uses it; add --engine ray"),
        (
            ["--text-column", "text"],
            "no column 'text' .*pass the right name with --text-column",
        ),
        (["--text-column", "prompt", "--fail-on-error"], "row 1 .*'prompt' is empty"),
        (["--text-column", "prompt", "--workers", "0"], "--workers"),
    ],
)
def test_bad_input_exits_2_with_a_fix(
    tmp_path: Path,
    files: tuple[Path, Path],
    tiny_model_dir: Path,
    extra: list[str],
    message: str,
) -> None:
    import re

    policy, data = files
    args = ["batch", str(policy), "-i", str(data), "-o", str(tmp_path / "o")]
    r = run(*args, "-m", str(tiny_model_dir), "--no-progress", *extra)
    assert r.exit_code == 2
    assert re.search(message, r.output), r.output
