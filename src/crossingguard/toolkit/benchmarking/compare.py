"""`crossingguard bench`: every system, every workload, one process, the same weights and pairs.

:func:`run_bench` builds the workloads (:mod:`.workloads`) and systems (:mod:`.systems`), times
them (:mod:`.runner`), compares each system's scores with the fp32 ``CrossEncoder.predict``
reference, measures peak RSS in subprocesses (:mod:`.memory`), profiles the guard workload
(:mod:`.profile`), runs the GPU part where there is a GPU (:mod:`.gpu`) and writes Markdown, JSON
and a PNG chart (:mod:`.report`). ``quick=True`` is the CI-sized run.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from crossingguard.errors import InputError
from crossingguard.inference.cpu import cpu_model_name
from crossingguard.toolkit.benchmarking import runner, workloads
from crossingguard.toolkit.benchmarking.systems import (
    SystemChoice,
    SystemSpec,
    build_system,
    system_specs,
)

WORKLOADS = ("nli", "guard", "guard-long", "latency", "routing")
DEFAULT_OUT = Path("benchmarks/results/compare")
REFERENCE_KEY = "cross-encoder"


@dataclass(frozen=True)
class Sizes:
    """How much of each workload to score; ``budget_s`` caps a slow system per workload."""

    # Sized for about 10 minutes on 2 cores with the built-in mini: its 16-token sentence windows
    # make a long prompt dozens of model rows per hypothesis.
    nli_pairs: int = 256
    guard_prompts: int = 8
    long_prompts: int = 3
    long_min_tokens: int = 200
    latency_calls: int = 30
    routing_calls: int = 6
    repeats: int = 2
    budget_s: float = 6.0


QUICK = Sizes(
    nli_pairs=32,
    guard_prompts=4,
    long_prompts=2,
    latency_calls=5,
    routing_calls=2,
    repeats=1,
    budget_s=2.0,
)


@dataclass(frozen=True)
class BenchOptions:
    model: str | None = None
    out: Path = DEFAULT_OUT
    quick: bool = False
    sizes: Sizes | None = None  # overrides quick's / the full run's sizes
    systems: tuple[str, ...] | None = None  # keys of systems.FACTORIES; None: all
    workloads: tuple[str, ...] | None = None  # names in WORKLOADS; None: all
    threads: int | None = None
    embedder: str | None = None
    pack: str = "moderation"
    rss: bool = True
    profile: bool = True
    gpu: bool = True
    extra_batch_sizes: tuple[int, ...] = field(default=(64,))

    @property
    def effective_sizes(self) -> Sizes:
        return self.sizes or (QUICK if self.quick else Sizes())


def pack_hypotheses(pack: str) -> list[str]:
    """Every distinct hypothesis a pack's conditions score (templates applied), in order."""
    from crossingguard.guard import conditions_from_policy
    from crossingguard.policy.loader import load_policy

    texts = [t for c in conditions_from_policy(load_policy(pack)) for t in c.texts]
    return list(dict.fromkeys(texts))


def build_workloads(
    model_dir: Path, names: tuple[str, ...], sizes: Sizes, pack: str
) -> list[workloads.Workload]:
    from crossingguard.inference.encoding import load_tokenizer

    tok = load_tokenizer(model_dir)
    hyps = pack_hypotheses(pack)
    builders: dict[str, Callable[[], workloads.Workload]] = {
        "nli": lambda: workloads.nli_workload(sizes.nli_pairs),
        "guard": lambda: workloads.guard_workload(sizes.guard_prompts, hyps),
        "guard-long": lambda: workloads.long_guard_workload(
            sizes.long_prompts,
            hyps,
            count_tokens=lambda t: len(tok.encode(t).ids),
            min_tokens=sizes.long_min_tokens,
        ),
        "latency": lambda: workloads.latency_workload(sizes.latency_calls, hyps),
        "routing": lambda: workloads.routing_workload(sizes.routing_calls),
    }
    return [builders[n]() for n in names]


