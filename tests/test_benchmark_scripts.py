"""The README-writing parts of the benchmark scripts (no model: scores and results are synthetic)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import eval_packs  # noqa: E402
import int8_decisions  # noqa: E402
import routing_results  # noqa: E402
from readme_section import replace_section  # noqa: E402

from crossingguard.policy import load_policy  # noqa: E402


def test_replace_section_changes_only_its_section(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- a:start -->\nold a\n<!-- a:end -->\nmiddle\n"
        "<!-- b:start -->\nold b\n<!-- b:end -->\nend\n",
        encoding="utf-8",
    )
    replace_section(readme, "a", "new a\n")
    assert readme.read_text(encoding="utf-8") == (
        "intro\n<!-- a:start -->\nnew a\n<!-- a:end -->\nmiddle\n"
        "<!-- b:start -->\nold b\n<!-- b:end -->\nend\n"
    )


def test_replace_section_without_markers_says_which(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="routing-results:start"):
        replace_section(readme, "routing-results", "table")
    assert readme.read_text(encoding="utf-8") == "no markers here\n"


def test_uncalibrated_resets_every_condition_threshold() -> None:
    policy = load_policy("prompt-injection")
    fitted = policy.model_copy(
        update={
            "conditions": [
                c.model_copy(update={"threshold": 0.9}) for c in policy.conditions
            ]
        }
    )
    base = eval_packs.uncalibrated(fitted)
    assert [base.condition_threshold(c) for c in base.conditions] == [
        base.defaults.threshold
    ] * len(base.conditions)
    assert [c.hypotheses for c in base.conditions] == [
        c.hypotheses for c in policy.conditions
    ]


def _result(accuracy: float, **extra) -> dict:
    return {"n": 100, "accuracy": accuracy, "macro_f1": accuracy - 0.01, **extra}


def test_routing_table_compares_hybrid_with_embedding(tmp_path: Path) -> None:
    run = tmp_path / "sebis"
    run.mkdir()
    (run / "routing_results.json").write_text(
        json.dumps(
            {
                "model": "m",
                "strategies": {
                    "nli": _result(0.6),
                    "embedding": _result(0.8, oos_auroc=0.7),
                    "hybrid": _result(
                        0.83,
                        oos_auroc=0.75,
                        **{"oos_recall@P0.95": 0.1, "in_scope_kept@P0.95": 0.4},
                        top_k=5,
                        weight=0.1,
                        shortlist_recall=0.95,
                        weight_sweep={"0.3": {"accuracy": 0.77, "macro_f1": 0.7}},
                    ),
                },
            }
        ),
        encoding="utf-8",
    )
    text = routing_results.table(
        tmp_path, ["sebis", "hwu64"]
    )  # hwu64 not run: left out
    rows = [line for line in text.splitlines() if line.startswith("| sebis")]
    assert len(rows) == 3
    hybrid = next(r for r in rows if "hybrid (top 5, weight 0.1)" in r)
    assert "| 0.830 | +3.0 pts | 0.820 | 0.750 | 0.100 | 0.400 |" in hybrid
    nli = next(r for r in rows if "| nli |" in r)
    assert "| 0.600 | - |" in nli
    assert "weight 0.3: 0.770" in text
    assert "HWU64" not in text


def test_int8_decision_agreement_counts_stops_and_fired_sets() -> None:
    import numpy as np

    thresholds = np.array([0.5, 0.7, 0.5])
    stops = np.array([True, True, False])  # the third condition only logs
    fp32 = np.array([[0.6, 0.1, 0.0], [0.2, 0.69, 0.9], [0.1, 0.1, 0.1]])
    int8 = np.array([[0.55, 0.1, 0.0], [0.2, 0.71, 0.9], [0.1, 0.1, 0.6]])
    out = int8_decisions.decision_agreement(thresholds, stops, fp32, int8)
    # prompt 2 crosses a stopping threshold; prompt 3 fires a log-only condition
    assert out["decision_agreement"] == pytest.approx(2 / 3)
    assert out["fired_set_agreement"] == pytest.approx(1 / 3)
    assert (out["stopped_fp32"], out["stopped_int8"]) == (1, 2)
    assert out["max_score_diff"] == pytest.approx(0.5)
