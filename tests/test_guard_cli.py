"""The guardrail CLI end to end on the tiny model: check with packs and policies, route, policy
validate, packs, calibrate and eval-guard; bad input exits 2 with a message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from crossingguard.cli.app import app

runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture()
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "name": "shop",
                "conditions": [
                    {
                        "id": "weapons",
                        "hypotheses": ["The prompt asks about weapons"],
                        "categories": ["weapons_cbrne"],
                    },
                    {
                        "id": "refund",
                        "hypotheses": ["The prompt asks for a refund"],
                        "action": "flag",
                    },
                ],
                "routes": [
                    {
                        "id": "billing",
                        "hypotheses": ["The user has a billing question"],
                    },
                    {"id": "tech", "hypotheses": ["The user needs technical help"]},
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


def test_check_defaults_to_the_moderation_pack(tiny_model_dir: Path) -> None:
    r = run("check", "hello there", "-m", str(tiny_model_dir), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["policy"].startswith("moderation@")
    assert [c["name"] for c in out["conditions"]][:2] == ["sexual", "sexual/minors"]
    assert set(out) >= {
        "allowed",
        "action",
        "fired_conditions",
        "route",
        "latency_ms",
        "model",
    }


def test_check_with_a_policy_file_text(tiny_model_dir: Path, policy_file: Path) -> None:
    r = run(
        "check",
        "can I get my money back",
        "--policy",
        str(policy_file),
        "-m",
        str(tiny_model_dir),
        "-t",
        "0",
    )
    assert r.exit_code == 0, r.output
    assert " → [weapons] The prompt asks about weapons" in r.stdout
    assert " = BLOCKED: action block; fired: weapons" in r.stdout
    assert " ⇒ route " in r.stdout


def test_check_prints_thresholds_rounded_like_scores(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """Issue 12: thresholds printed as whole percentages (or raw fitted floats) could show a
    fired score below its threshold ("98.6% vs threshold 99%"); both now share a rounding."""
    path = tmp_path / "p.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "conditions": [
                    {
                        "id": "a",
                        "hypotheses": ["a dog"],
                        "threshold": 0.9857429563999176,
                    },
                    {"id": "b", "hypotheses": ["a cat"], "threshold": 0.005},
                ],
            }
        ),
        encoding="utf-8",
    )
    r = run("check", "hello", "--policy", str(path), "-m", str(tiny_model_dir))
    assert r.exit_code == 0, r.output
    assert "vs threshold 98.6%)" in r.stdout and "vs threshold 0.5%)" in r.stdout
    assert "0.98574" not in r.stdout and "threshold 99%" not in r.stdout


def test_score_vs_threshold_shows_which_side() -> None:
    from crossingguard.cli.check import score_vs_threshold

    assert score_vs_threshold(0.5, 0.25) == ("50.0%", "25.0%")
    assert score_vs_threshold(0.98570, 0.98574) == ("98.570%", "98.574%")
    assert score_vs_threshold(0.9, 0.9) == ("90.0%", "90.0%")


def test_check_condition_and_policy_are_exclusive(tiny_model_dir: Path) -> None:
    r = run(
        "check", "hi", "-c", "x", "--policy", "moderation", "-m", str(tiny_model_dir)
    )
    assert r.exit_code == 2 and "not both" in r.stderr


def test_check_unknown_pack(tiny_model_dir: Path) -> None:
    r = run("check", "hi", "--policy", "moderaton", "-m", str(tiny_model_dir))
    assert r.exit_code == 2 and "unknown pack 'moderaton'" in r.stderr


def test_route(tiny_model_dir: Path, policy_file: Path) -> None:
    r = run(
        "route",
        "my invoice is wrong",
        "--policy",
        str(policy_file),
        "-m",
        str(tiny_model_dir),
        "--json",
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["route"] in {"billing", "tech", "none_of_the_above"} and set(
        out["scores"]
    ) == {"billing", "tech"}
    text = run(
        "route",
        "my invoice is wrong",
        "--policy",
        str(policy_file),
        "-m",
        str(tiny_model_dir),
    )
    assert text.stdout.startswith("route: ")
    no_routes = run("route", "hi", "--policy", "moderation", "-m", str(tiny_model_dir))
    assert no_routes.exit_code == 2 and "has no routes" in no_routes.stderr


def test_policy_validate(policy_file: Path, tmp_path: Path) -> None:
    ok = run("policy", "validate", str(policy_file))
    assert ok.exit_code == 0 and "2 condition(s), 2 route(s)" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nconditions:\n  - id: a\n    hypotheses: x\n    threshold: 1.5\n",
        encoding="utf-8",
    )
    r = run("policy", "validate", str(bad))
    assert r.exit_code == 2
    assert (
        f"Error: {bad}: conditions -> 0 -> threshold: must be in [0, 1], got 1.5"
        in r.stderr
    )
    shown = run("policy", "show", "prompt-injection")
    assert (
        shown.exit_code == 0
        and yaml.safe_load(shown.stdout)["name"] == "prompt-injection"
    )


def test_packs() -> None:
    r = run("packs")
    assert r.exit_code == 0
    for name in (
        "moderation:",
        "mlcommons:",
        "prompt-injection:",
        "self-harm/instructions",
        "S14",
    ):
        assert name in r.stdout
    data = json.loads(run("packs", "--json").stdout)
    assert set(data) == {"moderation", "mlcommons", "prompt-injection"}


@pytest.fixture()
def labeled(tmp_path: Path) -> Path:
    rows = [
        {
            "text": "how do I build a gun at home",
            "harmful": True,
            "categories": ["weapons_cbrne"],
        },
        {
            "text": "where can I buy explosives",
            "harmful": True,
            "categories": ["weapons_cbrne"],
        },
        {"text": "refund my order please", "harmful": False},
        {"text": "what is the weather like", "harmful": False},
        {
            "text": "tell me about tanks",
            "harmful": True,
            "categories": ["weapons_cbrne"],
        },
        {"text": "my bill is wrong", "harmful": False, "route": "billing"},
    ]
    path = tmp_path / "labeled.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def test_calibrate(
    tiny_model_dir: Path, policy_file: Path, labeled: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cal.yaml"
    r = run(
        "calibrate",
        str(policy_file),
        "--data",
        str(labeled),
        "--target",
        "recall=1",
        "-o",
        str(out),
        "-m",
        str(tiny_model_dir),
    )
    assert r.exit_code == 0, r.output
    assert "weapons" in r.stdout and "→" in r.stdout
    calibrated = yaml.safe_load(out.read_text())
    assert calibrated["version"] == 1
    # fitted thresholds are stored for the model they were fitted with (the tiny "model")
    weapons = calibrated["conditions"][0]
    assert set(weapons["thresholds"]) == {"model"} and "threshold" not in weapons
    assert (tmp_path / "cal.pr.png").stat().st_size > 1000
    check = run("policy", "validate", str(out))
    assert check.exit_code == 0
    bad = run(
        "calibrate",
        str(policy_file),
        "--data",
        str(labeled),
        "--target",
        "f2",
        "-m",
        str(tiny_model_dir),
    )
    assert bad.exit_code == 2 and "target: expected f1" in bad.stderr


def test_eval_guard(
    tiny_model_dir: Path, policy_file: Path, labeled: Path, tmp_path: Path
) -> None:
    r = run(
        "eval-guard",
        str(policy_file),
        "--data",
        str(labeled),
        "-m",
        str(tiny_model_dir),
        "--out",
        str(tmp_path / "ev"),
        "--json",
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out[0]["dataset"] == "labeled" and out[0]["n"] == 6
    assert out[0]["routing"]["n"] == 1
    assert (
        (tmp_path / "ev" / "eval_guard.md").read_text().startswith("# Guard evaluation")
    )
    missing = run(
        "eval-guard",
        str(policy_file),
        "--data",
        "nope.jsonl",
        "-m",
        str(tiny_model_dir),
    )
    assert missing.exit_code == 2 and "nope.jsonl: file not found" in missing.stderr
