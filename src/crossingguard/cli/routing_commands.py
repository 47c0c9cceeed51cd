"""Routing commands: `eval-routing`, `export-embedder` and `data intent-pairs`.

`crossingguard data intent-pairs --out DIR` writes DIR/intent_nli_train.jsonl and
DIR/intent_nli_dev.jsonl (the guard pairs' format) and prints sizes and label balance. It is added
to the `data` group from here, so `cli/data_commands.py` stays as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from crossingguard.cli.app import app
from crossingguard.cli.data_commands import data_app
from crossingguard.cli.errors import handle_errors
from crossingguard.cli.options import (
    BackendChoice,
    BackendOpt,
    JsonOpt,
    ModelOpt,
    ThreadsOpt,
    reads_data,
)
from crossingguard.errors import InputError
from crossingguard.guard.routing import DEFAULT_TOP_K, DEFAULT_WEIGHT, STRATEGIES
from crossingguard.io import write_jsonl_atomic

INTENT_TRAIN_FILE = "intent_nli_train.jsonl"
INTENT_DEV_FILE = "intent_nli_dev.jsonl"


@data_app.command("intent-pairs")
@handle_errors
@reads_data
def intent_pairs_command(
    out: Annotated[
        Path, typer.Option("--out", help="Output folder for the two JSONL files.")
    ],
    seed: Annotated[
        int, typer.Option("--seed", help="Seed for every sampling choice.")
    ] = 0,
    max_per_intent: Annotated[
        int,
        typer.Option(
            "--max-per-intent",
            min=1,
            help="Cap training utterances per intent (SNIPS has ~1,900 similar ones each).",
        ),
    ] = 300,
    hard_negatives: Annotated[
        str,
        typer.Option(
            "--hard-negatives",
            help="embedding: the intents all-MiniLM-L6-v2 puts nearest to each utterance; "
            "domain: other intents of its domain (no embedder needed).",
        ),
    ] = "embedding",
    as_json: JsonOpt = False,
) -> None:
    """Build intent NLI pairs from the HWU64 and SNIPS train splits (BANKING77 stays held out)."""
    from crossingguard.toolkit.routing.intent_pairs import build_intent_pairs

    if hard_negatives not in ("embedding", "domain"):
        raise InputError(
            f"--hard-negatives: must be embedding or domain, got {hard_negatives!r}"
        )
    embedder = None
    if hard_negatives == "embedding":
        from crossingguard.guard.routing.embedding import load_embedder

        embedder = load_embedder()
    pairs = build_intent_pairs(
        seed=seed, max_per_intent=max_per_intent, embedder=embedder
    )
    write_jsonl_atomic(out / INTENT_TRAIN_FILE, pairs.train)
    write_jsonl_atomic(out / INTENT_DEV_FILE, pairs.dev)
    report = {
        **pairs.report,
        "files": {
            "train": str(out / INTENT_TRAIN_FILE),
            "dev": str(out / INTENT_DEV_FILE),
        },
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Intent NLI pairs")
    for col in ("split / source", "pairs", "entailment", "neutral", "contradiction"):
        table.add_column(col, justify="left" if col == "split / source" else "right")
    names = ("entailment", "neutral", "contradiction")
    for split in ("train", "dev"):
        r = report[split]
        table.add_row(
            f"[bold]{split}[/bold]", str(r["pairs"]), *_shares(r["labels"], names)
        )
        for key, s in report["sources"].items():
            if key.startswith(f"{split}/"):
                table.add_row(
                    f"  {key.split('/', 1)[1]} ({s['intents']} intents)",
                    str(s["pairs"]),
                    *_shares(s["labels"], names),
                )
    console = Console()
    console.print(table)
    console.print(f"held out: {', '.join(report['held_out'])}")
    for key, n in report["dropped"].items():
        console.print(f"dropped {key}: {n}")
    console.print(f"wrote {report['files']['train']} and {report['files']['dev']}")


@data_app.command("routes")
@handle_errors
@reads_data
def routes_command(
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset",
            "-d",
            help="Intent set: banking77, hwu64, snips, massive or sebis.",
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Policy file to write (.yaml or .json).")
    ],
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy",
            "-s",
            help="routing.strategy of the policy: nli, embedding or hybrid.",
        ),
    ] = "hybrid",
    examples: Annotated[
        int,
        typer.Option(
            "--examples", min=0, help="Train utterances per route as route examples."
        ),
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the examples.")] = 0,
) -> None:
    """Write a routing policy with one route per intent of a set (for `crossingguard route`)."""
    from crossingguard.policy import dump_policy
    from crossingguard.toolkit.routing.evaluation import (
        build_routing_set,
        routing_policy,
    )

    if strategy not in STRATEGIES:
        raise InputError(
            f"--strategy: must be one of {', '.join(STRATEGIES)}, got {strategy!r}"
        )
    rset = build_routing_set(
        dataset, oos_fraction=0.0, examples=examples, seed=seed, limit=1
    )
    path = dump_policy(routing_policy(rset, strategy=strategy), out)
    typer.echo(f"wrote {path} ({len(rset.routes)} routes, strategy {strategy})")


def _shares(labels: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    return [f"{labels[n]['count']} ({labels[n]['share']:.0%})" for n in names]


@app.command("eval-routing")
@handle_errors
@reads_data
def eval_routing_command(
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset",
            "-d",
            help="Routing set: banking77, hwu64, snips, massive or sebis.",
        ),
    ] = "banking77",
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy",
            "-s",
            help="Comma-separated strategies: nli, embedding, hybrid.",
        ),
    ] = "nli,embedding,hybrid",
    split: Annotated[
        str | None,
        typer.Option(
            "--split", help="Split to route (default: test).", show_default=False
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Route a seeded sample of N utterances."),
    ] = None,
    nli_limit: Annotated[
        int,
        typer.Option(
            "--nli-limit",
            min=1,
            help="The nli strategy scores every route per utterance: route only the first N of the sample.",
        ),
    ] = 200,
    oos_fraction: Annotated[
        float,
        typer.Option(
            "--oos-fraction",
            min=0.0,
            max=0.9,
            help="Share of intents held out as out-of-scope (no route; their utterances must go to none).",
        ),
    ] = 0.2,
    oos_from: Annotated[
        str | None,
        typer.Option(
            "--oos-from",
            help="Comma-separated sets whose test utterances are added as far out-of-scope prompts "
            "(banking77 routes only: snips, hwu64, sebis).",
            show_default=False,
        ),
    ] = None,
    examples: Annotated[
        int,
        typer.Option(
            "--examples", min=0, help="Train utterances per route as route examples."
        ),
    ] = 0,
    intents: Annotated[
        str | None,
        typer.Option(
            "--intents",
            help="Keep only these intents of the set: comma-separated names, or @FILE (one per "
            "line, a JSON list, or a JSON object's 'held_out' list, as "
            "benchmarks/experiments/banking_adapt writes).",
            show_default=False,
        ),
    ] = None,
    top_k: Annotated[
        int, typer.Option("--top-k", min=1, help="Hybrid: shortlist size.")
    ] = DEFAULT_TOP_K,
    weight: Annotated[
        float,
        typer.Option(
            "--weight", min=0.0, max=1.0, help="Hybrid: weight of the entailment score."
        ),
    ] = DEFAULT_WEIGHT,
    weights: Annotated[
        str | None,
        typer.Option(
            "--weights",
            help="Hybrid: also report these weights (e.g. 0.3,0.5,0.7), no rescoring.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option("--seed", help="Seed for the sample and the held-out intents."),
    ] = 0,
    model: ModelOpt = None,
    backend: BackendOpt = BackendChoice.auto,
    threads: ThreadsOpt = None,
    embedder: Annotated[
        Path | None,
        typer.Option(
            "--embedder",
            help="Embedder directory (default: cached all-MiniLM-L6-v2 ONNX export).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOpt = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write routing_results.json here.", show_default=False
        ),
    ] = None,
) -> None:
    """Route an intent set with each strategy side by side: accuracy, macro-F1, out-of-scope AUROC."""
    from crossingguard.guard.routing.embedding import load_embedder
    from crossingguard.toolkit.routing.evaluation import (
        build_routing_set,
        evaluate_routing,
    )

    names = _comma_list(strategy)
    bad = [s for s in names if s not in STRATEGIES]
    if bad or not names:
        raise InputError(
            f"--strategy: each must be one of {', '.join(STRATEGIES)}, got {strategy!r}"
        )
    sweep = _floats(weights, "--weights") if weights else []
    rset = build_routing_set(
        dataset,
        split=split,
        oos_fraction=oos_fraction,
        limit=limit,
        examples=examples,
        seed=seed,
        oos_from=_comma_list(oos_from) if oos_from else (),
        intents=_intent_list(intents) if intents is not None else None,
    )
    scorer = None
    if any(n in ("nli", "hybrid") for n in names):
        from crossingguard.inference.scorer import load_scorer

        scorer = load_scorer(model, backend=backend.value, threads=threads)
    emb = (
        load_embedder(embedder, threads=threads)
        if any(n != "nli" for n in names)
        else None
    )
    results = evaluate_routing(
        rset,
        names,
        scorer=scorer,
        embedder=emb,
        options={"top_k": top_k, "weight": weight},
        nli_limit=nli_limit,
        weights=sweep,
    )
    results["model"] = getattr(scorer, "name", None)
    results["embedder"] = getattr(emb, "name", None)
    results["command_options"] = {
        "dataset": dataset, "split": split, "limit": limit, "nli_limit": nli_limit,
        "oos_fraction": oos_fraction, "oos_from": oos_from, "examples": examples,
        "top_k": top_k, "weight": weight, "seed": seed, "intents": intents,
    }  # fmt: skip
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        path = out / "routing_results.json"
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"wrote {path}", err=True)
    if as_json:
        typer.echo(json.dumps(results, indent=2))
        return
    _print_table(results)


def _comma_list(text: str) -> list[str]:
    """``a, b,,c`` -> ``["a", "b", "c"]``."""
    return [t.strip() for t in text.split(",") if t.strip()]


def _intent_list(text: str) -> list[str]:
    """``--intents``: ``a,b,c`` or ``@FILE`` (lines, a JSON list, or a JSON object's ``held_out``)."""
    if not text.startswith("@"):
        names = _comma_list(text)
    else:
        path = Path(text[1:])
        if not path.is_file():
            raise InputError(
                f"--intents: no file {path}; give @FILE with one intent per line"
            )
        raw = path.read_text(encoding="utf-8")
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            data = raw.splitlines()
        if isinstance(data, dict):
            data = data.get("held_out")
        if not isinstance(data, list) or not all(isinstance(n, str) for n in data):
            raise InputError(
                f"--intents: {path} must hold one intent per line, a JSON list of names, or a "
                "JSON object with a 'held_out' list"
            )
        names = [n.strip() for n in data if n.strip()]
    if not names:
        raise InputError(f"--intents: no intent names in {text!r}")
    return names


def _floats(text: str, option: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(
            f"{option}: expected comma-separated numbers, got {text!r}"
        ) from None
    if not values or any(not 0.0 <= v <= 1.0 for v in values):
        raise InputError(f"{option}: expected numbers in [0, 1], got {text!r}")
    return values


def _print_table(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    s = results["set"]
    table = Table(
        title=f"Routing {s['name']}: {s['routes']} routes, {s['in_scope']} in-scope + "
        f"{s['out_of_scope']} out-of-scope utterances"
    )
    cols = (
        "strategy",
        "n",
        "accuracy",
        "macro-F1",
        "OOS AUROC",
        "OOS recall@P95",
        "kept@P95",
        "prompts/s",
    )
    for c in cols:
        table.add_column(c, justify="left" if c == "strategy" else "right")

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    for name, m in results["strategies"].items():
        table.add_row(
            name,
            str(m["n"]),
            fmt(m["accuracy"]),
            fmt(m["macro_f1"]),
            fmt(m.get("oos_auroc")),
            fmt(m.get("oos_recall@P0.95")),
            fmt(m.get("in_scope_kept@P0.95")),
            f"{m['prompts_per_s']}",
        )
    console = Console(width=max(110, Console().width))
    console.print(table)
    hybrid = results["strategies"].get("hybrid")
    if hybrid:
        console.print(
            f"hybrid: top_k={hybrid['top_k']}, weight={hybrid['weight']}, "
            f"gold route in shortlist {hybrid['shortlist_recall']:.1%}"
        )
        for w, m in hybrid.get("weight_sweep", {}).items():
            console.print(
                f"  weight {w}: " + ", ".join(f"{k} {v:.3f}" for k, v in m.items())
            )


@app.command("export-embedder")
@handle_errors
def export_embedder_command(
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            help="sentence-transformers directory (default: the packaged all-MiniLM-L6-v2).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Embedder directory to write (default: the user cache).",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check/--no-check", help="Compare with sentence-transformers."),
    ] = True,
) -> None:
    """Export the routing bi-encoder to ONNX once (needs torch), so routing runs without torch."""
    from crossingguard.guard.routing.embedding import (
        OnnxEmbedder,
        SentenceTransformerEmbedder,
        export_embedder,
        packaged_minilm_dir,
    )

    path = export_embedder(source, out)
    typer.echo(f"wrote {path}")
    src = source or packaged_minilm_dir()
    if check and src is not None:
        texts = [
            "How do I locate my card?",
            "The user wants to check their account balance.",
            "play some jazz",
        ]
        a = OnnxEmbedder(path).embed(texts)
        b = SentenceTransformerEmbedder(src).embed(texts)
        typer.echo(f"max |onnx - sentence-transformers| = {abs(a - b).max():.2e}")
