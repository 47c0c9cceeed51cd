"""Load benchmark of the guard service on loopback: micro-batching on vs off, and the ceiling.

    python benchmarks/serve_load.py [--model crossingguard-nli-mini] [--clients 1,8,32]
        [--prompts 32] [--max-seconds 75] [--overload-clients 128] [--overload-seconds 15]
        [--out benchmarks/results/serve] [--readme README.md]

Each request is one prompt against the ``moderation`` pack (13 conditions, 28 hypotheses) on
``/v1/moderations``. Two ``crossingguard serve`` processes run side by side, one with
micro-batching (``--max-batch-size 32``) and one without (``--max-batch-size 1``: each request
is its own model call, as in a server that calls ``guard.check`` per request); both with
``--cache-size 0`` so repeated prompts are scored again. For 1, 8 and 32 concurrent clients
(each sends its next request when the last one is answered) the same prompts go to both servers
back to back, batched first: every prompt once, or cycling until 2 requests per client. The ceiling is ``Guard.check_batch`` of the same prompts in this
process, measured before and after the server runs. The overload run sends
``--overload-clients`` concurrent clients at the batched server (whose queue holds 64 requests)
and probes ``/healthz`` every 100 ms meanwhile. Every run stops issuing requests after
``--max-seconds``; the JSON says how many completed.

Writes ``serve_load.json`` and ``serve_load.md`` to ``--out`` and, with ``--readme``, the table
between the README's ``serve-load`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme_section import replace_section

BATCHED_QUEUE = (
    64  # the batched server's --max-queue: 32 clients never fill it, overload does
)


# ---------------------------------------------------------------------- the load generator
@dataclass
class LoadResult:
    clients: int
    sent: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    stopped_early: bool = False
    abandoned: int = 0

    @property
    def requests_per_s(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float | None:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else None

    def summary(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "latencies_ms"}
        out["requests_per_s"] = self.requests_per_s
        for q in (50, 95, 99):
            out[f"p{q}_ms"] = self.percentile(q)
        return out


async def run_load(
    url: str,
    prompts: Sequence[str],
    clients: int,
    *,
    max_seconds: float,
    requests: int | None = None,
    loop_prompts: bool = False,
    honour_retry_after: bool = False,
    abandon_after_s: float | None = None,
) -> LoadResult:
    """``clients`` workers POST one prompt each to ``/v1/moderations``, cycling through
    ``prompts``, until ``requests`` (default: one per prompt) have been sent, or with
    ``loop_prompts`` until ``max_seconds``; latency is measured per request. Requests still
    unanswered ``abandon_after_s`` after the start are cancelled and counted as abandoned."""
    total = len(prompts) if requests is None else requests
    result = LoadResult(clients)
    next_index = 0
    deadline = time.perf_counter() + max_seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_index
        while True:
            if time.perf_counter() >= deadline:
                result.stopped_early = result.stopped_early or not loop_prompts
                return
            if next_index >= total and not loop_prompts:
                return
            prompt = prompts[next_index % len(prompts)]
            next_index += 1
            result.sent += 1
            start = time.perf_counter()
            try:
                r = await client.post("/v1/moderations", json={"input": prompt})
            except httpx.HTTPError as exc:
                key = type(exc).__name__
                result.errors[key] = result.errors.get(key, 0) + 1
                continue
            if r.status_code == 200:
                result.ok += 1
                result.latencies_ms.append((time.perf_counter() - start) * 1000)
                continue
            result.errors[str(r.status_code)] = (
                result.errors.get(str(r.status_code), 0) + 1
            )
            if honour_retry_after and r.status_code == 429:
                await asyncio.sleep(min(2.0, float(r.headers.get("retry-after", "1"))))

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=300) as client:
        start = time.perf_counter()
        try:
            await asyncio.wait_for(
                asyncio.gather(*(worker(client) for _ in range(clients))),
                abandon_after_s,
            )
        except asyncio.TimeoutError:
            result.abandoned = result.sent - result.ok - sum(result.errors.values())
        result.seconds = time.perf_counter() - start
    return result


async def probe_health(
    url: str, stop: asyncio.Event, every_s: float = 0.1
) -> dict[str, Any]:
    """Hit ``/healthz`` every ``every_s`` until ``stop``; count answers and their latency."""
    latencies, failures = [], 0
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        while not stop.is_set():
            start = time.perf_counter()
            try:
                r = await client.get("/healthz")
                if r.status_code == 200:
                    latencies.append((time.perf_counter() - start) * 1000)
                else:
                    failures += 1
            except httpx.HTTPError:
                failures += 1
            await asyncio.sleep(every_s)
    return {
        "probes": len(latencies) + failures,
        "ok": len(latencies),
        "failures": failures,
        "p50_ms": float(np.percentile(latencies, 50)) if latencies else None,
        "max_ms": max(latencies) if latencies else None,
    }


async def overload(
    url: str, prompts: Sequence[str], clients: int, seconds: float
) -> dict[str, Any]:
    stop = asyncio.Event()
    probe = asyncio.ensure_future(probe_health(url, stop))
    load = await run_load(
        url,
        prompts,
        clients,
        max_seconds=seconds,
        loop_prompts=True,
        honour_retry_after=True,
        abandon_after_s=seconds + 10,
    )
    stop.set()
    return {"load": load.summary(), "healthz": await probe}


# ---------------------------------------------------------------------- servers and metrics
class Server:
    """A ``crossingguard serve`` subprocess on a free loopback port."""

    def __init__(self, name: str, args: list[str]) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.name = name
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-c", "from crossingguard.cli.app import main; main()", "serve",
               "--port", str(self.port), "--log-level", "warning", *args]  # fmt: skip
        self.command = "crossingguard serve " + " ".join(cmd[5:])
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"{self.name} server exited: {self.proc.stderr.read()}"
                )  # type: ignore[union-attr]
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name} server not ready after {timeout:.0f} s")

    def batch_stats(self) -> tuple[float, float]:
        """(batches, items) so far, from the server's Prometheus metrics."""
        text = httpx.get(self.url + "/metrics", timeout=10).text
        values = {}
        for line in text.splitlines():
            if line.startswith(
                ("crossingguard_batch_items_count ", "crossingguard_batch_items_sum ")
            ):
                name, value = line.split()
                values[name] = float(value)
        return values.get("crossingguard_batch_items_count", 0.0), values.get(
            "crossingguard_batch_items_sum", 0.0
        )

    def rss_mb(self) -> float | None:
        """Resident memory of the server process (Linux /proc), model loaded and warmed."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text(encoding="utf-8")
        except OSError:
            return None
        kb = next(
            (
                int(line.split()[1])
                for line in status.splitlines()
                if line.startswith("VmRSS:")
            ),
            None,
        )
        return None if kb is None else kb / 1024

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure(
    server: Server, prompts: Sequence[str], clients: int, max_seconds: float
) -> dict[str, Any]:
    """One run: every prompt once, or two requests per client if that is more (so 32 clients
    are not measured only while ramping up and down)."""
    before = server.batch_stats()
    requests = max(len(prompts), 2 * clients)
    result = asyncio.run(
        run_load(
            server.url, prompts, clients, max_seconds=max_seconds, requests=requests
        )
    )
    after = server.batch_stats()
    batches, items = after[0] - before[0], after[1] - before[1]
    out = result.summary()
    out["mean_batch_prompts"] = items / batches if batches else None
    print(
        f"  {server.name:9s} {clients:3d} clients: {out['requests_per_s']:6.2f} req/s, "
        f"p50 {out['p50_ms'] or 0:7.0f} ms, p99 {out['p99_ms'] or 0:7.0f} ms, "
        f"errors {sum(result.errors.values())}, batch {out['mean_batch_prompts'] or 0:.1f}",
        flush=True,
    )
    return out


def offline_ceiling(model: str | None, prompts: Sequence[str]) -> dict[str, Any]:
    from crossingguard.guard import Guard

    guard = Guard.from_policy("moderation", model=model, cache_size=0)
    guard.check_batch(list(prompts[:2]))  # warm-up, as the server does
    start = time.perf_counter()
    guard.check_batch(list(prompts))
    seconds = time.perf_counter() - start
    print(f"  offline check_batch: {len(prompts) / seconds:6.2f} prompts/s", flush=True)
    return {
        "prompts": len(prompts),
        "seconds": seconds,
        "prompts_per_s": len(prompts) / seconds,
    }


# ---------------------------------------------------------------------- prompts and report
def load_prompts(n: int, seed: int) -> list[str]:
    """Half harmful goals (JBB behaviors), half everyday instructions (Alpaca), interleaved."""
    from crossingguard.toolkit.evaluation.guard_datasets import load_examples

    half = n // 2
    harmful = [e.text for e in load_examples("jbb_behaviors", limit=half, seed=seed)]
    benign = [
        e.text for e in load_examples("alpaca_harmless", limit=n - half, seed=seed)
    ]
    mixed = [p for pair in zip(harmful, benign, strict=False) for p in pair]
    random.Random(seed).shuffle(mixed)
    return mixed


def fmt(x: float | None, digits: int = 0) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def markdown(report: dict[str, Any]) -> str:
    ceiling = report["offline"]["prompts_per_s"]
    lines = [
        (
            f"Model `{report['model']}` ({report['backend']}), moderation pack (13 conditions, "
            f"{report['pairs_per_prompt']} pairs per prompt), {report['prompts']['n']} prompts "
            f"(mean {report['prompts']['mean_chars']:.0f} characters), one prompt per request, "
            f"loopback, {report['machine']['cpus']} CPU cores shared with the load generator "
            f"(and other jobs: 1-minute load average {report['machine']['load_avg_1min']['start']:.1f} "
            f"at the start, {report['machine']['load_avg_1min']['end']:.1f} at the end). "
            f"Offline `Guard.check_batch` ceiling: **{ceiling:.2f} prompts/s** "
            f"(before {report['offline_runs'][0]['prompts_per_s']:.2f}, after "
            f"{report['offline_runs'][1]['prompts_per_s']:.2f}). Server memory (RSS) once "
            f"ready: {fmt(report['server_rss_mb']['ready']['batched'])} MB, after the runs: "
            f"{fmt(report['server_rss_mb']['end']['batched'])} MB (batched server)."
        ),
        "",
        "| clients | batching | requests | req/s | vs offline | p50 ms | p95 ms | p99 ms | errors | mean batch (prompts) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in report["runs"]:
        lines.append(
            f"| {run['clients']} | {run['batching']} | {run['ok']}/{run['sent']} | "
            f"{run['requests_per_s']:.2f} | "
            f"{run['requests_per_s'] / ceiling:.2f}x | {fmt(run['p50_ms'])} | {fmt(run['p95_ms'])} | "
            f"{fmt(run['p99_ms'])} | {sum(run['errors'].values())} | {fmt(run['mean_batch_prompts'], 1)} |"
        )
    t = report["targets"]
    lines += [
        "",
        (
            f"At {t['clients']} clients: batched / offline = **{t['batched_vs_offline']:.2f}x** "
            f"(target >= 0.8x: {'met' if t['batched_vs_offline'] >= 0.8 else 'not met'}), "
            f"batched / unbatched = **{t['batched_vs_unbatched']:.2f}x** "
            f"(target >= 2x: {'met' if t['batched_vs_unbatched'] >= 2 else 'not met'})."
        ),
    ]
    if report.get("overload"):
        o = report["overload"]
        h = o["healthz"]
        errors = o["load"]["errors"]
        lines += [
            "",
            (
                f"Overload: {o['load']['clients']} clients for {o['load']['seconds']:.0f} s against the "
                f"batched server (queue {BATCHED_QUEUE}): {o['load']['ok']} answered, "
                f"{errors.get('429', 0)} refused with 429 + Retry-After, "
                f"{o['load'].get('abandoned', 0)} still unanswered 10 s after the end (abandoned), "
                f"{sum(v for k, v in errors.items() if k != '429')} other errors; `/healthz` answered "
                f"{h['ok']} of {h['probes']} probes (p50 {fmt(h['p50_ms'], 1)} ms, max "
                f"{fmt(h['max_ms'], 1)} ms)."
            ),
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--model", default=None, help="model for both servers (default: built-in)"
    )
    ap.add_argument(
        "--clients", default="1,8,32", help="comma-separated concurrency levels"
    )
    ap.add_argument("--prompts", type=int, default=32, help="distinct prompts")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=75, help="cap per run")
    ap.add_argument(
        "--max-wait-ms", type=float, default=5.0, help="batched server's --max-wait-ms"
    )
    ap.add_argument(
        "--overload-clients", type=int, default=128, help="0 skips the overload run"
    )
    ap.add_argument("--overload-seconds", type=float, default=15)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/serve")
    ap.add_argument(
        "--readme", type=Path, default=None, help="update its serve-load section"
    )
    args = ap.parse_args(argv)
    levels = [int(c) for c in args.clients.split(",") if c.strip()]

    from crossingguard.guard import conditions_from_policy
    from crossingguard.inference.scorer import load_scorer
    from crossingguard.policy import load_policy

    load_start = os.getloadavg()[0]
    prompts = load_prompts(args.prompts, args.seed)
    scorer = load_scorer(args.model)
    model_name, backend = scorer.name, scorer.backend
    del scorer
    pairs = sum(len(c.texts) for c in conditions_from_policy(load_policy("moderation")))
    # --timeout 120: measure throughput, not the timeout, even on a slow shared machine (32
    # queued one-prompt requests take ~32 s at 1 prompt/s); timeouts have their own tests
    common = ["--cache-size", "0", "--timeout", "120"]
    if args.model:
        common += ["--model", args.model]
    print(f"{len(prompts)} prompts, model {model_name} ({backend})", flush=True)
    offline_runs = [offline_ceiling(args.model, prompts)]

    batched = Server("batched", [*common, "--max-batch-size", "32", "--max-wait-ms",
                                 str(args.max_wait_ms), "--max-queue", str(BATCHED_QUEUE)])  # fmt: skip
    unbatched = Server("unbatched", [*common, "--max-batch-size", "1"])
    runs = []
    overload_result = None
    try:
        batched.wait_ready()
        unbatched.wait_ready()
        rss_ready = {"batched": batched.rss_mb(), "unbatched": unbatched.rss_mb()}
        for clients in levels:
            for server, label in ((batched, "on"), (unbatched, "off")):
                run = measure(server, prompts, clients, args.max_seconds)
                runs.append({"batching": label, **run})
        if args.overload_clients:
            overload_result = asyncio.run(
                overload(
                    batched.url, prompts, args.overload_clients, args.overload_seconds
                )
            )
            print(f"  overload: {overload_result}", flush=True)
        rss_end = {"batched": batched.rss_mb(), "unbatched": unbatched.rss_mb()}
    finally:
        batched.stop()
        unbatched.stop()
    offline_runs.append(offline_ceiling(args.model, prompts))
    ceiling = float(np.mean([r["prompts_per_s"] for r in offline_runs]))

    top = max(levels)
    on = next(r for r in runs if r["clients"] == top and r["batching"] == "on")
    off = next(r for r in runs if r["clients"] == top and r["batching"] == "off")
    report = {
        "command": "python benchmarks/serve_load.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "model": model_name,
        "backend": backend,
        "pairs_per_prompt": pairs,
        "servers": {"batched": batched.command, "unbatched": unbatched.command},
        "server_rss_mb": {"ready": rss_ready, "end": rss_end},
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "load_avg_1min": {"start": load_start, "end": os.getloadavg()[0]},
        },
        "prompts": {
            "n": len(prompts),
            "sources": ["jbb_behaviors", "alpaca_harmless"],
            "seed": args.seed,
            "mean_chars": float(np.mean([len(p) for p in prompts])),
        },
        "offline_runs": offline_runs,
        "offline": {"prompts_per_s": ceiling},
        "runs": runs,
        "overload": overload_result,
        "targets": {
            "clients": top,
            "batched_vs_offline": on["requests_per_s"] / ceiling,
            "batched_vs_unbatched": on["requests_per_s"] / off["requests_per_s"]
            if off["requests_per_s"]
            else float("inf"),
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serve_load.json").write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    text = markdown(report)
    (args.out / "serve_load.md").write_text(text, encoding="utf-8")
    print(text)
    if args.readme:
        replace_section(args.readme, "serve-load", text)


if __name__ == "__main__":
    main()
