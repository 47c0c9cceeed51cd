"""Load policies from YAML/JSON files or built-in packs; every error names the file, the path to the
bad value and the fix, e.g. ``policy.yaml: conditions -> 2 -> threshold: must be in [0, 1], got 1.5``.

A policy may include packs (``packs: [moderation]``): their conditions come first, then the file's
own. Pack conditions keep the pack's hypothesis template; those without their own threshold take
the including policy's default threshold. The result is a *resolved* policy (packs expanded, ``packs: []``), which is what the guard
uses, what ``calibrate`` writes and what the policy identity hashes.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from crossingguard.errors import PolicyError
from crossingguard.limits import (
    MAX_CONDITIONS,
    MAX_HYPOTHESES,
    MAX_POLICY_BYTES,
    MAX_POLICY_DEPTH,
    MAX_POLICY_VALUES,
)
from crossingguard.policy.claims import claim_problem, flow_splits
from crossingguard.policy.schema import ConditionSpec, Policy, RouteSpec
from crossingguard.text import unicode_problem

PACKS_PACKAGE = "crossingguard.policy.packs"
_SUFFIXES = (".yaml", ".yml", ".json")

_FIXES = {
    "extra_forbidden": "remove it or check its spelling",
    "missing": "add it",
    "literal_error": "use one of the allowed values",
}


def builtin_packs() -> dict[str, str]:
    """Built-in pack names and their file names (``moderation`` -> ``moderation.yaml``)."""
    folder = resources.files(PACKS_PACKAGE)
    return {
        entry.name.rsplit(".", 1)[0]: entry.name
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


def _unknown_pack(name: str, where: str) -> PolicyError:
    names = ", ".join(builtin_packs())
    return PolicyError(
        f"{where}: unknown pack {name!r:.80}; expected one of {names} "
        "(see `crossingguard packs`) or a path to a .yaml/.json policy file"
    )


def _format_loc(loc: tuple[Any, ...]) -> str:
    return " -> ".join(str(part) for part in loc)


def _format_validation(source: str, exc: ValidationError) -> PolicyError:
    lines = []
    for err in exc.errors():
        loc = _format_loc(err["loc"])
        msg = str(err["msg"])
        msg = msg.removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            key = err["loc"][-1] if err["loc"] else "?"
            parent = _format_loc(err["loc"][:-1]) or "the top level"
            lines.append(
                f"{loc}: unknown key {key!r} in {parent}; {_FIXES['extra_forbidden']}"
            )
            continue
        if err["type"] == "literal_error" and err["loc"] == ("version",):
            lines.append(
                f"version: must be 1, got {err.get('input')!r}; add `version: 1`"
            )
            continue
        if err["type"] == "missing" and err["loc"] == ("version",):
            lines.append("version: missing; add `version: 1` at the top of the file")
            continue
        fix = _FIXES.get(err["type"])
        where = (
            f"{loc}: "
            if loc and not msg.startswith(("conditions ->", "routes ->", "routing ->"))
            else ""
        )
        got = (
            ""
            if err["type"] in ("missing", "value_error")
            else f" (got {err.get('input')!r:.60})"
        )
        lines.append(f"{where}{msg}{got}" + (f"; {fix}" if fix else ""))
    head = f"{source}: " if len(lines) == 1 else f"{source}: {len(lines)} problems:\n  "
    return PolicyError(head + "\n  ".join(lines))


def _read_text(path: Path) -> str:
    """The file's text: a regular file of at most ``limits.MAX_POLICY_BYTES``, in UTF-8."""
    try:
        if path.exists() and not path.is_file():
            raise PolicyError(
                f"{path}: not a regular file (a folder or device); pass a .yaml/.json policy file"
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_POLICY_BYTES + 1)
    except FileNotFoundError:
        raise PolicyError(
            f"{path}: policy file not found; pass a .yaml/.json file or a built-in pack "
            f"({', '.join(builtin_packs())})"
        ) from None
    except OSError as exc:
        raise PolicyError(
            f"{path}: cannot read it ({exc.strerror or exc}); check the path and its permissions"
        ) from None
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(
            f"{path}: larger than the limit of {MAX_POLICY_BYTES:,} bytes for a policy file "
            "(crossingguard.limits.MAX_POLICY_BYTES); the built-in packs are a few KB, so "
            "check that this is the right file, or split it into packs"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None


def _read_file(path: Path) -> Any:
    if path.suffix.lower() not in _SUFFIXES:
        raise PolicyError(
            f"{path}: expected a .yaml, .yml or .json policy file, got {path.suffix or 'no suffix'!r}"
        )
    text = _read_text(path)
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except RecursionError:
        raise PolicyError(
            f"{path}: nested too deeply to read; a policy needs only a few levels "
            "(conditions -> 0 -> hypotheses -> 0)"
        ) from None
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise PolicyError(
            f"{path}: {line}not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    except ValueError as exc:  # Python refuses to convert integers of over 4,300 digits
        raise PolicyError(
            f"{path}: a value cannot be read ({exc}); thresholds are numbers in [0, 1]"
        ) from None


def _check_values(data: Any, source: str) -> None:
    """Refuse parsed data no policy needs and validation cannot survive: more than
    ``limits.MAX_POLICY_VALUES`` values once YAML aliases are expanded (an alias bomb describes
    billions in a few KB), nesting deeper than ``limits.MAX_POLICY_DEPTH``, a value that contains
    itself (a recursive alias), and text that is not valid Unicode. Shared values are measured
    once, so a bomb is refused after a few thousand steps, not billions."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def where(path: tuple[Any, ...]) -> str:
        return f"{source}: {_format_loc(path) or 'the top level'}"

    def visit(value: Any, path: tuple[Any, ...], depth: int) -> int:
        if isinstance(value, str):
            problem = unicode_problem(value)
            if problem is not None:
                raise PolicyError(f"{where(path)}: the text {problem}")
            return 1
        if not isinstance(value, (dict, list)):
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise PolicyError(
                f"{where(path)}: a YAML alias refers to a value that contains it; a policy "
                "cannot be recursive, so write the value out"
            )
        if depth >= MAX_POLICY_DEPTH:
            raise PolicyError(
                f"{where(path)}: nested more than {MAX_POLICY_DEPTH} levels deep; a policy "
                "needs only a few (conditions -> 0 -> hypotheses -> 0)"
            )
        active.add(key)
        total = 1
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for name, item in items:
            total += visit(name, path, depth + 1) + visit(
                item, (*path, name), depth + 1
            )
            if total > MAX_POLICY_VALUES:
                raise PolicyError(
                    f"{where(path)}: more than {MAX_POLICY_VALUES:,} values once YAML aliases "
                    "(&anchor, *alias) are expanded (crossingguard.limits.MAX_POLICY_VALUES); "
                    "a policy holds a few thousand at most, so write the values out instead "
                    "of nesting aliases"
                )
        active.discard(key)
        sizes[key] = total
        return total

    visit(data, (), 0)


def _check_size(policy: Policy, source: str) -> None:
    """Conditions and phrasings of the resolved policy within ``limits`` (each phrasing is one
    pair per prompt checked)."""
    for field, items in (("conditions", policy.conditions), ("routes", policy.routes)):
        if len(items) > MAX_CONDITIONS:
            raise PolicyError(
                f"{source}: {field}: {len(items):,} {field} (packs included), more than the "
                f"limit of {MAX_CONDITIONS:,} (crossingguard.limits.MAX_CONDITIONS); split "
                "the policy into several"
            )
    phrasings = sum(len(c.hypotheses) for c in policy.conditions) + sum(
        len(r.hypotheses) for r in policy.routes
    )
    if phrasings > MAX_HYPOTHESES:
        raise PolicyError(
            f"{source}: {phrasings:,} hypotheses in conditions and routes (packs included), "
            f"more than the limit of {MAX_HYPOTHESES:,} "
            "(crossingguard.limits.MAX_HYPOTHESES); each is one pair per prompt: keep the "
            "best phrasings, or split the policy into several"
        )


def _read_pack(name: str, where: str) -> dict[str, Any]:
    packs = builtin_packs()
    if name not in packs:
        raise _unknown_pack(name, where)
    return copy.deepcopy(_parsed_pack(packs[name]))


@functools.cache
def _parsed_pack(file_name: str) -> dict[str, Any]:
    """A built-in pack's YAML, parsed once per process: packs ship with the package and do not
    change while it runs, and PyYAML takes tens of ms per pack (every guard a server or batch
    worker builds, every policy that includes a pack). Callers get deep copies."""
    text = (
        resources.files(PACKS_PACKAGE).joinpath(file_name).read_text(encoding="utf-8")
    )
    return yaml.safe_load(text)  # type: ignore[no-any-return]


def policy_from_dict(data: Any, *, source: str = "<policy>") -> Policy:
    """Validate a parsed policy (a dict), expand its packs and return the resolved policy."""
    if not isinstance(data, dict):
        raise PolicyError(
            f"{source}: expected a mapping at the top level (version, conditions, ...), got "
            f"{type(data).__name__}"
        )
    _check_values(data, source)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise _format_validation(source, exc) from None

    included: list[dict[str, Any]] = []
    owner: dict[str, str] = {}
    for i, name in enumerate(policy.packs):
        pack = policy_from_dict(
            _read_pack(name, f"{source}: packs -> {i}"), source=f"pack {name!r}"
        )
        for cond in pack.conditions:
            if cond.id in owner:
                raise PolicyError(
                    f"{source}: packs -> {i}: condition id {cond.id!r} is defined by both "
                    f"{owner[cond.id]} and pack {name!r}; include only one of them"
                )
            owner[cond.id] = f"pack {name!r}"
            # the pack's hypotheses are written for the pack's template, not the includer's
            included.append(
                {
                    **cond.model_dump(),
                    "template": cond.template or pack.defaults.template,
                }
            )
    for i, cond in enumerate(policy.conditions):
        if cond.id in owner:
            raise PolicyError(
                f"{source}: conditions -> {i} -> id: {cond.id!r} is already defined by "
                f"{owner[cond.id]}; rename it, or drop the pack from `packs`"
            )
    if not policy.conditions and not included and not policy.routes:
        raise PolicyError(
            f"{source}: conditions: the policy has no conditions; add at least one under "
            "`conditions:` (id and hypotheses), include a pack with `packs: [moderation]`, or "
            "add `routes:` for a routing-only policy"
        )
    if included:
        merged = policy.model_dump()
        merged["packs"] = []
        merged["conditions"] = included + merged["conditions"]
        try:
            policy = Policy.model_validate(merged)
        except ValidationError as exc:
            raise _format_validation(source, exc) from None
    _check_size(policy, source)
    return policy


def is_pack_name(value: str | Path) -> bool:
    text = str(value)
    return not (
        isinstance(value, Path)
        or "/" in text
        or "\\" in text
        or text.lower().endswith(_SUFFIXES)
        or _exists(text)
    )


def _exists(text: str) -> bool:
    """``Path.exists`` that answers False for names the OS cannot even look up (too long)."""
    try:
        return Path(text).exists()
    except (OSError, ValueError):
        return False


def load_policy(path_or_pack: str | Path | Policy) -> Policy:
    """A resolved :class:`Policy` from a file path, a built-in pack name, or a Policy."""
    if isinstance(path_or_pack, Policy):
        return policy_from_dict(
            path_or_pack.model_dump(), source=f"policy {path_or_pack.name!r}"
        )
    if isinstance(path_or_pack, str) and not path_or_pack.strip():
        raise PolicyError(
            "policy is empty: pass a .yaml/.json policy file or a built-in pack "
            f"({', '.join(builtin_packs())})"
        )
    if is_pack_name(path_or_pack):
        name = str(path_or_pack)
        return policy_from_dict(_read_pack(name, "policy"), source=f"pack {name!r}")
    path = Path(path_or_pack).expanduser()
    return policy_from_dict(_read_file(path), source=str(path))


def policy_warnings(path_or_pack: str | Path | Policy) -> list[str]:
    """Problems that do not stop a policy from loading but likely defeat it; ``[]`` when none.

    Loads the policy first, so an invalid one raises :class:`PolicyError` as ``load_policy``
    does. Warns about a hypothesis that does not read as a claim once its template is applied
    (``crossingguard.policy.claims.claim_problem``), and, in a YAML file, about an unquoted
    ``[a, b or c]`` list that YAML split at its commas. Pack conditions are not checked: the
    packs ship tested phrasings.
    """
    policy = load_policy(path_or_pack)
    source, text = "policy", None
    if not isinstance(path_or_pack, Policy) and not is_pack_name(path_or_pack):
        path = Path(path_or_pack).expanduser()
        source = str(path)
        if path.suffix.lower() in (".yaml", ".yml"):
            text = path.read_text(encoding="utf-8")
    out: list[str] = []
    if text is not None:
        for split in flow_splits(text):
            listed = ", ".join(repr(i) for i in split.items)
            out.append(
                f"{source}: line {split.line}: {_format_loc(split.path)}: YAML reads "
                f"{split.source} as a list of {len(split.items)} hypotheses ({listed}); if it is "
                f"one claim, quote it: {split.quoted} (to keep separate hypotheses, quote each)"
            )
    if not isinstance(path_or_pack, Policy) and is_pack_name(path_or_pack):
        return out
    packed = len(policy.conditions) - _own_conditions(path_or_pack, text)
    groups: tuple[tuple[str, Sequence[ConditionSpec | RouteSpec]], ...] = (
        ("conditions", policy.conditions),
        ("routes", policy.routes),
    )
    for field, items in groups:
        for i, item in enumerate(items):
            if field == "conditions" and i < packed:
                continue
            own = i - packed if field == "conditions" else i
            template = item.template or policy.defaults.template
            for j, hypothesis in enumerate(item.hypotheses):
                problem = claim_problem(template, hypothesis)
                if problem is None:
                    continue
                filled = template.replace("{}", hypothesis.strip())
                out.append(
                    f"{source}: {field} -> {own} -> hypotheses -> {j}: {filled!r} does not "
                    f"read as a claim about the prompt ({problem}); write a whole claim such as "
                    "'The prompt asks for a refund'"
                )
    return out


def _own_conditions(path_or_pack: str | Path | Policy, text: str | None) -> int:
    """How many conditions the file itself defines (the rest of the resolved policy is packs)."""
    if isinstance(path_or_pack, Policy):
        return len(path_or_pack.conditions) if not path_or_pack.packs else 0
    data = yaml.safe_load(text) if text is not None else _read_file(Path(path_or_pack))
    conditions = data.get("conditions") if isinstance(data, dict) else None
    return len(conditions) if isinstance(conditions, list) else 0


def dump_policy(policy: Policy, path: str | Path) -> Path:
    """Write a policy as YAML (``.yaml``/``.yml``) or JSON, leaving out values at their defaults."""
    path = Path(path)
    data = policy.model_dump(mode="json", exclude_defaults=True)
    data = {"version": 1, **data}
    if path.suffix.lower() == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")
    return path
