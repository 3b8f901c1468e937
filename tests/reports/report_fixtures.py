"""Helpers and fixtures for the report tests: a hand-written result that follows the result model
(collapse_audit/result) exactly (two sources, passing/failing/warning rules, hostile excerpts),
variants of it, and the real sample scan when the engine and sample_data are available."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURE = HERE / "fixtures" / "result.json"
JUNIT_XSD = HERE / "data" / "junit-10.xsd"
SAMPLE = REPO / "sample_data"

#: strings that must never become markup in any report
XSS_PAYLOADS = (
    "<script>window.__xss = 'script';document.title='PWNED'</script>",
    "<img src=x onerror=\"window.__xss='img'\">",
    '"><svg onload="window.__xss=\'svg\'">',
    "<iframe src=\"javascript:window.top.__xss='iframe'\"></iframe>",
    "</textarea></style></title><script>window.__xss='break-out'</script>",
    "[click](javascript:window.__xss='md') ![x](http://example.invalid/t.png) `code` *b* | pipe |",
)


def load_fixture() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def result() -> dict:
    return load_fixture()


def hostile_result() -> dict:
    """The fixture with a payload in every place a dataset string can reach a report."""
    r = load_fixture()
    p = XSS_PAYLOADS
    r["details"]["synthetic"]["top"][0]["excerpt"] = p[0] + " " + p[5]
    r["details"]["synthetic"]["top"][1]["provenance"] = p[1]
    r["details"]["synthetic"]["top"][2]["file"] = p[2]
    r["details"]["near_duplicates"]["largest"][0]["members"][0]["excerpt"] = p[3]
    r["details"]["exact_duplicates"]["largest"][0]["excerpt"] = p[4]
    r["details"]["provenance"]["missing_examples"][0]["excerpt"] = p[1]
    r["details"]["provenance"]["disallowed_license_examples"][0]["license"] = p[0]
    r["details"]["provenance"]["licenses"][p[2]] = 3
    r["details"]["provenance"]["values"][p[0]] = 2
    r["records"]["skipped_examples"][0]["reason"] = p[4]
    r["inputs"][0]["path"] = "data/" + p[1] + ".jsonl"
    groups = r["sources"]["groups"]
    groups[p[2]] = groups.pop("web-crawl")
    r["rules"][0]["message"] = "value " + p[0]
    r["rules"][3]["where"] = {"source": p[2]}
    return r


@pytest.fixture
def hostile() -> dict:
    return hostile_result()


def minimal_variants() -> list[tuple[str, dict]]:
    """The fixture with optional parts missing, one at a time, plus a bare result."""
    base = load_fixture()
    out = [("bare", {"schema_version": 1, "verdict": "pass", "rules": []})]
    for key in (
        "tool",
        "run",
        "inputs",
        "records",
        "detector",
        "policy",
        "metrics",
        "sources",
        "rules",
        "details",
        "verdict",
    ):
        r = copy.deepcopy(base)
        del r[key]
        out.append((f"no-{key}", r))
    for key in list(base["details"]):
        r = copy.deepcopy(base)
        del r["details"][key]
        out.append((f"no-details.{key}", r))
    r = copy.deepcopy(base)
    r["sources"] = {"field": None, "groups": {}}
    out.append(("sources-empty", r))
    r = copy.deepcopy(base)
    r["details"]["synthetic"]["histogram"] = {"edges": [], "counts": []}
    r["details"]["near_duplicates"]["cluster_sizes"] = {str(s): 1 for s in range(2, 60)}
    out.append(("odd-charts", r))
    r = copy.deepcopy(base)
    for rule in r["rules"]:
        rule["value"] = None
        rule["records_flagged"] = None
        rule["status"] = "pass"
    r["verdict"] = "pass"
    out.append(("all-pass-null-values", r))
    return out


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "collapse_audit", *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env=full_env,
        timeout=600,
    )


def sample_paths() -> list[str]:
    if not SAMPLE.is_dir() or not any(p.is_file() for p in SAMPLE.rglob("*")):
        pytest.skip(f"no sample corpus at {SAMPLE}")
    return [str(SAMPLE)]


@pytest.fixture(scope="session")
def sample_scan_json(tmp_path_factory) -> Path:
    """`collapse-audit scan sample_data -f json -o r.json`, as a user runs it (exit 0 or 1 = audited)."""
    paths = sample_paths()
    out = tmp_path_factory.mktemp("scan") / "result.json"
    proc = run_cli("scan", *paths, "--format", "json", "--output", str(out), "--quiet")
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr and out.is_file(), proc.stderr[-3000:]
    return out


class _Collector:
    """Tags, attributes and text of an HTML page, as a browser's tokenizer sees them."""

    def __init__(self, page: str):
        from html.parser import HTMLParser

        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        outer = self

        class P(HTMLParser):
            def handle_starttag(self, tag, attrs):
                outer.tags.append((tag, dict(attrs)))

            def handle_startendtag(self, tag, attrs):
                outer.tags.append((tag, dict(attrs)))

            def handle_data(self, data):
                outer.text.append(data)

        p = P(convert_charrefs=True)
        p.feed(page)
        p.close()


def parse_html(page: str) -> _Collector:
    return _Collector(page)
