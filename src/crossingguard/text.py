"""Is a string text the tokenizer can read? One check for every entry point.

Python strings can hold lone surrogates (U+D800..U+DFFF) that no UTF-8 byte sequence encodes:
a JSON ``"\\ud800"`` escape decodes to one, and so does invalid UTF-8 in a command-line argument
(Python decodes argv with ``surrogateescape``). The tokenizer cannot read them (it raises a bare
``TypeError``), and neither can a UTF-8 encoder writing a response or a Parquet file. So every
entry point refuses such text up front, with the position and the fix, instead of failing deep
inside with an error that names neither.
"""

from __future__ import annotations

from crossingguard.errors import InputError


def unicode_problem(text: str) -> str | None:
    """Why ``text`` is not valid Unicode text (a lone surrogate and where), or ``None``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"holds a lone surrogate U+{ord(text[exc.start]):04X} at character {exc.start}, "
            "which is not valid Unicode (invalid UTF-8 bytes, or a \\ud800-style JSON escape "
            "without its pair); send valid UTF-8 text"
        )
    return None


def check_text(value: object, where: str, *, what: str = "") -> str:
    """``value`` when it is a non-empty string of valid Unicode, else an :class:`InputError`
    at ``where`` (``what`` names the value in the message, e.g. ``"prompt "``)."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            f"{where}: {what}must be a non-empty string, got {value!r:.80}"
        )
    problem = unicode_problem(value)
    if problem is not None:
        raise InputError(f"{where}: {problem}")
    return value
