"""Write a bench result as Markdown, JSON and a PNG chart; check it against the issue's targets.

Everything here reads the result dict that :func:`crossingguard.toolkit.benchmarking.compare.run_bench`
returns, so a saved ``compare.json`` can be re-rendered without re-running anything.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

MD_FILE = "compare.md"
JSON_FILE = "compare.json"
PNG_FILE = "compare.png"
README_FILE = "readme_section.md"

# Done-when of issue 17, on the guard workload of a 2-core machine.
TARGET_VS_CROSS_ENCODER = 3.0
TARGET_VS_PIPELINE = 10.0
TARGET_F1_DROP = 0.01
TARGET_P50_MS = 40.0
TARGET_LONG_PROMPTS_PER_S = 5.0


def _fmt(value: Any, digits: int = 1, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{suffix}"
    return f"{value}{suffix}"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _ratio(row: dict[str, Any] | None, key: str = "speed_vs_reference") -> float | None:
    """Speed relative to the reference (or the pipeline), on the prompts both scored."""
    if not row or "error" in row:
        return None
    value = row.get(key)
    return value.get("ratio") if value else None


def _rows_of(result: dict[str, Any], name: str) -> dict[str, Any]:
    return result["workloads"].get(name, {}).get("systems", {})


def _row_label(result: dict[str, Any], label: str) -> str:
    tags = []
    if label == result.get("default_system"):
        tags.append("default")
    if label == result.get("reference"):
        tags.append("reference")
    return f"{label} ({', '.join(tags)})" if tags else label


def workload_table(result: dict[str, Any], name: str) -> str:
    wl = result["workloads"][name]
    rows = wl["systems"]
    calls = wl["mode"] == "calls"
    memory = result.get("memory", {})
    head = ["system", "prompts", "pairs/s", "prompts/s"]
    if calls:
        head += ["p50 ms", "p99 ms"]
    head += ["x CrossEncoder", "argmax agree", "decision agree"]
    if name == "nli":
        head += ["macro-F1", "F1 vs ref (pts)"]
    if name == "routing":
        head += ["route acc", "route agree"]
    head += ["peak RSS MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, row in rows.items():
        if "error" in row:
            cells = [_row_label(result, label), row["error"][:80]] + [""] * (
                len(head) - 2
            )
            lines.append("| " + " | ".join(cells) + " |")
            continue
        lat = row.get("latency_ms", {})
        cells = [
            _row_label(result, label),
            _fmt(row.get("prompts")),
            _fmt(row.get("pairs_per_s")),
            _fmt(row.get("prompts_per_s"), 2),
        ]
        if calls:
            cells += [_fmt(lat.get("p50")), _fmt(lat.get("p99"))]
        ratio = _ratio(row)
        cells += [
            _fmt(ratio, 2, "x"),
            _pct(row.get("argmax_agreement")),
            _pct(row.get("decision_agreement")),
        ]
        if name == "nli":
            delta = row.get("macro_f1_delta_vs_reference")
            cells += [
                _fmt(row.get("macro_f1"), 4),
                _fmt(None if delta is None else 100 * delta, 2),
            ]
        if name == "routing":
            cells += [_pct(row.get("route_accuracy")), _pct(row.get("route_agreement"))]
        cells.append(_fmt(memory.get(label, {}).get("peak_rss_mb"), 0))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each Done-when target with the measured value and whether it is met (None: not measured)."""
    default = result.get("default_system")
    guard_label = next(
        (k for k, s in result["systems"].items() if s["key"] == "guard"), None
    )
    guard_rows = _rows_of(result, "guard")
    mine = guard_rows.get(default or "")
    out: list[dict[str, Any]] = []

    def add(name: str, value: float | None, goal: str, met: bool | None) -> None:
        out.append({"target": name, "value": value, "goal": goal, "met": met})

    r = _ratio(mine)
    add(
        "guard workload: default path vs CrossEncoder.predict fp32",
        r,
        f">= {TARGET_VS_CROSS_ENCODER:g}x",
        None if r is None else r >= TARGET_VS_CROSS_ENCODER,
    )
    nli = _rows_of(result, "nli").get(default or "", {})
    d = nli.get("macro_f1_delta_vs_reference")
    add(
        "NLI pairs: default path macro-F1 minus CrossEncoder's",
        d,
        f">= -{TARGET_F1_DROP:g}",
        None if d is None else d >= -TARGET_F1_DROP,
    )
    r = _ratio(mine, "speed_vs_pipeline")
    add(
        "guard workload: default path vs zero-shot pipeline",
        r,
        f">= {TARGET_VS_PIPELINE:g}x",
        None if r is None else r >= TARGET_VS_PIPELINE,
    )
    lat_rows = _rows_of(result, "latency")
    lat = (lat_rows.get(guard_label or "") or lat_rows.get(default or "") or {}).get(
        "latency_ms", {}
    )
    p50 = lat.get("p50")
    add(
        "latency: p50 of 1 prompt x the pack (Guard.check)",
        p50,
        f"< {TARGET_P50_MS:g} ms",
        None if p50 is None else p50 < TARGET_P50_MS,
    )
    long_rows = _rows_of(result, "guard-long")
    lg = (long_rows.get(guard_label or "") or long_rows.get(default or "") or {}).get(
        "prompts_per_s"
    )
    add(
        "long prompts: prompts/s (Guard.check_batch)",
        lg,
        f">= {TARGET_LONG_PROMPTS_PER_S:g}",
        None if lg is None else lg >= TARGET_LONG_PROMPTS_PER_S,
    )
    prof = result.get("profile") or {}
    share = prof.get("flops", {}).get("share_of_peak_end_to_end")
    add(
        "share of the fp32 FLOP bound (guard workload, end to end)",
        share,
        "reported",
        None,
    )
    return out


