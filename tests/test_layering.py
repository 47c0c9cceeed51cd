"""The package layering (docs/architecture.md), checked on the source's imports.

Every ``import``/``from ... import`` in ``src/crossingguard`` counts, including those inside
functions and under ``TYPE_CHECKING``: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import crossingguard

PACKAGE = Path(crossingguard.__file__).parent
RUNTIME = {
    "inference",
    "policy",
    "guard",
    "labels",
    "errors",
    "io",
    "limits",
    "text",
    "cache",
}
OFFLINE_OR_ENTRY = {"toolkit", "cli", "serve", "batch", "benchmarking"}


def _part(module: str) -> str | None:
    """The top-level part of crossingguard a module belongs to (``guard`` for ``guard.types``)."""
    parts = module.split(".")
    if parts[0] != "crossingguard" or len(parts) < 2:
        return None
    return parts[1]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _edges() -> dict[str, dict[str, list[str]]]:
    """part -> imported part -> the modules of ``part`` that import it."""
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _part(_module_name(path)) or "__init__"
        for imported in _imports(path):
            target = _part(imported)
            if target is not None and target != source:
                edges[source][target].append(_module_name(path))
    return edges


def test_runtime_never_imports_offline_or_entry_points():
    edges = _edges()
    bad = {
        f"{module} imports crossingguard.{target}"
        for source in RUNTIME
        for target, modules in edges.get(source, {}).items()
        if target in OFFLINE_OR_ENTRY
        for module in modules
    }
    assert not bad, sorted(bad)


def test_no_import_cycle_between_top_level_parts():
    edges = _edges()
    graph = {source: set(targets) - {"__init__"} for source, targets in edges.items()}
    graph.pop("__init__", None)
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == path[0]:
                cycles.append([*path, nxt])
            elif (
                nxt not in path and nxt > path[0]
            ):  # each cycle once, from its smallest part
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    detail = [
        " -> ".join(cycle)
        + "  ("
        + "; ".join(
            f"{a}->{b}: {edges[a][b][0]}"
            for a, b in zip(cycle, cycle[1:], strict=False)
        )
        + ")"
        for cycle in cycles
    ]
    assert not cycles, detail


def test_import_crossingguard_loads_no_torch_transformers_or_onnx():
    code = (
        "import sys, crossingguard; "
        "crossingguard.Guard, crossingguard.load_scorer, crossingguard.Policy; "
        "print(sorted(m for m in ('torch', 'transformers', 'onnx', 'sentence_transformers') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == "[]"
