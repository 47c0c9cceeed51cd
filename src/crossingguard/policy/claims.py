"""Does a hypothesis read as a claim? Heuristics behind ``crossingguard policy validate`` warnings.

An NLI model scores whether the prompt entails a *claim* ("The prompt asks for a refund"). A
fragment such as "orders or deliveries" or "The prompt a payment or a refund" still loads and
still gets a score, but a meaningless one. The commonest cause is YAML itself: in
``hypotheses: [relates to our products, orders or deliveries]`` the brackets make a list, so the
commas split one claim into two. These checks only warn: a policy that trips them still loads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

CONJUNCTIONS = frozenset(["and", "or", "but", "nor", "yet", "so", "plus"])
PREPOSITIONS = frozenset(
    [
        "to",
        "of",
        "for",
        "with",
        "about",
        "from",
        "by",
        "in",
        "on",
        "at",
        "into",
        "onto",
        "than",
        "as",
        "via",
        "without",
        "within",
        "over",
        "under",
    ]
)
DETERMINERS = frozenset(
    [
        "a",
        "an",
        "the",
        "our",
        "your",
        "their",
        "its",
        "his",
        "her",
        "my",
        "this",
        "that",
        "these",
        "those",
        "some",
        "any",
    ]
)
# Words a claim cannot start with when nothing but the template's subject comes before it.
_AFTER_SUBJECT = CONJUNCTIONS | PREPOSITIONS | DETERMINERS
# ... and when the hypothesis is the whole claim (template "{}"); "A user asks ..." is fine.
_AT_START = CONJUNCTIONS | frozenset({"to", "of", "for", "than"})
_WORD = re.compile(r"[\w'-]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def claim_problem(template: str, hypothesis: str) -> str | None:
    """Why ``template`` filled with ``hypothesis`` does not read as a claim, or ``None``.

    Flags a filled text of one or two words ("weapons"), a hypothesis that starts with a
    conjunction ("or deliveries"), and, after a template that is only a subject ("The prompt {}")
    or nothing ("{}"), a start that leaves the claim without a verb ("The prompt to build ...",
    "The prompt a payment or a refund").
    """
    text = hypothesis.strip()
    filled = template.replace("{}", text)
    words = _words(text)
    if len(_words(filled)) <= 2:
        return f"{len(_words(filled))} word(s)"
    if not words:
        return None
    first = words[0]
    if first in CONJUNCTIONS:
        return f"it starts with the conjunction {first!r}"
    prefix = _words(template.split("{}", 1)[0])
    if not prefix and first in _AT_START:
        return f"it starts with {first!r}"
    subject_only = len(prefix) == 2 and prefix[0] in DETERMINERS
    if subject_only and first in _AFTER_SUBJECT:
        return f"{' '.join(prefix).capitalize()!r} is followed by {first!r}, not a verb"
    return None


@dataclass(frozen=True)
class FlowSplit:
    """An unquoted YAML ``[a, b or c]`` hypotheses list that reads as one claim cut at commas."""

    path: tuple[str | int, ...]
    line: int
    source: str
    items: tuple[str, ...]

    @property
    def quoted(self) -> str:
        """The same text as one quoted hypothesis."""
        inner = (
            self.source.strip()[1:-1].strip().replace("\\", "\\\\").replace('"', '\\"')
        )
        return f'["{inner}"]'


def flow_splits(
    text: str, *, keys: tuple[str, ...] = ("hypotheses",)
) -> list[FlowSplit]:
    """Unquoted YAML flow lists under ``keys`` whose items look like pieces of one sentence.

    A list of two or more plain (unquoted) items looks split when its last item joins words with
    "or"/"and" ("orders or deliveries": the tail of "X, Y or Z") or any later item is a
    fragment by :func:`claim_problem`. Quoting the items (or using a block list) silences it.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []  # the loader reports unreadable YAML as an error
    found: list[FlowSplit] = []
    for path, key, node in _mapping_items(root, ()):
        if key not in keys or not isinstance(node, yaml.SequenceNode):
            continue
        items = node.value
        if not node.flow_style or len(items) < 2:
            continue
        if not all(isinstance(i, yaml.ScalarNode) and i.style is None for i in items):
            continue
        values = [str(i.value) for i in items]
        joined = {"or", "and"} & set(_words(values[-1])[1:])
        if joined or any(claim_problem("{}", v) for v in values[1:]):
            found.append(
                FlowSplit(
                    path=(*path, key),
                    line=node.start_mark.line + 1,
                    source=text[node.start_mark.index : node.end_mark.index],
                    items=tuple(values),
                )
            )
    return found


def _mapping_items(
    node: yaml.Node | None, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            yield path, name, value
            yield from _mapping_items(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            yield from _mapping_items(value, (*path, i))