def targets_markdown(result: dict[str, Any]) -> str:
    lines = ["| target | measured | goal | met |", "|---|---|---|---|"]
    for t in result["targets"]:
        v = t["value"]
        if v is None:
            shown = "-"
        elif "share" in t["target"]:
            shown = f"{100 * v:.1f} %"
        elif "F1" in t["target"]:
            shown = f"{100 * v:+.2f} pts"
        elif "x" in t["goal"]:
            shown = f"{v:.2f}x"
        else:
            shown = f"{v:.1f}"
        met = {True: "yes", False: "**no**", None: "-"}[t["met"]]
        lines.append(f"| {t['target']} | {shown} | {t['goal']} | {met} |")
    return "\n".join(lines)


def profile_markdown(prof: dict[str, Any] | None) -> str:
    if not prof:
        return "Not profiled (no guard workload, or --no-profile)."
    s = prof["seconds"]
    total = s["total"]
    lines = [
        (
            f"Guard workload, default path: {prof['pairs']} pairs ({prof['distinct_prompts']} prompts x "
            f"{prof['distinct_hypotheses']} hypotheses, {prof['distinct_pairs']} distinct pairs), "
            f"{prof['rows']} model rows ({prof['windowed_pairs']} pairs longer than the "
            f"{prof['model_window_tokens']}-token model window, scored in windows), "
            f"{prof['tokens_per_row']['mean']:.0f} tokens per row on average. Each step is "
            "timed alone (best of the repeats); the rest is the total minus the steps, so on a "
            "loaded machine it also holds timing noise."
        ),
        "",
        "| step | seconds | share |",
        "|---|---|---|",
    ]
    names = {
        "tokenize": "tokenise every pair",
        "windowing": "windowing (preprocess minus tokenising)",
        "batch_assembly": "batch assembly (padding)",
        "model_forward": "model forward (ONNX Runtime)",
        "python_other": "rest (softmax, merging, Python; and noise)",
    }
    for step, name in names.items():
        v = s[step]
        lines.append(
            f"| {name} | {_fmt(v, 3)} | "
            f"{'-' if math.isnan(v) else f'{100 * v / total:.1f} %'} |"
        )
    lines.append(f"| **total** (`scorer.predict`) | {total:.3f} | 100 % |")
    pad = prof["padding"]
    f = prof["flops"]
    lines += [
        "",
        (
            f"* Padding: {100 * pad['sorted_batches_of_64']['waste']:.1f} % of the tokens in "
            f"length-sorted batches of 64 are padding ({100 * pad['arrival_order_batches_of_64']['waste']:.1f} % "
            "in arrival order)."
        ),
        f"* The rest, per pair: {prof['python_other_us_per_pair']:.0f} us (remainder; see above).",
        (
            f"* Tokenising each distinct prompt and hypothesis once takes "
            f"{prof['tokenize_distinct_texts_once_s']:.3f} s instead of {s['tokenize']:.3f} s for every pair."
        ),
        f"* FLOP bound: {f['per_pair_useful'] / 1e6:.0f} MFLOP per pair at the real token counts; "
        f"measured fp32 matmul peak {f['matmul_peak_gflops']:.0f} GFLOP/s, so at most "
        f"{f['bound_pairs_per_s']:,.0f} pairs/s. We run {f['pairs_per_s']:,.1f} pairs/s "
        f"({f['achieved_useful_gflops']:.1f} GFLOP/s useful): **{100 * f['share_of_peak_end_to_end']:.1f} %** "
        "of the bound end to end"
        + (
            f", {100 * f['share_of_peak_model_step']:.1f} % in the model step (padded work)."
            if f.get("share_of_peak_model_step")
            else "."
        ),
    ]
    if "rows_per_pair" in f:
        lines += [
            (
                f"* The work itself: windowing gives {f['rows_per_pair']:.1f} model rows per pair. "
                "The same pairs as one row each, cut at the window (what CrossEncoder and the "
                f"pipeline run), would be {f['one_row_per_pair_total'] / f['useful_total']:.2f}x our "
                f"FLOPs: a bound of {f['one_row_per_pair_bound_pairs_per_s']:,.0f} pairs/s."
            ),
            (
                f"* FLOP floor per prompt (median prompt x all hypotheses, at the measured peak): "
                f"{f['floor_ms_per_prompt_p50']:.0f} ms with our windows, "
                f"{f['floor_ms_per_prompt_p50_one_row_per_pair']:.0f} ms with one row per pair; "
                "no engine change goes below it, only less work (fewer or shorter rows, a smaller "
                "model) does."
            ),
        ]
    sess = prof.get("session", {})
    if sess.get("variants"):
        lines += [
            "",
            (
                f"ONNX Runtime settings on {sess['rows']} rows of the same batches "
                f"(default: {sess['default_model']}):"
            ),
            "",
            "| variant | seconds | vs default |",
            "|---|---|---|",
            f"| default session | {sess['default_s']:.3f} | 1.00x |",
        ]
        for label, v in sess["variants"].items():
            lines.append(
                f"| {label} | {v['seconds']:.3f} | {v['speedup_vs_default']:.2f}x |"
            )
    elif sess.get("note"):
        lines += ["", sess["note"]]
    if sess.get("fused_error"):
        lines.append(f"\n(Transformer fusion not measured: {sess['fused_error']})")
    lines += [
        "",
        "Estimated gains (each alone; measured or bounded separately, so they do not add up):",
        "",
        "| change | saves s | speedup if alone | basis |",
        "|---|---|---|---|",
    ]
    for g in prof["estimated_gains"]:
        lines.append(
            f"| {g['change']} | {g['saved_s']:.3f} | {g['speedup_if_alone']:.2f}x | {g['basis']} |"
        )
    return "\n".join(lines)