def machine_info() -> dict[str, Any]:
    cpu = cpu_model_name()
    versions: dict[str, str] = {}
    for mod in (
        "onnxruntime",
        "torch",
        "transformers",
        "sentence_transformers",
        "numpy",
    ):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
    }


def _reference_name(specs: dict[str, SystemSpec]) -> str | None:
    for name, spec in specs.items():
        if spec.key == REFERENCE_KEY and spec.batch_size is None:
            return name
    for name, spec in specs.items():
        if spec.key == "ours-torch":
            return name
    return None


def _rss_job(wls: list[workloads.Workload]) -> tuple[list[str], list[str]]:
    """The 3 longest prompts of the guard workloads with their hypotheses (batch 64 and more)."""
    guard = [w for w in wls if w.shared and w.mode == "throughput"] or [
        w for w in wls if w.shared
    ]
    if not guard:
        return [], []
    prompts = sorted({p for w in guard for p in w.prompts}, key=len)[-3:]
    return prompts, list(guard[0].hypotheses)


def run_bench(
    options: BenchOptions, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run everything ``options`` asks for, write the reports and return the results."""
    from crossingguard.inference.loading import resolve_model
    from crossingguard.toolkit.benchmarking import report

    names = options.workloads or WORKLOADS
    bad = [n for n in names if n not in WORKLOADS]
    if bad:
        raise InputError(
            f"--workloads: unknown {', '.join(bad)}; expected some of {', '.join(WORKLOADS)}"
        )
    sizes = options.effective_sizes
    resolved = resolve_model(options.model)
    model_dir = resolved.path
    started = datetime.now(timezone.utc)
    load_before = os.getloadavg()

    log(f"workloads: {', '.join(names)}")
    wls = build_workloads(model_dir, tuple(names), sizes, options.pack)
    choice = SystemChoice(
        options.systems, options.threads, options.embedder, options.extra_batch_sizes
    )
    specs = {s.label: s for s in system_specs(model_dir, choice)}
    systems: dict[str, Any] = {}
    load_errors: dict[str, str] = {}
    load_s: dict[str, float] = {}
    for label, spec in specs.items():
        log(f"loading {label}")
        t0 = time.perf_counter()
        try:
            systems[label] = build_system(spec)
        except Exception as exc:  # noqa: BLE001 - reported in its row; the others still run
            load_errors[label] = f"{type(exc).__name__}: {exc}"
            continue
        load_s[label] = time.perf_counter() - t0
    ref_name = _reference_name({k: v for k, v in specs.items() if k in systems})

    results: dict[str, Any] = {}
    for wl in wls:
        log(f"timing {wl.name} ({len(wl)} prompts x {wl.pairs_per_prompt})")
        runs = runner.time_systems(
            systems, wl, repeats=sizes.repeats, budget_s=sizes.budget_s, log=log
        )
        ref = runs.get(ref_name) if ref_name else None
        pipe = next((n for n in runs if specs[n].key == "zero-shot"), None)
        speeds = _speeds(runs, ref, runs.get(pipe or ""), calls=wl.mode == "calls")
        results[wl.name] = {
            "title": wl.title,
            "mode": wl.mode,
            "prompts": len(wl),
            "pairs_per_prompt": wl.pairs_per_prompt,
            "systems": {
                name: {
                    **run.metrics(),
                    **speeds[name],
                    **runner.accuracy_metrics(run, ref, wl),
                }
                for name, run in runs.items()
            },
        }
        for label, err in load_errors.items():
            results[wl.name]["systems"][label] = {"error": f"did not load: {err}"}

    memory: dict[str, Any] = {}
    if options.rss:
        from crossingguard.toolkit.benchmarking.memory import measure_in_subprocess

        prompts, hyps = _rss_job(wls)
        for label, spec in specs.items():
            if prompts and label in systems:
                log(f"peak RSS: {label}")
                memory[label] = measure_in_subprocess(spec, prompts, hyps)
        memory["_job"] = {"prompts": len(prompts), "hypotheses": len(hyps)}

    profile: dict[str, Any] | None = None
    guard_wl = next((w for w in wls if w.name == "guard"), None)
    if options.profile and guard_wl is not None:
        log("profiling the guard workload")
        profile = _profile(model_dir, guard_wl, options.threads, sizes)

    gpu: dict[str, Any] | None = None
    nli_wl = next((w for w in wls if w.name == "nli"), None)
    if options.gpu and nli_wl is not None:
        from crossingguard.toolkit.benchmarking.gpu import gpu_section

        gpu = gpu_section(model_dir, nli_wl.pairs())

    default_label = next((k for k, s in specs.items() if s.default), None)
    result = {
        "model": resolved.name,
        "model_dir": str(model_dir),
        "started_utc": started.isoformat(timespec="seconds"),
        "seconds": (datetime.now(timezone.utc) - started).total_seconds(),
        "machine": {
            **machine_info(),
            "load_avg_before": load_before,
            "load_avg_after": os.getloadavg(),
            "threads": options.threads,
        },
        "quick": options.quick,
        "sizes": asdict(sizes),
        "pack": options.pack,
        "reference": ref_name,
        "default_system": default_label,
        "systems": {
            k: {
                **v.to_dict(),
                "load_s": load_s.get(k),
                "runs": getattr(systems.get(k), "runs", None),
                "notices": list(getattr(systems.get(k), "notices", ())),
                "load_error": load_errors.get(k),
            }
            for k, v in specs.items()
        },
        "workloads": results,
        "memory": memory,
        "profile": profile,
        "gpu": gpu,
    }
    result["targets"] = report.targets(result)
    report.write_all(result, options.out)
    return result


def _speeds(
    runs: dict[str, runner.Run],
    ref: runner.Run | None,
    pipe: runner.Run | None,
    *,
    calls: bool,
) -> dict[str, dict[str, Any]]:
    """Each row's speed against the reference and the pipeline, on their common prefix."""
    out: dict[str, dict[str, Any]] = {}
    for name, run in runs.items():
        row: dict[str, Any] = {}
        if ref is not None:
            row["speed_vs_reference"] = runner.speed_ratio(run, ref, calls=calls)
        if pipe is not None:
            row["speed_vs_pipeline"] = runner.speed_ratio(run, pipe, calls=calls)
        out[name] = row
    return out


def _profile(
    model_dir: Path, wl: workloads.Workload, threads: int | None, sizes: Sizes
) -> dict[str, Any]:
    from crossingguard.inference.scorer import load_scorer
    from crossingguard.toolkit.benchmarking.profile import matmul_peak, profile_guard

    scorer = load_scorer(model_dir, threads=threads)
    models = default_onnx_models(model_dir, scorer)
    return profile_guard(
        scorer, wl, threads=threads, peak=matmul_peak(), repeats=sizes.repeats, **models
    )


def default_onnx_models(model_dir: Path, scorer: Any) -> dict[str, Any]:
    """The ONNX model behind the default path, the fp32 graph and an int8 export, if any."""
    from crossingguard.inference.onnx_files import (
        OnnxModel,
        fp32_model,
        int8_candidates,
    )

    fp32 = fp32_model(model_dir)
    int8_files = int8_candidates(model_dir)
    int8 = OnnxModel(int8_files[0], "int8") if int8_files else None
    default = None
    if scorer.backend == "onnx":
        default = int8 if getattr(scorer, "precision", "fp32") == "int8" else fp32
    return {"default_model": default, "fp32_model": fp32, "int8_model": int8}


def with_sizes(options: BenchOptions, **changes: Any) -> BenchOptions:
    return replace(options, sizes=replace(options.effective_sizes, **changes))
