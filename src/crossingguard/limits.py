"""Default limits shared by the library, the CLI, the server and batch scoring.

One place for each number, so ``Scorer.predict``, ``crossingguard classify`` and the HTTP server
refuse the same prompts and window them the same way. Each is a default: callers may pass their
own (``Scorer.max_prompt_chars``, ``--max-prompt-chars``, the server's settings).

The window numbers come from ``benchmarks/long_prompts.py`` (README, "How scoring works"): a
harmful sentence hidden in a long benign prompt is found far more often when a long prompt is
scored in small windows of whole sentences than in overlapping model-sized windows cut mid-sentence.
"""

from __future__ import annotations

# Longest prompt (premise) scored, in characters. Cost grows linearly with length: one benign
# 8,000-character prompt took about 40 s against 9 hypotheses on 2 busy CPU cores
# (benchmarks/long_prompts.py; the moderation pack has 29), so a larger default would let one
# request hold a CPU for minutes. The server's default (serve settings) is the same 10,000.
MAX_PROMPT_CHARS = 10_000

# Premise tokens per window when a prompt is too long for one model window. Windows hold whole
# sentences (a sentence longer than this is cut into pieces overlapping by a quarter), so at 16
# most sentences are scored alone: a harmful sentence is not drowned out by benign neighbours.
# Measured (benchmarks/results/long_prompts/window_sizes): 79% of needles caught in 4,000-character
# haystacks at 16, 71% at 24, 50% at 32, 0% with the old model-sized windows, and 54% with
# 16-token windows cut anywhere.
LONG_PROMPT_WINDOW_TOKENS = 16

# Sentences shared by consecutive windows: 0 keeps each sentence in exactly one window.
WINDOW_OVERLAP_SENTENCES = 0

# Fewer premise tokens per window than this cannot carry meaning; a condition that leaves less room
# in the model's window is too long.
MIN_PREMISE_TOKENS = 8

# Model inputs (pairs and windows) in one call from which the CLI shows a progress bar.
PROGRESS_MIN_ROWS = 256

# ---------------------------------------------------------------------------------------------
# Abuse limits (SECURITY.md lists them). Each stops one way an untrusted input could hold a CPU
# or memory far beyond what a real request needs; the error names the limit and the way around.

# Prompts in one Guard.check_batch / route_batch call (and one `crossingguard check` run reading
# stdin). A dataset belongs in `crossingguard batch`, which streams it in chunks.
MAX_PROMPTS_PER_CALL = 10_000

# (premise, hypothesis) pairs in one Scorer.predict call. Tokenized pairs are held in memory
# until the call ends: about 2 KB per short pair (measured on crossingguard-nli-micro), far more
# for long premises split into windows, so 100k pairs stay around 200 MB. The guard splits its
# own calls into pieces of this size (scores do not depend on the split).
MAX_PAIRS_PER_CALL = 100_000

# Conditions in one policy (packs included) or one list of ad-hoc conditions, and phrasings
# (hypotheses of conditions and routes together): every phrasing is one more pair per prompt.
# The largest built-in pack has 14 conditions and 30 phrasings.
MAX_CONDITIONS = 256
MAX_HYPOTHESES = 1_024

# A policy file: bytes on disk, and values (strings, numbers, lists, maps) once YAML aliases are
# expanded, and how deeply they nest. A few kilobytes of YAML aliases ("billion laughs") describe
# billions of values; validating them would never end. The built-in packs have under 1,000.
MAX_POLICY_BYTES = 1_048_576
MAX_POLICY_VALUES = 100_000
MAX_POLICY_DEPTH = 32

# The HTTP server's defaults per request (operators change them with `crossingguard serve`
# options): prompts (classify: pairs), ad-hoc hypotheses, and the body in bytes. A request is
# small so that one client cannot fill a micro-batch; MAX_PROMPT_CHARS applies to each text.
MAX_REQUEST_PROMPTS = 64
MAX_REQUEST_HYPOTHESES = 32
MAX_REQUEST_BYTES = 1_048_576
