"""Error of the per-source diversity figures estimated from a vocabulary sample, against exact counts.

Per-source token entropy and tail mass are computed from a ``VocabularySample`` (2**14 entries: exact
up to 16,384 token types, then a hash sample of 8,192 types, each counted exactly), which merges to
the same state for any shard plan. This measures what that sample costs against counting every type:

    python benchmarks/vocabulary_sample.py [--l2r ../shared/data/l2r/l2r.jsonl.gz] [--generated N]

Sources: each L2R domain, all of L2R as one source, and the four sources of a generated corpus
(``generate_corpus.py``). Prints one row per source and the mean / max absolute errors.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from collapse_audit.checks.diversity import diversity_params
from collapse_audit.signals.figures import HEAVY_CANDIDATES, DiversityState
from collapse_audit.sketches import FrequentItems
from collapse_audit.text.tokens import tokenize

HERE = Path(__file__).resolve().parent


def _figures(texts: list[str], capacity: int | None, heavy: np.ndarray) -> tuple[float, float, int, bool]:
    """(entropy, tail mass, types, sampled) of ``texts`` fed in batches of 512, as a per-source state
    (``heavy``: the corpus's most frequent tokens, as the diversity check offers them)."""
    params = diversity_params(None).small()
    if capacity is not None:
        params = type(params)(**{**params.to_json(), "capacity": capacity})
    st = DiversityState(params, vocabulary_sample=True)
    for i in range(0, len(texts), 512):
        keys, counts = tokenize(texts[i:i + 512]).counts()
        st.freq.update(keys, counts)
    return st.entropy_bits(heavy), st.tail_mass(), len(st.freq), st.sampled


def _heavy(sources: dict[str, list[str]]) -> np.ndarray:
    """The corpus-wide top tokens (the corpus-wide state's Misra-Gries table, as in a scan)."""
    table = FrequentItems(diversity_params(None).capacity)
    for texts in sources.values():
        for i in range(0, len(texts), 512):
            table.update(*tokenize(texts[i:i + 512]).counts())
    return table.top(HEAVY_CANDIDATES)[0]


def _l2r(path: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            out[f"l2r/{r['domain']}"].append(r["text"])
    return out


def _generated(records: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.jsonl"
        subprocess.run([sys.executable, str(HERE / "generate_corpus.py"), "--records", str(records), "--out",
                        str(path), "--seed", "42"], check=True, capture_output=True)
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                out[f"generated/{r.get('source')}"].append(r["text"])
    return out


def main() -> None:
    """Print the per-source comparison table and the error summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--l2r", default=str(HERE.parent.parent / "shared" / "data" / "l2r" / "l2r.jsonl.gz"))
    ap.add_argument("--generated", type=int, default=20_000, help="records of the generated corpus (0: none)")
    args = ap.parse_args()
    corpora: list[dict[str, list[str]]] = []
    if Path(args.l2r).is_file():
        l2r = _l2r(args.l2r)
        corpora += [l2r, {"l2r (all, one source)": [t for texts in l2r.values() for t in texts]}]
    if args.generated:
        corpora.append(_generated(args.generated))
    rows = []
    print(f"{'source':34} {'records':>7} {'types':>7}  {'entropy exact':>13} {'sampled':>8} "
          f"{'tail exact':>10} {'sampled':>8}")
    for sources in corpora:
        heavy = _heavy(sources)
        for name, texts in sources.items():
            h, t, types, _ = _figures(texts, 1 << 26, heavy)
            hs, ts, _, sampled = _figures(texts, None, heavy)
            if not sampled:
                continue
            rows.append((abs(hs - h), abs(ts - t)))
            print(f"{name:34} {len(texts):7d} {types:7d}  {h:13.4f} {hs:8.4f} {t:10.4f} {ts:8.4f}")
    if rows:
        e = np.array(rows)
        print(f"\n{len(rows)} sampled sources: entropy |error| mean {e[:, 0].mean():.4f} max {e[:, 0].max():.4f} bits;"
              f" tail mass |error| mean {e[:, 1].mean():.4f} max {e[:, 1].max():.4f}")


if __name__ == "__main__":
    main()
