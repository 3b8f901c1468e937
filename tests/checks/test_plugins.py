"""Checks from other distributions, found through the ``collapse_audit.checks`` entry point.

The plugin is a tiny package written to a temporary directory together with a ``*.dist-info``
folder holding its ``entry_points.txt`` - what ``pip install`` would leave - and put on the path
of a fresh ``python -m collapse_audit`` process, so the registry of this test process is untouched.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from helpers import run_cli, write_jsonl

PLUGIN = '''
"""A URL-share check: the share of records holding a web address."""

import numpy as np

from collapse_audit.checks.base import Check, CheckResult
from collapse_audit.checks.spec import Metric, Rule


class UrlShare(Check):
    """Flags records holding an http(s) URL."""

    name = "url_share"
    title = "Web addresses"
    metrics = (Metric("url.share", "fraction", "Share of records holding a URL."),)
    rules = (Rule("CA991", "url-share", "url.share", "max", 0.0, "error",
                  rationale="Links are navigation boilerplate that a model learns to repeat.",
                  example="{id: CA991, metric: url.share, max: 0.01}", enabled_by_default=True),)
    state_attrs = ("hits",)

    def __init__(self, ctx=None):
        super().__init__(ctx)
        self.hits = []

    def observe(self, batch, prepared):
        self.hits.append(np.array(["http://" in t or "https://" in t for t in batch.texts], dtype=bool))

    def merge(self, other):
        self.hits += other.hits

    def _all(self):
        return np.concatenate(self.hits) if self.hits else np.zeros(0, bool)

    def finish(self):
        hits = self._all()
        return CheckResult(metrics={"url.share": float(hits.mean()) if len(hits) else 0.0},
                           details={"records": int(hits.sum())}, flags={"url.share": hits})

    def metrics_for(self, mask):
        sel = self._all()[np.asarray(mask, dtype=bool)]
        return {"url.share": float(sel.mean()) if len(sel) else 0.0}
'''


def install(site: Path, body: str = PLUGIN, target: str = "url_plugin:UrlShare") -> Path:
    """Write the package and the metadata pip would write for it; return the path entry."""
    (site / "url_plugin").mkdir(parents=True)
    (site / "url_plugin" / "__init__.py").write_text(textwrap.dedent(body), encoding="utf-8")
    info = site / "url_plugin-0.3.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: url-plugin\nVersion: 0.3.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[collapse_audit.checks]\nurl_share = {target}\n", encoding="utf-8")
    return site


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    texts = [f"record {i} about gardening and the weather in spring number {i}" for i in range(20)]
    texts[3] += " see https://example.org/a"
    texts[11] += " and http://example.com"
    return write_jsonl(tmp_path / "c.jsonl", [{"text": t} for t in texts])


def scan(corpus: Path, site: Path, *args: str):
    import os

    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return run_cli("scan", corpus, "-f", "json", *args, cwd=corpus.parent, env=env)


def test_a_plugin_check_runs_only_when_its_rule_is_selected(tmp_path: Path, corpus: Path) -> None:
    site = install(tmp_path / "site")
    plain = scan(corpus, site)
    assert plain.returncode in (0, 1), plain.stderr
    result = json.loads(plain.stdout)
    assert "url.share" not in result["metrics"] and "url_share" not in result["details"]
    assert all(r["id"] != "CA991" for r in result["rules"])
    assert result["tool"]["plugins"] == [{"name": "url-plugin", "version": "0.3.1", "entry_point": "url_share",
                                          "checks": ["url_share"]}]

    chosen = scan(corpus, site, "--extend-select", "CA991")
    assert chosen.returncode == 1, chosen.stderr
    result = json.loads(chosen.stdout)
    assert result["metrics"]["url.share"] == pytest.approx(2 / 20)
    rule = next(r for r in result["rules"] if r["id"] == "CA991")
    assert rule["status"] == "fail"


def test_the_catalogue_shows_a_plugin_rule_as_off(tmp_path: Path) -> None:
    import os

    site = install(tmp_path / "site")
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]), "COLUMNS": "200"}
    out = run_cli("rules", "list", env=env)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.strip().startswith("CA991"))
    assert line.split()[-1] == "no"


def test_without_plugins_the_result_has_no_plugins_key(tmp_path: Path, corpus: Path) -> None:
    out = run_cli("scan", corpus, "-f", "json", cwd=tmp_path)
    assert "plugins" not in json.loads(out.stdout)["tool"]


@pytest.mark.parametrize(("body", "target", "said"), [
    ("raise RuntimeError('boom')\n", "url_plugin:UrlShare", "Cannot load the collapse_audit.checks entry point"),
    ("class UrlShare:\n    pass\n", "url_plugin:UrlShare", "names neither a Check subclass"),
])
def test_a_broken_plugin_is_one_sentence_and_exit_2(tmp_path: Path, corpus: Path, body: str, target: str,
                                                    said: str) -> None:
    out = scan(corpus, install(tmp_path / "site", body, target))
    assert out.returncode == 2
    assert said in out.stderr and "url-plugin 0.3.1" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


READER = '''
from collapse_audit.readers.base import Reader


class LinesReader(Reader):
    """Plain text, one record per line (registration only, for the test)."""

    name = "lines"
    suffixes = (".lines",)
    description = "plain text lines"
'''


def test_a_reader_entry_point_registers_the_reader(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    site = tmp_path / "site"
    (site / "lines_plugin").mkdir(parents=True)
    (site / "lines_plugin" / "__init__.py").write_text(READER, encoding="utf-8")
    info = site / "lines_plugin-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lines-plugin\nVersion: 1.2\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[collapse_audit.readers]\nlines = lines_plugin:LinesReader\n",
                                           encoding="utf-8")
    code = ("import collapse_audit.checks, json\n"
            "from collapse_audit.checks import plugins\n"
            "from collapse_audit.readers.registry import reader_for_suffix\n"
            "print(json.dumps([plugins.tool_entry(), reader_for_suffix('x.lines')[0].name]))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    tool, name = json.loads(out.stdout)
    assert name == "lines"
    assert tool == {"plugins": [{"name": "lines-plugin", "version": "1.2", "entry_point": "lines",
                                 "readers": ["lines"]}]}
