"""In-domain adaptation experiment, step 1: intent NLI pairs from 40 of BANKING77's 77 intents.

    python benchmarks/experiments/banking_adapt/build_pairs.py

A seeded 40 intents build pairs from BANKING77 train (100 utterances each, the intent-pairs
labelling convention, embedding hard negatives among those 40); the other 37 are written to
runs/banking-adapt-data/banking_split.json as ``held_out`` for ``eval-routing --intents``.
Needs ``crossingguard export-embedder`` once. See README.md beside this file.
"""

import json
import os
import random
from collections import defaultdict

from crossingguard.guard.routing.embedding import load_embedder
from crossingguard.toolkit.routing.evaluation import normalise
from crossingguard.toolkit.routing.intent_pairs import EVAL_SETS, _neighbours, pairs_for
from crossingguard.toolkit.routing.intents import intent_names, load_intents

seed = 0
os.makedirs("runs/banking-adapt-data", exist_ok=True)
rows = load_intents("banking77", "train")
intents = intent_names("banking77", rows)
rng = random.Random("banking77-adapt")
train_intents = sorted(rng.sample(intents, 40))
held = [i for i in intents if i not in train_intents]
test_keys = {normalise(r.text) for d, s in EVAL_SETS for r in load_intents(d, s)}
by = defaultdict(list)
seen = set()
for r in rows:
    k = normalise(r.text)
    if r.intent in train_intents and k and k not in test_keys and k not in seen:
        seen.add(k)
        by[r.intent].append(r)
utts = []
for i in sorted(by):
    g = by[i]
    utts += random.Random(f"{seed}:{i}").sample(g, min(100, len(g)))
emb = load_embedder()
near = _neighbours(utts, {"banking77": train_intents}, emb)
out = []
for k, u in enumerate(utts):
    out += pairs_for(u, train_intents, seed, neighbours=near[k])
random.Random(seed).shuffle(out)
with open("runs/banking-adapt-data/banking_adapt_train.jsonl", "w") as f:
    for r in out:
        f.write(json.dumps(r) + "\n")
json.dump(
    {"train_intents": train_intents, "held_out": held},
    open("runs/banking-adapt-data/banking_split.json", "w"),
    indent=1,
)
print(len(utts), len(out), len(held))
