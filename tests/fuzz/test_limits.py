"""The abuse limits of crossingguard.limits, at every entry point: the library, the CLI, the
server and batch refuse the same things, with a message that names the limit and the way round
it, and stay within them otherwise (long prompts are still windowed; 10,000 prompts in one call
still work)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from click.testing import CliRunner

from crossingguard import limits
from crossingguard.errors import InputError, PolicyError
from crossingguard.guard import Condition, Guard
from crossingguard.policy import load_policy

runner = CliRunner()


@pytest.fixture(scope="module")
def command() -> Any:
    from crossingguard.cli.app import app

    return typer.main.get_command(app)


# ------------------------------------------------------------------ library
def test_long_prompt_is_refused_at_the_default_and_windowed_when_allowed(
    tiny_scorer: Any,
) -> None:
    megabyte = "the cat sat on the mat. " * 43_691  # 1 MB
    with pytest.raises(
        InputError, match="more than the limit of 10,000.*max_prompt_chars"
    ):
        tiny_scorer.predict([(megabyte, "a cat")])
    long = megabyte[:40_000]
    tiny_scorer.max_prompt_chars = None
    try:
        out = tiny_scorer.predict([(long, "a cat")])
    finally:
        tiny_scorer.max_prompt_chars = limits.MAX_PROMPT_CHARS
    assert len(tiny_scorer.windows(long, "a cat")) > 100
    np.testing.assert_allclose(out.sum(), 1.0, atol=1e-5)


def test_hypothesis_longer_than_the_window(tiny_scorer: Any) -> None:
    with pytest.raises(
        InputError, match="hypothesis: too long for this model.*shorten the condition"
    ):
        tiny_scorer.predict([("the cat sat. " * 40, "a " * 200)])


def test_pairs_per_call(tiny_scorer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tiny_scorer, "max_pairs", 3)
    with pytest.raises(
        InputError, match="4 pairs in one call, more than the limit of 3"
    ):
        tiny_scorer.predict([("the cat", "a cat")] * 4)


def test_the_guard_splits_its_pairs_without_changing_a_score(
    tiny_scorer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = [f"the cat sat on mat {i}" for i in range(7)]
    conditions = ["a cat", "a dog sat", "the mat"]
    whole = Guard(tiny_scorer, conditions=conditions, cache_size=0).check_batch(prompts)
    monkeypatch.setattr(tiny_scorer, "max_pairs", 4)  # 21 pairs: six scorer calls
    split = Guard(tiny_scorer, conditions=conditions, cache_size=0).check_batch(prompts)
    for a, b in zip(whole, split, strict=True):
        assert [r.score for r in a.results] == pytest.approx(
            [r.score for r in b.results], abs=1e-6
        )


def test_ten_thousand_prompts_in_one_call(tiny_scorer: Any) -> None:
    prompts = [
        f"prompt number {i} asks about the weather"
        for i in range(limits.MAX_PROMPTS_PER_CALL)
    ]
    guard = Guard(
        tiny_scorer, conditions=[Condition("the prompt asks about the weather")]
    )
    verdicts = guard.check_batch(prompts)
    assert len(verdicts) == limits.MAX_PROMPTS_PER_CALL
    with pytest.raises(
        InputError, match="10,001 prompts in one call.*crossingguard batch"
    ):
        guard.check_batch([*prompts, "one more"])


def test_conditions_and_hypotheses_per_guard(tiny_scorer: Any) -> None:
    with pytest.raises(InputError, match="257 conditions, more than the limit of 256"):
        Guard(tiny_scorer, conditions=[f"claim {i}" for i in range(257)])
    many = [
        Condition(f"claim {i}", hypotheses=tuple(f"claim {i} {j}" for j in range(5)))
        for i in range(210)
    ]
    with pytest.raises(InputError, match="1,050 hypotheses in 210 conditions"):
        Guard(tiny_scorer, conditions=many)


# ------------------------------------------------------------------ policies
def _policy(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_policy_file_size(tmp_path: Path) -> None:
    path = _policy(
        tmp_path, "version: 1\ndescription: " + "x" * limits.MAX_POLICY_BYTES + "\n"
    )
    with pytest.raises(PolicyError, match="larger than the limit of 1,048,576 bytes"):
        load_policy(path)


def test_policy_conditions_limit(tmp_path: Path) -> None:
    rows = "".join(
        f"  - {{id: c{i}, hypotheses: [claim {i}]}}\n"
        for i in range(limits.MAX_CONDITIONS + 1)
    )
    with pytest.raises(
        PolicyError, match="257 conditions .*more than the limit of 256"
    ):
        load_policy(_policy(tmp_path, "version: 1\nconditions:\n" + rows))


def test_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ["version: 1", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)
    ]
    lines.append("description: *a9")  # 9**10 = 3.5 billion values
    start = time.perf_counter()
    with pytest.raises(PolicyError, match="more than 100,000 values once YAML aliases"):
        load_policy(_policy(tmp_path, "\n".join(lines) + "\n"))
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\ndescription: &a [*a]\n", "refers to a value that contains it"),
        ("version: 1\ndescription: " + "[" * 40 + "]" * 40 + "\n", "nested more than 32 levels"),
        ("version: 1\ndescription: " + "[" * 2000 + "]" * 2000 + "\n", "nested too deeply"),
        ("version: 1\nconditions:\n - {id: a, hypotheses: [x], threshold: " + "9" * 5000 + "}\n",
         "a value cannot be read"),
        ("version: 1\nconditions:\n - {id: a, hypotheses: [x], threshold: .nan}\n", "must be in \\[0, 1\\]"),
        ("version: 1\nconditions:\n - {id: a, hypotheses: [x], threshold: -.inf}\n", "must be in \\[0, 1\\]"),
        ("version: 1\nconditions:\n - {id: a, hypotheses: [x], threshold: -0.1}\n", "must be in \\[0, 1\\]"),
        ("version: 1\nconditions:\n - {id: a, hypotheses: [x]}\n - {id: a, hypotheses: [y]}\n",
         "duplicate id 'a'"),
        ('version: 1\nconditions:\n - {id: a, hypotheses: ["x\\ud800"]}\n', "lone surrogate U\\+D800"),
    ],
)  # fmt: skip
def test_hostile_policies(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(_policy(tmp_path, text))


def test_policy_paths_that_are_not_files(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(PolicyError, match="not a regular file"):
        load_policy(tmp_path / "dir.yaml")
    with pytest.raises(PolicyError, match="unknown pack"):
        load_policy("x" * 5000)  # too long for the OS to look up


# ------------------------------------------------------------------ CLI
@pytest.mark.usefixtures("cli_on_tiny_model")
def test_cli_check_refuses_more_prompts_than_one_call(command: Any) -> None:
    stdin = "\n".join(f"prompt {i}" for i in range(limits.MAX_PROMPTS_PER_CALL + 1))
    result = runner.invoke(command, ["check", "-c", "a claim"], input=stdin)
    assert result.exit_code == 2 and "10,001 prompts in one call" in result.stderr


@pytest.mark.usefixtures("cli_on_tiny_model")
def test_cli_classify_pairs_limit(
    command: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crossingguard.cli import classify

    monkeypatch.setattr(classify, "MAX_PAIRS_PER_CALL", 2)
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"premise": "a", "hypothesis": "b"}) + "\n" for _ in range(3)
        )
    )
    result = runner.invoke(
        command, ["classify", "-i", str(src), "-o", str(tmp_path / "o.jsonl")]
    )
    assert (
        result.exit_code == 2 and "3 pairs, more than the limit of 2" in result.stderr
    )


@pytest.mark.usefixtures("cli_on_tiny_model")
def test_cli_invalid_utf8_argument_is_exit_2(command: Any) -> None:
    """Python decodes invalid UTF-8 in argv to lone surrogates (surrogateescape)."""
    prompt = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
    result = runner.invoke(command, ["check", prompt, "-c", "a claim"])
    assert result.exit_code == 2 and "lone surrogate U+DCE9" in result.stderr


def test_cli_invalid_utf8_argv_in_a_real_process(tiny_model_dir: Path) -> None:
    """The same through a real process and the console entry point, bytes and all."""
    import subprocess
    import sys

    code = "import sys; from crossingguard.cli.app import main; sys.argv[0] = 'crossingguard'; main()"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            b"check",
            b"\xff\xfe prompt",
            b"-c",
            b"claim",
            b"-m",
            str(tiny_model_dir).encode(),
        ],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert b"Error: prompts -> 0: holds a lone surrogate U+DCFF" in proc.stderr


def test_cli_serve_refuses_more_prompts_than_a_guard_call(command: Any) -> None:
    result = runner.invoke(
        command, ["serve", "--max-prompts", str(limits.MAX_PROMPTS_PER_CALL + 1)]
    )
    assert result.exit_code == 2 and "--max-prompts" in result.stderr


# ------------------------------------------------------------------ server
def test_server_limits_come_from_the_shared_definitions() -> None:
    pytest.importorskip("fastapi")
    from pydantic import ValidationError

    from crossingguard.serve import ServeSettings

    settings = ServeSettings()
    assert (
        settings.max_prompt_chars,
        settings.max_prompts,
        settings.max_conditions,
        settings.max_body_bytes,
    ) == (
        limits.MAX_PROMPT_CHARS,
        limits.MAX_REQUEST_PROMPTS,
        limits.MAX_REQUEST_HYPOTHESES,
        limits.MAX_REQUEST_BYTES,
    )
    with pytest.raises(ValidationError):
        ServeSettings(max_prompts=limits.MAX_PROMPTS_PER_CALL + 1)


def test_server_scorer_takes_the_request_limit(tiny_model_dir: Path) -> None:
    """A server started with a larger --max-prompt-chars must not have its scorer refuse what
    the request check let through."""
    pytest.importorskip("fastapi")
    from crossingguard.serve import ServeSettings
    from crossingguard.serve.service import default_scorer_factory

    scorer = default_scorer_factory(
        ServeSettings(max_prompt_chars=50_000, backend="onnx")
    )(str(tiny_model_dir))
    assert scorer.max_prompt_chars == 50_000


@pytest.mark.filterwarnings(
    "ignore::UserWarning"
)  # the fake model has no fitted thresholds
def test_server_answers_limits_with_413_and_surrogates_with_422() -> None:
    pytest.importorskip("fastapi")
    from fakes import FakeScorer
    from fastapi.testclient import TestClient

    from crossingguard.serve import ServeSettings, create_app

    app = create_app(
        ServeSettings(policies=("prompt-injection",), warmup=False),
        scorer_factory=lambda m: FakeScorer(),
    )
    with TestClient(app) as client:
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        long = client.post(
            "/v1/check", json={"prompts": ["x" * (limits.MAX_PROMPT_CHARS + 1)]}
        )
        many = client.post(
            "/v1/check", json={"prompts": ["x"] * (limits.MAX_REQUEST_PROMPTS + 1)}
        )
        bad = client.post(
            "/v1/classify",
            content=b'{"pairs": [{"premise": "a\\ud800", "hypothesis": "b"}]}',
            headers={"content-type": "application/json"},
        )
    assert (
        long.status_code == 413
        and "10001 characters, the limit is 10000" in long.json()["error"]["message"]
    )
    assert (
        many.status_code == 413 and many.json()["error"]["code"] == "too_many_prompts"
    )
    assert bad.status_code == 422 and "lone surrogate" in bad.json()["error"]["message"]


# ------------------------------------------------------------------ batch
def test_batch_rejects_too_long_and_invalid_rows_and_scores_the_rest(
    tmp_path: Path,
) -> None:
    pytest.importorskip("pyarrow")
    from fakes import FakeScorer

    from crossingguard.batch.job import BatchJob
    from crossingguard.batch.local import run_local

    rows = [
        {"text": "a cake recipe please"},
        {"text": "x " * limits.MAX_PROMPT_CHARS},
        {"text": "bad \ud800"},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    policy = load_policy(
        _policy(
            tmp_path,
            "version: 1\nconditions:\n  - {id: cake, hypotheses: [a cake recipe]}\n",
        )
    )
    job = BatchJob(policy, src, tmp_path / "out", progress=False)
    summary = run_local(job, guard=Guard(FakeScorer(), policy=policy))
    assert (summary["rows_out"], summary["rows_rejected"]) == (1, 2)
    kinds = [
        json.loads(line)["kind"]
        for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()
    ]
    assert kinds == ["too_long", "invalid_text"]
