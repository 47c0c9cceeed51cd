"""Generated inputs for the command line: ``check``, ``classify``, ``route``, ``policy validate``
and ``calibrate`` with malformed files, odd arguments (lone surrogates are what invalid UTF-8 in
argv becomes) and invalid UTF-8 on stdin.

Every run ends with exit 0 (1 for ``check --exit-code`` when a prompt is blocked) and the
promised output, or exit 2 with an ``Error:`` line on stderr; never a traceback. Models are the
tiny test model, loaded once (``cli_on_tiny_model``).
"""

from __future__ import annotations

import json
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from click.testing import CliRunner
from fuzz_strategies import dump_json, json_tree, plain_text
from fuzz_strategies import (
    short_text as nasty_text,  # long prompts: test_fuzz_library.py
)
from fuzzcount import record
from hypothesis import given
from hypothesis import strategies as st

from crossingguard.cli.app import app
from crossingguard.policy import load_policy
from crossingguard.toolkit.data.hypotheses import CATEGORIES

pytestmark = [pytest.mark.fuzz, pytest.mark.usefixtures("cli_on_tiny_model")]
runner = CliRunner()
# Built once: typer rebuilds the whole command tree on every typer.testing invoke (~50 ms here)
COMMAND = typer.main.get_command(app)


def invoke(
    entry: str,
    args: list[str],
    *,
    stdin: bytes | None = None,
    ok: tuple[int, ...] = (0,),
) -> Any:
    result = runner.invoke(COMMAND, args, input=stdin)
    record(entry, f"exit {result.exit_code}")
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        raise AssertionError(
            f"{args!r:.300} raised {type(exc).__name__}:\n"
            + "".join(traceback.format_exception(exc))
        )
    assert "Traceback" not in result.output
    assert result.exit_code in (*ok, 2), (result.exit_code, result.output)
    if result.exit_code == 2:
        # ours ("Error: what and how to fix it") or click's usage error, which says the same
        assert "Error" in result.stderr and result.stderr.strip(), result.stderr
    return result


def _folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="cg-fuzz-")


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return path


# ---------------------------------------------------------------- small policies
cond = st.fixed_dictionaries(
    {
        "id": st.one_of(st.sampled_from(["weapons", "refund", "hate"]), nasty_text),
        "hypotheses": st.lists(
            st.one_of(plain_text, nasty_text), min_size=1, max_size=2
        ),
    },
    optional={
        "threshold": st.one_of(st.floats(0, 1), st.floats(allow_nan=True)),
        "action": st.sampled_from(["block", "flag", "log"]),
        "categories": st.lists(
            st.sampled_from([*list(CATEGORIES)[:4], "nope"]), max_size=2
        ),
        "fire_on": st.sampled_from(["entailment", "contradiction"]),
    },
)
route = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["billing", "tech", "other"]),
        "hypotheses": st.lists(
            st.one_of(plain_text, nasty_text), min_size=1, max_size=2
        ),
    },
    optional={"threshold": st.floats(0, 1)},
)
policy_doc = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1, 1, 2])},
    optional={
        "name": st.one_of(plain_text, nasty_text),
        "conditions": st.lists(cond, max_size=3),
        "routes": st.lists(route, max_size=3, unique_by=lambda r: r["id"]),
        "routing": st.fixed_dictionaries(
            {"strategy": st.sampled_from(["nli", "nli", "magic"])},
            optional={"threshold": st.floats(0, 1)},
        ),
    },
)
# Valid policies, so that a good share of runs gets past loading to scoring and output.
good_policy = st.fixed_dictionaries(
    {
        "version": st.just(1),
        "conditions": st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.sampled_from(["weapons", "refund", "hate", "cake"]),
                    "hypotheses": st.lists(plain_text, min_size=1, max_size=2),
                },
                optional={
                    "threshold": st.floats(0, 1),
                    "action": st.sampled_from(["block", "flag", "log"]),
                },
            ),
            min_size=1,
            max_size=3,
            unique_by=lambda c: c["id"],
        ),
    },
    optional={
        "routes": st.lists(
            route.map(lambda r: {**r, "hypotheses": ["hello world"]}),
            min_size=1,
            max_size=3,
            unique_by=lambda r: r["id"],
        )
    },
)
policy_file = st.one_of(
    good_policy.map(lambda d: ("yaml", d)),
    good_policy.map(lambda d: ("json", d)),
    good_policy.map(lambda d: ("yaml", d)),
    policy_doc.map(lambda d: ("yaml", d)),
    policy_doc.map(lambda d: ("json", d)),
    st.binary(max_size=60).map(lambda b: ("raw", b)),
    json_tree.map(lambda t: ("json", t)),
)


def write_policy(folder: Path, spec: tuple[str, Any]) -> Path:
    kind, value = spec
    if kind == "raw":
        return write(folder / "policy.yaml", value)
    if kind == "json":
        return write(folder / "policy.json", dump_json(value))
    return write(folder / "policy.yaml", yaml.safe_dump(value, allow_unicode=False))


