from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crossingguard.cli.app import app

runner = CliRunner()


def test_intent_pairs_command_writes_both_files(
    tmp_path: Path, routing_data: Path
) -> None:
    res = runner.invoke(
        app,
        [
            "data",
            "intent-pairs",
            "--out",
            str(tmp_path),
            "--max-per-intent",
            "5",
            "--hard-negatives",
            "domain",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    for split, name in (
        ("train", "intent_nli_train.jsonl"),
        ("dev", "intent_nli_dev.jsonl"),
    ):
        lines = (tmp_path / name).read_text(encoding="utf-8").splitlines()
        assert len(lines) == report[split]["pairs"] > 0
        row = json.loads(lines[0])
        assert set(row) == {"premise", "hypothesis", "label", "source", "category"}
        assert row["label"] in (0, 1, 2)


def test_eval_routing_json(
    tmp_path: Path, tiny_model_dir: Path, tiny_embedder_dir: Path, routing_data: Path
) -> None:
    res = runner.invoke(
        app,
        ["eval-routing", "--dataset", "snips", "--strategy", "nli,embedding,hybrid", "--limit", "30",
         "--nli-limit", "10", "--model", str(tiny_model_dir), "--embedder", str(tiny_embedder_dir),
         "--weights", "0.2,0.8", "--json", "--out", str(tmp_path)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    s = out["strategies"]
    assert s["nli"]["n"] == 10 and s["embedding"]["n"] == s["hybrid"]["n"] == 30
    for m in s.values():
        assert 0.0 <= m["accuracy"] <= 1.0 and "oos_auroc" in m
    assert (tmp_path / "routing_results.json").is_file()


def test_eval_routing_table(tiny_embedder_dir: Path, routing_data: Path) -> None:
    res = runner.invoke(
        app,
        [
            "eval-routing",
            "-d",
            "sebis",
            "-s",
            "embedding",
            "--embedder",
            str(tiny_embedder_dir),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "embedding" in res.stdout and "OOS AUROC" in res.stdout


def test_eval_routing_intents_from_a_report_file(
    tmp_path: Path, tiny_embedder_dir: Path, routing_data: Path
) -> None:
    report = tmp_path / "split.json"
    report.write_text(json.dumps({"held_out": ["PlayMusic", "GetWeather", "RateBook"]}))
    res = runner.invoke(
        app,
        ["eval-routing", "-d", "snips", "-s", "embedding", "--intents", f"@{report}",
         "--oos-fraction", "0", "--embedder", str(tiny_embedder_dir), "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (
        out["set"]["routes"] == 3 and out["command_options"]["intents"] == f"@{report}"
    )
    res = runner.invoke(
        app,
        [
            "eval-routing",
            "-d",
            "snips",
            "--intents",
            "@missing.txt",
            "--embedder",
            str(tiny_embedder_dir),
        ],
    )
    assert res.exit_code == 2 and "--intents: no file missing.txt" in res.output
    res = runner.invoke(
        app,
        [
            "eval-routing",
            "-d",
            "snips",
            "--intents",
            "",
            "--embedder",
            str(tiny_embedder_dir),
        ],
    )
    assert res.exit_code == 2 and "--intents: no intent names in ''" in res.output


def test_eval_routing_bad_input_exits_2(
    tiny_embedder_dir: Path, routing_data: Path
) -> None:
    res = runner.invoke(
        app, ["eval-routing", "-s", "bm25", "--embedder", str(tiny_embedder_dir)]
    )
    assert res.exit_code == 2 and "--strategy: each must be one of" in res.output
    res = runner.invoke(
        app,
        [
            "eval-routing",
            "-d",
            "clinc",
            "-s",
            "embedding",
            "--embedder",
            str(tiny_embedder_dir),
        ],
    )
    assert res.exit_code == 2 and "dataset: must be one of" in res.output


def test_data_routes_writes_a_policy_that_route_reads(
    tmp_path: Path, tiny_model_dir: Path, tiny_embedder_dir: Path, routing_data: Path
) -> None:
    from crossingguard.policy import load_policy

    path = tmp_path / "snips.yaml"
    res = runner.invoke(
        app,
        [
            "data",
            "routes",
            "-d",
            "snips",
            "--examples",
            "2",
            "-s",
            "embedding",
            "--out",
            str(path),
        ],
    )
    assert res.exit_code == 0, res.output
    policy = load_policy(path)
    assert len(policy.routes) == 7 and all(len(r.examples) == 2 for r in policy.routes)
    assert policy.routing.strategy == "embedding"
    text = path.read_text(encoding="utf-8").replace(
        "routing:\n",
        f"routing:\n  options:\n    embedder_path: {tiny_embedder_dir}\n",
        1,
    )
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(
        app,
        [
            "route",
            "play some jazz",
            "--policy",
            str(path),
            "--model",
            str(tiny_model_dir),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["strategy"] == "embedding" and len(out["scores"]) == 7
