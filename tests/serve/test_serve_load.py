"""benchmarks/serve_load.py's load generator and report, against a live server on a fake scorer."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from fakes import FakeScorer
from servekit import make_app

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import serve_load


class SlowScorer(FakeScorer):
    def predict(self, pairs, *, batch_size=64):  # type: ignore[override]
        time.sleep(0.05)
        return super().predict(pairs, batch_size=batch_size)


def test_run_load_sends_the_requested_count_and_times_each(live_server) -> None:
    server = live_server(make_app())
    prompts = [f"prompt {i}" for i in range(10)]
    result = asyncio.run(serve_load.run_load(server.url, prompts, 3, max_seconds=30))
    assert (result.sent, result.ok, result.errors) == (10, 10, {})
    assert len(result.latencies_ms) == 10 and not result.stopped_early
    more = asyncio.run(
        serve_load.run_load(server.url, prompts, 4, max_seconds=30, requests=25)
    )
    assert (more.sent, more.ok) == (25, 25)
    summary = result.summary()
    assert summary["requests_per_s"] > 0 and summary["p50_ms"] <= summary["p99_ms"]


def test_overload_gets_429s_while_healthz_answers(live_server) -> None:
    server = live_server(make_app(SlowScorer(), max_batch_size=1, max_queue=2))
    out = asyncio.run(
        serve_load.overload(server.url, ["a b c"], clients=12, seconds=1.0)
    )
    assert out["load"]["errors"].get("429", 0) > 0
    assert out["load"]["ok"] > 0
    assert out["healthz"]["probes"] > 0 and out["healthz"]["failures"] == 0


def test_markdown_reports_the_targets_honestly() -> None:
    run = {
        "ok": 96,
        "sent": 96,
        "p50_ms": 10.0,
        "p95_ms": 20.0,
        "p99_ms": 30.0,
        "errors": {},
        "mean_batch_prompts": 4.0,
    }
    report = {
        "model": "m", "backend": "onnx", "pairs_per_prompt": 28,
        "prompts": {"n": 64, "mean_chars": 80.0}, "machine": {"cpus": 2, "load_avg_1min": {"start": 1.0, "end": 2.0}},
        "offline_runs": [{"prompts_per_s": 4.0}, {"prompts_per_s": 4.0}],
        "offline": {"prompts_per_s": 4.0},
        "runs": [
            {**run, "clients": 32, "batching": "on", "requests_per_s": 3.0},
            {**run, "clients": 32, "batching": "off", "requests_per_s": 2.0},
        ],
        "targets": {"clients": 32, "batched_vs_offline": 0.75, "batched_vs_unbatched": 1.5},
        "overload": None,
        "server_rss_mb": {"ready": {"batched": 150.0}, "end": {"batched": 200.0}},
    }  # fmt: skip
    text = serve_load.markdown(report)
    assert "| 32 | on | 96/96 | 3.00 | 0.75x | 10 | 20 | 30 | 0 | 4.0 |" in text
    assert "**0.75x** (target >= 0.8x: not met)" in text
    assert "**1.50x** (target >= 2x: not met)" in text
