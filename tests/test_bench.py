"""`crossingguard bench`: the comparison harness, its parts, and the shipped models' dtype.

The end-to-end test runs `--quick` on the tiny random model (scores mean nothing; shapes,
agreement of identical computations and the written files do). Speed is never asserted.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crossingguard.errors import DataError
from crossingguard.toolkit.benchmarking import report, runner
from crossingguard.toolkit.benchmarking.profile import (
    ModelShape,
    padding_stats,
    row_flops,
)
from crossingguard.toolkit.benchmarking.systems import Scores, SystemSpec
from crossingguard.toolkit.benchmarking.workloads import Workload


# ----------------------------------------------------------------------------- pure parts
def test_row_flops_matches_the_hand_count() -> None:
    shape = ModelShape(layers=2, hidden=4, intermediate=8)
    L = 3
    per_layer = 8 * L * 16 + 4 * L * L * 4 + 4 * L * 4 * 8
    assert row_flops(L, shape) == 2 * per_layer + 2 * 16 + 2 * 4 * 3


def test_padding_stats_sorted_beats_arrival_order() -> None:
    lengths = [10, 2, 10, 2]
    arrival = padding_stats(lengths, 2, sort=False)
    sorted_ = padding_stats(lengths, 2, sort=True)
    assert arrival == {"real_tokens": 24, "padded_tokens": 40, "waste": 1 - 24 / 40}
    assert sorted_["padded_tokens"] == 24 and sorted_["waste"] == 0.0


def test_workload_needs_one_kind_of_hypotheses() -> None:
    with pytest.raises(ValueError, match="either shared hypotheses or one per prompt"):
        Workload("w", "w", "throughput", ("a",))
    w = Workload("w", "w", "throughput", ("p1", "p2"), hypotheses=("h1", "h2", "h3"))
    assert w.pairs(1, 2) == [("p2", "h1"), ("p2", "h2"), ("p2", "h3")]


def _run(
    name: str,
    entail: list[float],
    probs: list[list[float]] | None,
    *,
    three_way: bool = True,
) -> runner.Run:
    arr = None if probs is None else np.asarray(probs, dtype=np.float32)
    run = runner.Run(name, "nli", prompts=len(entail), pairs=len(entail))
    run.scores = Scores(np.asarray(entail, dtype=np.float32), arr, three_way)
    return run


def test_accuracy_metrics_against_the_reference_and_gold() -> None:
    wl = Workload(
        "nli",
        "nli",
        "throughput",
        ("a", "b", "c", "d"),
        pair_hypotheses=("x", "y", "z", "w"),
        labels=np.array([0, 1, 2, 0]),
    )
    ref = _run(
        "ref",
        [0.9, 0.1, 0.1, 0.8],
        [[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]],
    )
    same = _run("same", [0.9, 0.1, 0.1, 0.8], ref.scores.probs.tolist())  # type: ignore[union-attr]
    two_way = _run(
        "pipe",
        [0.9, 0.2, 0.2, 0.3],
        [[0.9, 0, 0.1], [0.2, 0, 0.8], [0.2, 0, 0.8], [0.3, 0, 0.7]],
        three_way=False,
    )
    emb = _run("emb", [0.5, 0.4, 0.3, 0.2], None, three_way=False)

    m = runner.accuracy_metrics(same, ref, wl)
    assert m["argmax_agreement"] == 1.0 and m["decision_agreement"] == 1.0
    assert m["macro_f1"] == 1.0 and m["macro_f1_delta_vs_reference"] == 0.0

    m = runner.accuracy_metrics(two_way, ref, wl)
    assert "argmax_agreement" not in m  # no neutral class: no 3-way argmax to compare
    assert m["decision_agreement"] == 0.75  # the last pair no longer fires
    assert m["macro_f1_delta_vs_reference"] < 0  # it can never predict neutral

    m = runner.accuracy_metrics(emb, ref, wl)
    assert not {"argmax_agreement", "decision_agreement", "macro_f1"} & m.keys()


class _SlowSystem:
    """Scores each pair in a fixed 20 ms, so a small budget must stop at a prefix."""

    spec = SystemSpec("fake", "fake", "-")

    def score_pairs(self, pairs):
        import time

        time.sleep(0.02 * len(pairs))
        return Scores(
            np.zeros(len(pairs), np.float32), np.zeros((len(pairs), 3), np.float32)
        )

    def score_prompts(self, prompts, hypotheses):
        return self.score_pairs([(p, h) for p in prompts for h in hypotheses])


def test_time_budget_stops_calls_at_a_prefix_and_repeats_score_the_same_prefix() -> (
    None
):
    wl = Workload(
        "latency", "l", "calls", tuple(f"p{i}" for i in range(40)), hypotheses=("h",)
    )
    runs = runner.time_systems({"fake": _SlowSystem()}, wl, repeats=2, budget_s=0.05)
    run = runs["fake"]
    assert runner.MIN_CALLS <= run.prompts < 40
    assert len(run.seconds) == 2 and len(run.call_ms) == 2 * run.prompts
    assert run.metrics()["latency_ms"]["calls"] == 2 * run.prompts


def test_speed_ratio_compares_only_the_common_prefix() -> None:
    fast = runner.Run(
        "fast", "w", prompts=4, steps=[[(2, 1.0), (4, 9.0)], [(2, 2.0), (4, 9.0)]]
    )
    slow = runner.Run("slow", "w", prompts=2, steps=[[(2, 3.0)], [(2, 4.0)]])
    # The prompts after the slow system's prefix (the 9 s chunk) do not count against "fast".
    assert runner.speed_ratio(fast, slow, calls=False) == {"ratio": 3.0, "prompts": 2}
    assert runner.speed_ratio(fast, slow, calls=True) == {
        "ratio": 3.5 / 1.5,
        "prompts": 2,
    }
    slow.error = "broken"
    assert runner.speed_ratio(fast, slow, calls=False) is None


def test_guard_row_is_not_applicable_to_pair_workloads() -> None:
    system = _SlowSystem()
    system.spec = SystemSpec("guard", "guard", "-", pair_scoring=False)  # type: ignore[misc]
    wl = Workload("nli", "n", "throughput", ("a",), pair_hypotheses=("b",))
    runs = runner.time_systems({"guard": system}, wl, repeats=1, budget_s=1)
    assert runs["guard"].error and "not applicable" in runs["guard"].error


# ----------------------------------------------------------------------------- subprocess RSS
def test_peak_rss_child_does_not_inherit_the_parents_peak(tiny_model_dir: Path) -> None:
    from crossingguard.toolkit.benchmarking.memory import (
        _peak_rss_mb,
        measure_in_subprocess,
    )

    ballast = np.ones(
        300 * 2**20 // 8
    )  # 300 MB touched here; a fork+exec child must not report it
    parent = _peak_rss_mb()
    spec = SystemSpec(
        "ours-onnx", "onnx", str(tiny_model_dir), precision="fp32", threads=1
    )
    out = measure_in_subprocess(spec, ["the cat sat on the mat"], ["it is about a cat"])
    del ballast
    assert "error" not in out, out
    assert 10 < out["peak_rss_mb"] < parent - 200
    assert out["cold_start_s"] > 0


def test_rss_child_error_names_the_failure(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    from crossingguard.toolkit.benchmarking.memory import measure_in_subprocess

    spec = SystemSpec("ours-onnx", "onnx", str(tmp_path / "missing"), threads=1)
    out = measure_in_subprocess(spec, ["a"], ["b"])
    assert out["error"].startswith("exit ") and "missing" in out["error"]


# ----------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def shared_data() -> Path:
    from crossingguard.toolkit.data.paths import data_root

    try:
        root = data_root()
    except DataError:
        pytest.skip("shared data folder not available")
    if not (root / "guard" / "wildguardmix_sample").is_dir():
        pytest.skip("guard data not available")
    return root


@pytest.fixture(scope="module")
def tiny_embedder(
    tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    pytest.importorskip("torch")
    from crossingguard.guard.routing.embedding import export_embedder

    return export_embedder(tiny_model_dir, tmp_path_factory.mktemp("bench-emb") / "emb")


def test_bench_quick_on_the_tiny_model_writes_every_report(
    shared_data: Path, tiny_model_dir: Path, tiny_embedder: Path, tmp_path: Path
) -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("matplotlib")
    from typer.testing import CliRunner

    from crossingguard.cli.app import app

    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--model",
            str(tiny_model_dir),
            "--quick",
            "--threads",
            "1",
            "--no-rss",
            "--systems",
            "ours-onnx,guard,cross-encoder,zero-shot,embedding",
            "--embedder",
            str(tiny_embedder),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / report.JSON_FILE).read_text())
    assert list(data["workloads"]) == [
        "nli",
        "guard",
        "guard-long",
        "latency",
        "routing",
    ]
    assert data["reference"] == "CrossEncoder.predict fp32 (batch 32, default)"
    assert data["default_system"] == "crossingguard onnx fp32"
    nli = data["workloads"]["nli"]["systems"]
    # Same weights, same fp32 maths, pairs that fit the window: our scorer agrees with the card.
    assert nli["crossingguard onnx fp32"]["argmax_agreement"] == 1.0
    assert abs(nli["crossingguard onnx fp32"]["macro_f1_delta_vs_reference"]) < 1e-9
    assert (
        "argmax_agreement" not in nli["transformers zero-shot pipeline (multi_label)"]
    )
    assert (
        "not applicable"
        in nli["crossingguard Guard.check_batch (default backend)"]["error"]
    )
    guard = data["workloads"]["guard"]["systems"]
    assert (
        guard["crossingguard Guard.check_batch (default backend)"]["pairs"]
        == 4 * data["workloads"]["guard"]["pairs_per_prompt"]
    )
    lat = data["workloads"]["latency"]["systems"]["crossingguard onnx fp32"][
        "latency_ms"
    ]
    assert lat["calls"] == 5 and lat["p50"] <= lat["p99"]
    routing = data["workloads"]["routing"]
    assert routing["pairs_per_prompt"] == 77
    assert (
        "route_accuracy"
        in routing["systems"]["embedding similarity (all-MiniLM-L6-v2, ONNX)"]
    )
    assert len(data["targets"]) == 6 and data["targets"][0]["target"].startswith(
        "guard workload"
    )
    prof = data["profile"]
    assert prof["pairs"] == 4 * data["workloads"]["guard"]["pairs_per_prompt"]
    assert set(prof["seconds"]) >= {"tokenize", "windowing", "model_forward", "total"}
    assert 0 < prof["flops"]["share_of_peak_end_to_end"] < 1
    md = (out / report.MD_FILE).read_text()
    assert "## Where the time goes" in md and "## Targets (issue 17)" in md
    if data["gpu"]["skipped"]:
        assert "GPU part skipped" in md
    assert (out / report.PNG_FILE).read_bytes()[:4] == b"\x89PNG"
    assert "| system |" in (out / report.README_FILE).read_text()


def test_bench_rejects_unknown_names(tiny_model_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from crossingguard.cli.app import app

    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--model",
            str(tiny_model_dir),
            "--workloads",
            "nli,speed",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert "--workloads: unknown speed" in result.output


# ----------------------------------------------------------------------------- shipped models
@pytest.mark.slow
@pytest.mark.parametrize("name", ["crossingguard-nli-mini", "crossingguard-nli-micro"])
def test_card_usage_loads_shipped_fp16_weights_as_fp32(name: str) -> None:
    torch = pytest.importorskip("torch")
    from safetensors import safe_open
    from sentence_transformers import CrossEncoder

    from crossingguard.inference.loading import builtin_model_dirs

    path = builtin_model_dirs()[name]
    with safe_open(str(path / "model.safetensors"), "pt") as f:
        assert (
            f.get_tensor(f.keys()[0]).dtype == torch.float16
        )  # storage stays half size
    assert (
        CrossEncoder(str(path)).model.dtype == torch.float32
    )  # no arguments, as the card
