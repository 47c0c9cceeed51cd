"""The CLI end to end on the tiny model; bad input exits 2 with a message, never a traceback."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crossingguard.cli.app import app
from crossingguard.inference import loading

runner = CliRunner()
LINE = re.compile(
    r"^ [✓ ] (ENTAILMENT|NEUTRAL|CONTRADICTION): \d+\.\d% \(E: \d+\.\d% N: \d+\.\d%, C: \d+\.\d%\)"
)


def run(*args: str, input: str | bytes | None = None):
    result = runner.invoke(app, list(args), input=input)
    assert "Traceback" not in result.output
    return result


def test_check_prints_card_style_lines(tiny_model_dir: Path) -> None:
    r = run(
        "check",
        "the cat sat on the mat",
        "-c",
        "a dog",
        "-c",
        "a cat",
        "-m",
        str(tiny_model_dir),
    )
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "1. the cat sat on the mat" in lines
    assert " → a dog" in lines and " → a cat" in lines
    assert sum(bool(LINE.match(x)) for x in lines) == 2


def test_check_json(tiny_model_dir: Path) -> None:
    r = run(
        "check", "hello", "-c", "a dog", "-m", str(tiny_model_dir), "--json", "-t", "0"
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    cond = out["conditions"][0]
    assert set(cond) >= {
        "condition",
        "label",
        "entailment",
        "neutral",
        "contradiction",
        "fired",
    }
    assert cond["fired"] is True and out["fired"] is True
    assert cond["entailment"] + cond["neutral"] + cond[
        "contradiction"
    ] == pytest.approx(1, abs=1e-5)


def test_check_json_is_the_verdict_for_conditions_and_policies(
    tiny_model_dir: Path,
) -> None:
    """Issue 13: `check --json` had one shape for --condition and another for policies."""
    model = ["-m", str(tiny_model_dir), "--json"]
    adhoc = json.loads(run("check", "hello", "-c", "a dog", *model).stdout)
    policy = json.loads(run("check", "hello", "--policy", "moderation", *model).stdout)
    assert set(adhoc) == set(policy) >= {"index", "allowed", "action", "fired", "model"}
    assert set(adhoc["conditions"][0]) == set(policy["conditions"][0])


def test_check_reads_prompts_from_stdin(tiny_model_dir: Path) -> None:
    for args in (["-"], []):
        r = run("check", *args, "-c", "a dog", "-m", str(tiny_model_dir), "--json",
                input="first prompt\n\nsecond prompt\n")  # fmt: skip
        assert r.exit_code == 0, r.output
        assert [json.loads(x)["index"] for x in r.stdout.splitlines()] == [1, 2]


def test_check_without_default_model_says_how_to_pass_one(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(loading, "MODELS_DIR", tmp_path)
    r = run("check", "hello", "-c", "x")
    assert r.exit_code == 2
    assert "no default model is installed" in r.stderr and "--model" in r.stderr


def test_check_uses_default_model_when_installed(
    monkeypatch, tmp_path: Path, tiny_model_dir
) -> None:
    (tmp_path / "crossingguard-nli-mini").symlink_to(
        tiny_model_dir, target_is_directory=True
    )
    monkeypatch.setattr(loading, "MODELS_DIR", tmp_path)
    r = run("check", "hello", "-c", "x")
    assert r.exit_code == 0, r.output
    r = run("models")
    assert (
        "crossingguard-nli-mini (default):" in r.stdout
        and "onnx/model.onnx" in r.stdout
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "", "-c", "x"], "PROMPT is empty"),
        (["check", "hi", "-c", " "], "--condition number 1 is empty"),
        (
            ["check", "hi", "-c", "x", "-m", "/no/such/model"],
            "model directory not found",
        ),
    ],
)
def test_check_bad_input_exits_2(
    tiny_model_dir: Path, args: list[str], message: str
) -> None:
    if "-m" not in args:
        args = [*args, "-m", str(tiny_model_dir)]
    r = run(*args)
    assert r.exit_code == 2 and message in r.stderr


def test_check_empty_stdin_exits_2(tiny_model_dir: Path) -> None:
    r = run("check", "-", "-c", "x", "-m", str(tiny_model_dir), input="\n\n")
    assert r.exit_code == 2 and "no prompt given" in r.stderr
    r = run("check", "-", "-c", "x", "-m", str(tiny_model_dir), input=b"\xff\xfe bad")
    assert r.exit_code == 2 and "not UTF-8" in r.stderr


def test_check_model_without_id2label_exits_2(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    import shutil

    broken = tmp_path / "m"
    shutil.copytree(tiny_model_dir, broken)
    config = json.loads((broken / "config.json").read_text())
    config.pop("id2label"), config.pop("label2id")
    (broken / "config.json").write_text(json.dumps(config))
    r = run("check", "hi", "-c", "x", "-m", str(broken))
    assert r.exit_code == 2 and "id2label" in r.stderr


@pytest.mark.parametrize(("threshold", "fired"), [("0", True), ("1", False)])
def test_check_marks_only_fired_conditions(
    tiny_model_dir: Path, threshold: str, fired: bool
) -> None:
    """Issue 12: every line had a ✓, fired or not."""
    r = run("check", "hello", "-c", "a dog", "-c", "a cat", "-m", str(tiny_model_dir),
            "-t", threshold)  # fmt: skip
    assert r.exit_code == 0, r.output
    lines = [x for x in r.stdout.splitlines() if LINE.match(x)]
    assert len(lines) == 2
    assert all(x.startswith(" ✓ ") == fired for x in lines)
    assert all(x.endswith("[FIRED]") == fired for x in lines)


def test_check_exit_code(tiny_model_dir: Path) -> None:
    """Issue 12: `check` exited 0 even when a prompt was blocked; --exit-code says so with 1."""
    base = ["check", "-", "-c", "a dog", "-m", str(tiny_model_dir), "--exit-code"]
    blocked = run(*base, "-t", "0", input="one\ntwo\n")
    assert blocked.exit_code == 1 and blocked.stdout.count("[FIRED]") == 2
    allowed = run(*base, "-t", "1", input="one\ntwo\n")
    assert allowed.exit_code == 0
    assert run(*base[:-1], "-t", "0", input="one\n").exit_code == 0  # opt-in only


def test_check_keeps_third_party_output_off_stderr(tiny_model_dir: Path) -> None:
    """Issue 12: transformers' "Loading weights" bar reached stderr; --verbose brings it back."""
    pytest.importorskip("sentence_transformers")
    args = ["check", "hi", "-c", "a dog", "-m", str(tiny_model_dir), "-b", "torch"]
    quiet = run(*args)
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""
    loud = run(*args, "--verbose")
    assert loud.exit_code == 0 and "Loading weights" in loud.stderr


