"""The files `init` writes are valid for the tools that read them, and install nothing squattable."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from collapse_audit.cli.init import default_install, render_files

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = ".github/workflows/collapse-audit.yml"


def _write(tmp_path: Path, data: str = "corpus/train") -> Path:
    for rel, text in render_files(data).items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def _tool(name: str) -> str:
    exe = shutil.which(name) or str(Path(__import__("sys").executable).parent / name)
    if not Path(exe).exists():
        pytest.skip(f"{name} is not installed (it comes with the `test` extra)")
    return exe


def test_install_line_is_a_pinned_git_requirement():
    req = default_install()
    assert req.startswith("collapse-audit @ git+https://") and "@v" in req.rsplit("/", 1)[-1]
    wf = render_files("data")[WORKFLOW]
    assert "pip install 'collapse-audit @ git+" in wf
    assert "pip install collapse-audit\n" not in wf


def test_workflow_checks_out_lfs_caches_pip_and_filters_paths(tmp_path):
    wf = yaml.safe_load((_write(tmp_path) / WORKFLOW).read_text(encoding="utf-8"))
    on = wf[True] if True in wf else wf["on"]            # YAML 1.1 reads the key `on` as True
    assert on["pull_request"]["paths"] == ["corpus/train", "corpus/train/**", "collapse-audit.yaml"]
    steps = wf["jobs"]["audit"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["lfs"] is True
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip"


def test_glob_data_is_used_as_the_paths_filter_itself():
    wf = yaml.safe_load(render_files("shards/*.parquet")[WORKFLOW])
    on = wf[True] if True in wf else wf["on"]
    assert on["push"]["paths"] == ["shards/*.parquet", "collapse-audit.yaml"]


def test_workflow_validates_against_the_github_workflow_schema(tmp_path):
    exe = _tool("check-jsonschema")
    proc = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(_write(tmp_path) / WORKFLOW)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_pre_commit_config_is_valid(tmp_path):
    exe = _tool("pre-commit")
    cfg = _write(tmp_path) / ".pre-commit-config.yaml"
    proc = subprocess.run([exe, "validate-config", str(cfg)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    repo = yaml.safe_load(cfg.read_text(encoding="utf-8"))["repos"][0]
    assert repo["repo"].startswith("https://") and repo["rev"].startswith("v")


def test_repository_hook_manifest_is_valid_and_matches_data_files():
    exe = _tool("pre-commit")
    manifest = REPO / ".pre-commit-hooks.yaml"
    proc = subprocess.run([exe, "validate-manifest", str(manifest)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import re

    hook = yaml.safe_load(manifest.read_text(encoding="utf-8"))[0]
    pattern = re.compile(hook["files"])
    for name in ("a.jsonl", "b.json", "c.ndjson", "d.pq", "e.parquet", "f.jsonl.zst", "g.csv", "data/x.arrow",
                 "collapse-audit.yaml", "sub/pyproject.toml"):
        assert pattern.search(name), name
    for name in ("README.md", "train.py", "notes.txt"):
        assert not pattern.search(name), name
    assert hook["pass_filenames"] is False
