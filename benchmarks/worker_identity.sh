#!/usr/bin/env bash
# The JSON of one 100k-record scan is identical (apart from `run`) for 1-4 workers and the Ray engine.
#   bash benchmarks/worker_identity.sh [RECORDS]
set -euo pipefail
n=${1:-100000}
dir=$(mktemp -d)
python benchmarks/generate_corpus.py --records "$n" --out "$dir/c.jsonl"
for w in 1 2 3 4; do python -m collapse_audit scan "$dir/c.jsonl" -q -w "$w" -f json -o "$dir/r$w.json" --exit-zero; done
python -m collapse_audit scan "$dir/c.jsonl" -q -w 2 --engine ray -f json -o "$dir/rray.json" --exit-zero
python - "$dir" <<'P'
import json, sys
d = sys.argv[1]
docs = {k: json.load(open(f"{d}/r{k}.json")) for k in ("1", "2", "3", "4", "ray")}
for doc in docs.values():
    doc.pop("run")
base = json.dumps(docs["1"], sort_keys=True)
for k, doc in docs.items():
    print(k, "identical" if json.dumps(doc, sort_keys=True) == base else "DIFFERENT", doc["records"]["total"])
P
