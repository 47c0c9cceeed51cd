"""Default limits shared by the library, the CLI, the server and batch scoring.

One place for each number, so ``Scorer.predict``, ``crossingguard classify`` and the HTTP server
refuse the same prompts and window them the same way. Each is a default: callers may pass their
own (``Scorer.max_prompt_chars``, ``--max-prompt-chars``, the server's settings).

The window numbers come from ``benchmarks/long_prompts.py`` (README, "How scoring works"): a
harmful sentence hidden in a long benign prompt is found far more often when a long prompt is
scored in small windows of whole sentences than in overlapping model-sized windows cut mid-sentence.
"""

from __future__ import annotations

# Longest prompt (premise) scored, in characters. Cost grows linearly with length: on 2 shared CPU
# cores the moderation pack needs about a minute per 10,000 characters (benchmarks/long_prompts.py),
# so a larger default would let one request hold a CPU for minutes. Raise it deliberately.
MAX_PROMPT_CHARS = 10_000

# Premise tokens per window when a prompt is too long for one model window. Windows hold whole
# sentences (a sentence longer than this is cut into overlapping pieces). Smaller windows keep a
# single harmful sentence from being drowned out by its benign neighbours.
LONG_PROMPT_WINDOW_TOKENS = 32

# Sentences shared by consecutive windows: 0 keeps each sentence in exactly one window.
WINDOW_OVERLAP_SENTENCES = 0

# Fewer premise tokens per window than this cannot carry meaning; a condition that leaves less room
# in the model's window is too long.
MIN_PREMISE_TOKENS = 8

# Model inputs (pairs and windows) in one call from which the CLI shows a progress bar.
PROGRESS_MIN_ROWS = 256
