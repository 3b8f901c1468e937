"""Planted corpora with per-record truth for the filter tests.

Synthetic truth comes from L2R's held-out test split (xxh64(text) % 100 >= 85, never used to fit or
tune the detector; a sample of it ships in ``tests/fixtures/l2r-test``); every record carries a
``truth`` field the policy does not read, so the truth of the kept records can be read back from the
filter's own output.
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers import REPO, words

#: the L2R test split's human records and 600 rewrites, shipped with the tests (see its README)
L2R = REPO / "tests" / "fixtures" / "l2r-test" / "l2r-test.jsonl.gz"
SKIP_DOMAINS = {"TravelTourism", "TechnicalWriting"}   # the two repeat each other (see the data's README)


@pytest.fixture(scope="session")
def l2r_heldout() -> dict[str, list[str]]:
    """Distinct held-out L2R texts by label."""
    if not L2R.is_file():
        pytest.skip("the L2R data set is not available (shared/data/l2r next to the repository)")
    import xxhash

    out: dict[str, list[str]] = {"human": [], "synthetic": []}
    seen: set[str] = set()
    with gzip.open(L2R, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            t = r["text"]
            if r["domain"] in SKIP_DOMAINS or len(t.split()) < 40 or t in seen:
                continue
            if xxhash.xxh64_intdigest(t.encode("utf-8")) % 100 >= 85:
                seen.add(t)
                out[r["label"]].append(t)
    rng = random.Random(7)
    for v in out.values():
        rng.shuffle(v)
    return out


def near_copy(text: str, k: int) -> str:
    """A short suffix, and one word changed in longer texts: a planted near duplicate (Jaccard >= 0.8 over
    5-word shingles, which one changed word in a 40-word text would already break)."""
    w = text.split()
    if len(w) >= 100:
        w[len(w) // 2] = f"changed{k}"
    return " ".join(w) + " (updated)"


def write_jsonl_gz(path: Path, records: list[dict]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
    return path


@pytest.fixture
def mixed_corpus(tmp_path: Path, l2r_heldout) -> Path:
    """A failing corpus in two formats: web.jsonl.gz (human, undeclared synthetic, untagged, near and exact
    duplicates) and vendor.parquet (declared synthetic plus some human). True synthetic share ~38%.

    ``truth`` is human | synthetic | untagged; members of a planted duplicate pair share a ``cluster``."""
    hum, syn = l2r_heldout["human"], l2r_heldout["synthetic"]
    web: list[dict] = []
    for i in range(240):
        web.append({"id": f"h{i}", "text": hum[i], "provenance": "human", "source": "web", "truth": "human"})
    for i in range(30):
        web.append({"id": f"u{i}", "text": syn[i], "provenance": "human", "source": "web", "truth": "synthetic"})
    for i in range(10):
        web.append({"id": f"n{i}", "text": words(10_000 + i, 60), "source": "web", "truth": "untagged"})
    for i in range(15):   # a near copy of h0..h14: the pair is one cluster, one of them must stay
        web[i]["cluster"] = f"h{i}"
        web.append({"id": f"d{i}", "text": near_copy(hum[i], i), "provenance": "human", "source": "web",
                    "truth": "human", "cluster": f"h{i}"})
    for i in range(20, 28):   # a re-spaced exact copy of h20..h27
        web[i]["cluster"] = f"h{i}"
        web.append({"id": f"e{i}", "text": "  " + hum[i].replace(" ", "  ") + " ", "provenance": "human",
                    "source": "web", "truth": "human", "cluster": f"h{i}"})
    random.Random(1).shuffle(web)
    vendor = [{"id": f"v{i}", "text": syn[100 + i], "provenance": "synthetic", "source": "vendor",
               "license": "vendor-eula", "truth": "synthetic"} for i in range(160)]
    vendor += [{"id": f"vh{i}", "text": hum[240 + i], "provenance": "human", "source": "vendor",
                "license": "vendor-eula", "truth": "human"} for i in range(40)]
    random.Random(2).shuffle(vendor)
    src = tmp_path / "corpus"
    src.mkdir()
    write_jsonl_gz(src / "web.jsonl.gz", web)
    table = pa.Table.from_pylist(vendor).replace_schema_metadata({"origin": "planted"})
    pq.write_table(table, src / "vendor.parquet", row_group_size=50)
    return src


@pytest.fixture
def undeclared_corpus(tmp_path: Path, l2r_heldout) -> Path:
    """Every record tagged human, 40% of them actually LLM rewrites, in two sources: only the detector can
    find them, so the cap must remove by score."""
    hum, syn = l2r_heldout["human"], l2r_heldout["synthetic"]
    recs = []
    for s, (nh, ns) in {"blog": (120, 80), "news": (90, 60)}.items():
        off = 0 if s == "blog" else 200
        recs += [{"id": f"{s}h{i}", "text": hum[off + i], "provenance": "human", "source": s, "truth": "human"}
                 for i in range(nh)]
        recs += [{"id": f"{s}s{i}", "text": syn[off + i], "provenance": "human", "source": s, "truth": "synthetic"}
                 for i in range(ns)]
    random.Random(3).shuffle(recs)
    src = tmp_path / "undeclared"
    src.mkdir()
    with open(src / "data.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in recs)
    return src


def read_records(directory: Path) -> list[dict]:
    """Every record of every data file under ``directory`` (not its hidden manifest folder)."""
    out: list[dict] = []
    for f in sorted(directory.rglob("*")):
        if any(part.startswith(".") for part in f.relative_to(directory).parts) or not f.is_file():
            continue
        out += [json.loads(line) for line in raw_lines(f)] if ".jsonl" in f.name else pq.read_table(f).to_pylist()
    return out


def raw_lines(path: Path) -> list[bytes]:
    """The lines of a JSONL file, as bytes, whatever its compression."""
    if path.name.endswith(".gz"):
        data = gzip.decompress(path.read_bytes())
    elif path.name.endswith(".zst"):
        import zstandard

        data = zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes())
    else:
        data = path.read_bytes()
    return [line for line in data.splitlines(keepends=True) if line.strip()]


@pytest.fixture(scope="session")
def calibrated_policy(tmp_path_factory, l2r_heldout) -> Path:
    """The packaged default policy with a labelled calibration of the trained detector on held-out records
    the corpora never use: one witness alone never vouches for an estimate, a labelled calibration does,
    and capping by score needs a vouched-for estimate."""
    import yaml
    from helpers import run_cli

    from collapse_audit.policy.discovery import default_policy_path

    d = tmp_path_factory.mktemp("calibrated")
    hum, syn = l2r_heldout["human"], l2r_heldout["synthetic"]
    labelled = d / "labelled.jsonl"
    with open(labelled, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps({"text": t, "label": "human"}) + "\n" for t in hum[-80:])
        fh.writelines(json.dumps({"text": t, "label": "synthetic"}) + "\n" for t in syn[-80:])
    cal = d / "calibration.yaml"
    r = run_cli("detector", "calibrate", labelled, "-o", cal, cwd=d)
    assert r.returncode == 0, r.stderr
    policy = yaml.safe_load(Path(default_policy_path()).read_text())
    policy.setdefault("detector", {})["calibration"] = str(cal)
    out = d / "policy.yaml"
    out.write_text(yaml.safe_dump(policy, sort_keys=False))
    return out