def test_classify_round_trip(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = [
        {"premise": f"the cat sat {i}", "hypothesis": "a dog", "id": i}
        for i in range(5)
    ]
    src, dst = tmp_path / "pairs.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    r = run("classify", "--input", str(src), "--output", str(dst), "-m", str(tiny_model_dir),
            "--batch-size", "2")  # fmt: skip
    assert r.exit_code == 0, r.output
    out = [json.loads(x) for x in dst.read_text().splitlines()]
    assert [o["id"] for o in out] == list(range(5))
    for o in out:
        assert o["label"] in {"entailment", "neutral", "contradiction"}
        assert o["entailment"] + o["neutral"] + o["contradiction"] == pytest.approx(
            1, abs=1e-5
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "pairs.jsonl"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00not utf8\n", "is not UTF-8"),
        (b'{"premise": "a", "hypothesis": "b"}\nnot json\n', "line 2: not valid JSON"),
        (b'["a", "b"]\n', "line 1: expected a JSON object"),
        (b'{"premise": "a"}\n', "line 1 -> hypothesis: must be a non-empty string"),
        (
            b'{"premise": "", "hypothesis": "b"}\n',
            "line 1 -> premise: must be a non-empty",
        ),
        (b"\n", "has no rows"),
    ],
)
def test_classify_bad_files_exit_2(
    tiny_model_dir: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(content)
    r = run("classify", "-i", str(src), "-o", str(dst), "-m", str(tiny_model_dir))
    assert r.exit_code == 2 and message in r.stderr
    assert not dst.exists()


def test_classify_missing_input_exits_2(tmp_path: Path) -> None:
    r = run(
        "classify", "-i", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "o.jsonl")
    )
    assert r.exit_code == 2 and "input file not found" in r.stderr


