"""Where sentences start in a prompt, so long prompts are windowed at sentence ends.

A rule of thumb, not a parser: a sentence ends at ``.``, ``!``, ``?`` (and their CJK forms or an
ellipsis), optionally followed by closing quotes or brackets, then whitespace; a line break always
ends one (lists, chat turns and code put one item per line). An abbreviation such as "e.g. this"
starts a new "sentence" too early; that costs little, because a window packs several sentences and
a boundary only decides where one window may end. Rule-based segmenters such as pysbd handle
abbreviations, but took about a second per 20,000 characters on our CPU, which a guard cannot
spend before scoring; this runs in linear time with the standard library.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(
    r"(?<=[.!?\u2026\u3002\uff01\uff1f])[\"'\u201d\u2019)\]]*\s+|\s*\n\s*"
)


def sentence_starts(text: str) -> list[int]:
    """Character offsets where sentences start: always 0, then one after each boundary."""
    starts = [0]
    for match in _BOUNDARY.finditer(text):
        if 0 < match.end() < len(text) and match.end() > starts[-1]:
            starts.append(match.end())
    return starts