def gpu_markdown(gpu: dict[str, Any] | None) -> str:
    if gpu is None:
        return "Not run (no NLI workload, or --no-gpu)."
    if gpu.get("skipped"):
        return f"{gpu['note']} {gpu.get('onnx_cuda', '')}".strip()
    lines = [
        f"{gpu['device']}, {gpu['pairs']} NLI pairs at batch {gpu['batch_size']}:",
        "",
        "| system | samples/s | peak GPU memory MB |",
        "|---|---|---|",
    ]
    for label, row in gpu["rows"].items():
        lines.append(
            f"| {label} | {row['samples_per_s']:,.1f} | {row['peak_gpu_memory_mb']:,.0f} |"
        )
    lines += ["", gpu.get("onnx_cuda", "")]
    return "\n".join(lines)


NOTES = """\
* Same weights everywhere: every row loads the same model directory (fp32 compute; the torch rows
  upcast its weights). "x CrossEncoder" is pairs/s over the reference's (latency workloads: its p50
  over ours). Throughput is each system's best of the interleaved repeats; latency percentiles
  pool every call.
* Agreement is measured against the reference on the pairs both scored: "argmax agree" compares
  E/N/C labels, "decision agree" whether the pair fires at entailment >= 0.5. The zero-shot
  pipeline (multi_label) softmaxes entailment against contradiction only, so it has no argmax
  row and predicts no neutral (its macro-F1 counts neutral as missed). The embedding row scores
  cosine similarity, not NLI, so it has speed and routing accuracy only.
* Our scorer windows prompts longer than the model's window and scores every window;
  CrossEncoder and the pipeline truncate them. On long prompts we do more work, and agree less
  with the reference by design.
* A system slower than the time budget scores a prefix of the workload (its "prompts" column).
* Peak RSS: each system in a fresh subprocess (imports + load + scoring the 3 longest guard
  prompts x the pack), `VmHWM`; it includes the interpreter and libraries.
"""


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    parts = [
        f"# crossingguard bench: `{result['model']}`",
        "",
        f"{result['started_utc']}, {m['cpu']}, {m['cores']} cores, threads "
        f"{m['threads'] or 'backend default'}, load average {m['load_avg_before'][0]:.1f} before / "
        f"{m['load_avg_after'][0]:.1f} after; {result['seconds']:.0f} s in all"
        + (" (quick run)" if result["quick"] else "")
        + ".",
        f"Reference: {result['reference']}. Default path: {result['default_system']}.",
        *[
            f"Notice ({label}): {n}"
            for label, spec in result["systems"].items()
            for n in spec.get("notices") or []
        ],
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        "",
        "## Targets (issue 17)",
        "",
        targets_markdown(result),
    ]
    for name, wl in result["workloads"].items():
        parts += ["", f"## {wl['title']}", "", workload_table(result, name)]
    parts += [
        "",
        "## Where the time goes",
        "",
        profile_markdown(result.get("profile")),
        "",
        "## GPU",
        "",
        gpu_markdown(result.get("gpu")),
        "",
        "## Notes",
        "",
        NOTES,
    ]
    return "\n".join(parts)