def test_help_documents_every_option() -> None:
    for cmd in ("check", "classify"):
        r = run(cmd, "--help")
        assert r.exit_code == 0
    text = run("check", "--help").stdout
    for opt in (
        "--condition",
        "--model",
        "--backend",
        "--precision",
        "--threshold",
        "--json",
        "--threads",
        "--exit-code",
        "--verbose",
    ):
        assert opt in text


def write_pairs(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


PAIR_ROWS = [{"premise": "the cat sat", "hypothesis": "a dog", "id": 1}]


def _writable(folder: Path) -> bool:
    try:
        fd, name = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    Path(name).unlink()
    return True


@pytest.mark.parametrize(
    ("make_output", "message"),
    [
        (
            lambda d: d,
            r"--output .* is a directory; pass a file path such as .*out\.jsonl",
        ),
        (
            lambda d: d / "missing" / "out.jsonl",
            r"--output folder .*missing does not exist; create it \(mkdir -p",
        ),
        (
            lambda d: (d / "file.txt").write_text("x") and d / "file.txt" / "out.jsonl",
            r"--output folder .*file\.txt is not a folder",
        ),
        (
            lambda d: Path("/sys/out.jsonl"),
            r"--output /sys/out\.jsonl: cannot write in /sys \(.+\); pick a writable folder",
        ),
    ],
)
def test_classify_bad_output_fails_before_scoring(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch, make_output, message: str
) -> None:
    src = write_pairs(tmp_path / "in.jsonl", PAIR_ROWS)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    dst = make_output(out_dir)
    if dst.parent == Path("/sys") and _writable(Path("/sys")):
        pytest.skip("/sys is writable here: no unwritable folder to test with")
    import crossingguard.inference.scorer as scorer_module

    def no_scoring(*args, **kwargs):
        raise AssertionError("the model was loaded before the output path was checked")

    monkeypatch.setattr(scorer_module, "load_scorer", no_scoring)
    r = run("classify", "-i", str(src), "-o", str(dst), "-m", str(tiny_model_dir))
    assert r.exit_code == 2, r.output
    assert re.search(f"^Error: {message}", r.stderr), r.stderr
    assert sorted(p.name for p in out_dir.iterdir()) in ([], ["file.txt"])


@pytest.mark.parametrize("field", ["label", "entailment", "neutral", "contradiction"])
def test_classify_never_overwrites_input_fields(
    tiny_model_dir: Path, tmp_path: Path, field: str
) -> None:
    rows = [*PAIR_ROWS, {"premise": "a b", "hypothesis": "c d", field: "gold"}]
    src, dst = write_pairs(tmp_path / "in.jsonl", rows), tmp_path / "out.jsonl"
    r = run("classify", "-i", str(src), "-o", str(dst), "-m", str(tiny_model_dir))
    assert r.exit_code == 2 and not dst.exists()
    assert f"row 2 already has the field(s) {field}, which classify writes" in r.stderr
    assert "--prefix nli_ to write nli_label, nli_entailment" in r.stderr
    r = run("classify", "-i", str(src), "-o", str(dst), "-m", str(tiny_model_dir),
            "--prefix", "nli_")  # fmt: skip
    assert r.exit_code == 0, r.output
    out = [json.loads(x) for x in dst.read_text().splitlines()]
    assert out[1][field] == "gold"
    assert out[1]["nli_label"] in {"entailment", "neutral", "contradiction"}
    assert set(out[0]) == {"premise", "hypothesis", "id", "nli_label",
                           "nli_entailment", "nli_neutral", "nli_contradiction"}  # fmt: skip


def test_classify_prompt_cap_and_windows(tiny_model_dir: Path, tmp_path: Path) -> None:
    long = "the cat sat on the mat. " * 40
    src = write_pairs(tmp_path / "in.jsonl", [{"premise": long, "hypothesis": "a dog"}])
    dst = tmp_path / "out.jsonl"
    args = ("classify", "-i", str(src), "-o", str(dst), "-m", str(tiny_model_dir))
    r = run(*args, "--max-prompt-chars", "100")
    assert r.exit_code == 2 and not dst.exists()
    assert (
        f"row 1 -> premise: {len(long):,} characters, more than --max-prompt-chars 100"
        in (r.stderr)
    )
    r = run(*args, "--window-tokens", "16", "--progress")
    assert r.exit_code == 0, r.output
    assert "scoring" in r.stderr  # the forced progress bar
    r = run(*args, "--window-tokens", "4")
    assert r.exit_code == 2 and "--window-tokens" in r.stderr
