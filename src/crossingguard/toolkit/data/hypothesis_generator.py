"""Optional: ask an OpenAI-compatible chat endpoint for more hypothesis phrasings.

For users who have a chat model behind `/v1/chat/completions` (vLLM, llama.cpp server, Ollama,
OpenAI ...). Standard library only (urllib). The output is a *proposal*: review the phrasings and
copy the good ones into `hypotheses.CATEGORIES`; nothing here writes training data.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

from crossingguard.errors import DataError, InputError

MIN_CHARS = 12
MAX_CHARS = 160

SYSTEM_PROMPT = (
    "You write hypotheses for a natural-language-inference guardrail. Each hypothesis is one short "
    "declarative sentence making a specific claim about a user's prompt, in the style "
    "'The prompt requests instructions for making a weapon' or 'The prompt asks for help harming "
    "another person'. Start each with 'The prompt'. Write one hypothesis per line, with no "
    "numbering, quotes or commentary."
)

_BULLET = re.compile(r"^\s*(?:[-*\u2022]+|\d+[.)]|\(\d+\))\s*")


def _user_prompt(category: str, description: str, n: int) -> str:
    return (
        f"Category: {category}\nDescription: {description}\n"
        f"Write {n} different hypotheses that are true exactly when a prompt belongs to this category."
    )


def parse_hypotheses(text: str, *, n: int | None = None) -> list[str]:
    """One hypothesis per line: strip bullets, numbering and quotes; keep sentences of a
    reasonable length; drop case-insensitive duplicates; at most `n`."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in text.splitlines():
        line = _BULLET.sub("", raw).strip().strip("\"'`").strip()
        line = line.rstrip(".").strip()
        if not (MIN_CHARS <= len(line) <= MAX_CHARS) or line.endswith(":"):
            continue
        key = " ".join(line.lower().split())
        if key in seen:
            continue
        seen.add(key)
        out.append(line)
        if n is not None and len(out) >= n:
            break
    return out


def generate_hypotheses(
    category: str,
    description: str,
    *,
    base_url: str,
    model: str,
    api_key: str | None = None,
    n: int = 5,
    timeout: float = 30,
) -> list[str]:
    """Ask the endpoint at `base_url` (e.g. http://localhost:8000 or https://api.openai.com; a
    trailing /v1 is accepted) for `n` hypothesis phrasings of `category`.

    Returns the validated phrasings (possibly fewer than `n`); raises InputError for bad arguments
    and DataError when the endpoint fails or answers something that is not a chat completion.
    """
    if not category.strip() or not description.strip():
        raise InputError("category and description: must be non-empty strings")
    if not 1 <= n <= 50:
        raise InputError(f"n: must be in [1, 50], got {n}")
    if not base_url.startswith(("http://", "https://")):
        raise InputError(
            f"base_url: must start with http:// or https://, got {base_url!r}"
        )
    url = base_url.rstrip("/")
    url = (
        url + "/chat/completions"
        if url.endswith("/v1")
        else url + "/v1/chat/completions"
    )
    body: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _user_prompt(category, description, n)},
        ],
        "temperature": 0.7,
    }
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    req = urllib.request.Request(
        url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        raise DataError(
            f"hypothesis endpoint {url} answered HTTP {exc.code}: {detail}"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(
            f"hypothesis endpoint {url} unreachable: {reason}; check base_url and that "
            "the server is running"
        ) from None
    try:
        payload = json.loads(raw)
        content = payload["choices"][0]["message"]["content"]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(
            f"hypothesis endpoint {url} returned invalid JSON ({exc})"
        ) from None
    except (KeyError, IndexError, TypeError):
        raise DataError(
            f"hypothesis endpoint {url} returned JSON without choices[0].message.content: "
            f"{str(raw[:200], 'utf-8', 'replace')}"
        ) from None
    if not isinstance(content, str):
        raise DataError(
            f"hypothesis endpoint {url}: message content is {type(content).__name__}, expected text"
        )
    return parse_hypotheses(content, n=n)