def readme_markdown(result: dict[str, Any]) -> str:
    """The README's performance section body: summary table, targets, where the time goes."""
    m = result["machine"]
    head = [
        "system",
        "NLI pairs/s",
        "guard pairs/s",
        "guard prompts/s",
        "long prompts/s",
        "latency p50 ms",
        "routing p50 ms",
        "x CrossEncoder (guard)",
        "NLI argmax agree",
        "NLI macro-F1",
        "peak RSS MB",
    ]
    lines = [
        (
            f"`{result['model']}`, {m['cpu']}, {m['cores']} cores, load average "
            f"{m['load_avg_before'][0]:.1f} at the start (a shared machine: absolute numbers move "
            "with the load, ratios much less)."
        ),
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for label in result["systems"]:

        def get(w: str, key: str, label: str = label) -> Any:
            row = _rows_of(result, w).get(label, {})
            return None if "error" in row else row.get(key)

        lat = (get("latency", "latency_ms") or {}).get("p50")
        route = (get("routing", "latency_ms") or {}).get("p50")
        g = _rows_of(result, "guard").get(label)
        lines.append(
            "| "
            + " | ".join(
                [
                    _row_label(result, label),
                    _fmt(get("nli", "pairs_per_s")),
                    _fmt(get("guard", "pairs_per_s")),
                    _fmt(get("guard", "prompts_per_s"), 2),
                    _fmt(get("guard-long", "prompts_per_s"), 2),
                    _fmt(lat),
                    _fmt(route),
                    _fmt(_ratio(g), 2, "x"),
                    _pct(get("nli", "argmax_agreement")),
                    _fmt(get("nli", "macro_f1"), 4),
                    _fmt(result.get("memory", {}).get(label, {}).get("peak_rss_mb"), 0),
                ]
            )
            + " |"
        )
    lines += ["", targets_markdown(result), ""]
    f = (result.get("profile") or {}).get("flops")
    if f:
        lines.append(
            f"FLOP bound (guard workload): {f['per_pair_useful'] / 1e6:.0f} MFLOP per pair, "
            f"measured fp32 matmul peak {f['matmul_peak_gflops']:.0f} GFLOP/s, so at most "
            f"{f['bound_pairs_per_s']:,.0f} pairs/s; the default path reaches "
            f"{100 * f['share_of_peak_end_to_end']:.1f} % of it."
        )
        if "rows_per_pair" in f:
            lines.append(
                f"Windowing makes {f['rows_per_pair']:.1f} model rows per pair on this workload; "
                "one row per pair cut at the window (what CrossEncoder runs) would need "
                f"{f['one_row_per_pair_total'] / f['useful_total']:.2f}x our FLOPs. FLOP floor "
                f"for the median prompt x the pack: {f['floor_ms_per_prompt_p50']:.0f} ms "
                f"({f['floor_ms_per_prompt_p50_one_row_per_pair']:.0f} ms at one row per pair)."
            )
        lines.append(
            "\nWhere the time goes, step by step, and the estimated gains: "
            "`benchmarks/results/compare/compare.md`."
        )
    return "\n".join(lines) + "\n"


def chart(result: dict[str, Any], path: Path) -> Path | None:
    """Pairs/s per system on each throughput workload and p50 latency on each calls workload."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    wls = result["workloads"]
    names = list(wls)
    if not names:
        return None
    labels = list(result["systems"])
    fig, axes = plt.subplots(
        1, len(names), figsize=(4.2 * len(names), 4.8), squeeze=False
    )
    for ax, name in zip(axes[0], names, strict=True):
        calls = wls[name]["mode"] == "calls"
        vals, shown = [], []
        for label in labels:
            row = wls[name]["systems"].get(label, {})
            v = (
                row.get("latency_ms", {}).get("p50")
                if calls
                else row.get("pairs_per_s")
            )
            if v and "error" not in row:
                vals.append(v)
                shown.append(label)
        colors = [
            "#1f77b4"
            if result["systems"][s]["key"] in ("ours-onnx", "ours-torch", "guard")
            else "#aaaaaa"
            for s in shown
        ]
        ax.barh(range(len(vals)), vals, color=colors)
        ax.set_yticks(range(len(vals)))
        ax.set_yticklabels([s[:38] for s in shown], fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_title(
            f"{name}: {'p50 ms per call (lower is better)' if calls else 'pairs/s'}",
            fontsize=9,
        )
    fig.suptitle(
        f"crossingguard bench, {result['model']} (blue: crossingguard)", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_all(result: dict[str, Any], out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / JSON_FILE,
        "markdown": out / MD_FILE,
        "readme": out / README_FILE,
    }
    paths["json"].write_text(
        json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8"
    )
    paths["markdown"].write_text(markdown(result) + "\n", encoding="utf-8")
    paths["readme"].write_text(readme_markdown(result), encoding="utf-8")
    png = chart(result, out / PNG_FILE)
    if png is not None:
        paths["png"] = png
    return paths