routed_policy = good_policy.map(
    lambda d: {
        **d,
        "routes": d.get("routes")
        or [{"id": "billing", "hypotheses": ["my bill is wrong"]}],
    }
)
argument = st.one_of(*[plain_text] * 4, nasty_text)


def option(bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually left out (the default), sometimes a generated, possibly bad, value."""
    return st.one_of(*[st.none()] * 6, bad)


# ---------------------------------------------------------------- check
@given(
    prompt=st.one_of(argument, argument, st.just("-")),
    stdin=st.one_of(
        st.lists(st.one_of(plain_text, nasty_text), max_size=4).map(
            lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass")
        ),
        st.binary(max_size=40),
    ),
    source=st.one_of(  # conditions, or a policy (both at once is an error, drawn less often)
        st.tuples(st.lists(plain_text, min_size=1, max_size=3), st.none()),
        st.tuples(
            st.just([]),
            st.one_of(
                policy_file, st.sampled_from(["prompt-injection", "nope", "x.yaml"])
            ),
        ),
        st.tuples(st.lists(argument, max_size=3), st.one_of(st.none(), policy_file)),
    ),
    threshold=option(st.sampled_from(["0.5", "0", "1", "nan", "-1", "2", "x", "inf"])),
    json_out=st.booleans(),
    exit_code=st.booleans(),
)
def test_check(prompt: str, stdin: bytes, source: tuple[list[str], Any], threshold: Any,
               json_out: bool, exit_code: bool) -> None:  # fmt: skip
    conditions, policy = source
    with _folder() as name:
        args = ["check", prompt]
        for c in conditions:
            args += ["-c", c]
        if isinstance(policy, tuple):
            args += ["--policy", str(write_policy(Path(name), policy))]
        elif policy is not None:
            args += ["--policy", policy]
        if threshold is not None:
            args += ["--threshold", threshold]
        args += ["--json"] * json_out + ["--exit-code"] * exit_code
        result = invoke(
            "CLI check", args, stdin=stdin, ok=(0, 1) if exit_code else (0,)
        )
        if result.exit_code in (0, 1) and json_out:
            lines = [
                json.loads(line) for line in result.stdout.split("\n") if line
            ]  # JSONL
            assert [v["index"] for v in lines] == list(
                range(1, len(lines) + 1)
            ) and lines
            assert (result.exit_code == 1) == (
                exit_code and not all(v["allowed"] for v in lines)
            )


# ---------------------------------------------------------------- classify
good_pair = st.fixed_dictionaries(
    {"premise": plain_text, "hypothesis": plain_text}, optional={"id": st.integers()}
).map(dump_json)
pair_line = st.one_of(
    good_pair,
    good_pair,
    good_pair,
    st.fixed_dictionaries(
        {
            "premise": st.one_of(plain_text, nasty_text),
            "hypothesis": st.one_of(plain_text, nasty_text),
        },
        optional={"id": st.integers(), "label": plain_text, "entailment": st.floats()},
    ).map(dump_json),
    json_tree.map(dump_json),
    st.text(max_size=30),
    st.just(""),
)


@given(
    lines=st.one_of(
        st.lists(good_pair, min_size=1, max_size=4), st.lists(pair_line, max_size=5)
    ),
    raw=option(st.binary(max_size=40)),
    output=st.sampled_from(
        ["out.jsonl", "out.jsonl", "out.jsonl", ".", "missing/out.jsonl", "input.jsonl"]
    ),
    prefix=st.one_of(
        st.just(""), st.just(""), st.sampled_from(["nli_", "label"]), nasty_text
    ),
    max_chars=option(st.integers(-1, 200)),
    window=option(st.integers(0, 40)),
    batch_size=option(st.integers(0, 8)),
)
def test_classify(lines: list[str], raw: Any, output: str, prefix: str, max_chars: Any, window: Any,
                  batch_size: Any) -> None:  # fmt: skip
    with _folder() as name:
        folder = Path(name)
        content: str | bytes = raw if raw is not None else "\n".join(lines)
        src = write(folder / "input.jsonl", content)
        out = folder / output
        args = [
            "classify",
            "-i",
            str(src),
            "-o",
            str(out),
            "--prefix",
            prefix,
            "--no-progress",
        ]
        for option, value in (("--max-prompt-chars", max_chars), ("--window-tokens", window),
                              ("--batch-size", batch_size)):  # fmt: skip
            if value is not None:
                args += [option, str(value)]
        result = invoke("CLI classify", args)
        if result.exit_code == 0:
            rows = [
                json.loads(line)
                for line in out.read_text(encoding="utf-8").split("\n")
                if line
            ]
            assert rows and all(
                row[f"{prefix}label"] in ("entailment", "neutral", "contradiction")
                for row in rows
            )


# ---------------------------------------------------------------- route
@given(
    policy=st.one_of(
        *[routed_policy.map(lambda d: ("yaml", d))] * 3,
        policy_doc.map(
            lambda d: (
                "yaml",
                {
                    **d,
                    "routes": d.get("routes")
                    or [{"id": "a", "hypotheses": ["hello world"]}],
                },
            )
        ),
        policy_file,
    ),
    prompt=argument,
    top=option(st.integers(-1, 5)),
    json_out=st.booleans(),
)
def test_route(policy: Any, prompt: str, top: Any, json_out: bool) -> None:
    with _folder() as name:
        args = ["route", prompt, "--policy", str(write_policy(Path(name), policy))]
        args += [] if top is None else ["--top", str(top)]
        args += ["--json"] * json_out
        result = invoke("CLI route", args)
        if result.exit_code == 0 and json_out:
            answer = json.loads(result.stdout)
            assert (
                answer["route"] in (*answer["scores"], "none_of_the_above")
                or not answer["matched"]
            )


# ---------------------------------------------------------------- policy validate
@given(
    policy=st.one_of(
        policy_file,
        st.text(max_size=60).map(lambda t: ("raw", t.encode("utf-8", "surrogatepass"))),
    ),
    as_name=option(
        st.one_of(
            nasty_text, st.sampled_from(["moderation", "nope", "x.json", "/", "."])
        )
    ),
)
def test_policy_validate(policy: Any, as_name: Any) -> None:
    with _folder() as name:
        path = str(write_policy(Path(name), policy)) if as_name is None else as_name
        result = invoke("CLI policy validate", ["policy", "validate", path])
        if result.exit_code == 0:
            assert result.stdout.startswith("OK ")


# ---------------------------------------------------------------- calibrate
example = st.fixed_dictionaries(
    {"text": st.one_of(plain_text, plain_text, nasty_text, st.none(), st.integers())},
    optional={
        "harmful": st.one_of(
            st.booleans(), st.booleans(), st.none(), st.sampled_from(["yes", 1])
        ),
        "categories": st.one_of(
            st.lists(st.sampled_from([*list(CATEGORIES)[:4], "nope"]), max_size=2),
            st.sampled_from(list(CATEGORIES)[:4]),
            st.integers(),
            st.lists(st.integers(), max_size=1),
        ),
        "route": st.one_of(st.none(), plain_text, st.integers()),
    },
)
good_example = st.fixed_dictionaries(
    {
        "text": plain_text,
        "harmful": st.booleans(),
        "categories": st.lists(st.sampled_from(list(CATEGORIES)[:4]), max_size=2),
    }
)
calibration_policy = st.fixed_dictionaries(
    {
        "version": st.just(1),
        "conditions": st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.sampled_from(["a", "b", "c"]),
                    "hypotheses": st.lists(plain_text, min_size=1, max_size=2),
                    "categories": st.lists(
                        st.sampled_from(list(CATEGORIES)[:4]), min_size=1, max_size=2
                    ),
                }
            ),
            min_size=1,
            max_size=2,
            unique_by=lambda c: c["id"],
        ),
    }
)


@pytest.fixture(scope="module")
def stub_pr_curves() -> Iterator[list[Any]]:
    """The precision-recall PNG takes matplotlib a few hundred ms per run; the fuzz run checks
    what it is handed instead (tests/test_calibration.py covers the real plot)."""
    from crossingguard.guard import calibration

    seen: list[Any] = []

    def save(result: Any, path: Any) -> Path:
        assert result.conditions and all(
            c.id in result.curves for c in result.conditions
        )
        seen.append(result)
        return Path(path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(calibration, "save_pr_curves", save)
        yield seen


@pytest.mark.usefixtures("stub_pr_curves")
@given(
    policy=st.one_of(*[calibration_policy.map(lambda d: ("yaml", d))] * 3, policy_file),
    rows=st.one_of(
        st.lists(good_example.map(dump_json), min_size=4, max_size=12),
        st.lists(good_example.map(dump_json), min_size=4, max_size=12),
        st.lists(st.one_of(example.map(dump_json), st.text(max_size=20)), max_size=12),
    ),
    raw=option(st.binary(max_size=30)),
    target=st.sampled_from(
        ["f1"] * 4 + ["precision=0.9", "recall=0.5", "precision=2", "recall=0", "x", ""]
    ),
    split=st.sampled_from(["all"] * 6 + ["select", "eval", "bad"]),
    limit=option(st.integers(-1, 6)),
)
def test_calibrate(
    policy: Any, rows: list[str], raw: Any, target: str, split: str, limit: Any
) -> None:
    with _folder() as name:
        folder = Path(name)
        data = write(
            folder / "labeled.jsonl", raw if raw is not None else "\n".join(rows)
        )
        out = folder / "calibrated.yaml"
        args = ["calibrate", str(write_policy(folder, policy)), "--data", str(data), "--target", target,
                "--split", split, "--out", str(out)]  # fmt: skip
        args += [] if limit is None else ["--limit", str(limit)]
        result = invoke("CLI calibrate", args)
        if result.exit_code == 0:
            load_policy(out)  # what calibrate writes is a valid policy
