"""Peak memory of each system, measured in a fresh subprocess.

Peak RSS only ever grows within a process, so one process cannot tell the systems apart: each
is built in its own ``python -m crossingguard.toolkit.benchmarking.memory`` child, which imports what the
system needs, loads it, scores a fixed set of pairs (the workload's longest, at batch 64) and
reports its peak RSS (``VmHWM``; see :func:`_peak_rss_mb`) plus the seconds from start to loaded (a cold
start: imports and model load). The numbers include the interpreter and every imported library,
as a user's process would.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crossingguard.toolkit.benchmarking.systems import SystemSpec

CHILD_TIMEOUT_S = 600


def _peak_rss_mb() -> float:
    """This process's peak RSS: ``VmHWM`` (reset by exec), else ``ru_maxrss``.

    Linux keeps ``ru_maxrss`` across fork + exec, so a child started from a large parent would
    report the parent's peak; ``VmHWM`` belongs to the new address space.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def measure_in_subprocess(
    spec: SystemSpec,
    prompts: Sequence[str],
    hypotheses: Sequence[str],
) -> dict[str, Any]:
    """Peak RSS (MB) and cold-start seconds of ``spec`` scoring ``prompts`` x ``hypotheses``."""
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job.json"
        job.write_text(
            json.dumps(
                {
                    "spec": spec.to_dict(),
                    "prompts": list(prompts),
                    "hypotheses": list(hypotheses),
                }
            ),
            encoding="utf-8",
        )
        try:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "crossingguard.toolkit.benchmarking.memory",
                    str(job),
                ],
                check=False,
                capture_output=True,
                text=True,
                timeout=CHILD_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {CHILD_TIMEOUT_S} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0][:300]}"}
    return json.loads(lines[-1])


def _child(job_path: str) -> None:
    start = time.perf_counter()
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    from crossingguard.toolkit.benchmarking.systems import build_system

    spec = SystemSpec(**job["spec"])
    system = build_system(spec)
    loaded_s = time.perf_counter() - start
    rss_loaded = _peak_rss_mb()
    if spec.pair_scoring:
        system.score_pairs([(p, h) for p in job["prompts"] for h in job["hypotheses"]])
    else:
        system.score_prompts(job["prompts"], job["hypotheses"])
    print(
        json.dumps(
            {
                "peak_rss_mb": round(_peak_rss_mb(), 1),
                "peak_rss_after_load_mb": round(rss_loaded, 1),
                "cold_start_s": round(loaded_s, 2),
            }
        )
    )


if __name__ == "__main__":
    _child(sys.argv[1])
