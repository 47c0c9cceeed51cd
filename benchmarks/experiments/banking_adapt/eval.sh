# In-domain adaptation experiment, step 3: route the 37 held-out BANKING77 intents with the
# shipped mini and the adapted model (torch fp32 both), every strategy side by side.
set -e
for m in base adapt; do
  if [ $m = base ]; then M=src/crossingguard/models/crossingguard-nli-mini; else M=runs/banking-adapt/final; fi
  crossingguard eval-routing -d banking77 --intents @runs/banking-adapt-data/banking_split.json --limit 1000 --nli-limit 200 \
    --weights 0.3,0.5,0.7 -m $M -b torch --out runs/banking-adapt-data/eval-$m > runs/banking-adapt-data/eval-$m.txt 2>&1
done
