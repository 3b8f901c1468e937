"""The files `init` writes are valid for the tools that read them, and install nothing squattable."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from collapse_audit.cli.init import PLACEHOLDER_URL, pin_from_direct_url, render_files

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = ".github/workflows/collapse-audit.yml"


#: a pin as for an installation from a git URL (what a release user has)
PIN = pin_from_direct_url({"url": "https://github.com/collapse-audit/collapse-audit",
                           "vcs_info": {"vcs": "git", "commit_id": "0123456789abcdef0123456789abcdef01234567"}},
                          "0.1.0")


def _write(tmp_path: Path, data: str = "corpus/train") -> Path:
    for rel, text in render_files(data, pin=PIN).items():
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
    assert PIN.requirement == ("collapse-audit @ git+https://github.com/collapse-audit/collapse-audit"
                               "@0123456789abcdef0123456789abcdef01234567")
    wf = render_files("data", pin=PIN)[WORKFLOW]
    assert f"pip install '{PIN.requirement}'" in wf
    assert "pip install collapse-audit\n" not in wf


def test_an_index_install_pins_the_exact_version():
    pin = pin_from_direct_url(None, "0.3.1")
    assert pin.requirement == "collapse-audit==0.3.1" and pin.rev == "v0.3.1"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _checkout(tmp_path: Path, remote: str | None) -> tuple[Path, str]:
    """A git checkout of the package's sources (as a user's clone), with ``remote`` as its origin."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    src = tmp_path / "checkout"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "collapse_audit", src / "collapse_audit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git(src, "init", "-q")
    _git(src, "add", "-A")
    _git(src, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "sources")
    if remote is not None:
        _git(src, "remote", "add", "origin", remote)
    return src, _git(src, "rev-parse", "HEAD")


def test_a_local_checkout_with_an_scp_remote_pins_https_at_head(tmp_path):
    src, head = _checkout(tmp_path, "git@github.com:someone/collapse-audit.git")
    pin = pin_from_direct_url({"url": src.as_uri(), "dir_info": {}}, "0.1.0")
    assert pin.requirement == f"collapse-audit @ git+https://github.com/someone/collapse-audit.git@{head}"
    pre_commit = yaml.safe_load(render_files("data", pin=pin)[".pre-commit-config.yaml"])["repos"][0]
    assert pre_commit == {**pre_commit, "repo": "https://github.com/someone/collapse-audit.git", "rev": head}


@pytest.mark.parametrize("git", [True, False])
def test_without_a_remote_the_workflow_says_what_to_fill_in(tmp_path, git):
    if git:
        src, head = _checkout(tmp_path, None)
    else:
        src, head = tmp_path, None
    pin = pin_from_direct_url({"url": src.as_uri(), "dir_info": {"editable": True}}, "0.1.0")
    wf = render_files("data", pin=pin)[WORKFLOW]
    assert PLACEHOLDER_URL in pin.requirement and (head is None or head in pin.requirement)
    (comment,) = [line for line in wf.splitlines() if "FILL IN" in line]
    assert comment.strip().startswith("#") and PLACEHOLDER_URL in comment
    assert ("has no remote" if git else "not a git checkout") in comment


def test_the_generated_install_line_installs_from_a_git_repository(tmp_path):
    """The workflow's own `pip install` line, run against a repository at a commit (file:// URL)."""
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    src, head = _checkout(tmp_path, bare.as_uri())
    _git(src, "push", "-q", "origin", "HEAD:refs/heads/main")
    _git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    pin = pin_from_direct_url({"url": src.as_uri(), "dir_info": {}}, "0.1.0")
    wf = yaml.safe_load(render_files("data", pin=pin)[WORKFLOW])
    (run,) = [s["run"] for s in wf["jobs"]["audit"]["steps"] if s.get("name") == "Install collapse-audit"]
    argv = shlex.split(run)
    assert argv[:2] == ["pip", "install"] and argv[2] == f"collapse-audit @ git+file://localhost{bare}@{head}"
    target = tmp_path / "site"
    # offline and quick: no dependencies, the build backend from this environment
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "--target", str(target), *argv[2:]],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (target / "collapse_audit" / "cli" / "init.py").is_file()
    (dist,) = target.glob("collapse_audit-*.dist-info")
    direct = json.loads((dist / "direct_url.json").read_text(encoding="utf-8"))
    # what that installation's own `init` would pin: the same repository and commit
    assert pin_from_direct_url(direct, "0.1.0").requirement == argv[2]


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
    assert repo["repo"] == PIN.repo and repo["rev"] == PIN.rev


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
