"""What a user sees must not change by accident: the JSON result (less ``run``) and the annotations of
three scans are compared byte for byte with files written before the engine and the checks were
reorganised (``tests/engine/golden``).

The three scans: the bundled ``sample_data``, a planted corpus (exact and near duplicates, personal
data, missing and disallowed provenance, three sources, JSONL + CSV) and a ``--baseline`` /
``--eval-set`` run. Every catalogued rule is selected, so every check's metrics and details are
covered. To rewrite the files after an *intended* change: ``GOLDEN_WRITE=1 pytest tests/engine/test_golden.py``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import pytest
from helpers import REPO, run_cli, words, write_jsonl

GOLDEN = Path(__file__).resolve().parent / "golden"
WRITE = os.environ.get("GOLDEN_WRITE") == "1"


def planted(root: Path) -> list[str]:
    """A small corpus with a known answer for every check that needs no resource."""
    recs = []
    for i in range(120):
        recs.append({"id": f"r{i}", "text": words(i, 50), "provenance": "human" if i % 7 else None,
                     "source": ("web", "forum", "books")[i % 3], "license": "cc-by" if i % 5 else "vendor-eula"})
    for i in range(6):       # exact copies (re-spaced)
        recs.append({"id": f"e{i}", "text": "  " + recs[i * 3]["text"].replace(" ", "  "), "provenance": "human",
                     "source": "web", "license": "cc-by"})
    for i in range(8):       # near copies: one word changed in a 50-word text, a suffix added
        w = recs[40 + i]["text"].split()
        w[25] = f"changed{i}"
        recs.append({"id": f"n{i}", "text": " ".join(w) + " again", "provenance": "synthetic",
                     "source": "forum", "license": "cc-by"})
    for i in range(5):       # personal data
        recs.append({"id": f"p{i}", "text": words(500 + i, 30) + f" mail me at user{i}@example.org or 10.0.0.{i}",
                     "provenance": "human", "source": "books", "license": "cc-by"})
    write_jsonl(root / "a.jsonl", recs[:80])
    with open(root / "b.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "text", "provenance", "source", "license"])
        w.writeheader()
        for r in recs[80:]:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return ["a.jsonl", "b.csv"]


def _policy(root: Path) -> str:
    path = root / "policy.yaml"
    path.write_text("fields:\n  text: text\n  id: id\n  provenance: provenance\n  source: source\n"
                    "  license: license\n  license_allowlist: [cc-by]\nrules: []\n", encoding="utf-8")
    return path.name


def _scan(paths: list[str], **options) -> dict:
    import collapse_audit

    result = collapse_audit.scan(paths, workers=1, seed=0, extend_select=["CA"], **options)
    doc = json.loads(result.to_json())
    doc.pop("run", None)
    return doc


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _compare(name: str, doc: dict, annotations: Path) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    digest = _digest(annotations) + "\n"
    if WRITE:
        (GOLDEN / f"{name}.json").write_text(text, encoding="utf-8")
        (GOLDEN / f"{name}.annotations.sha256").write_text(digest, encoding="utf-8")
    assert text == (GOLDEN / f"{name}.json").read_text(encoding="utf-8"), f"{name}: the JSON result changed"
    assert digest == (GOLDEN / f"{name}.annotations.sha256").read_text(encoding="utf-8"), \
        f"{name}: the annotations changed"


def test_sample_data_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    ann = tmp_path / "ann.parquet"
    _compare("sample_data", _scan(["sample_data"], annotations=str(ann)), ann)


def test_planted_corpus_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = planted(tmp_path)
    ann = tmp_path / "ann.parquet"
    _compare("planted", _scan(paths, policy=_policy(tmp_path), annotations="ann.parquet"), ann)


def test_baseline_and_eval_set_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = planted(tmp_path)
    base = tmp_path / "base"
    base.mkdir()
    write_jsonl(base / "trusted.jsonl", [{"text": words(2000 + i, 50)} for i in range(150)])
    done = run_cli("profile", "base/trusted.jsonl", "-o", "baseline.json", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    write_jsonl(tmp_path / "eval.jsonl", [{"text": words(i, 50)} for i in range(10, 20)]
                + [{"text": words(9000 + i, 50)} for i in range(10)])
    ann = tmp_path / "ann.parquet"
    doc = _scan(paths, policy=_policy(tmp_path), annotations="ann.parquet", baseline="baseline.json",
                eval_sets=["eval.jsonl"])
    _compare("baseline_eval", doc, ann)


@pytest.mark.parametrize("workers", [2])
def test_workers_give_the_same_json(tmp_path, monkeypatch, workers):
    """The sharded engine's result is the single-process one (the same golden file)."""
    import collapse_audit

    monkeypatch.chdir(tmp_path)
    paths = planted(tmp_path)
    doc = collapse_audit.scan(paths, policy=_policy(tmp_path), workers=workers, seed=0, extend_select=["CA"],
                              progress=False).to_json()
    doc = json.loads(doc)
    doc.pop("run", None)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    assert text == (GOLDEN / "planted.json").read_text(encoding="utf-8")
